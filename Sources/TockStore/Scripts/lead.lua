-- lead: takes or renews monitor leadership for ttl ms. A new leader gets a new fencing token
-- (T:monitor:token, incremented), which `publish` checks.
--
-- KEYS[1]  the cluster hash tag
-- ARGV     monitor id, ttlMillis
-- Returns  {1, token} when the caller leads, else {0, current leader}.
local tag = KEYS[1]
local leaseKey = tag .. ':monitor:leader'
local current = redis.call('GET', leaseKey)
if current == ARGV[1] then
  redis.call('PEXPIRE', leaseKey, ARGV[2])
  return { 1, redis.call('GET', tag .. ':monitor:token') }
end
if current then return { 0, current } end
redis.call('SET', leaseKey, ARGV[1], 'PX', ARGV[2])
return { 1, tostring(redis.call('INCR', tag .. ':monitor:token')) }
