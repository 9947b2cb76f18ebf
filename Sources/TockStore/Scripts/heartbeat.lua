-- heartbeat: a worker says it is alive (or, leaving, that it is gone) and learns its assignment.
-- The heartbeat's time is Redis's own (TIME), not the worker's: the monitor judges heartbeats on
-- this one clock, so a worker whose clock is wrong is neither taken for dead nor kept alive.
--
-- ARGV     worker, leaving ("1" = deregister: the monitor reassigns its shards at once),
--          summary (JSON for the console: `WorkerSummary`), holding ("1" = alive but firing
--          nothing, its clock being wrong or unmeasured: the monitor gives it no shard)
-- KEYS     workers, assigned:<worker>, summaries, holding
-- Returns  {shard, epoch, shard, epoch, ...}: the shards the monitor assigned to this worker and
--          their owner epochs (empty when leaving).
local workersKey, assignedKey, summariesKey, holdingKey = key(), key(), key(), key()
local worker, leaving, summary, holding = arg(), arg(), arg(), arg()
if leaving == '1' then
  redis.call('ZREM', workersKey, worker)
  redis.call('HDEL', summariesKey, worker)
  redis.call('SREM', holdingKey, worker)
  return {}
end
local time = redis.call('TIME')
redis.call('ZADD', workersKey, formatMillis(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)), worker)
if summary ~= '' then redis.call('HSET', summariesKey, worker, summary) end
if holding == '1' then redis.call('SADD', holdingKey, worker) else redis.call('SREM', holdingKey, worker) end
return redis.call('HGETALL', assignedKey)
