-- The Redis work of a message's life (store, begin, finish) in candidate store layouts, so that
-- their CPU can be compared without a worker, a broker or the AOF (scripts/bench-layout --cpu).
-- Each call handles `count` messages spread over `shards` shards, as the worker's calls do: the
-- per-shard commands are variadic, the per-message ones (tombstones, an index in small hashes)
-- are one `redis.call` each. Message i is due at base + i/5 ms (5000/s), in shard i % shards.
--   A  format 3: a hash id -> message and a sorted set id -> due time per shard
--   F  a list per shard and due bucket (each element carries its id) and a fingerprint index
--      spread over 4096 small (listpack) hashes per shard: one HSETNX/HDEL per message
--   H  the same lists and one hash per shard fingerprint (binary) -> (bucket, position):
--      variadic, but bucket keys are named from data only Redis has
-- ARGV: layout, phase (store|begin|finish), first message, count, shards, bucket ms, base (ms),
--       tombstones (1: a given id's two tombstone calls when stored, as today)
local L, phase, first, n, S, bms, base, tombstones = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
local blob = string.rep('b', 133)
local sections = {}
for i = first, first + n - 1 do
  local s = i % S
  sections[s] = sections[s] or {}
  table.insert(sections[s], i)
end
local function id(i) return 'bench-' .. i end
local function fp(i) return (i * 2654435761) % 4294967291 * 1000 + i % 997 end
local function due(i) return base + math.floor(i / 5) end
-- Appends each bucket's elements, indexes the bucket and counts them live.
local function appendBuckets(T, bySec)
  for sec, els in pairs(bySec) do
    redis.call('RPUSH', T .. 'b:' .. sec, unpack(els))
    redis.call('ZADD', T .. 'secs', 'NX', sec, sec)
    redis.call('HINCRBY', T .. 'live', sec, #els)
  end
end
for s, msgs in pairs(sections) do
  local T = 'p{' .. s .. '}:'
  if L == 'A' then
    if phase == 'store' then
      local ids = {}
      for _, i in ipairs(msgs) do ids[#ids + 1] = id(i) end
      redis.call('HMGET', T .. 'msg', unpack(ids))
      local fields, members = {}, {}
      for _, i in ipairs(msgs) do
        local b = fp(i) % 8192
        if tombstones then
          redis.call('SISMEMBER', T .. 't:0:' .. b, fp(i))
          redis.call('SADD', T .. 't:1:' .. b, fp(i))
        end
        fields[#fields + 1] = id(i); fields[#fields + 1] = blob
        members[#members + 1] = due(i); members[#members + 1] = id(i)
      end
      redis.call('HSET', T .. 'msg', unpack(fields))
      redis.call('ZADD', T .. 'queue', unpack(members))
    elseif phase == 'begin' then
      local ids = {}
      for _, i in ipairs(msgs) do ids[#ids + 1] = id(i) end
      local scores = redis.call('ZMSCORE', T .. 'queue', unpack(ids))
      redis.call('ZREM', T .. 'queue', unpack(ids))
      local blobs = redis.call('HMGET', T .. 'msg', unpack(ids))
      redis.call('EXISTS', T .. 'att')
      redis.call('HSET', T .. 'locks', 'l' .. first, cmsgpack.pack(ids))
      redis.call('ZADD', T .. 'leases', 1, 'l' .. first)
    else
      local ids = {}
      for _, i in ipairs(msgs) do ids[#ids + 1] = id(i) end
      local rec = redis.call('HGET', T .. 'locks', 'l' .. first)
      redis.call('HDEL', T .. 'msg', unpack(ids))
      redis.call('HDEL', T .. 'locks', 'l' .. first)
      redis.call('ZREM', T .. 'leases', 'l' .. first)
    end
  elseif L == 'H' then
    local F = T .. 'f'
    local function fpb(i) return struct.pack('>I4I4', i % 4294967291, (i * 2654435761) % 4294967291) end
    if phase == 'store' then
      local fps = {}
      for k, i in ipairs(msgs) do fps[k] = fpb(i) end
      redis.call('HMGET', F, unpack(fps))
      local ver = redis.call('HINCRBY', T .. 'owner', 'ver', #msgs) - #msgs
      local bySec, fields = {}, {}
      for k, i in ipairs(msgs) do
        local f = fp(i)
        local b = f % 8192
        if tombstones then
          redis.call('SISMEMBER', T .. 't:0:' .. b, f)
          redis.call('SADD', T .. 't:1:' .. b, f)
        end
        local v = ver + k
        local sec = math.floor(due(i) / bms)
        fields[#fields + 1] = fps[k]
        fields[#fields + 1] = struct.pack('>I4I4', sec, v)
        local el = struct.pack('>I4I2BB', v, due(i) % bms, 1, #id(i)) .. id(i) .. blob
        bySec[sec] = bySec[sec] or {}
        table.insert(bySec[sec], el)
      end
      redis.call('HSET', F, unpack(fields))
      appendBuckets(T, bySec)
    elseif phase == 'begin' then
      local fps, bySec = {}, {}
      for k, i in ipairs(msgs) do
        fps[k] = fpb(i)
        local sec = math.floor(due(i) / bms)
        bySec[sec] = bySec[sec] or {}
        bySec[sec][#bySec[sec] + 1] = k
      end
      local where = redis.call('HMGET', F, unpack(fps))
      local marks, out = {}, {}
      for k, w in ipairs(where) do
        if w then marks[#marks + 1] = fps[k]; marks[#marks + 1] = w .. 'L' end
      end
      for sec, ks in pairs(bySec) do
        local els = redis.call('LRANGE', T .. 'b:' .. sec, 0, -1)
        local want = {}
        for _, k in ipairs(ks) do if where[k] then local _, v = struct.unpack('>I4I4', where[k]); want[v] = true end end
        for _, el in ipairs(els) do
          local v = struct.unpack('>I4', el)
          if want[v] then out[#out + 1] = el end
        end
      end
      if #marks > 0 then redis.call('HSET', F, unpack(marks)) end
      redis.call('HSET', T .. 'locks', 'l' .. first, table.concat(fps))
      redis.call('ZADD', T .. 'leases', 1, 'l' .. first)
    else
      local rec = redis.call('HGET', T .. 'locks', 'l' .. first)
      local fps, bySec = {}, {}
      for k, i in ipairs(msgs) do
        fps[k] = fpb(i)
        local sec = math.floor(due(i) / bms)
        bySec[sec] = (bySec[sec] or 0) + 1
      end
      redis.call('HDEL', F, unpack(fps))
      for sec, c in pairs(bySec) do
        if redis.call('HINCRBY', T .. 'live', sec, -c) <= 0 then
          redis.call('DEL', T .. 'b:' .. sec)
          redis.call('HDEL', T .. 'live', sec)
          redis.call('ZREM', T .. 'secs', sec)
        end
      end
      redis.call('HDEL', T .. 'locks', 'l' .. first)
      redis.call('ZREM', T .. 'leases', 'l' .. first)
    end
  else
    if phase == 'store' then
      local bySec = {}
      local ver = redis.call('HINCRBY', T .. 'owner', 'ver', #msgs) - #msgs
      for k, i in ipairs(msgs) do
        local f = fp(i)
        local v = ver + k
        local sec = math.floor(due(i) / bms)
        redis.call('HSETNX', T .. 'f:' .. (f % 4096), f, struct.pack('>I4I8I4', sec, v, i))
        local b = f % 8192
        if tombstones then
          redis.call('SISMEMBER', T .. 't:0:' .. b, f)
          redis.call('SADD', T .. 't:1:' .. b, f)
        end
        local el = struct.pack('>I8I8I2', v, due(i), 1) .. struct.pack('>I2', #id(i)) .. id(i) .. blob
        bySec[sec] = bySec[sec] or {}
        table.insert(bySec[sec], el)
      end
      appendBuckets(T, bySec)
    elseif phase == 'begin' then
      -- wanted versions per second: recompute as store did is not possible; pick by due range
      local bySec = {}
      for _, i in ipairs(msgs) do
        local sec = math.floor(due(i) / bms)
        bySec[sec] = bySec[sec] or {}
        bySec[sec][id(i)] = true
      end
      local vers = {}
      for sec, want in pairs(bySec) do
        local els = redis.call('LRANGE', T .. 'b:' .. sec, 0, -1)
        local picked = {}
        for _, el in ipairs(els) do
          local v, d, a, len = struct.unpack('>I8I8I2I2', el)
          local eid = string.sub(el, 21, 20 + len)
          if want[eid] then picked[#picked + 1] = v; vers[#vers + 1] = v end
        end
        if #picked > 0 then redis.call('SMISMEMBER', T .. 'dead:' .. sec, unpack(picked)) end
      end
      if #vers > 0 then redis.call('SADD', T .. 'locked', unpack(vers)) end
      redis.call('HSET', T .. 'locks', 'l' .. first, cmsgpack.pack(vers))
      redis.call('ZADD', T .. 'leases', 1, 'l' .. first)
    else
      local rec = cmsgpack.unpack(redis.call('HGET', T .. 'locks', 'l' .. first))
      local bySec = {}
      for k, i in ipairs(msgs) do
        local f = fp(i)
        redis.call('HDEL', T .. 'f:' .. (f % 4096), f)
        local sec = math.floor(due(i) / bms)
        bySec[sec] = bySec[sec] or {}
        table.insert(bySec[sec], rec[k] or k)
      end
      for sec, vs in pairs(bySec) do
        redis.call('SADD', T .. 'dead:' .. sec, unpack(vs))
        if redis.call('HINCRBY', T .. 'live', sec, -#vs) <= 0 then
          redis.call('DEL', T .. 'b:' .. sec, T .. 'dead:' .. sec)
          redis.call('HDEL', T .. 'live', sec)
          redis.call('ZREM', T .. 'secs', sec)
        end
      end
      redis.call('SREM', T .. 'locked', unpack(rec))
      redis.call('HDEL', T .. 'locks', 'l' .. first)
      redis.call('ZREM', T .. 'leases', 'l' .. first)
    end
  end
end
return n
