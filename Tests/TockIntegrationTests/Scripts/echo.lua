-- Returns its keys, then its arguments, as one flat array (binary-safe round trip).
local out = {}
for _, key in ipairs(KEYS) do out[#out + 1] = key end
for _, arg in ipairs(ARGV) do out[#out + 1] = arg end
return out
