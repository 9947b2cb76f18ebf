import HeapModule

/// A hierarchical timing wheel in the style of Kafka's purgatory (`kafka.utils.timer.TimingWheel`).
///
/// Level 0 has `wheelSize` buckets of `tickMillis` each; every further level's tick is the whole
/// span of the level below, and levels are added on demand when an entry is due beyond the top.
/// A min-heap holds the expiration of each non-empty bucket, so `advance(to:)` jumps from one
/// non-empty bucket to the next instead of walking tick by tick, and costs nothing while idle.
///
/// Entries live in one array of slots linked into intrusive bucket lists, so insert and cancel are
/// O(1) and touch no per-entry heap object. The structure is not thread-safe; wrap it
/// (see `TimingWheelDriver`) to share it.
///
/// Guarantees:
/// - `advance(to: now)` never returns an entry whose due time is after `now`;
/// - each inserted entry is returned at most once (cancel or re-insert replaces it);
/// - an entry inserted already due comes back at the next `advance`;
/// - storage shrinks when it becomes mostly empty, so memory follows the entries held.
public struct TimingWheel<ID: Hashable> {
    public struct Entry {
        public var id: ID
        public var dueMillis: Int64

        @inlinable
        public init(id: ID, dueMillis: Int64) {
            self.id = id
            self.dueMillis = dueMillis
        }
    }

    @usableFromInline
    struct BucketDeadline: Comparable, Sendable {
        @usableFromInline var expiration: Int64
        @usableFromInline var bucket: Int32

        @inlinable init(expiration: Int64, bucket: Int32) {
            self.expiration = expiration
            self.bucket = bucket
        }

        @inlinable static func < (lhs: Self, rhs: Self) -> Bool { lhs.expiration < rhs.expiration }
    }

    @usableFromInline static var none: Int32 { -1 }
    /// Bucket 0 holds entries already due ("ready"); level buckets follow it.
    @usableFromInline static var readyBucket: Int32 { 0 }

    public let tickMillis: Int64
    public let wheelSize: Int

    // Per level.
    @usableFromInline var levelTick: [Int64] = []
    @usableFromInline var levelInterval: [Int64] = []
    @usableFromInline var levelCurrentTime: [Int64] = []

    // Per bucket (index 0 = ready list, then `wheelSize` per level).
    @usableFromInline var bucketHead: [Int32] = []
    @usableFromInline var bucketExpiration: [Int64] = []
    /// Entries linked per bucket (dead ones included), to size the result before a flush.
    @usableFromInline var bucketCount: [Int32] = []

    /// One entry. Slots sit in one array (one cache line per visit) and are linked, singly, into
    /// their bucket's list. Cancel only clears `id` (O(1), no list walk); the bucket recycles the
    /// slot when it is flushed, and `shrinkIfSparse` bounds what such dead slots hold meanwhile.
    @usableFromInline
    struct Slot {
        @usableFromInline var id: ID?
        @usableFromInline var due: Int64
        @usableFromInline var next: Int32
        /// The id's hash tag, kept so removing an expired entry from the index needs no hashing;
        /// it fills padding the slot has anyway.
        @usableFromInline var tag: UInt32

        @inlinable init(id: ID?, due: Int64, next: Int32, tag: UInt32) {
            self.id = id
            self.due = due
            self.next = next
            self.tag = tag
        }
    }

    @usableFromInline var slots: [Slot] = []
    @usableFromInline var freeSlot: Int32 = -1
    /// Cancelled or replaced slots still linked in a bucket.
    @usableFromInline var deadSlots = 0

    /// id → slot; see `TimingWheel+Index.swift`. Its capacity is a power of two.
    @usableFromInline var index: [UInt64] = Array(repeating: .max, count: 16)
    @usableFromInline var indexCount = 0
    @usableFromInline var deadlines = Heap<BucketDeadline>()

    /// - Parameters:
    ///   - startMillis: the wheel's initial time (usually "now" in epoch milliseconds).
    ///   - tickMillis: the resolution of level 0 (1 ms for Tock).
    ///   - wheelSize: buckets per level.
    public init(startMillis: Int64, tickMillis: Int64 = 1, wheelSize: Int = 512) {
        precondition(tickMillis > 0 && wheelSize >= 2)
        self.tickMillis = tickMillis
        self.wheelSize = wheelSize
        bucketHead = [Self.none]
        bucketExpiration = [-1]
        bucketCount = [0]
        addLevel(tick: tickMillis, startMillis: startMillis)
    }

