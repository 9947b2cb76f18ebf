-- finish: records the outcome of one lock's deliveries. Done messages (published, or dead-
-- lettered) are gone. A given id's tombstone was written when it was stored; the caller passes a
-- fingerprint only for a message stored in an earlier tombstone window, whose tombstone would not
-- last dedup.retention from now;
-- failed ones are queued again at their retry time with their attempt count. The lock then covers
-- what it held less those: a batch may be finished in parts, and deliveries nothing could be
-- recorded for are simply not named, so they stay under it too; once it covers nothing it is
-- gone, and a lock nobody renews runs out and a claim retries what it still covers.
-- Only the lock's holder finishes it, not the shard's owner: an old owner may still finish what it
-- had in flight when the shard moved. The lock is gone only when its lease ran out and a claim
-- queued its messages again: then nothing is recorded.
--
-- ARGV     nSections, then per section: worker, epoch, lock, nDone, nRetry,
--          nDone entries (id, attempt, fingerprint or "", tombstone set expiry or ""),
--          nRetry entries (id, next fire time, attempt)
-- KEYS     per section: owner, queue, msg, att, locks, leases, inbox, then per done entry with a
--          fingerprint its tombstone set
-- Returns  per section {held (1, or 0 when the lock was gone), then per retry "claimed" (the
--          caller puts it in its wheel) or "due"}.
local replies = {}
for _ = 1, num() do
  local ownerKey, queueKey, msgKey, attKey, locksKey, leasesKey, inboxKey = key(), key(), key(), key(), key(), key(), key()
  local worker, epoch, lock, nDone, nRetry = arg(), arg(), arg(), num(), num()
  local record = redis.call('HGET', locksKey, lock)
  local done, retried, tombstones = {}, {}, {}
  for _ = 1, nDone do
    local id, attempt, fp, expireAt = arg(), num(), arg(), arg()
    done[#done + 1] = id
    if attempt > 1 then retried[#retried + 1] = id end
    if fp ~= '' then tombstones[#tombstones + 1] = { key(), fp, expireAt } end
  end
  local retries = {}
  for i = 1, nRetry do retries[i] = { arg(), arg(), arg() } end

  local out = { 0 }
  if record then
    out[1] = 1
    variadic('HDEL', msgKey, done)
    variadic('HDEL', attKey, retried)
    for _, t in ipairs(tombstones) do tombstone(t[1], t[2], t[3]) end
    if nRetry > 0 then
      local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch', 'claimed')
      local owns = fenceFailure(owner, worker, epoch) == nil
      local claimed = claimedUpTo(owner[3])
      for _, r in ipairs(retries) do
        local id, nextDue = r[1], r[2]
        redis.call('ZADD', queueKey, nextDue, id)
        redis.call('HSET', attKey, id, r[3])
        if tonumber(nextDue) <= claimed and owns then
          out[#out + 1] = 'claimed'
        else
          if tonumber(nextDue) <= claimed then redis.call('ZADD', inboxKey, nextDue, id) end
          out[#out + 1] = 'due'
        end
      end
    end
    local finished = {}
    for _, id in ipairs(done) do finished[id] = true end
    for _, r in ipairs(retries) do finished[r[1]] = true end
    local remaining = {}
    for _, id in ipairs(cmsgpack.unpack(record)) do
      if not finished[id] then remaining[#remaining + 1] = id end
    end
    if #remaining > 0 then
      redis.call('HSET', locksKey, lock, cmsgpack.pack(remaining))
    else
      redis.call('HDEL', locksKey, lock)
      redis.call('ZREM', leasesKey, lock)
    end
  end
  replies[#replies + 1] = out
end
return replies
