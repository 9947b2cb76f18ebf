-- resetwm: forgets the shard's watermarks of one input topic (all its partitions), for a topic
-- that was deleted and created again: its offsets restart at 0 and would look like re-reads.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     topic, partition ("" = every partition of the topic)
-- Returns  how many partition watermarks were removed.
local wmKey = KEYS[1] .. ':wm'
if ARGV[2] ~= nil and ARGV[2] ~= '' then
  return redis.call('HDEL', wmKey, ARGV[1] .. '/' .. ARGV[2])
end
local prefix = ARGV[1] .. '/'
local removed = 0
for _, tp in ipairs(redis.call('HKEYS', wmKey)) do
  if string.sub(tp, 1, #prefix) == prefix and not string.find(string.sub(tp, #prefix + 1), '/', 1, true) then
    removed = removed + redis.call('HDEL', wmKey, tp)
  end
end
return removed
