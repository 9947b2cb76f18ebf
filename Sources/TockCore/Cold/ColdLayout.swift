/// Where a cold message's record is written and when each slot of the two rings is read
/// (docs/tiered-storage.md): a ring of day partitions shared by every shard, and per shard a ring
/// of hour partitions. A partition holds one slot per turn of its ring; the rings are long enough
/// that a partition is never written for its next turn before its last read of this one.
public struct ColdLayout: Sendable, Equatable {
    /// Due further ahead than this when accepted: cold (`store.hotHorizon`).
    public var hotHorizonMillis: Int64 = 3_600_000
    /// The width of an hour slot and of a day slot. Tests shrink them to seconds.
    public var hourSlotMillis: Int64 = 3_600_000
    public var daySlotMillis: Int64 = 86_400_000
    /// How long before its start a day slot starts being copied into hour slots, and an hour slot
    /// into the hot store.
    public var copyLeadMillis: Int64 = 90_000_000
    public var moveLeadMillis: Int64 = 300_000
    /// How long after the last write a slot may receive (a request accepted at that instant, its
    /// record acknowledged a little later) it is still read.
    public var graceMillis: Int64 = 600_000
    public var maxHorizonMillis: Int64 = 730 * 86_400_000
    public var shards: Int = 16
    /// Ring sizes taken from existing topics (at least what the configuration needs): a ring's
    /// size is fixed for the life of its topic, since it decides which partition holds a slot.
    public var existingDayRing: Int?
    public var existingHourRing: Int?

    public init() {}

    /// The rings of `configuration`: the leads and the grace scale with the hour slot (5 min, 25 h
    /// and 10 min for the default 1 h), the grace never under 5 s (a record's write and its
    /// store call).
    public init(configuration: TockConfiguration) {
        let store = configuration.store
        hotHorizonMillis = store.hotHorizonMillis
        hourSlotMillis = store.coldHourSlotMillis
        daySlotMillis = store.coldDaySlotMillis
        copyLeadMillis = daySlotMillis + hourSlotMillis
        moveLeadMillis = hourSlotMillis / 12
        graceMillis = max(5_000, hourSlotMillis / 6)
        maxHorizonMillis = configuration.limits.maxHorizonMillis
        shards = store.shards
    }

    /// Whether any message is cold (`store.hotHorizon` > 0).
    public var isEnabled: Bool { hotHorizonMillis > 0 }

    /// Why `configuration`'s cold rings cannot work, if they cannot.
    public static func problem(of configuration: TockConfiguration) -> (key: String, message: String)? {
        let store = configuration.store
        guard store.hotHorizonMillis > 0 else { return nil }
        if store.hotHorizonMillis <= configuration.wheel.lookaheadMillis {
            return (
                "store.hotHorizon", "must be longer than wheel.lookahead (or 0: no cold tier), so that a cold message is hot before it is claimed"
            )
        }
        if store.coldDaySlotMillis < 2 * store.coldHourSlotMillis || store.coldDaySlotMillis % store.coldHourSlotMillis != 0 {
            return ("store.coldDaySlot", "must be a multiple of store.coldHourSlot, at least twice it")
        }
        if store.hotHorizonMillis >= store.coldDaySlotMillis {
            return ("store.hotHorizon", "must be shorter than store.coldDaySlot")
        }
        let layout = ColdLayout(configuration: configuration)
        if layout.hourPartitions > 100_000 || layout.dayRing > 100_000 {
            return ("store.coldHourSlot", "makes \(layout.hourPartitions) hour and \(layout.dayRing) day partitions: widen the slots")
        }
        return nil
    }

    public enum Tier: Sendable, Equatable {
        case hot
        /// A partition of `tock.cold.hours` (due within a day slot of now).
        case hours(slot: Int64, partition: Int32)
        /// A partition of `tock.cold.days`.
        case days(slot: Int64, partition: Int32)
    }

    /// Per shard, the hour partitions of one turn: the smallest ring that outlasts a slot's life,
    /// from its earliest write (a copy of its day, `daySlot + copyLead` ahead) to its last read.
    public var hourRing: Int { existingHourRing ?? neededHourRing }