    /// Number of entries held (pending and ready).
    @inlinable public var count: Int { indexCount }
    @inlinable public var isEmpty: Bool { indexCount == 0 }
    /// Levels created so far (grows on demand with far-future entries).
    public var levelCount: Int { levelTick.count }
    /// Entry slots allocated; follows `count` within a constant factor once entries are drained.
    public var capacity: Int { slots.count }

    @inlinable public func contains(_ id: ID) -> Bool { lookup(id) != nil }

    @inlinable public func dueMillis(of id: ID) -> Int64? {
        guard let slot = lookup(id) else { return nil }
        return slots[Int(slot)].due
    }

    /// The earliest time at which `advance(to:)` may return something: the next bucket expiration,
    /// or the current time if an entry is already due; nil when empty. It may name a bucket that
    /// cancels emptied, which costs one empty `advance`.
    public var nextDeadline: Int64? {
        if bucketHead[Int(Self.readyBucket)] != Self.none { return levelCurrentTime[0] }
        return deadlines.min?.expiration
    }

    /// Adds `id` due at `dueMillis`. If `id` is already held, its old entry is replaced.
    /// Returns true when the id was new.
    @inlinable
    @discardableResult
    public mutating func insert(_ id: ID, dueMillis: Int64) -> Bool {
        let tag = Self.hashTag(id)
        let slot = allocateSlot(id: id, due: dueMillis, tag: tag)
        place(slot, due: dueMillis)
        if let replaced = indexInsert(id, slot: slot, tag: tag) {
            slots[Int(replaced)].id = nil
            deadSlots += 1
            return false
        }
        return true
    }

    /// Removes `id`; returns its due time if it was held.
    @inlinable
    @discardableResult
    public mutating func cancel(_ id: ID) -> Int64? {
        guard let slot = indexRemove(id) else { return nil }
        slots[Int(slot)].id = nil
        deadSlots += 1
        return slots[Int(slot)].due
    }

    /// Moves the clock to `nowMillis` and returns every entry due at or before it, each once.
    @inlinable
    public mutating func advance(to nowMillis: Int64) -> [Entry] {
        var expired: [Entry] = []
        if bucketHead[Int(Self.readyBucket)] != Self.none { flush(Int(Self.readyBucket), upTo: nowMillis, into: &expired) }
        while let top = deadlines.min, top.expiration <= nowMillis {
            _ = deadlines.removeMin()
            let bucket = Int(top.bucket)
            guard bucketExpiration[bucket] == top.expiration else { continue }
            advanceLevels(to: top.expiration)
            bucketExpiration[bucket] = -1
            flush(bucket, upTo: nowMillis, into: &expired)
        }
        // Every bucket due by now has been flushed, so the clock can move to `now` without two
        // spans sharing a bucket.
        advanceLevels(to: nowMillis)
        shrinkIfSparse()
        return expired
    }

