-- release: forgets the owner's claimed-up-to time, so that the shard's next claim (by the next
-- owner, or this one) takes everything queued from the start. A worker calls it for its shards on
-- a graceful stop.
--
-- ARGV     worker, epoch
-- KEYS     owner, queue, inbox
-- Returns  how many queued messages had been claimed; error "FENCED" for a non-owner.
local ownerKey, queueKey, inboxKey = key(), key(), key()
local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch', 'claimed')
local failure = fenceFailure(owner, arg(), arg())
if failure then return redis.error_reply(failure) end
local claimed = claimedUpTo(owner[3])
if claimed == -math.huge then return 0 end
redis.call('HDEL', ownerKey, 'claimed')
redis.call('DEL', inboxKey)
return redis.call('ZCOUNT', queueKey, '-inf', formatMillis(claimed))
