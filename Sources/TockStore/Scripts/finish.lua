-- finish: records the outcome of one lock's deliveries. Done messages (published, or dead-
-- lettered) are gone. A given id's tombstone was written when it was stored; the caller passes a
-- fingerprint only for a message stored in an earlier tombstone window, whose tombstone would not
-- last dedup.retention from now;
-- failed ones are queued again at their retry time with their attempt count; kept ones (nothing
-- could be recorded for them) stay under the lock, whose lease then runs out and retries them.
-- Only the lock's holder finishes it, not the shard's owner: an old owner may still finish what it
-- had in flight when the shard moved. The lock is gone only when its lease ran out and a claim
-- queued its messages again: then nothing is recorded.
--
-- ARGV     nSections, then per section: worker, epoch, lock, nDone, nRetry, nKeep,
--          nDone entries (id, attempt, fingerprint or "", tombstone set expiry or ""),
--          nRetry entries (id, next fire time, attempt), nKeep ids
-- KEYS     per section: owner, queue, msg, att, locks, leases, inbox, then per done entry with a
--          fingerprint its tombstone set
-- Returns  per section {held (1, or 0 when the lock was gone), then per retry "claimed" (the
--          caller puts it in its wheel) or "due"}.
local replies = {}
for _ = 1, num() do
  local ownerKey, queueKey, msgKey, attKey, locksKey, leasesKey, inboxKey = key(), key(), key(), key(), key(), key(), key()
  local worker, epoch, lock, nDone, nRetry, nKeep = arg(), arg(), arg(), num(), num(), num()
  local held = redis.call('HEXISTS', locksKey, lock) == 1
  local done, retried, tombstones, keep = {}, {}, {}, {}
  for _ = 1, nDone do
    local id, attempt, fp, expireAt = arg(), num(), arg(), arg()
    done[#done + 1] = id
    if attempt > 1 then retried[#retried + 1] = id end
    if fp ~= '' then tombstones[#tombstones + 1] = { key(), fp, expireAt } end
  end
  local retries = {}
  for i = 1, nRetry do retries[i] = { arg(), arg(), arg() } end
  for i = 1, nKeep do keep[i] = arg() end

  local out = { 0 }
  if held then
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
    if #keep > 0 then
      redis.call('HSET', locksKey, lock, cmsgpack.pack(keep))
    else
      redis.call('HDEL', locksKey, lock)
      redis.call('ZREM', leasesKey, lock)
    end
  end
  replies[#replies + 1] = out
end
return replies