    /// Removes and returns all entries (for handing them back to durable storage on shutdown).
    public mutating func removeAll() -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for (id, slot) in indexedSlots { entries.append(Entry(id: id, dueMillis: slots[Int(slot)].due)) }
        rebuild(keeping: [])
        return entries
    }

    /// Removes and returns the entries whose id matches (a shard this worker no longer owns).
    public mutating func removeAll(where shouldRemove: (ID) -> Bool) -> [Entry] {
        var removed: [Entry] = []
        for (id, _) in indexedSlots where shouldRemove(id) {
            if let due = cancel(id) { removed.append(Entry(id: id, dueMillis: due)) }
        }
        return removed
    }

    // MARK: - Internals

    /// The span of a level whose tick times `wheelSize` overflows.
    @usableFromInline static var unboundedInterval: Int64 { Int64.max / 2 }

    @usableFromInline
    mutating func addLevel(tick: Int64, startMillis: Int64) {
        levelTick.append(tick)
        let (interval, overflow) = tick.multipliedReportingOverflow(by: Int64(wheelSize))
        levelInterval.append(overflow ? Self.unboundedInterval : interval)
        levelCurrentTime.append(startMillis - startMillis % tick)
        bucketHead.append(contentsOf: repeatElement(Self.none, count: wheelSize))
        bucketExpiration.append(contentsOf: repeatElement(-1, count: wheelSize))
        bucketCount.append(contentsOf: repeatElement(0, count: wheelSize))
    }

    @inlinable
    mutating func allocateSlot(id: ID, due: Int64, tag: UInt64) -> Int32 {
        if freeSlot != Self.none {
            let slot = freeSlot
            freeSlot = slots[Int(slot)].next
            slots[Int(slot)] = Slot(id: id, due: due, next: Self.none, tag: UInt32(truncatingIfNeeded: tag))
            return slot
        }
        slots.append(Slot(id: id, due: due, next: Self.none, tag: UInt32(truncatingIfNeeded: tag)))
        return Int32(slots.count - 1)
    }

    @inlinable
    mutating func releaseSlot(_ slot: Int32) {
        slots[Int(slot)].id = nil
        slots[Int(slot)].next = freeSlot
        freeSlot = slot
    }

    /// Puts a slot in the ready list or the bucket of the lowest level whose span covers it.
    @inlinable
    mutating func place(_ slot: Int32, due: Int64) {
        if due < levelCurrentTime[0] + levelTick[0] {
            slots[Int(slot)].next = bucketHead[Int(Self.readyBucket)]
            bucketHead[Int(Self.readyBucket)] = slot
            return
        }
        var level = 0
        while true {
            if level == levelTick.count {
                addLevel(tick: levelInterval[level - 1], startMillis: levelCurrentTime[level - 1])
            }
            // A level whose span overflowed covers every later time: without this, a due time at
            // or past its end would add levels forever.
            if levelInterval[level] == Self.unboundedInterval || due < levelCurrentTime[level] + levelInterval[level] {
                let tick = levelTick[level]
                let virtualID = due / tick
                let bucket = 1 + level * wheelSize + Int(virtualID % Int64(wheelSize))
                slots[Int(slot)].next = bucketHead[bucket]
                bucketHead[bucket] = slot
                bucketCount[bucket] &+= 1
                let expiration = virtualID * tick
                if bucketExpiration[bucket] != expiration {
                    bucketExpiration[bucket] = expiration
                    deadlines.insert(BucketDeadline(expiration: expiration, bucket: Int32(bucket)))
                }
                return
            }
            level += 1
        }
    }

    /// Empties a bucket: entries due by `nowMillis` leave, the rest are placed again (cascading
    /// into finer buckets of lower levels, or, in the ready list after the wall clock stepped
    /// backwards, waiting there: never released early). Dead slots are recycled.
    @inlinable
    mutating func flush(_ bucket: Int, upTo nowMillis: Int64, into expired: inout [Entry]) {
        var slot = bucketHead[bucket]
        bucketHead[bucket] = Self.none
        expired.reserveCapacity(expired.count + Int(bucketCount[bucket]))
        bucketCount[bucket] = 0
        while slot != Self.none {
            let next = slots[Int(slot)].next
            if let id = slots[Int(slot)].id {
                let due = slots[Int(slot)].due
                if due <= nowMillis {
                    indexRemove(slot: slot)
                    expired.append(Entry(id: id, dueMillis: due))
                    releaseSlot(slot)
                } else {
                    place(slot, due: due)
                }
            } else {
                deadSlots -= 1
                releaseSlot(slot)
            }
            slot = next
        }
    }

    @inlinable
    mutating func advanceLevels(to timeMillis: Int64) {
        for level in levelTick.indices {
            let tick = levelTick[level]
            if timeMillis >= levelCurrentTime[level] + tick {
                levelCurrentTime[level] = timeMillis - timeMillis % tick
            }
        }
    }

    /// Rebuilds when most slots are free or dead, so memory follows the entries held.
    @inlinable
    mutating func shrinkIfSparse() {
        let capacity = slots.count
        let live = indexCount
        guard capacity > 4096, live * 8 < capacity || deadSlots > live + 4096 else { return }
        compact()
    }

    @inlinable
    mutating func compact() {
        let live = indexCount
        var entries: [Entry] = []
        entries.reserveCapacity(live)
        for (id, slot) in indexedSlots { entries.append(Entry(id: id, dueMillis: slots[Int(slot)].due)) }
        rebuild(keeping: entries)
    }

    /// Drops all storage and re-places `entries` under the current clock.
    @inlinable
    mutating func rebuild(keeping entries: [Entry]) {
        slots = []
        freeSlot = Self.none
        deadSlots = 0
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        index = Array(repeating: Self.emptyCell, count: capacity)
        indexCount = 0
        deadlines = Heap()
        for index in bucketHead.indices {
            bucketHead[index] = Self.none
            bucketExpiration[index] = -1
            bucketCount[index] = 0
        }
        slots.reserveCapacity(entries.count)
        for entry in entries { insert(entry.id, dueMillis: entry.dueMillis) }
    }
}

extension TimingWheel: Sendable where ID: Sendable {}
extension TimingWheel.Slot: Sendable where ID: Sendable {}
extension TimingWheel.Entry: Sendable where ID: Sendable {}
extension TimingWheel.Entry: Equatable where ID: Equatable {}
