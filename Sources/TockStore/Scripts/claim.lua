-- claim: moves the shard's messages due up to the horizon from the due index to the claimed set,
-- for the owner's timing wheel. Deliveries whose lease ran out (their worker died between taking
-- the lock and recording the outcome) go back to the due index first, due now.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     ownerWorker, ownerEpoch, now, horizon, limit
-- Returns  {id, due, id, due, ...}; error "FENCED" when the caller does not own the shard at that epoch.
local tag = KEYS[1]
local dueKey, claimedKey, leaseKey, tokKey = tag .. ':due', tag .. ':claimed', tag .. ':lease', tag .. ':tok'
local owner = redis.call('HMGET', tag .. ':owner', 'worker', 'epoch')
if owner[1] ~= ARGV[1] or owner[2] ~= ARGV[2] then
  return redis.error_reply('FENCED shard owned by ' .. tostring(owner[1]) .. ' at epoch ' .. tostring(owner[2]))
end
local now, horizon, limit = ARGV[3], ARGV[4], tonumber(ARGV[5])

local stale = redis.call('ZRANGEBYSCORE', leaseKey, '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(stale) do
  redis.call('ZREM', leaseKey, id)
  redis.call('HDEL', tokKey, id)
  redis.call('ZADD', dueKey, now, id)
end

local batch = redis.call('ZRANGEBYSCORE', dueKey, '-inf', horizon, 'WITHSCORES', 'LIMIT', 0, limit)
for j = 1, #batch, 2 do
  redis.call('ZADD', claimedKey, batch[j + 1], batch[j])
  redis.call('ZREM', dueKey, batch[j])
end
return batch
