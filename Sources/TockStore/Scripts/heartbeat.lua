-- heartbeat: a worker says it is alive (or, leaving, that it is gone) and learns its assignment.
--
-- ARGV     worker, now, leaving ("1" = deregister: the monitor reassigns its shards at once)
-- KEYS     workers, assigned:<worker>
-- Returns  {shard, epoch, shard, epoch, ...}: the shards the monitor assigned to this worker and
--          their owner epochs (empty when leaving).
local workersKey, assignedKey = key(), key()
local worker, now, leaving = arg(), arg(), arg()
if leaving == '1' then
  redis.call('ZREM', workersKey, worker)
  return {}
end
redis.call('ZADD', workersKey, now, worker)
return redis.call('HGETALL', assignedKey)
