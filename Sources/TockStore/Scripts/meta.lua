-- meta: records the shard count and the store format of a fresh dataset in one step, so that a
-- process starting beside another never sees the count without the format.
--
-- ARGV     shards, format
-- KEYS     meta
-- Returns  {shards, format} as stored (format false: a dataset of format 1, which had none).
local metaKey = key()
local shards, format = arg(), arg()
if redis.call('HSETNX', metaKey, 'shards', shards) == 1 then redis.call('HSET', metaKey, 'format', format) end
return redis.call('HMGET', metaKey, 'shards', 'format')
