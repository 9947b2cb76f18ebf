-- renew: extends the delivery locks a live worker still holds (messages waiting for the broker's
-- acknowledgement), so that only a dead worker's locks run out and get retried elsewhere.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     token, leaseUntil, then ids
-- Returns  how many locks were still the caller's and were extended.
local tag = KEYS[1]
local leaseKey, tokKey = tag .. ':lease', tag .. ':tok'
local token, leaseUntil = ARGV[1], ARGV[2]
local renewed = 0
for j = 3, #ARGV do
  if redis.call('HGET', tokKey, ARGV[j]) == token then
    redis.call('ZADD', leaseKey, 'XX', leaseUntil, ARGV[j])
    renewed = renewed + 1
  end
end
return renewed
