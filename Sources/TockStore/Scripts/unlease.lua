-- unlease: gives a lease up, if the caller still holds it.
-- ARGV holder; KEYS the lease. Returns 1 when released.
local leaseKey = key()
if redis.call('GET', leaseKey) == arg() then return redis.call('DEL', leaseKey) end
return 0
