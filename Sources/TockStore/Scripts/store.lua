-- store: stores requests, per shard, in the same call that advances the shard's per-input-
-- partition watermarks, so a re-read record is recognised however late it comes.
--
-- A schedule with a given id writes its tombstone now, into the current window: the SADD that
-- writes it is also the check against that window, and a message that fires within the window
-- it was stored in needs no other (finish writes one only for a later window). New
-- schedules are written with one variadic HSET and ZADD per shard.
--
-- ARGV     nSections, then per section: worker ("" = never claim), epoch, the cold index's bucket
--          prefix and hour slot (ms), nWatermarks, nEntries,
--          nWatermarks groups of 5 (topic/partition, the partition's last offset in this batch, its
--          generation, topic id ("" = unknown), fingerprint of that last record ("" = unknown)),
--          nEntries entries of
--          11: op, index of its topic/partition among the watermarks (1-based), offset, id,
--          fingerprint ("" = id not given), tombstone set expiry ("" = already set), due, blob,
--          cold fingerprint ("" = not looked up in the cold index), cold value ("" = not cold),
--          tags ("a,b"; "" = none: a schedule or reschedule gives the id exactly these)
--            op: S schedule, R reschedule, T schedule a series, U reschedule as a series, C cancel
--            (a message or a series), N no-op (a rejected record: watermark only), K schedule
--            cold (its record is in Kafka: only its index entry is written), Q reschedule cold (a
--            series, or a message being delivered, stays hot: the blob is stored then), P pause a
--            series, M resume it; a series' due is its first occurrence's
-- KEYS     per section: msg, queue, owner, att, wm, inbox, series, retired, cold meta, paused, tags, then per
--          entry with a fingerprint the tombstone sets of the previous and the current window
-- Returns  per section, one status per entry: stored, claimed (the caller owns the shard and the
--          message is due by its claimed-up-to time: it goes into the caller's wheel), duplicate,
--          tombstoned, reread, noop, rescheduled, rescheduled-claimed, cancelled, cancel-unknown
--          (remembered: a later schedule loses), cancel-ended, delivering, cold (stored in the
--          cold index), rescheduled-cold (to a cold due time: a hot message of the id left the
--          hot store), paused, resumed, not-paused, series-unknown.
--
-- Pausing (the operators' API) takes a series' current occurrence out of the queue and marks the
-- series "q" in the paused hash; resuming queues it again at its own due time, so a worker fires
-- what it missed as `tock-catchup` says, as for any occurrence no worker could fire in time. An
-- occurrence being delivered at the pause cannot be stopped: the mark is then "d", and its finish
-- (finish.lua) places the next occurrence in the state only. A cancel or reschedule of a paused
-- series resumes it first.
--
-- Entries of one topic/partition come in offset order, and a later batch of a shard and partition
-- is never stored before an earlier one: the watermark would skip the earlier one.
--
-- Watermarks (SPEC guarantees 2 and 6): field "<topic/partition>" holds the highest offset stored,
-- field "<topic/partition> id" holds "<generation> <topic id or -> <fingerprint or -> <offset>" of
-- it (the offset says which record the fingerprint is of: an earlier release's store moves the
-- watermark alone, and the fingerprint then describes none). A
-- watermark of an earlier generation (an earlier incarnation of the partition: deleted and
-- recreated, or offsets reused) counts for nothing: the new generation's records are all stored,
-- and replace it. Records of an older generation than the shard's (read before the partition was
-- recreated, stored only now) are stored too, and leave the watermark alone.
local replies = {}
for _ = 1, num() do
  local msgKey, queueKey, ownerKey, attKey, wmKey, inboxKey, seriesKey, retiredKey = key(), key(), key(), key(), key(), key(), key(), key()
  local coldMetaKey, pausedKey, tagsKey = key(), key(), key()
  local worker, epoch, bucketPrefix, hourSlot, nWatermarks, nEntries = arg(), arg(), arg(), num(), num(), num()
  local cold = coldIndex(coldMetaKey, bucketPrefix, hourSlot)
  local tags = tagIndex(tagsKey)
  local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch', 'claimed')
  local owns = worker ~= '' and fenceFailure(owner, worker, epoch) == nil
  local claimed = claimedUpTo(owner[3])

  local partitions, highest, marks, old, current = {}, {}, {}, {}, {}
  local wmFields = {}
  for i = 1, nWatermarks do
    partitions[i] = arg()
    highest[i] = num()
    local generation, topicID, fingerprint = num(), arg(), arg()
    if topicID == '' then topicID = '-' end
    if fingerprint == '' then fingerprint = '-' end
    marks[i] = { generation = generation, text = formatMillis(generation) .. ' ' .. topicID .. ' ' .. fingerprint .. ' ' .. formatMillis(highest[i]) }
    wmFields[#wmFields + 1] = partitions[i]
    wmFields[#wmFields + 1] = partitions[i] .. ' id'
  end
  if nWatermarks > 0 then
    local stored = redis.call('HMGET', wmKey, unpack(wmFields))
    for i = 1, nWatermarks do
      local storedGeneration = 0
      if stored[2 * i] then storedGeneration = tonumber(string.match(stored[2 * i], '^(%d+) ')) or 0 end
      -- The shard's watermark counts only for records of its own generation.
      old[i] = -1
      if marks[i].generation == storedGeneration then old[i] = tonumber(stored[2 * i - 1]) or -1 end
      current[i] = marks[i].generation >= storedGeneration
    end
  end

  -- Entries in columns, read straight from ARGV: a table per entry costs more than its work.
  local ops, tps, offsets, ids, fps, expires, dues, blobs = {}, {}, {}, {}, {}, {}, {}, {}
  local coldFps, coldValues, tagTexts = {}, {}, {}
  local previousKeys, currentKeys, scheduled = {}, {}, {}
  for i = 1, nEntries do
    local a = argAt + 11 * (i - 1)
    local op, tp, offset, id, fp = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), ARGV[a + 4], ARGV[a + 5]
    ops[i], tps[i], offsets[i], ids[i], fps[i] = op, tp, offset, id, fp
    expires[i], dues[i], blobs[i] = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
    coldFps[i], coldValues[i], tagTexts[i] = ARGV[a + 9], ARGV[a + 10], ARGV[a + 11]
    if fp ~= '' then
      previousKeys[i], currentKeys[i] = KEYS[keyAt + 1], KEYS[keyAt + 2]
      keyAt = keyAt + 2
    end
    if (op == 'S' or op == 'T' or op == 'K') and offset > old[tp] then scheduled[#scheduled + 1] = id end
  end
  argAt = argAt + 11 * nEntries
  -- Whether each id is stored: read once for the schedules, then kept up to date here.
  local present = {}
  if #scheduled > 0 then
    local found = variadic('HMGET', msgKey, scheduled, {})
    for i, id in ipairs(scheduled) do present[id] = found[i] ~= false end
  end
  local function exists(id)
    if present[id] == nil then present[id] = redis.call('HEXISTS', msgKey, id) == 1 end
    return present[id]
  end

  -- New schedules, written together; flushed before a reschedule or cancel reads the queue.
  local fields, members, inboxed, states = {}, {}, {}, {}
  local out = {}
  local function flush()
    if #fields > 0 then
      variadic('HSET', msgKey, fields)
      variadic('ZADD', queueKey, members)
      if #inboxed > 0 then variadic('ZADD', inboxKey, inboxed) end
      if #states > 0 then variadic('HSET', seriesKey, states) end
      fields, members, inboxed, states = {}, {}, {}, {}
    end
  end
  -- Queues a message; true when it goes straight into the caller's wheel.
  local function enqueue(id, due, now)
    local below = tonumber(due) <= claimed
    if now then redis.call('ZADD', queueKey, due, id) else
      members[#members + 1] = due
      members[#members + 1] = id
    end
    if below and not owns then
      -- Below the owner's claimed-up-to time: its next claim pass takes it from the inbox.
      if now then redis.call('ZADD', inboxKey, due, id) else
        inboxed[#inboxed + 1] = due
        inboxed[#inboxed + 1] = id
      end
    end
    return below and owns
  end
  -- Writes the tombstone into the current window; false, and nothing written, when the id is
  -- there or in the previous window already (an id is not remembered longer for being reused).
  local function remember(i)
    local fp, currentKey = fps[i], currentKeys[i]
    if redis.call('SISMEMBER', previousKeys[i], fp) == 1 then return false end
    if redis.call('SADD', currentKey, fp) == 0 then return false end
    if expires[i] ~= '' then redis.call('PEXPIREAT', currentKey, expires[i], 'NX') end
    return true
  end

  -- Every series state written gets a generation of its own (the shard's counter, a field no id
  -- can be: ids have no space), so a lock's finish never mistakes a later series for its own.
  local function newGeneration() return redis.call('HINCRBY', seriesKey, ' generation', 1) end

  -- Ends a series: its current occurrence leaves the queue; one being delivered is still published.
  -- `unsure`: the occurrence is being delivered, or queued for a retry after an attempt that may
  -- have been written.
  local function dropSeries(id)
    local state = seriesState(redis.call('HGET', seriesKey, id))
    if not state then return nil end
    local member = occurrenceKey(id, state.due)
    local queued = redis.call('ZREM', queueKey, member) == 1
    local retried = queued and redis.call('HDEL', attKey, member) == 1
    redis.call('HDEL', seriesKey, id)
    return { state = state, unsure = not queued or retried }
  end

  -- Puts a paused series' withheld occurrence back in the queue (before a cancel or reschedule
  -- of it reads the queue), or forgets a pause a delivery's finish has not seen yet.
  local function unpause(id)
    local mark = redis.call('HGET', pausedKey, id)
    if not mark then return false end
    redis.call('HDEL', pausedKey, id)
    local state = seriesState(redis.call('HGET', seriesKey, id))
    if mark == 'q' and state then
      -- Through the inbox whoever owns the shard: its next claim pass takes it into the wheel.
      local member = occurrenceKey(id, state.due)
      redis.call('ZADD', queueKey, state.due, member)
      if tonumber(state.due) <= claimed then redis.call('ZADD', inboxKey, state.due, member) end
    end
    return true
  end

  -- A reschedule or cancel with a given id writes its tombstone, whatever it found.
  local function tombstoneGiven(i)
    if fps[i] ~= '' then tombstone(currentKeys[i], fps[i], expires[i]) end
  end
  -- A reschedule queues what it replaced, or what it turned into something else, at once.
  local function requeue(i, member, due)
    tombstoneGiven(i)
    if enqueue(member, due, true) then return 'rescheduled-claimed' end
    return 'rescheduled'
  end
  -- A reschedule that found nothing of its id writes it as new, at once.
  local function storeNew(id, blob, member, due)
    redis.call('HSET', msgKey, id, blob)
    present[id] = true
    if enqueue(member, due, true) then return 'claimed' end
    return 'stored'
  end

  -- The id's cold index entry, if it has one.
  local function coldEntry(i)
    if coldFps[i] == '' then return nil end
    return cold.get(coldFps[i])
  end
  -- Removes the id's cold index entry; true when it had one.
  local function coldRemove(i)
    local value = coldEntry(i)
    if not value then return false end
    cold.remove(coldFps[i], value)
    return true
  end
  -- A cold id is remembered from when it is moved into the hot store: here it is only checked.
  local function coldTombstoned(i)
    return fps[i] ~= '' and tombstoned(previousKeys[i], currentKeys[i], fps[i])
  end

  for i = 1, nEntries do
    local op, id, due, given = ops[i], ids[i], dues[i], fps[i] ~= ''
    local status
    if offsets[i] <= old[tps[i]] then
      status = 'reread'
    elseif op == 'N' then
      status = 'noop'
    elseif op == 'K' then
      if exists(id) or coldEntry(i) then status = 'duplicate'
      elseif coldTombstoned(i) then status = 'tombstoned'
      else
        cold.put(coldFps[i], coldValues[i])
        status = 'cold'
      end
    elseif op == 'S' or op == 'T' then
      if exists(id) or coldEntry(i) then status = 'duplicate'
      elseif given and not remember(i) then status = 'tombstoned'
      else
        fields[#fields + 1] = id
        fields[#fields + 1] = blobs[i]
        present[id] = true
        local member = id
        if op == 'T' then
          member = occurrenceKey(id, due)
          states[#states + 1] = id
          states[#states + 1] = seriesText(due, 0, newGeneration())
        end
        if enqueue(member, due, false) then status = 'claimed' else status = 'stored' end
      end
    elseif op == 'U' then
      flush()
      unpause(id)
      local member = occurrenceKey(id, due)
      local current = seriesState(redis.call('HGET', seriesKey, id))
      -- A series, or a message that replaced one, keeps what was published under its id: the new
      -- definition never publishes an occurrence at or before `through`, and its tock-count
      -- counts what any definition published.
      local carried = current or retiredState(redis.call('HGET', retiredKey, id))
      local currentMember = current and occurrenceKey(id, current.due)
      if current and (current.due == due or not redis.call('ZSCORE', queueKey, currentMember)
          or redis.call('HEXISTS', attKey, currentMember) == 1) then
        -- The current occurrence stays current, with its attempts: when the new definition's first
        -- is that very one, when it is being delivered (its finish queues it again), or when it
        -- waits for a retry (an earlier attempt may have been written: the next one reads the
        -- output back). Only the definition and the generation change; the new definition then
        -- decides it: one published meanwhile, or not its own, gives way to its next occurrence
        -- after `through`. So a series never has two occurrences queued or being delivered at
        -- once, nor drops one that may be in Kafka.
        redis.call('HSET', msgKey, id, blobs[i])
        redis.call('HSET', seriesKey, id, seriesText(current.due, current.fired, newGeneration(), current.through))
        tombstoneGiven(i)
        status = 'rescheduled'
      elseif current or redis.call('ZREM', queueKey, id) == 1 or coldRemove(i) then
        -- A pending series or message becomes this series.
        if current then
          redis.call('ZREM', queueKey, currentMember)
          redis.call('HDEL', attKey, currentMember)
        else
          redis.call('HDEL', attKey, id)
          redis.call('HDEL', retiredKey, id)
        end
        redis.call('HSET', msgKey, id, blobs[i])
        carried = carried or { fired = 0 }
        redis.call('HSET', seriesKey, id, seriesText(due, carried.fired, newGeneration(), carried.through))
        status = requeue(i, member, due)
      elseif exists(id) then status = 'delivering'
      elseif given and not remember(i) then status = 'tombstoned'
      else
        redis.call('HSET', seriesKey, id, seriesText(due, 0, newGeneration()))
        status = storeNew(id, blobs[i], member, due)
      end
    elseif op == 'P' then
      flush()
      local state = seriesState(redis.call('HGET', seriesKey, id))
      if not state then status = 'series-unknown'
      elseif redis.call('HEXISTS', pausedKey, id) == 1 then status = 'paused'
      else
        local member = occurrenceKey(id, state.due)
        redis.call('ZREM', inboxKey, member)
        if redis.call('ZREM', queueKey, member) == 1 then
          redis.call('HSET', pausedKey, id, 'q')
        else
          redis.call('HSET', pausedKey, id, 'd')
        end
        status = 'paused'
      end
    elseif op == 'M' then
      flush()
      if redis.call('HEXISTS', seriesKey, id) == 0 then status = 'series-unknown'
      elseif unpause(id) then status = 'resumed'
      else status = 'not-paused' end
    else
      flush()
      if op == 'R' or op == 'Q' or op == 'C' then unpause(id) end
      local dropped = (op == 'R' or op == 'Q') and dropSeries(id)
      if dropped then
        -- A series becomes this message. What it published is kept for a reschedule back into a
        -- series; an occurrence being delivered or retried counts as published (it may be).
        local counts = { through = dropped.state.through, fired = dropped.state.fired }
        if dropped.unsure then countPublished(counts, tonumber(dropped.state.due)) end
        redis.call('HSET', retiredKey, id, retiredText(counts.through, counts.fired))
        redis.call('HSET', msgKey, id, blobs[i])
        status = requeue(i, id, due)
      elseif op == 'C' and dropSeries(id) then
        redis.call('HDEL', msgKey, id)
        present[id] = false
        tombstoneGiven(i)
        status = 'cancelled'
      elseif op == 'C' and coldRemove(i) then
        tombstoneGiven(i)
        status = 'cancelled'
      elseif op == 'R' or op == 'Q' then
        local coldValue = coldEntry(i)
        if coldValue and op == 'Q' then
          cold.put(coldFps[i], coldValues[i], coldValue)
          status = 'rescheduled-cold'
        elseif coldValue then
          cold.remove(coldFps[i], coldValue)
          redis.call('HSET', msgKey, id, blobs[i])
          present[id] = true
          status = requeue(i, id, due)
        elseif redis.call('ZSCORE', queueKey, id) then
          if op == 'Q' then
            -- Hot to cold: the hot message goes; its tombstone is written when it moves back.
            redis.call('ZREM', queueKey, id)
            redis.call('HDEL', msgKey, id)
            redis.call('HDEL', attKey, id)
            redis.call('HDEL', retiredKey, id)
            present[id] = false
            cold.put(coldFps[i], coldValues[i])
            status = 'rescheduled-cold'
          else
            redis.call('HSET', msgKey, id, blobs[i])
            redis.call('HDEL', attKey, id)
            status = requeue(i, id, due)
          end
        elseif exists(id) then status = 'delivering'
        elseif op == 'Q' then
          if coldTombstoned(i) then status = 'tombstoned' else
            cold.put(coldFps[i], coldValues[i])
            status = 'cold'
          end
        elseif given and not remember(i) then status = 'tombstoned'
        else
          status = storeNew(id, blobs[i], id, due)
        end
      elseif op == 'C' then
        if redis.call('ZREM', queueKey, id) == 1 then
          redis.call('HDEL', msgKey, id)
          redis.call('HDEL', attKey, id)
          redis.call('HDEL', retiredKey, id)
          present[id] = false
          tombstoneGiven(i)
          status = 'cancelled'
        elseif exists(id) then status = 'delivering'
        elseif given and not remember(i) then status = 'cancel-ended'
        else status = 'cancel-unknown' end
      else
        return redis.error_reply('ERR store: unknown op ' .. tostring(op))
      end
    end
    out[i] = status
    -- The id's tags follow what became of it: a new or replaced message takes the request's, an
    -- ended one none.
    if status == 'stored' or status == 'claimed' or status == 'cold' or string.sub(status, 1, 11) == 'rescheduled' then
      tags.set(id, tagTexts[i])
    elseif status == 'cancelled' then
      tags.remove(id)
    end
  end
  flush()
  cold.save()

  -- Written even when nothing advanced (a re-read batch): WAIT waits only for the writes of the
  -- caller's own connection, so a retried batch whose first WAIT fell short must write again
  -- for its WAIT to cover the first write too.
  local written = {}
  for i, tp in ipairs(partitions) do
    if current[i] then
      written[#written + 1] = tp
      written[#written + 1] = formatMillis(math.max(highest[i], old[i]))
      if highest[i] > old[i] then
        written[#written + 1] = tp .. ' id'
        written[#written + 1] = marks[i].text
      end
    end
  end
  if #written > 0 then redis.call('HSET', wmKey, unpack(written)) end
  replies[#replies + 1] = out
end
return replies
