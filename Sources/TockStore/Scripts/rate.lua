-- rate: publish slots of one rate-limited topic, shared by all workers (SPEC "Rate limits").
-- Slot k of a topic limited to N records a second is published at floor(k * period / N) ms, so
-- any N + 1 consecutive slots span at least `period` ms (a second plus a guard for publishing
-- jitter): no window of a second holds more than N. The key holds the next free slot. Records
-- come in due order; each takes the first free slot at or after its due time and now. A record
-- whose slot would be beyond now + horizon takes none: it is told when to come back (the time its
-- slot would have), so a long backlog waits in the queue, not in a worker's memory.
--
-- ARGV     perSecond, period, now, horizon, n, then n due times (ascending)
-- KEYS     the topic's slot counter
-- Returns  {backlog, then per record its slot's time (ms), or minus the time to come back}:
--          backlog is how many slots were taken beyond now, before this call.
local slotKey = key()
local perSecond, period, now, horizon, n = num(), num(), num(), num(), num()
-- Slots count from 2023-11-14 (1.7e12 ms), so that k * period and ms * perSecond stay exact in
-- Lua's doubles (below 2^53) for rates up to RateLimits.maximumPerSecond for decades.
local origin = 1700000000000
local function slotAt(ms) return math.ceil((ms - origin) * perSecond / period) end
local function timeOf(k) return origin + math.floor(k * period / perSecond) end
local nextSlot = math.max(tonumber(redis.call('GET', slotKey) or '0'), slotAt(now))
local out = { nextSlot - slotAt(now) }
local deferred = 0
for i = 1, n do
  local k = math.max(nextSlot + deferred, slotAt(math.max(num(), now)))
  local at = timeOf(k)
  if deferred == 0 and at <= now + horizon then
    out[#out + 1] = at
    nextSlot = k + 1
  else
    out[#out + 1] = -at
    deferred = deferred + 1
  end
end
redis.call('SET', slotKey, formatMillis(nextSlot), 'PX', math.max(0, timeOf(nextSlot) - now) + 60000)
return out
