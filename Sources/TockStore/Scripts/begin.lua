-- begin: the delivery lock. For each (id, due) the wheel fired, if the message is still claimed at
-- exactly that due time (not cancelled, rescheduled or taken over meanwhile) and due by dueBy, it
-- moves to the lease set until leaseUntil, under the worker's token, and its attempt count goes up.
-- dueBy is the worker's clock plus delivery.lockAhead: the worker publishes at the due time.
--
-- KEYS[1]  the shard's hash tag
-- ARGV     ownerWorker, ownerEpoch, token, dueBy, leaseUntil, then pairs (id, due)
-- Returns  {id, attempt, blob, ...} for the messages locked; error "FENCED" for a non-owner.
local tag = KEYS[1]
local msgKey, claimedKey, leaseKey = tag .. ':msg', tag .. ':claimed', tag .. ':lease'
local tokKey, attKey = tag .. ':tok', tag .. ':att'
local owner = redis.call('HMGET', tag .. ':owner', 'worker', 'epoch')
if owner[1] ~= ARGV[1] or owner[2] ~= ARGV[2] then
  return redis.error_reply('FENCED shard owned by ' .. tostring(owner[1]) .. ' at epoch ' .. tostring(owner[2]))
end
local token, dueBy, leaseUntil = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local out = {}
for j = 6, #ARGV, 2 do
  local id, due = ARGV[j], tonumber(ARGV[j + 1])
  local score = redis.call('ZSCORE', claimedKey, id)
  if score and tonumber(score) == due and due <= dueBy then
    local blob = redis.call('HGET', msgKey, id)
    redis.call('ZREM', claimedKey, id)
    if blob then
      redis.call('ZADD', leaseKey, leaseUntil, id)
      redis.call('HSET', tokKey, id, token)
      out[#out + 1] = id
      out[#out + 1] = redis.call('HINCRBY', attKey, id, 1)
      out[#out + 1] = blob
    end
  end
end
return out
