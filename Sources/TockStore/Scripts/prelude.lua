-- prelude: prepended to every store script (StoreScripts). A call carries sections, one per
-- shard; each script lists the keys a section declares, in order, and walks KEYS and ARGV with
-- these cursors. No script builds a key name: every key comes in KEYS (Redis Cluster needs that),
-- but for the cold index's buckets (`coldIndex`, below).
local keyAt, argAt = 0, 0
local function key() keyAt = keyAt + 1 return KEYS[keyAt] end
local function arg() argAt = argAt + 1 return ARGV[argAt] end
local function num() return tonumber(arg()) end

-- Why `worker` at `epoch` may not act for the shard, or nil when it owns it.
local function fenceFailure(owner, worker, epoch)
  if owner[1] ~= worker or owner[2] ~= epoch then
    return 'FENCED shard owned by ' .. tostring(owner[1]) .. ' at epoch ' .. tostring(owner[2])
  end
  return nil
end

-- The owner's claimed-up-to time: everything in the queue due by then is in its wheel.
local function claimedUpTo(value)
  if value then return tonumber(value) end
  return -math.huge
end

-- Variadic commands in slices, so that no unpack exceeds Lua's stack.
local function variadic(command, k, items, into)
  for first = 1, #items, 1000 do
    local reply = redis.call(command, k, unpack(items, first, math.min(first + 999, #items)))
    if into and type(reply) == 'table' then
      for _, value in ipairs(reply) do into[#into + 1] = value end
    end
  end
  return into
end

-- Tombstone sets span one window each; an id ended within the retention is in the set of the
-- current window or of the one before.
local function tombstoned(previousKey, currentKey, fp)
  return redis.call('SISMEMBER', currentKey, fp) == 1 or redis.call('SISMEMBER', previousKey, fp) == 1
end

local function tombstone(k, fp, expireAt)
  redis.call('SADD', k, fp)
  if expireAt ~= '' then redis.call('PEXPIREAT', k, expireAt, 'NX') end
end

local function formatMillis(ms) return string.format('%.0f', ms) end

-- Series (SPEC "Recurring schedules"): the series hash holds, per series id, its state
-- "due:fired:generation[:through]": the due time of its current occurrence, how many occurrences
-- were published under its id, a generation of the shard's counter (each state a store call
-- writes takes a new one), and the due time of the latest occurrence published under its id
-- (nil: none; "A" in states written before it existed: the current occurrence). fired and
-- through outlive reschedules: an occurrence at or before `through` is never published again (a
-- worker that locks one only advances the series past it). The occurrence is queued, locked and
-- claimed as "<series id> <due>"; no message id has a space.
local function seriesState(value)
  if not value then return nil end
  local due, fired, generation, mark = string.match(value, '^(%-?%d+):(%d+):(%d+):?([%w%-]*)$')
  if not due then return nil end
  local through = nil
  if mark == 'A' then through = tonumber(due) elseif mark ~= '' then through = tonumber(mark) end
  return { due = due, fired = tonumber(fired), generation = tonumber(generation), through = through }
end

local function seriesText(due, fired, generation, through)
  local text = due .. ':' .. string.format('%d', fired) .. ':' .. string.format('%d', generation)
  if through then text = text .. ':' .. formatMillis(through) end
  return text
end

-- What a series that a one-shot message of its id replaced had published, "through:fired", kept
-- while that message is pending, for a reschedule back into a series.
local function retiredState(value)
  if not value then return nil end
  local through, fired = string.match(value, '^(%-?%d*):(%d+)$')
  if not fired then return nil end
  return { through = tonumber(through), fired = tonumber(fired) }
end

local function retiredText(through, fired)
  local text = ''
  if through then text = formatMillis(through) end
  return text .. ':' .. string.format('%d', fired)
end

-- Counts occurrence `due` as published into `counts` ({through, fired}) unless it was already:
-- occurrences of a series are published in due order, so one at or before `through` was counted.
local function countPublished(counts, due)
  if counts.through and due <= counts.through then return false end
  counts.through = due
  counts.fired = counts.fired + 1
  return true
end

-- A series occurrence's key in queues, wheels and locks: "<series id> <due>" (Swift:
-- `OccurrenceKey`); a message id has no space, so it never collides.
local function occurrenceKey(series, due) return series .. ' ' .. due end

local function occurrenceOf(member)
  return string.match(member, '^(%S+) (%-?%d+)$')
end

-- A delivery lock's id is "<token>:<n>" (Swift: `LockID`): whether `lock` is one `token` took.
local function isLockOf(lock, token)
  return token ~= '' and string.sub(lock, 1, #token + 1) == token .. ':'
end

-- Whether `member` is a message or a series' current occurrence (not one a reschedule or cancel
-- replaced).
local function isCurrent(msgKey, seriesKey, member)
  local series, due = occurrenceOf(member)
  if not series then return redis.call('HEXISTS', msgKey, member) == 1 end
  local state = seriesState(redis.call('HGET', seriesKey, series))
  return state ~= nil and state.due == due
end

-- The cold index (docs/tiered-storage.md): per shard, a linear-hashed set of small hashes
-- "<prefix><bucket>", fingerprint (12 bytes) → due (6 bytes) .. version (4 bytes), and a meta
-- hash with the hashing state (level, split), the count (n) and the count per due hour slot
-- ("h<slot>"). The one exception to "every key comes in KEYS": which bucket holds an id
-- depends on the state, read in the same call, so bucket names are made here from the prefix the
-- caller gives; they share the shard's hash tag, so they are in the slot of the declared keys.
local COLD_SPLIT_ABOVE, COLD_MERGE_BELOW = 40, 10
-- The tag index of one shard (the operators' API: cancel by tag). `tagsKey` is a hash id → its
-- tags ("a,b"), for tagged ids only; each tag's ids are the set `tagsKey .. ':' .. tag`. Those set
-- names are built here, like the cold index's buckets, and share the shard's hash tag, so they are
-- on the shard's Cluster slot. An untagged id costs nothing; a shard with no tagged id costs one
-- EXISTS per call.
local function tagIndex(tagsKey)
  local index = { any = redis.call('EXISTS', tagsKey) == 1 }
  -- Gives `id` exactly the tags `text` ("" = none).
  function index.set(id, text)
    if text == '' and not index.any then return end
    local old = index.any and redis.call('HGET', tagsKey, id) or nil
    if old == text then return end
    if old then
      for tag in string.gmatch(old, '[^,]+') do redis.call('SREM', tagsKey .. ':' .. tag, id) end
    end
    if text == '' then
      if old then redis.call('HDEL', tagsKey, id) end
      return
    end
    for tag in string.gmatch(text, '[^,]+') do redis.call('SADD', tagsKey .. ':' .. tag, id) end
    redis.call('HSET', tagsKey, id, text)
    index.any = true
  end
  function index.remove(id) index.set(id, '') end
  return index
end

local function coldIndex(metaKey, bucketPrefix, hourSlot)
  local meta = redis.call('HMGET', metaKey, 'level', 'split', 'n')
  local ix = { level = tonumber(meta[1]) or 0, split = tonumber(meta[2]) or 0, n = tonumber(meta[3]) or 0 }
  local startN, hours = ix.n, {}
  local function low(fp)
    local a, b, c, d = string.byte(fp, 1, 4)
    return ((a * 256 + b) * 256 + c) * 256 + d
  end
  local function bucketOf(fp)
    local x = low(fp)
    local b = x % 2 ^ ix.level
    if b < ix.split then b = x % 2 ^ (ix.level + 1) end
    return bucketPrefix .. string.format('%d', b)
  end
  function ix.dueOf(value)
    local due = 0
    for i = 1, 6 do due = due * 256 + string.byte(value, i) end
    return due
  end
  local function countHour(value, delta)
    local slot = 'h' .. string.format('%d', math.floor(ix.dueOf(value) / hourSlot))
    hours[slot] = (hours[slot] or 0) + delta
  end
  -- The value under `fp`, or nil.
  function ix.get(fp)
    if ix.n == 0 then return nil end
    return redis.call('HGET', bucketOf(fp), fp) or nil
  end
  -- Splits or merges buckets until the average is within bounds: after every change of the
  -- count, so that a call adding many entries never overfills a bucket (a hash past 128 entries
  -- leaves the packed encoding for good).
  local function rebalance()
    local count = 2 ^ ix.level + ix.split
    while ix.n > COLD_SPLIT_ABOVE * count do
      local from, to, modulus = ix.split, ix.split + 2 ^ ix.level, 2 ^ (ix.level + 1)
      local fromKey, toKey = bucketPrefix .. string.format('%d', from), bucketPrefix .. string.format('%d', to)
      local entries = redis.call('HGETALL', fromKey)
      for j = 1, #entries, 2 do
        if low(entries[j]) % modulus == to then
          redis.call('HSET', toKey, entries[j], entries[j + 1])
          redis.call('HDEL', fromKey, entries[j])
        end
      end
      ix.split = ix.split + 1
      if ix.split == 2 ^ ix.level then ix.level, ix.split = ix.level + 1, 0 end
      count = count + 1
    end
    while count > 1 and ix.n < COLD_MERGE_BELOW * count do
      if ix.split == 0 then ix.level, ix.split = ix.level - 1, 2 ^ (ix.level - 1) end
      ix.split = ix.split - 1
      local fromKey = bucketPrefix .. string.format('%d', ix.split + 2 ^ ix.level)
      local intoKey = bucketPrefix .. string.format('%d', ix.split)
      local entries = redis.call('HGETALL', fromKey)
      if #entries > 0 then redis.call('HSET', intoKey, unpack(entries)) end
      redis.call('DEL', fromKey)
      count = count - 1
    end
  end
  function ix.put(fp, value, old)
    redis.call('HSET', bucketOf(fp), fp, value)
    if old then countHour(old, -1) else ix.n = ix.n + 1 end
    countHour(value, 1)
    rebalance()
  end
  function ix.remove(fp, value)
    redis.call('HDEL', bucketOf(fp), fp)
    ix.n = ix.n - 1
    countHour(value, -1)
    rebalance()
  end
  -- Writes the counts and the hashing state.
  function ix.save()
    for slot, delta in pairs(hours) do
      if delta ~= 0 and redis.call('HINCRBY', metaKey, slot, delta) <= 0 then redis.call('HDEL', metaKey, slot) end
    end
    if ix.n == startN and next(hours) == nil then return end
    redis.call('HSET', metaKey, 'n', string.format('%d', ix.n), 'level', string.format('%d', ix.level), 'split', string.format('%d', ix.split))
  end
  return ix
end
