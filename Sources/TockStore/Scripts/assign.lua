-- assign: the leading monitor writes the workers' view of the assignment (what heartbeats
-- return), fenced by its leadership token so that a deposed monitor cannot overwrite it.
--
-- ARGV     token, nWorkers, then per worker: name, nShards, then nShards pairs (shard, epoch);
--          then the dead workers to forget, each as a name
-- KEYS     monitor:token, workers, summaries, holding, then assigned:<worker> of each worker, then
--          of each dead one
-- Returns  1, or error "FENCED" when the token is not the current leadership token.
local tokenKey, workersKey, summariesKey, holdingKey = key(), key(), key(), key()
if redis.call('GET', tokenKey) ~= arg() then
  return redis.error_reply('FENCED monitor token ' .. ARGV[1] .. ' is not current')
end
for _ = 1, num() do
  local assignedKey = key()
  local _, n = arg(), num()
  redis.call('DEL', assignedKey)
  if n > 0 then
    local fields = {}
    for _ = 1, 2 * n do fields[#fields + 1] = arg() end
    redis.call('HSET', assignedKey, unpack(fields))
  end
end
while argAt < #ARGV do
  local dead = arg()
  redis.call('DEL', key())
  redis.call('ZREM', workersKey, dead)
  redis.call('HDEL', summariesKey, dead)
  redis.call('SREM', holdingKey, dead)
end
return 1
