import TockStore

/// A locked batch cut into slices of publish time (each delivery's `max(fire, due)`), in time
/// order, none spanning more than `spanMillis`. Each slice is recorded once its last record is
/// acknowledged, so a worker killed mid-batch leaves at most one slice published but unrecorded,
/// while the batch still takes its locks in one Redis call.
enum PublishSlices {
    static func publishMillis(_ delivery: LockedDelivery) -> Int64 { max(delivery.fireMillis, delivery.message.dueMillis) }

    static func split(_ deliveries: [LockedDelivery], spanMillis: Int64) -> [[LockedDelivery]] {
        let sorted = deliveries.sorted { publishMillis($0) < publishMillis($1) }
        var slices: [[LockedDelivery]] = []
        var start: Int64 = .min
        for delivery in sorted {
            let at = publishMillis(delivery)
            if slices.isEmpty || at - start >= spanMillis {
                slices.append([])
                start = at
            }
            slices[slices.count - 1].append(delivery)
        }
        return slices
    }
}
