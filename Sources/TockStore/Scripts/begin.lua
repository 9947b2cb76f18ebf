-- begin: the delivery lock, one per shard and fired batch. The messages the wheel fired that are
-- still queued at exactly that time (not cancelled, rescheduled or taken over meanwhile) and due
-- by dueBy leave the queue and are recorded under one lock (`token:n`), leased until leaseUntil.
-- dueBy is the worker's clock plus delivery.lockAhead: the worker publishes at the due time.
--
-- ARGV     dueBy, leaseUntil, nSections, then per section: worker, epoch, lock, n, n pairs (id, fire)
-- KEYS     per section: owner, queue, msg, att, locks, leases, series
-- Returns  per section {"ok", id, attempt, blob, series state, ...} (the messages locked; the
--          state is "" for a message, the series' state for an occurrence) or {"fenced", detail}.
local dueBy, leaseUntil = num(), arg()
local replies = {}
for _ = 1, num() do
  local ownerKey, queueKey, msgKey, attKey, locksKey, leasesKey, seriesKey = key(), key(), key(), key(), key(), key(), key()
  local worker, epoch, lock, n = arg(), arg(), arg(), num()
  local ids, fires = {}, {}
  for i = 1, n do
    ids[i] = arg()
    fires[i] = num()
  end
  local failure = fenceFailure(redis.call('HMGET', ownerKey, 'worker', 'epoch'), worker, epoch)
  if failure then
    replies[#replies + 1] = { 'fenced', failure }
  else
    local scores = variadic('ZMSCORE', queueKey, ids, {})
    local locked = {}
    for i, id in ipairs(ids) do
      if scores[i] and tonumber(scores[i]) == fires[i] and fires[i] <= dueBy then locked[#locked + 1] = id end
    end
    local out = { 'ok' }
    if #locked > 0 then
      variadic('ZREM', queueKey, locked)
      local blobs = variadic('HMGET', msgKey, locked, {})
      -- An occurrence's blob is its series'; one a reschedule or cancel replaced is not locked.
      local states = {}
      if redis.call('EXISTS', seriesKey) == 1 then
        for i, id in ipairs(locked) do
          local series, due = occurrenceOf(id)
          if series then
            local value = redis.call('HGET', seriesKey, series)
            local state = seriesState(value)
            if state and state.due == due then
              blobs[i] = redis.call('HGET', msgKey, series)
              states[i] = value
            end
          end
        end
      end
      -- Attempts are written only for retries: most shards have none.
      local attempts = {}
      if redis.call('EXISTS', attKey) == 1 then attempts = variadic('HMGET', attKey, locked, {}) end
      -- A queued id without a message (never expected, or a replaced occurrence) is dropped, not
      -- locked: nothing could ever finish it.
      local covered = {}
      for i, id in ipairs(locked) do
        if blobs[i] then
          covered[#covered + 1] = id
          out[#out + 1] = id
          out[#out + 1] = (tonumber(attempts[i]) or 0) + 1
          out[#out + 1] = blobs[i]
          out[#out + 1] = states[i] or ''
        end
      end
      if #covered > 0 then
        redis.call('HSET', locksKey, lock, cmsgpack.pack(covered))
        redis.call('ZADD', leasesKey, leaseUntil, lock)
      end
    end
    replies[#replies + 1] = out
  end
end
return replies
