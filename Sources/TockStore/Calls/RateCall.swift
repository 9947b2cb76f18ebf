import TockCore
import TockRedis

/// `rate.lua`: publish slots for records of one rate-limited topic.
struct RateCall: StoreScriptCall {
    let redisCall: RedisScriptCall
    let count: Int

    init(
        script: RedisScript, keys storeKeys: StoreKeys, topic: String, perSecond: Int, periodMillis: Int64, nowMillis: Int64,
        horizonMillis: Int64, dueTimes: [Int64]
    ) {
        count = dueTimes.count
        var args = RESPArguments()
        args.add(perSecond, periodMillis, nowMillis, horizonMillis, dueTimes.count)
        for due in dueTimes { args.add(due) }
        redisCall = RedisScriptCall(script, keys: [RedisArgument(storeKeys.rateSlots(topic))], args: args)
    }

    func decode(_ value: RedisValue) throws(StoreError) -> RateSlots {
        guard case .array(let items) = value, items.count == count + 1, case .integer(let backlog) = items[0] else {
            throw .corrupt("rate reply \(value)")
        }
        var slots: [RateSlots.Slot] = []
        slots.reserveCapacity(count)
        for item in items.dropFirst() {
            guard case .integer(let at) = item else { throw .corrupt("rate slot \(item)") }
            slots.append(at >= 0 ? .publish(atMillis: at) : .later(atMillis: -at))
        }
        return RateSlots(backlog: Int(backlog), slots: slots)
    }
}

/// What `ScheduleStore.reserveSlots` gives each record of a rate-limited topic.
public struct RateSlots: Sendable, Equatable {
    /// A second, plus a guard: a record may be stamped a little after its slot (the publishing
    /// thread's jitter), and the next second's first must not fall into its window.
    public static let defaultPeriodMillis: Int64 = 1_020
    /// How late after its slot a record may still be published: the guard in the period, so that
    /// N + 1 records published within it of their slots never share a second.
    public static let guardMillis: Int64 = defaultPeriodMillis - 1_000

    public enum Slot: Sendable, Equatable {
        /// Publish at this time, no sooner.
        case publish(atMillis: Int64)
        /// No slot within the horizon: queue it again for this time.
        case later(atMillis: Int64)
    }

    /// Slots other records already held beyond now, across all workers.
    public var backlog: Int
    /// In the order of the due times asked for.
    public var slots: [Slot]

    public init(backlog: Int, slots: [Slot]) {
        self.backlog = backlog
        self.slots = slots
    }
}
