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
-- queued its messages again: then nothing is recorded. Likewise only what the lock still covers
-- is recorded: a delivery its holder gave up (queued again by an earlier finish, and perhaps
-- locked anew since) is not touched by a late outcome of the attempt it gave up ("stale").
--
-- A series occurrence that is done (published, dead-lettered, or skipped) places the series' next
-- one in the same call, so that a crash neither skips nor doubles one: the caller computed it
-- from the state `begin` returned, and it is placed only if the series is still at that
-- occurrence and generation (no reschedule or cancel came in between). A published one is counted
-- and raises the series' published-through mark, whatever came in between: into the state a
-- reschedule wrote meanwhile, or into the retired entry of a series a message replaced. When a
-- reschedule kept this very occurrence current, it is queued again: the next begin decides it by
-- the new definition (published, it only advances). A retried occurrence is queued again only
-- while it is its series' current one. A done message's retired entry (the series it replaced)
-- goes with it.
--
-- ARGV     nSections, then per section: worker, epoch, lock, nDone, nRetry, nSeries,
--          nDone entries (id, attempt, fingerprint or "", tombstone set expiry or ""),
--          nRetry entries (id, next fire time, attempt),
--          nSeries entries (occurrence, attempt, fingerprint or "", tombstone set expiry or "",
--          expected state, next due or "" (the series ended), published 1/0)
-- A paused series' occurrence that was being delivered when it was paused ("d" in the paused
-- hash) places its next occurrence in the series' state only, not in the queue, and the mark
-- becomes "q": the resume queues it.
--
-- KEYS     per section: owner, queue, msg, att, locks, leases, inbox, series, retired, paused, tags, then per
--          done entry with a fingerprint its tombstone set, then the same per series entry
-- Returns  per section {held (1, or 0 when the lock was gone), then per retry "claimed" (the
--          caller puts it in its wheel), "due" or "stale", then per series entry "claimed" (its
--          next occurrence goes into the caller's wheel), "claimed-again" (the occurrence itself
--          does, for the new definition to decide), "due", "ended" or "stale"}.
local replies = {}
for _ = 1, num() do
  local ownerKey, queueKey, msgKey, attKey, locksKey, leasesKey, inboxKey, seriesKey, retiredKey = key(), key(), key(), key(), key(), key(), key(), key(), key()
  local pausedKey, tagsKey = key(), key()
  local worker, epoch, lock, nDone, nRetry, nSeries = arg(), arg(), arg(), num(), num(), num()
  local record = redis.call('HGET', locksKey, lock)
  local held, covered = {}, {}
  if record then
    held = cmsgpack.unpack(record)
    for _, id in ipairs(held) do covered[id] = true end
  end
  local done, retried, tombstones = {}, {}, {}
  for _ = 1, nDone do
    local id, attempt, fp, expireAt = arg(), num(), arg(), arg()
    local tombstoneKey = fp ~= '' and key()
    if covered[id] then
      done[#done + 1] = id
      if attempt > 1 then retried[#retried + 1] = id end
      if tombstoneKey then tombstones[#tombstones + 1] = { tombstoneKey, fp, expireAt } end
    end
  end
  local retries = {}
  for i = 1, nRetry do retries[i] = { arg(), arg(), arg() } end
  local steps = {}
  for i = 1, nSeries do
    local step = { id = arg(), attempt = num(), fp = arg(), expireAt = arg(), expected = arg(), nextDue = arg(), published = arg() == '1' }
    if step.fp ~= '' then step.tombstoneKey = key() end
    steps[i] = step
  end

  local out = { 0 }
  if record then
    out[1] = 1
    variadic('HDEL', msgKey, done)
    local tags = tagIndex(tagsKey)
    if tags.any then for _, id in ipairs(done) do tags.remove(id) end end
    variadic('HDEL', attKey, retried)
    if #done > 0 and redis.call('EXISTS', retiredKey) == 1 then variadic('HDEL', retiredKey, done) end
    for _, t in ipairs(tombstones) do tombstone(t[1], t[2], t[3]) end
    if nRetry > 0 or nSeries > 0 then
      local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch', 'claimed')
      local owns = fenceFailure(owner, worker, epoch) == nil
      local claimed = claimedUpTo(owner[3])
      local function enqueue(id, due)
        redis.call('ZADD', queueKey, due, id)
        if tonumber(due) <= claimed and owns then return 'claimed' end
        if tonumber(due) <= claimed then redis.call('ZADD', inboxKey, due, id) end
        return 'due'
      end
      for _, r in ipairs(retries) do
        local id = r[1]
        if covered[id] and isCurrent(msgKey, seriesKey, id) then
          redis.call('HSET', attKey, id, r[3])
          out[#out + 1] = enqueue(id, r[2])
        else
          out[#out + 1] = 'stale'
        end
      end
      for _, step in ipairs(steps) do
        local series, due = occurrenceOf(step.id)
        if not covered[step.id] then
          out[#out + 1] = 'stale'
        else
          if step.attempt > 1 then redis.call('HDEL', attKey, step.id) end
          local state = seriesState(redis.call('HGET', seriesKey, series))
          local expected = seriesState(step.expected)
          local counts = state and { through = state.through, fired = state.fired }
          local counted = counts and step.published and countPublished(counts, tonumber(due))
          if state and expected and state.due == due and state.generation == expected.generation then
            if step.nextDue ~= '' then
              redis.call('HSET', seriesKey, series, seriesText(step.nextDue, counts.fired, state.generation, counts.through))
              if redis.call('HEXISTS', pausedKey, series) == 1 then
                redis.call('HSET', pausedKey, series, 'q')
                out[#out + 1] = 'stale'
              else
                out[#out + 1] = enqueue(occurrenceKey(series, step.nextDue), step.nextDue)
              end
            else
              redis.call('HDEL', msgKey, series)
              redis.call('HDEL', seriesKey, series)
              redis.call('HDEL', pausedKey, series)
              tagIndex(tagsKey).remove(series)
              if step.tombstoneKey then tombstone(step.tombstoneKey, step.fp, step.expireAt) end
              out[#out + 1] = 'ended'
            end
          elseif state then
            -- A reschedule replaced the definition while this occurrence was locked: what it published
            -- counts all the same.
            if counted then redis.call('HSET', seriesKey, series, seriesText(state.due, counts.fired, state.generation, counts.through)) end
            if state.due == due then
              -- The reschedule kept it current: it comes back, and the new definition decides it.
              local placed = enqueue(step.id, due)
              if placed == 'claimed' then placed = 'claimed-again' end
              out[#out + 1] = placed
            else
              out[#out + 1] = 'stale'
            end
          else
            -- Cancelled or ended; or a message replaced the series, which keeps what it published.
            local retired = step.published and retiredState(redis.call('HGET', retiredKey, series))
            if retired and countPublished(retired, tonumber(due)) then
              redis.call('HSET', retiredKey, series, retiredText(retired.through, retired.fired))
            end
            out[#out + 1] = 'stale'
          end
        end
      end
    end
    local finished = {}
    for _, id in ipairs(done) do finished[id] = true end
    for _, r in ipairs(retries) do finished[r[1]] = true end
    for _, step in ipairs(steps) do finished[step.id] = true end
    local remaining = {}
    for _, id in ipairs(held) do
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
