-- lease: takes or renews a named lease (the standalone worker's) for ttl ms. The same holder may
-- always renew it, so a worker restarted under the same id takes it back at once.
--
-- KEYS[1]  the lease key
-- ARGV     holder, ttlMillis
-- Returns  "" when the caller holds the lease now, else {current holder, its remaining ms}: a
--          caller that asks again sees the remaining time rise only if the holder renewed it.
local current = redis.call('GET', KEYS[1])
if not current or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ''
end
return {current, redis.call('PTTL', KEYS[1])}
