-- claim: moves the shard's messages due up to the horizon from the due index to the claimed set,
-- for the owner's timing wheel. Deliveries whose lease ran out (their worker died between taking
-- the lock and recording the outcome) go back to the due index first, due now. The caller's own
-- locks are left alone unless they are `ownGrace` ms past their lease: the caller is alive and
-- still delivering them (an overloaded broker or Redis delays renewals, never a second delivery).
--
-- KEYS[1]  the shard's hash tag
-- ARGV     ownerWorker, ownerEpoch, now, horizon, limit, token, ownGrace
-- Returns  {id, due, id, due, ...}; error "FENCED" when the caller does not own the shard at that epoch.
local tag = KEYS[1]
local dueKey, claimedKey, leaseKey, tokKey = tag .. ':due', tag .. ':claimed', tag .. ':lease', tag .. ':tok'
local owner = redis.call('HMGET', tag .. ':owner', 'worker', 'epoch')
if owner[1] ~= ARGV[1] or owner[2] ~= ARGV[2] then
  return redis.error_reply('FENCED shard owned by ' .. tostring(owner[1]) .. ' at epoch ' .. tostring(owner[2]))
end
local now, horizon, limit = ARGV[3], ARGV[4], tonumber(ARGV[5])

local token, ownGrace = ARGV[6], tonumber(ARGV[7] or '0')
local stale = redis.call('ZRANGEBYSCORE', leaseKey, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for j = 1, #stale, 2 do
  local id, expiry = stale[j], tonumber(stale[j + 1])
  if redis.call('HGET', tokKey, id) ~= token or expiry + ownGrace <= tonumber(now) then
    redis.call('ZREM', leaseKey, id)
    redis.call('HDEL', tokKey, id)
    redis.call('ZADD', dueKey, now, id)
  end
end

local batch = redis.call('ZRANGEBYSCORE', dueKey, '-inf', horizon, 'WITHSCORES', 'LIMIT', 0, limit)
for j = 1, #batch, 2 do
  redis.call('ZADD', claimedKey, batch[j + 1], batch[j])
  redis.call('ZREM', dueKey, batch[j])
end
return batch
