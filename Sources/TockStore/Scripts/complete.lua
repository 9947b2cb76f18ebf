-- complete: records the outcome of deliveries the caller locked: the message is gone (published,
-- or dead-lettered) and, when its id was given, a tombstone keeps the id for dedup.retention.
-- Only the token holder may complete, not the shard's epoch: an old owner may still finish what it
-- had in flight when the shard moved.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     token, now, retention, tombWindow, then triples (id, tombBucket, fingerprint)
-- Returns  one 1 (completed) or 0 (the lock was no longer the caller's) per id.
local tag = KEYS[1]
local msgKey, leaseKey, tokKey, attKey = tag .. ':msg', tag .. ':lease', tag .. ':tok', tag .. ':att'
local token, now = ARGV[1], tonumber(ARGV[2])
local retention, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for j = 5, #ARGV, 3 do
  local id, bucket, fp = ARGV[j], ARGV[j + 1], ARGV[j + 2]
  if redis.call('HGET', tokKey, id) == token then
    redis.call('HDEL', msgKey, id)
    redis.call('HDEL', tokKey, id)
    redis.call('HDEL', attKey, id)
    redis.call('ZREM', leaseKey, id)
    if fp ~= '' then
      local w = math.floor(now / window)
      local key = tag .. ':t:' .. string.format('%.0f', w) .. ':' .. bucket
      redis.call('SADD', key, fp)
      if redis.call('PTTL', key) < 0 then
        redis.call('PEXPIREAT', key, string.format('%.0f', (w + 1) * window + retention))
      end
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
