-- The cold index's candidate layout (docs/tiered-storage.md): per shard, small hashes (buckets)
-- of fingerprint -> <due ms 6 B><version 4 B>. Adds ARGV[3] entries from ARGV[2] on.
-- ARGV: variant (fp12 | fp8), first, count, buckets per shard, shards.
local variant, first, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local buckets, shards = tonumber(ARGV[4]), tonumber(ARGV[5])
local fpBytes = variant == 'fp8' and 8 or 12
local function bytes(hex, from, n)
  local out = {}
  for k = 0, n - 1 do out[#out + 1] = string.char(tonumber(string.sub(hex, from + 2 * k, from + 2 * k + 1), 16)) end
  return table.concat(out)
end
for i = first, first + count - 1 do
  local hex = redis.sha1hex('id-' .. i)
  local fp = bytes(hex, 1, fpBytes)
  local value = bytes(hex, 19, 10)
  local bucket = tonumber(string.sub(hex, 1, 7), 16) % buckets
  redis.call('HSET', '{T:' .. (i % shards) .. '}:c:' .. bucket, fp, value)
end
return count
