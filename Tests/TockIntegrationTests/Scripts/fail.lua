-- Always fails with an error reply carrying ARGV[1].
return redis.error_reply('TOCKFAIL ' .. ARGV[1])
