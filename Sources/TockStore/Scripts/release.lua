-- release: moves up to `limit` entries of the shard's claimed set back to the due index. A worker
-- calls it for its shards on a graceful stop, and a new owner calls it when it takes a shard, so
-- that everything the shard had claimed is claimed again, by the new owner's wheel.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     ownerWorker, ownerEpoch, limit
-- Returns  how many moved (0 when done); error "FENCED" when the caller does not own the shard.
local tag = KEYS[1]
local dueKey, claimedKey = tag .. ':due', tag .. ':claimed'
local owner = redis.call('HMGET', tag .. ':owner', 'worker', 'epoch')
if owner[1] ~= ARGV[1] or owner[2] ~= ARGV[2] then
  return redis.error_reply('FENCED shard owned by ' .. tostring(owner[1]) .. ' at epoch ' .. tostring(owner[2]))
end
local batch = redis.call('ZRANGE', claimedKey, 0, tonumber(ARGV[3]) - 1, 'WITHSCORES')
for j = 1, #batch, 2 do
  redis.call('ZADD', dueKey, batch[j + 1], batch[j])
  redis.call('ZREM', claimedKey, batch[j])
end
return #batch / 2
