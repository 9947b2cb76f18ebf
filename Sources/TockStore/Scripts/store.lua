-- store: stores one batch of requests of one shard, in the same call that advances the shard's
-- per-input-partition watermarks, so a re-read record is recognised however late it comes.
--
-- KEYS[1]  the shard's hash tag, e.g. "{tock:7}"; every key used starts with it (one Cluster slot).
-- ARGV     now, ownerWorker ("" = never claim), ownerEpoch, claimHorizon, retention, tombWindow,
--          nWatermarks, then nWatermarks pairs (topic/partition, highest offset in this batch),
--          then entries of 8 fields: op, topic/partition, offset, id, tombBucket, fingerprint, due, blob
--            op: S schedule, R reschedule, C cancel, N no-op (a rejected record: watermark only)
--            fingerprint "" = the id was not given, so only the watermark can see a duplicate.
-- Returns  one status per entry: stored, claimed (stored straight into the caller's wheel set),
--          duplicate, tombstoned, reread, noop, rescheduled, rescheduled-claimed, cancelled,
--          cancel-unknown (remembered: a later schedule loses), cancel-ended, delivering.
--
-- Entries of one topic/partition must come in offset order, and a later batch of a shard and
-- partition must never be stored before an earlier one: the watermark would skip the earlier one.
local tag = KEYS[1]
local msgKey, dueKey, claimedKey = tag .. ':msg', tag .. ':due', tag .. ':claimed'
local leaseKey, attKey, wmKey, ownerKey = tag .. ':lease', tag .. ':att', tag .. ':wm', tag .. ':owner'
local now = tonumber(ARGV[1])
local worker, epoch, horizon = ARGV[2], ARGV[3], tonumber(ARGV[4])
local retention, window = tonumber(ARGV[5]), tonumber(ARGV[6])

local owns = false
if worker ~= '' then
  local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch')
  owns = owner[1] == worker and owner[2] == epoch
end

local old, new = {}, {}
local i = 8
for _ = 1, tonumber(ARGV[7]) do
  local tp = ARGV[i]
  local stored = redis.call('HGET', wmKey, tp)
  old[tp] = stored and tonumber(stored) or -1
  new[tp] = tonumber(ARGV[i + 1])
  i = i + 2
end

local function tombKey(w, bucket) return tag .. ':t:' .. string.format('%.0f', w) .. ':' .. bucket end

local function tombstoned(bucket, fp)
  if fp == '' then return false end
  for w = math.floor((now - retention) / window), math.floor(now / window) do
    if redis.call('SISMEMBER', tombKey(w, bucket), fp) == 1 then return true end
  end
  return false
end

local function tombstone(bucket, fp)
  if fp == '' then return end
  local w = math.floor(now / window)
  local key = tombKey(w, bucket)
  redis.call('SADD', key, fp)
  if redis.call('PTTL', key) < 0 then
    redis.call('PEXPIREAT', key, string.format('%.0f', (w + 1) * window + retention))
  end
end

local function place(id, due, blob)
  redis.call('HSET', msgKey, id, blob)
  if owns and tonumber(due) <= horizon then
    redis.call('ZADD', claimedKey, due, id)
    return true
  end
  redis.call('ZADD', dueKey, due, id)
  return false
end

local function unplace(id)
  redis.call('ZREM', dueKey, id)
  redis.call('ZREM', claimedKey, id)
  redis.call('HDEL', attKey, id)
end

local out = {}
while i <= #ARGV do
  local op, tp, offset, id = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local bucket, fp, due, blob = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  i = i + 8
  local status
  if offset <= old[tp] then
    status = 'reread'
  elseif op == 'N' then
    status = 'noop'
  elseif op == 'S' then
    if redis.call('HEXISTS', msgKey, id) == 1 then status = 'duplicate'
    elseif tombstoned(bucket, fp) then status = 'tombstoned'
    elseif place(id, due, blob) then status = 'claimed'
    else status = 'stored' end
  elseif op == 'R' then
    if redis.call('ZSCORE', leaseKey, id) then status = 'delivering'
    elseif redis.call('HEXISTS', msgKey, id) == 1 then
      unplace(id)
      if place(id, due, blob) then status = 'rescheduled-claimed' else status = 'rescheduled' end
    elseif tombstoned(bucket, fp) then status = 'tombstoned'
    elseif place(id, due, blob) then status = 'claimed'
    else status = 'stored' end
  elseif op == 'C' then
    if redis.call('ZSCORE', leaseKey, id) then status = 'delivering'
    elseif redis.call('HEXISTS', msgKey, id) == 1 then
      redis.call('HDEL', msgKey, id)
      unplace(id)
      tombstone(bucket, fp)
      status = 'cancelled'
    elseif tombstoned(bucket, fp) then status = 'cancel-ended'
    else
      tombstone(bucket, fp)
      status = 'cancel-unknown'
    end
  else
    return redis.error_reply('ERR store: unknown op ' .. tostring(op))
  end
  out[#out + 1] = status
end

for tp, offset in pairs(new) do
  if offset > old[tp] then redis.call('HSET', wmKey, tp, string.format('%.0f', offset)) end
end
return out
