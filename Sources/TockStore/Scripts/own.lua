-- own: makes `worker` the shard's owner at a new epoch: the standalone worker takes every shard
-- this way, and the leading monitor assigns shards with it. Every claim, begin and release call
-- carries the epoch, so a previous owner's calls fail from here on; its delivery locks stay valid
-- (completion checks the token), and the new owner releases what the shard had claimed.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     worker
-- Returns  the new epoch.
local ownerKey = KEYS[1] .. ':owner'
local epoch = redis.call('HINCRBY', ownerKey, 'epoch', 1)
redis.call('HSET', ownerKey, 'worker', ARGV[1])
return epoch
