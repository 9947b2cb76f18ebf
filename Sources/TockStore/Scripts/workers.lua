-- workers: what the monitor judges the workers by, read with the reference clock's time so that
-- a heartbeat's age is measured on the clock that stamped it (heartbeat.lua), whatever the
-- monitor's own clock says.
--
-- KEYS     workers, holding
-- Returns  {{seconds, microseconds} (Redis TIME), {worker, heartbeat ms, ...}, {holding workers}}
local workersKey, holdingKey = key(), key()
return { redis.call('TIME'), redis.call('ZRANGE', workersKey, 0, -1, 'WITHSCORES'), redis.call('SMEMBERS', holdingKey) }
