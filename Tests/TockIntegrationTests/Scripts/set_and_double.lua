-- Stores ARGV[1] at KEYS[1] and returns twice its numeric value.
redis.call('SET', KEYS[1], ARGV[1])
return tonumber(ARGV[1]) * 2
