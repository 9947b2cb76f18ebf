-- lead: takes or renews monitor leadership for ttl ms. A new leader gets a new fencing token
-- (monitor:token, incremented), which `publish` checks.
--
-- ARGV     monitor id, ttlMillis
-- KEYS     monitor:leader, monitor:token
-- Returns  {1, token} when the caller leads, else {0, current leader}.
local leaderKey, tokenKey = key(), key()
local monitor, ttl = arg(), arg()
local current = redis.call('GET', leaderKey)
if current == monitor then
  redis.call('PEXPIRE', leaderKey, ttl)
  return { 1, redis.call('GET', tokenKey) }
end
if current then return { 0, current } end
redis.call('SET', leaderKey, monitor, 'PX', ttl)
return { 1, tostring(redis.call('INCR', tokenKey)) }
