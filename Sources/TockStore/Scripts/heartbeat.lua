-- heartbeat: a worker says it is alive (or, leaving, that it is gone) and learns its assignment.
--
-- ARGV     worker, now, leaving ("1" = deregister: the monitor reassigns its shards at once),
--          summary (JSON for the console: `WorkerSummary`)
-- KEYS     workers, assigned:<worker>, summaries
-- Returns  {shard, epoch, shard, epoch, ...}: the shards the monitor assigned to this worker and
--          their owner epochs (empty when leaving).
local workersKey, assignedKey, summariesKey = key(), key(), key()
local worker, now, leaving, summary = arg(), arg(), arg(), arg()
if leaving == '1' then
  redis.call('ZREM', workersKey, worker)
  redis.call('HDEL', summariesKey, worker)
  return {}
end
redis.call('ZADD', workersKey, now, worker)
if summary ~= '' then redis.call('HSET', summariesKey, worker, summary) end
return redis.call('HGETALL', assignedKey)
