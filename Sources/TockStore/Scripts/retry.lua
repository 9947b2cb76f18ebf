-- retry: after a failed delivery, the caller's locked message is scheduled again at nextDue:
-- into the claimed set when the caller still owns the shard and nextDue is within the horizon
-- (the caller puts it in its wheel), else into the due index.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     ownerWorker, ownerEpoch, token, horizon, then pairs (id, nextDue)
-- Returns  one status per id: claimed, due, or lost (the lock was no longer the caller's).
local tag = KEYS[1]
local dueKey, claimedKey, leaseKey, tokKey = tag .. ':due', tag .. ':claimed', tag .. ':lease', tag .. ':tok'
local owner = redis.call('HMGET', tag .. ':owner', 'worker', 'epoch')
local owns = owner[1] == ARGV[1] and owner[2] == ARGV[2]
local token, horizon = ARGV[3], tonumber(ARGV[4])
local out = {}
for j = 5, #ARGV, 2 do
  local id, nextDue = ARGV[j], ARGV[j + 1]
  if redis.call('HGET', tokKey, id) == token then
    redis.call('HDEL', tokKey, id)
    redis.call('ZREM', leaseKey, id)
    if owns and tonumber(nextDue) <= horizon then
      redis.call('ZADD', claimedKey, nextDue, id)
      out[#out + 1] = 'claimed'
    else
      redis.call('ZADD', dueKey, nextDue, id)
      out[#out + 1] = 'due'
    end
  else
    out[#out + 1] = 'lost'
  end
end
return out
