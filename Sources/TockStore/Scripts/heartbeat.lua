-- heartbeat: a worker says it is alive (or, leaving, that it is gone) and learns its assignment.
--
-- KEYS[1]  the cluster hash tag, e.g. "{tock}"; the keys used are T:workers and T:assigned:<worker>
-- ARGV     worker, now, leaving ("1" = deregister: the monitor reassigns its shards at once)
-- Returns  {shard, epoch, shard, epoch, ...}: the shards the monitor assigned to this worker and
--          their owner epochs (empty when leaving).
local tag = KEYS[1]
if ARGV[3] == '1' then
  redis.call('ZREM', tag .. ':workers', ARGV[1])
  return {}
end
redis.call('ZADD', tag .. ':workers', ARGV[2], ARGV[1])
return redis.call('HGETALL', tag .. ':assigned:' .. ARGV[1])
