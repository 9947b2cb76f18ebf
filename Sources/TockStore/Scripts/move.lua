-- move: moves cold messages of one shard into the hot store (docs/tiered-storage.md), fenced by
-- the shard's owner epoch, and records how far the shard's reads of cold partitions got, in the
-- same call: a move that dies half-way is made again from there, and finds what it moved gone
-- from the index.
--
-- ARGV     worker, epoch, bucket prefix, hour slot (ms), tombstone set expiry, nPositions,
--          nRecords, then nPositions pairs (cold topic/partition, next offset to read), then
--          nRecords groups of 8: fingerprint, value (due and version, as the index keeps them), id,
--          due, blob, tombstone fingerprint ("" = id not given), the index of its partition among
--          the positions (1-based; 0: none), its offset
--          A partition's position is written no further than its first record found absent: its
--          entry may still be coming (the record is written before it), and the caller's retries
--          of it die with the caller; a next reader starts there.
-- KEYS     owner, msg, queue, cold meta, positions, then per record with a tombstone fingerprint
--          the tombstone set of the current window
-- Returns  {'ok', one status per record} or {'fenced', detail}. Status: moved (stored hot),
--          moved-claimed (and due by the caller's claimed-up-to time: it goes into the caller's
--          wheel), absent (the index holds no entry of this version: the message was cancelled,
--          rescheduled or moved already, or its entry is not written yet), duplicate (the id is
--          hot already; the entry is dropped).
local ownerKey, msgKey, queueKey, coldMetaKey, positionsKey = key(), key(), key(), key(), key()
local worker, epoch, bucketPrefix, hourSlot, expireAt, nPositions, nRecords = arg(), arg(), arg(), num(), arg(), num(), num()
local owner = redis.call('HMGET', ownerKey, 'worker', 'epoch', 'claimed')
local failure = fenceFailure(owner, worker, epoch)
if failure then return { 'fenced', failure } end
local claimed = claimedUpTo(owner[3])
local cold = coldIndex(coldMetaKey, bucketPrefix, hourSlot)

local fields, offsets = {}, {}
for i = 1, nPositions do
  fields[i] = arg()
  offsets[i] = num()
end
local out = { 'ok' }
for _ = 1, nRecords do
  local fp, value, id, due, blob, tombstoneFp = arg(), arg(), arg(), arg(), arg(), arg()
  local position, offset = num(), num()
  local tombstoneKey = nil
  if tombstoneFp ~= '' then tombstoneKey = key() end
  local held = cold.get(fp)
  local status = 'absent'
  -- Due time and version: a record of another version (cancelled, rescheduled) never moves.
  if held == value then
    cold.remove(fp, held)
    if redis.call('HEXISTS', msgKey, id) == 1 then status = 'duplicate' else
      redis.call('HSET', msgKey, id, blob)
      redis.call('ZADD', queueKey, due, id)
      if tombstoneKey then tombstone(tombstoneKey, tombstoneFp, expireAt) end
      if tonumber(due) <= claimed then status = 'moved-claimed' else status = 'moved' end
    end
  end
  if status == 'absent' and position > 0 then offsets[position] = math.min(offsets[position], offset) end
  out[#out + 1] = status
end
cold.save()
if nPositions > 0 then
  local written = {}
  for i = 1, nPositions do
    written[#written + 1] = fields[i]
    written[#written + 1] = formatMillis(offsets[i])
  end
  redis.call('HSET', positionsKey, unpack(written))
end
return out
