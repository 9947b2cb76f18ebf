-- Loads synthetic pending messages in one of four store layouts, to compare Redis memory per
-- message (scripts/bench-layout). Ids are the default `<topic>/<partition>/<offset>` form and
-- each stored message is 133 bytes, as the memory scenario's 100 B payloads are stored.
--   A  today's: per shard, a hash id -> message and a sorted set id -> due time
--   B  time buckets: per shard and due second, a hash id -> message; per shard, an index of seconds
--   C  B, plus per shard a hash id -> due second (to find a message by id)
--   D  B, plus a fingerprint index in small hashes (listpack-encoded): fingerprint -> due second
--   E  per shard and due second a list of stored messages (each with its id inside), per shard an
--      index of seconds, and a hash id -> due second and version (8 bytes)
--   F  E's lists, with D's fingerprint index instead of the hash
--   H  a list per shard and 100 ms of due time (elements: 5-byte header, id, message), per shard
--      an index of buckets, their live counts, and one hash 12-byte fingerprint -> 12 bytes
--      (bucket, position)
-- ARGV: layout, first message number, count, due base (ms), due spread (ms)
local layout, first, n, base, spread = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local blob = string.rep('b', 133)
for i = first, first + n - 1 do
  local id = string.format('tock.requests/%d/%d', i % 24, i)
  local shard = i % 16
  local due = base + (i * 7919) % spread
  if layout == 'H' then
    local bucket = math.floor(due / 100)
    local T = 'x{' .. shard .. '}:'
    local position = redis.call('RPUSH', T .. 'b:' .. bucket, struct.pack('>BHH', due % 100, 0, #id) .. id .. blob) - 1
    redis.call('ZADD', T .. 'buckets', 'NX', bucket, bucket)
    redis.call('HINCRBY', T .. 'live', bucket, 1)
    redis.call('HSET', T .. 'f', struct.pack('>I4I4I4', i, (i * 2654435761) % 4294967291, i % 65521), struct.pack('>dI4', bucket, position))
  elseif layout == 'E' or layout == 'F' then
    local second = math.floor(due / 1000)
    redis.call('RPUSH', 'x{' .. shard .. '}:b:' .. second, string.char(#id) .. id .. blob)
    redis.call('ZADD', 'x{' .. shard .. '}:due', second, second)
    local where = struct.pack('>I4I4', second, i)
    if layout == 'E' then
      redis.call('HSET', 'x{' .. shard .. '}:ids', id, where)
    else
      local bucket = (i * 2654435761) % 8192
      local fp = i * 1000003 + 1152921504606846976
      redis.call('HSET', 'x{' .. shard .. '}:f:' .. bucket, string.format('%.0f', fp), where)
    end
  elseif layout == 'A' then
    redis.call('HSET', 'x{' .. shard .. '}:msg', id, blob)
    redis.call('ZADD', 'x{' .. shard .. '}:queue', due, id)
  else
    local second = math.floor(due / 1000)
    redis.call('HSET', 'x{' .. shard .. '}:b:' .. second, id, blob)
    redis.call('ZADD', 'x{' .. shard .. '}:due', second, second)
    if layout == 'C' then redis.call('HSET', 'x{' .. shard .. '}:ids', id, second) end
    if layout == 'D' then
      -- a 62-bit fingerprint of the id, in one of 8192 small hashes per shard
      local bucket = (i * 2654435761) % 8192
      local fp = i * 1000003 + 1152921504606846976
      redis.call('HSET', 'x{' .. shard .. '}:f:' .. bucket, string.format('%.0f', fp), second)
    end
  end
end
return n
