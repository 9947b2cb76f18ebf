-- Adds ARGV[1] to the counter at KEYS[1] and returns the new value (order-sensitive in a pipeline).
return redis.call('INCRBY', KEYS[1], ARGV[1])
