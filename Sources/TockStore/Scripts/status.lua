-- status: what the shard knows of one id, a message's or a series'.
--
-- ARGV     id, fingerprint ("" when unknown), cold fingerprint, cold bucket prefix, hour slot (ms)
-- KEYS     owner, queue, msg, att, locks, leases, series, then the tombstone sets of the previous
--          and the current window, then the cold meta, then the paused series
-- Returns  {state, score, attempts, blob, series state or false}: state is pending (queued),
--          claimed (queued, in the owner's wheel), delivering (locked, score = lease expiry),
--          ended (fired or cancelled within dedup.retention; known only for given ids), cold (in
--          the cold index, score = due), paused (a series: score = its next occurrence's due) or
--          unknown. For a series, all but ended are about its current occurrence.
local ownerKey, queueKey, msgKey, attKey, locksKey, leasesKey, seriesKey = key(), key(), key(), key(), key(), key(), key()
local previousKey, currentKey, coldMetaKey, pausedKey = key(), key(), key(), key()
local id, fp, coldFp, bucketPrefix, hourSlot = arg(), arg(), arg(), arg(), num()
local seriesValue = redis.call('HGET', seriesKey, id)
local member = id
local state = seriesState(seriesValue)
if state then member = occurrenceKey(id, state.due) end
if state and redis.call('HGET', pausedKey, id) == 'q' then
  return { 'paused', state.due, tonumber(redis.call('HGET', attKey, member) or '0'), redis.call('HGET', msgKey, id) or false, seriesValue }
end
local attempts = tonumber(redis.call('HGET', attKey, member) or '0')
local score = redis.call('ZSCORE', queueKey, member)
if score then
  local claimed = claimedUpTo(redis.call('HGET', ownerKey, 'claimed'))
  local queued = 'pending'
  if tonumber(score) <= claimed then queued = 'claimed' end
  return { queued, score, attempts, redis.call('HGET', msgKey, id) or false, seriesValue }
end
local blob = redis.call('HGET', msgKey, id)
if blob then
  local locks = redis.call('HGETALL', locksKey)
  for j = 1, #locks, 2 do
    for _, locked in ipairs(cmsgpack.unpack(locks[j + 1])) do
      if locked == member then
        return { 'delivering', redis.call('ZSCORE', leasesKey, locks[j]) or false, attempts + 1, blob, seriesValue }
      end
    end
  end
  return { 'delivering', false, attempts + 1, blob, seriesValue }
end
local cold = coldIndex(coldMetaKey, bucketPrefix, hourSlot)
local coldValue = cold.get(coldFp)
if coldValue then return { 'cold', formatMillis(cold.dueOf(coldValue)), 0, false, false } end
if fp ~= '' and tombstoned(previousKey, currentKey, fp) then return { 'ended', false, attempts, false, false } end
return { 'unknown', false, attempts, false, false }
