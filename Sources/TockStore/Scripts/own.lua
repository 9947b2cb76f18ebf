-- own: makes `worker` the shard's owner at a new epoch: the standalone worker takes every shard
-- this way, and the leading monitor assigns shards with it. Every claim, begin and release call
-- carries the epoch, so a previous owner's calls fail from here on; its delivery locks stay valid
-- (finishing checks the lock, not the epoch), and the new owner claims the queue from the start.
--
-- ARGV     worker
-- KEYS     owner, inbox
-- Returns  the new epoch.
local ownerKey, inboxKey = key(), key()
local epoch = redis.call('HINCRBY', ownerKey, 'epoch', 1)
redis.call('HSET', ownerKey, 'worker', arg())
redis.call('HDEL', ownerKey, 'claimed')
redis.call('DEL', inboxKey)
return epoch
