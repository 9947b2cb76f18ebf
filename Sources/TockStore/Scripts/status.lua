-- status: what the shard knows of one id.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     id, now, retention, tombWindow, tombBucket, fingerprint ("" when unknown)
-- Returns  {state, score, attempts, blob}: state is pending (in the due index), claimed (in a
--          wheel), delivering (locked, score = lease expiry), ended (fired or cancelled within
--          dedup.retention; known only for given ids) or unknown.
local tag = KEYS[1]
local id = ARGV[1]
local attempts = tonumber(redis.call('HGET', tag .. ':att', id) or '0')
local blob = redis.call('HGET', tag .. ':msg', id)
local checks = { { 'pending', ':due' }, { 'claimed', ':claimed' }, { 'delivering', ':lease' } }
for _, check in ipairs(checks) do
  local score = redis.call('ZSCORE', tag .. check[2], id)
  if score then return { check[1], score, attempts, blob or false } end
end
local fp = ARGV[6]
if fp ~= '' then
  local now, retention, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
  for w = math.floor((now - retention) / window), math.floor(now / window) do
    local key = tag .. ':t:' .. string.format('%.0f', w) .. ':' .. ARGV[5]
    if redis.call('SISMEMBER', key, fp) == 1 then return { 'ended', false, attempts, false } end
  end
end
return { 'unknown', false, attempts, false }
