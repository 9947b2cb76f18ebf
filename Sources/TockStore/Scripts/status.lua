-- status: what the shard knows of one id.
--
-- ARGV     id, fingerprint ("" when unknown)
-- KEYS     owner, queue, msg, att, locks, leases, then the tombstone sets of the previous and the
--          current window
-- Returns  {state, score, attempts, blob}: state is pending (queued), claimed (queued, in the
--          owner's wheel), delivering (locked, score = lease expiry), ended (fired or cancelled
--          within dedup.retention; known only for given ids) or unknown.
local ownerKey, queueKey, msgKey, attKey, locksKey, leasesKey = key(), key(), key(), key(), key(), key()
local previousKey, currentKey = key(), key()
local id, fp = arg(), arg()
local attempts = tonumber(redis.call('HGET', attKey, id) or '0')
local score = redis.call('ZSCORE', queueKey, id)
if score then
  local claimed = claimedUpTo(redis.call('HGET', ownerKey, 'claimed'))
  local state = 'pending'
  if tonumber(score) <= claimed then state = 'claimed' end
  return { state, score, attempts, redis.call('HGET', msgKey, id) or false }
end
local blob = redis.call('HGET', msgKey, id)
if blob then
  local locks = redis.call('HGETALL', locksKey)
  for j = 1, #locks, 2 do
    for _, locked in ipairs(cmsgpack.unpack(locks[j + 1])) do
      if locked == id then
        return { 'delivering', redis.call('ZSCORE', leasesKey, locks[j]) or false, attempts + 1, blob }
      end
    end
  end
  return { 'delivering', false, attempts + 1, blob }
end
if fp ~= '' and tombstoned(previousKey, currentKey, fp) then return { 'ended', false, attempts, false } end
return { 'unknown', false, attempts, false }
