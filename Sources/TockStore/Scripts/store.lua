-- store: stores requests, per shard, in the same call that advances the shard's per-input-
-- partition watermarks, so a re-read record is recognised however late it comes.
--
-- ARGV     tombExpireAt (when a tombstone set of the current window expires), nSections, then per
--          section: worker ("" = never claim), epoch, nWatermarks, nEntries, nWatermarks pairs
--          (topic/partition, highest offset in this batch), nEntries entries of 6:
--          op, topic/partition, offset, id, fingerprint ("" = id not given), due, blob
--            op: S schedule, R reschedule, C cancel, N no-op (a rejected record: watermark only)
-- KEYS     per section: msg, queue, owner, att, wm, inbox, then per entry with a fingerprint the
--          tombstone sets of the previous and the current window
-- Returns  per section, one status per entry: stored, claimed (the caller owns the shard and the
--          message is due by its claimed-up-to time: it goes into the caller's wheel), duplicate,
--          tombstoned, reread, noop, rescheduled, rescheduled-claimed, cancelled, cancel-unknown
--          (remembered: a later schedule loses), cancel-ended, delivering.
--
-- Entries of one topic/partition come in offset order, and a later batch of a shard and partition
-- is never stored before an earlier one: the watermark would skip the earlier one.
local tombExpireAt = arg()
local replies = {}
for _ = 1, num() do
  local msgKey, queueKey, ownerKey, attKey, wmKey, inboxKey = key(), key(), key(), key(), key(), key()
  local worker, epoch, nWatermarks, nEntries = arg(), arg(), num(), num()
  local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch', 'claimed')
  local owns = worker ~= '' and fenceFailure(owner, worker, epoch) == nil
  local claimed = claimedUpTo(owner[3])

  local partitions, highest, old = {}, {}, {}
  for i = 1, nWatermarks do
    partitions[i] = arg()
    highest[partitions[i]] = num()
  end
  if nWatermarks > 0 then
    local stored = redis.call('HMGET', wmKey, unpack(partitions))
    for i, tp in ipairs(partitions) do old[tp] = tonumber(stored[i]) or -1 end
  end

  -- Queues a stored message; true when it goes straight into the caller's wheel.
  local function enqueue(id, due)
    redis.call('ZADD', queueKey, due, id)
    if tonumber(due) <= claimed then
      if owns then return true end
      -- Below the owner's claimed-up-to time: its next claim pass takes it from the inbox.
      redis.call('ZADD', inboxKey, due, id)
    end
    return false
  end

  local out = {}
  for _ = 1, nEntries do
    local op, tp, offset, id, fp, due, blob = arg(), arg(), num(), arg(), arg(), arg(), arg()
    local previousKey, currentKey
    if fp ~= '' then previousKey, currentKey = key(), key() end
    local status
    if offset <= old[tp] then
      status = 'reread'
    elseif op == 'N' then
      status = 'noop'
    elseif op == 'S' then
      if fp ~= '' and tombstoned(previousKey, currentKey, fp) then status = 'tombstoned'
      elseif redis.call('HSETNX', msgKey, id, blob) == 0 then status = 'duplicate'
      elseif enqueue(id, due) then status = 'claimed'
      else status = 'stored' end
    elseif op == 'R' then
      if redis.call('ZSCORE', queueKey, id) then
        redis.call('HSET', msgKey, id, blob)
        redis.call('HDEL', attKey, id)
        if enqueue(id, due) then status = 'rescheduled-claimed' else status = 'rescheduled' end
      elseif redis.call('HEXISTS', msgKey, id) == 1 then status = 'delivering'
      elseif fp ~= '' and tombstoned(previousKey, currentKey, fp) then status = 'tombstoned'
      else
        redis.call('HSET', msgKey, id, blob)
        if enqueue(id, due) then status = 'claimed' else status = 'stored' end
      end
    elseif op == 'C' then
      if redis.call('ZREM', queueKey, id) == 1 then
        redis.call('HDEL', msgKey, id)
        redis.call('HDEL', attKey, id)
        if fp ~= '' then tombstone(currentKey, fp, tombExpireAt) end
        status = 'cancelled'
      elseif redis.call('HEXISTS', msgKey, id) == 1 then status = 'delivering'
      elseif fp ~= '' and tombstoned(previousKey, currentKey, fp) then status = 'cancel-ended'
      else
        if fp ~= '' then tombstone(currentKey, fp, tombExpireAt) end
        status = 'cancel-unknown'
      end
    else
      return redis.error_reply('ERR store: unknown op ' .. tostring(op))
    end
    out[#out + 1] = status
  end

  local advanced = {}
  for _, tp in ipairs(partitions) do
    if highest[tp] > old[tp] then
      advanced[#advanced + 1] = tp
      advanced[#advanced + 1] = formatMillis(highest[tp])
    end
  end
  if #advanced > 0 then redis.call('HSET', wmKey, unpack(advanced)) end
  replies[#replies + 1] = out
end
return replies
