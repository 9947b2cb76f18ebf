-- resetwm: forgets the shard's watermarks of one input topic (all its partitions), for a topic
-- that was deleted and created again: its offsets restart at 0 and would look like re-reads.
--
-- ARGV     topic, partition ("" = every partition of the topic)
-- KEYS     wm
-- Returns  how many partition watermarks were removed.
local wmKey = key()
local topic, partition = arg(), arg()
if partition ~= nil and partition ~= '' then
  return redis.call('HDEL', wmKey, topic .. '/' .. partition)
end
local prefix = topic .. '/'
local removed = 0
for _, tp in ipairs(redis.call('HKEYS', wmKey)) do
  if string.sub(tp, 1, #prefix) == prefix and not string.find(string.sub(tp, #prefix + 1), '/', 1, true) then
    removed = removed + redis.call('HDEL', wmKey, tp)
  end
end
return removed
