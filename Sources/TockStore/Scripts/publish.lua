-- publish: the leading monitor writes the workers' view of the assignment (what heartbeats
-- return), fenced by its leadership token so that a deposed monitor cannot overwrite it.
--
-- KEYS[1]  the cluster hash tag
-- ARGV     token, nWorkers, then per worker: name, nShards, then nShards pairs (shard, epoch);
--          then the dead workers to forget, each as a name
-- Returns  1, or error "FENCED" when the token is not the current leadership token.
local tag = KEYS[1]
if redis.call('GET', tag .. ':monitor:token') ~= ARGV[1] then
  return redis.error_reply('FENCED monitor token ' .. ARGV[1] .. ' is not current')
end
local i = 3
for _ = 1, tonumber(ARGV[2]) do
  local key = tag .. ':assigned:' .. ARGV[i]
  local n = tonumber(ARGV[i + 1])
  i = i + 2
  redis.call('DEL', key)
  if n > 0 then
    local fields = {}
    for j = 0, n - 1 do
      fields[#fields + 1] = ARGV[i + 2 * j]
      fields[#fields + 1] = ARGV[i + 2 * j + 1]
    end
    redis.call('HSET', key, unpack(fields))
  end
  i = i + 2 * n
end
while i <= #ARGV do
  redis.call('DEL', tag .. ':assigned:' .. ARGV[i])
  redis.call('ZREM', tag .. ':workers', ARGV[i])
  i = i + 1
end
return 1
