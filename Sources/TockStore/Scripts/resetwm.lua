-- resetwm: starts a new incarnation of one input partition in one shard (`tock reset-watermarks`):
-- its watermark is forgotten and its generation set, so the partition's next records are all
-- stored, under default ids of that generation (store.lua, "Watermarks").
--
-- ARGV     topic/partition, generation (one more than the highest any shard has)
-- KEYS     wm
-- Returns  1 when the shard had a watermark of the partition, else 0.
local wmKey = key()
local tp, generation = arg(), arg()
local removed = redis.call('HDEL', wmKey, tp)
redis.call('HSET', wmKey, tp .. ' id', generation .. ' - - -1')
return removed
