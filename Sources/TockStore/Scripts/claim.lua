-- claim: gives the owner's wheel, per shard, what is due by the horizon and not yet claimed.
-- Messages never move: the owner's claimed-up-to time advances past them. Three sources:
--   * deliveries whose lease ran out (their worker died between taking the lock and recording
--     the outcome) go back to the queue, due now, and count an attempt. The caller's own locks are
--     left alone until `ownGrace` ms past their lease: it is alive and still delivering them (an
--     overloaded broker or Redis delays renewals, never a second delivery);
--   * the inbox: messages another worker stored or retried below the claimed-up-to time;
--   * the queue between the claimed-up-to time and the horizon, at most `limit` (and every
--     message due at the last time returned, so that advancing the time skips none).
--
-- ARGV     now, horizon, limit, token, ownGrace, nSections, then per section: worker, epoch
-- KEYS     per section: owner, queue, msg, att, locks, leases, inbox, series
-- Returns  per section {"ok", id, due, id, due, ...} or {"fenced", detail}.
local now, horizon, limit, token, ownGrace = num(), num(), num(), arg(), num()
local replies = {}
for _ = 1, num() do
  local ownerKey, queueKey, msgKey, attKey, locksKey, leasesKey, inboxKey, seriesKey = key(), key(), key(), key(), key(), key(), key(), key()
  local worker, epoch = arg(), arg()
  local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch', 'claimed')
  local failure = fenceFailure(owner, worker, epoch)
  if failure then
    replies[#replies + 1] = { 'fenced', failure }
  else
    local out = { 'ok' }
    local claimed = claimedUpTo(owner[3])
    local expired = redis.call('ZRANGEBYSCORE', leasesKey, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
    for j = 1, #expired, 2 do
      local lock, expiry = expired[j], tonumber(expired[j + 1])
      if not isLockOf(lock, token) or expiry + ownGrace <= now then
        local packed = redis.call('HGET', locksKey, lock)
        if packed then
          for _, id in ipairs(cmsgpack.unpack(packed)) do
            if isCurrent(msgKey, seriesKey, id) then
              redis.call('ZADD', queueKey, now, id)
              redis.call('HINCRBY', attKey, id, 1)
              -- Beyond the claimed-up-to time, the range below returns it.
              if now <= claimed then
                out[#out + 1] = id
                out[#out + 1] = formatMillis(now)
              end
            end
          end
        end
        redis.call('HDEL', locksKey, lock)
        redis.call('ZREM', leasesKey, lock)
      end
    end

    local inbox = redis.call('ZRANGE', inboxKey, 0, limit - 1)
    if #inbox > 0 then
      local scores = redis.call('ZMSCORE', queueKey, unpack(inbox))
      redis.call('ZREM', inboxKey, unpack(inbox))
      for i, id in ipairs(inbox) do
        if scores[i] and tonumber(scores[i]) <= claimed then
          out[#out + 1] = id
          out[#out + 1] = scores[i]
        end
      end
    end

    local from = '-inf'
    if claimed > -math.huge then from = '(' .. formatMillis(claimed) end
    local batch = redis.call('ZRANGEBYSCORE', queueKey, from, horizon, 'WITHSCORES', 'LIMIT', 0, limit)
    local upTo = horizon
    if #batch >= 2 * limit then
      local last = batch[#batch]
      upTo = tonumber(last)
      while #batch > 0 and batch[#batch] == last do
        batch[#batch] = nil
        batch[#batch] = nil
      end
      for _, value in ipairs(redis.call('ZRANGEBYSCORE', queueKey, last, last, 'WITHSCORES')) do batch[#batch + 1] = value end
    end
    for j = 1, #batch do out[#out + 1] = batch[j] end
    if upTo > claimed then redis.call('HSET', ownerKey, 'claimed', formatMillis(upTo)) end
    replies[#replies + 1] = out
  end
end
return replies
