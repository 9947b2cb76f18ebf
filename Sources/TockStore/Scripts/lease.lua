-- lease: takes or renews a named lease (the standalone worker's) for ttl ms. The same holder may
-- always renew it, so a worker restarted under the same id takes it back at once.
--
-- ARGV     holder, ttlMillis
-- KEYS     the lease
-- Returns  "" when the caller holds the lease now, else {current holder, its remaining ms}: a
--          caller that asks again sees the remaining time rise only if the holder renewed it.
local leaseKey = key()
local holder, ttl = arg(), arg()
local current = redis.call('GET', leaseKey)
if not current or current == holder then
  redis.call('SET', leaseKey, holder, 'PX', ttl)
  return ''
end
return { current, redis.call('PTTL', leaseKey) }
