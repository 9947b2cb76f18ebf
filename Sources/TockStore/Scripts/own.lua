-- own: makes the caller the shard's owner at a new epoch (standalone mode, where one worker owns
-- every shard; the monitor assigns owners in monitored mode). Every claim, begin and release call
-- carries the epoch, so a previous owner's calls fail from here on.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     worker
-- Returns  the new epoch.
local ownerKey = KEYS[1] .. ':owner'
local epoch = redis.call('HINCRBY', ownerKey, 'epoch', 1)
redis.call('HSET', ownerKey, 'worker', ARGV[1])
return epoch