    public var neededHourRing: Int {
        let life = daySlotMillis + copyLeadMillis - hotHorizonMillis + graceMillis
        return Int(life / hourSlotMillis) + 2
    }

    /// The day partitions: a day slot is written from `maxHorizon` ahead until its start.
    public var dayRing: Int { existingDayRing ?? neededDayRing }

    public var neededDayRing: Int { Int((maxHorizonMillis + graceMillis) / daySlotMillis) + 2 }

    public var hourPartitions: Int { hourRing * shards }

    /// Where a message of `shard` due at `dueMillis`, accepted at `nowMillis`, goes.
    public func tier(dueMillis: Int64, nowMillis: Int64, shard: Int) -> Tier {
        let ahead = dueMillis - nowMillis
        if ahead <= hotHorizonMillis { return .hot }
        if ahead < daySlotMillis { return hourTier(dueMillis: dueMillis, shard: shard) }
        let slot = Self.slot(dueMillis, width: daySlotMillis)
        return .days(slot: slot, partition: Int32(Self.modulo(slot, dayRing)))
    }

    /// The hour slot a copied record goes to.
    public func hourTier(dueMillis: Int64, shard: Int) -> Tier {
        .hours(slot: Self.slot(dueMillis, width: hourSlotMillis), partition: hourPartition(dueMillis: dueMillis, shard: shard))
    }

    public func hourPartition(dueMillis: Int64, shard: Int) -> Int32 {
        hourPartition(slot: Self.slot(dueMillis, width: hourSlotMillis), shard: shard)
    }

    public func hourPartition(slot: Int64, shard: Int) -> Int32 { Int32(Self.modulo(slot, hourRing) * shards + shard) }

    public func dayPartition(slot: Int64) -> Int32 { Int32(Self.modulo(slot, dayRing)) }

    /// When hour slot `slot` is moved into the hot store: from `hotHorizon + moveLead` before its
    /// start (its first messages are then due beyond the hot horizon) until its last write, a
    /// message due at its end accepted `hotHorizon` before, plus the grace.
    public func moveWindow(hourSlot slot: Int64) -> Range<Int64> {
        let start = slot * hourSlotMillis
        return (start - hotHorizonMillis - moveLeadMillis)..<(start + hourSlotMillis - hotHorizonMillis + graceMillis)
    }

    /// When day slot `slot` is copied into hour slots: from `copyLead` before its start until its
    /// last write (at its start: later, its messages go to the hours ring), plus the grace.
    public func copyWindow(daySlot slot: Int64) -> Range<Int64> {
        let start = slot * daySlotMillis
        return (start - copyLeadMillis)..<(start + graceMillis)
    }

    /// The hour slots whose move window holds `nowMillis`, earliest first.
    public func openHourSlots(nowMillis: Int64) -> [Int64] {
        let first = Self.slot(nowMillis - hourSlotMillis + hotHorizonMillis - graceMillis, width: hourSlotMillis)
        let last = Self.slot(nowMillis + hotHorizonMillis + moveLeadMillis, width: hourSlotMillis)
        return (first...max(first, last)).filter { moveWindow(hourSlot: $0).contains(nowMillis) }
    }

    /// The day slots whose copy window holds `nowMillis`, earliest first.
    public func openDaySlots(nowMillis: Int64) -> [Int64] {
        let first = Self.slot(nowMillis - graceMillis, width: daySlotMillis)
        let last = Self.slot(nowMillis + copyLeadMillis, width: daySlotMillis)
        return (first...max(first, last)).filter { copyWindow(daySlot: $0).contains(nowMillis) }
    }

    public static func slot(_ millis: Int64, width: Int64) -> Int64 {
        millis >= 0 ? millis / width : -((-millis + width - 1) / width)
    }

    static func modulo(_ value: Int64, _ ring: Int) -> Int { Int(((value % Int64(ring)) + Int64(ring)) % Int64(ring)) }
}
