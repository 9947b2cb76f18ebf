import HeapModule

/// A hierarchical timing wheel in the style of Kafka's purgatory (`kafka.utils.timer.TimingWheel`).
///
/// Level 0 has `wheelSize` buckets of `tickMillis` each; every further level's tick is the whole
/// span of the level below, and levels are added on demand when an entry is due beyond the top.
/// A min-heap holds the expiration of each non-empty bucket, so `advance(to:)` jumps from one
/// non-empty bucket to the next instead of walking tick by tick, and costs nothing while idle.
///
/// Entries live in parallel arrays linked into intrusive doubly-linked bucket lists, so insert and
/// cancel are O(1) and touch no per-entry heap object. The structure is not thread-safe; wrap it
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

    // Per entry slot.
    @usableFromInline var slotID: [ID?] = []
    @usableFromInline var slotDue: [Int64] = []
    @usableFromInline var slotNext: [Int32] = []
    @usableFromInline var slotPrev: [Int32] = []
    @usableFromInline var slotBucket: [Int32] = []
    @usableFromInline var freeSlot: Int32 = -1

    @usableFromInline var slotsByID: [ID: Int32] = [:]
    @usableFromInline var deadlines = Heap<BucketDeadline>()

    /// - Parameters:
    ///   - startMillis: the wheel's initial time (usually "now" in epoch milliseconds).
    ///   - tickMillis: the resolution of level 0 (1 ms for Tock).
    ///   - wheelSize: buckets per level.
    public init(startMillis: Int64, tickMillis: Int64 = 1, wheelSize: Int = 64) {
        precondition(tickMillis > 0 && wheelSize >= 2)
        self.tickMillis = tickMillis
        self.wheelSize = wheelSize
        bucketHead = [Self.none]
        bucketExpiration = [-1]
        addLevel(tick: tickMillis, startMillis: startMillis)
    }

    /// Number of entries held (pending and ready).
    @inlinable public var count: Int { slotsByID.count }
    @inlinable public var isEmpty: Bool { slotsByID.isEmpty }
    /// Levels created so far (grows on demand with far-future entries).
    public var levelCount: Int { levelTick.count }
    /// The wheel's current time: the last time it was advanced to, in whole ticks.
    public var currentMillis: Int64 { levelCurrentTime[0] }
    /// Entry slots allocated; follows `count` within a constant factor once entries are drained.
    public var capacity: Int { slotDue.count }

    @inlinable public func contains(_ id: ID) -> Bool { slotsByID[id] != nil }

    @inlinable public func dueMillis(of id: ID) -> Int64? {
        guard let slot = slotsByID[id] else { return nil }
        return slotDue[Int(slot)]
    }

    /// The earliest time at which `advance(to:)` may return something: the next bucket expiration,
    /// or the current time if an entry is already due; nil when empty.
    public var nextDeadline: Int64? {
        if bucketHead[Int(Self.readyBucket)] != Self.none { return levelCurrentTime[0] }
        // Skip deadlines of buckets that were emptied by cancels.
        return deadlines.min?.expiration
    }

    /// Adds `id` due at `dueMillis`. If `id` is already held, its old entry is replaced.
    /// Returns true when the id was new.
    @inlinable
    @discardableResult
    public mutating func insert(_ id: ID, dueMillis: Int64) -> Bool {
        if let existing = slotsByID[id] {
            unlink(existing)
            slotDue[Int(existing)] = dueMillis
            place(existing)
            return false
        }
        let slot = allocateSlot(id: id, due: dueMillis)
        slotsByID[id] = slot
        place(slot)
        return true
    }

    /// Removes `id`; returns its due time if it was held.
    @inlinable
    @discardableResult
    public mutating func cancel(_ id: ID) -> Int64? {
        guard let slot = slotsByID.removeValue(forKey: id) else { return nil }
        let due = slotDue[Int(slot)]
        unlink(slot)
        releaseSlot(slot)
        return due
    }

    /// Moves the clock to `nowMillis` and returns every entry due at or before it, each once.
    @inlinable
    public mutating func advance(to nowMillis: Int64) -> [Entry] {
        var expired: [Entry] = []
        drainReady(upTo: nowMillis, into: &expired)
        while let top = deadlines.min, top.expiration <= nowMillis {
            _ = deadlines.removeMin()
            let bucket = Int(top.bucket)
            guard bucketExpiration[bucket] == top.expiration else { continue }
            advanceLevels(to: top.expiration)
            bucketExpiration[bucket] = -1
            // Re-place every entry of the bucket: due ones go to the ready list, the rest cascade
            // into finer buckets of lower levels.
            var slot = bucketHead[bucket]
            bucketHead[bucket] = Self.none
            while slot != Self.none {
                let next = slotNext[Int(slot)]
                place(slot)
                slot = next
            }
            drainReady(upTo: nowMillis, into: &expired)
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
        for (id, slot) in slotsByID { entries.append(Entry(id: id, dueMillis: slotDue[Int(slot)])) }
        rebuild(keeping: [])
        return entries
    }

    // MARK: - Internals

    @usableFromInline
    mutating func addLevel(tick: Int64, startMillis: Int64) {
        levelTick.append(tick)
        let (interval, overflow) = tick.multipliedReportingOverflow(by: Int64(wheelSize))
        levelInterval.append(overflow ? Int64.max / 2 : interval)
        levelCurrentTime.append(startMillis - startMillis % tick)
        bucketHead.append(contentsOf: repeatElement(Self.none, count: wheelSize))
        bucketExpiration.append(contentsOf: repeatElement(-1, count: wheelSize))
    }

    @inlinable
    mutating func allocateSlot(id: ID, due: Int64) -> Int32 {
        if freeSlot != Self.none {
            let slot = freeSlot
            freeSlot = slotNext[Int(slot)]
            slotID[Int(slot)] = id
            slotDue[Int(slot)] = due
            return slot
        }
        slotID.append(id)
        slotDue.append(due)
        slotNext.append(Self.none)
        slotPrev.append(Self.none)
        slotBucket.append(Self.none)
        return Int32(slotDue.count - 1)
    }

    @inlinable
    mutating func releaseSlot(_ slot: Int32) {
        slotID[Int(slot)] = nil
        slotBucket[Int(slot)] = Self.none
        slotNext[Int(slot)] = freeSlot
        freeSlot = slot
    }

    @inlinable
    mutating func link(_ slot: Int32, into bucket: Int32) {
        let head = bucketHead[Int(bucket)]
        slotPrev[Int(slot)] = Self.none
        slotNext[Int(slot)] = head
        if head != Self.none { slotPrev[Int(head)] = slot }
        bucketHead[Int(bucket)] = slot
        slotBucket[Int(slot)] = bucket
    }

    @inlinable
    mutating func unlink(_ slot: Int32) {
        let bucket = slotBucket[Int(slot)]
        guard bucket != Self.none else { return }
        let prev = slotPrev[Int(slot)]
        let next = slotNext[Int(slot)]
        if prev != Self.none { slotNext[Int(prev)] = next } else { bucketHead[Int(bucket)] = next }
        if next != Self.none { slotPrev[Int(next)] = prev }
        slotBucket[Int(slot)] = Self.none
    }

    /// Puts a slot in the ready list or the bucket of the lowest level whose span covers it.
    @inlinable
    mutating func place(_ slot: Int32) {
        let due = slotDue[Int(slot)]
        if due < levelCurrentTime[0] + levelTick[0] {
            link(slot, into: Self.readyBucket)
            return
        }
        var level = 0
        while true {
            if level == levelTick.count {
                addLevel(tick: levelInterval[level - 1], startMillis: levelCurrentTime[level - 1])
            }
            let current = levelCurrentTime[level]
            if due < current + levelInterval[level] {
                let tick = levelTick[level]
                let virtualID = due / tick
                let bucket = Int32(1 + level * wheelSize + Int(virtualID % Int64(wheelSize)))
                link(slot, into: bucket)
                let expiration = virtualID * tick
                if bucketExpiration[Int(bucket)] != expiration {
                    bucketExpiration[Int(bucket)] = expiration
                    deadlines.insert(BucketDeadline(expiration: expiration, bucket: bucket))
                }
                return
            }
            level += 1
        }
    }

    @inlinable
    mutating func drainReady(upTo nowMillis: Int64, into expired: inout [Entry]) {
        var slot = bucketHead[Int(Self.readyBucket)]
        while slot != Self.none {
            let next = slotNext[Int(slot)]
            let due = slotDue[Int(slot)]
            // A wall clock stepped backwards must not release an entry early.
            if due <= nowMillis, let id = slotID[Int(slot)] {
                unlink(slot)
                slotsByID.removeValue(forKey: id)
                releaseSlot(slot)
                expired.append(Entry(id: id, dueMillis: due))
            }
            slot = next
        }
    }

    @usableFromInline
    mutating func advanceLevels(to timeMillis: Int64) {
        for level in levelTick.indices {
            let tick = levelTick[level]
            if timeMillis >= levelCurrentTime[level] + tick {
                levelCurrentTime[level] = timeMillis - timeMillis % tick
            }
        }
    }

    @usableFromInline
    mutating func shrinkIfSparse() {
        let capacity = slotDue.count
        guard capacity > 4096, slotsByID.count * 4 < capacity else { return }
        var live: [Entry] = []
        live.reserveCapacity(slotsByID.count)
        for (id, slot) in slotsByID { live.append(Entry(id: id, dueMillis: slotDue[Int(slot)])) }
        rebuild(keeping: live)
    }

    /// Drops all storage and re-places `entries` under the current clock.
    @usableFromInline
    mutating func rebuild(keeping entries: [Entry]) {
        slotID = []
        slotDue = []
        slotNext = []
        slotPrev = []
        slotBucket = []
        freeSlot = Self.none
        slotsByID = [:]
        deadlines = Heap()
        for index in bucketHead.indices {
            bucketHead[index] = Self.none
            bucketExpiration[index] = -1
        }
        slotID.reserveCapacity(entries.count)
        slotDue.reserveCapacity(entries.count)
        slotsByID.reserveCapacity(entries.count)
        for entry in entries { insert(entry.id, dueMillis: entry.dueMillis) }
    }
}

extension TimingWheel: Sendable where ID: Sendable {}
extension TimingWheel.Entry: Sendable where ID: Sendable {}
extension TimingWheel.Entry: Equatable where ID: Equatable {}
