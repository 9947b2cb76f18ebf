/// What one shard remembers of an input partition (`store.lua`): the highest offset of it the
/// shard stored, which incarnation of the partition that offset belongs to, and how to recognise
/// the record at that offset.
public struct PartitionMark: Sendable, Hashable {
    /// -1: nothing stored in this incarnation (or the shard never saw the partition).
    public var offset: Int64
    /// 0 for the first incarnation Tock saw; one more each time the partition was found new.
    public var generation: Int
    /// The topic id (KIP-516) when the record was stored, if the broker gave one.
    public var topicID: String?
    /// `InputRecord.fingerprint` of the record at `offset`; nil when stored by a release that kept none.
    public var fingerprint: String?

    public init(offset: Int64, generation: Int = 0, topicID: String? = nil, fingerprint: String? = nil) {
        self.offset = offset
        self.generation = generation
        self.topicID = topicID
        self.fingerprint = fingerprint
    }
}

/// Whether an input partition is the one the shards stored records of, or a new one (deleted and
/// recreated, or a broker that lost records and reused their offsets: SPEC guarantee 6), decided
/// before a newly assigned partition's first batch is stored, and again whenever its offsets go
/// back. A record at or below the watermark is dropped as a re-read only when the partition is
/// known to be the same one; a new one gets the next generation, under which nothing is stored
/// yet and whose default ids are its own (`defaultID`).
public struct InputPartitionCheck: Sendable {
    /// The current incarnation: the highest generation any shard has.
    public let generation: Int
    /// The highest offset stored in that incarnation, with its record's fingerprint and topic id;
    /// nil when nothing is stored in it.
    public let watermark: PartitionMark?

    public init(marks: [PartitionMark]) {
        let generation = marks.map(\.generation).max() ?? 0
        self.generation = generation
        watermark = marks.filter { $0.generation == generation && $0.offset >= 0 }.max { $0.offset < $1.offset }
    }

    /// What the worker sees of the partition now.
    public struct Observation: Sendable {
        /// Its topic's id per the broker now; nil when the broker or librdkafka gives none.
        public var topicID: String?
        /// The first offset of it in the batch just read.
        public var firstRead: Int64
        /// A lower bound of its log end: past the last record read and at least the high
        /// watermark of the fetch that brought it (never ListOffsets alone: tansu's lags).
        public var logEnd: Int64
        /// The record at the watermark's offset, once looked up (`Verdict.needsRecord`).
        public var record: RecordAt?

        public init(topicID: String?, firstRead: Int64, logEnd: Int64, record: RecordAt? = nil) {
            self.topicID = topicID
            self.firstRead = firstRead
            self.logEnd = logEnd
            self.record = record
        }
    }

    /// What the partition holds at the watermark's offset.
    public enum RecordAt: Sendable, Equatable {
        /// The first record at or after the offset, with its fingerprint.
        case found(offset: Int64, fingerprint: String)
        /// No record at or after it (below the log start, or removed).
        case gone
    }

    public enum Verdict: Sendable, Equatable {
        /// The partition the shards know: records at or below the watermark are re-reads.
        case same(generation: Int, why: String)
        /// A new partition: its records are stored under this generation, and none is a re-read.
        case recreated(generation: Int, why: String)
        /// Taken for the same, without proof: logged and counted, never silent.
        case unverified(generation: Int, why: String)
        /// Look up the record at this offset and decide again with it.
        case needsRecord(offset: Int64)
    }

    public func decide(_ seen: Observation) -> Verdict {
        guard let watermark else { return .same(generation: generation, why: "nothing stored of it yet") }
        let w = watermark.offset
        if let stored = watermark.topicID, let now = seen.topicID, stored != now {
            return .recreated(generation: generation + 1, why: "its topic id changed from \(stored) to \(now)")
        }
        if w >= seen.logEnd {
            return .recreated(generation: generation + 1, why: "it was stored up to offset \(w), but the partition ends at \(seen.logEnd)")
        }
        // Read from past the watermark, nothing read can be taken for a re-read; but a new partition
        // read from an offset that outlived the old one (a committed offset the group kept) would
        // never have its earlier records read: the record at the watermark tells, where there is
        // a fingerprint to tell by.
        if seen.firstRead > w && watermark.fingerprint == nil {
            return .same(generation: generation, why: "read from offset \(seen.firstRead), past the watermark \(w)")
        }
        guard let fingerprint = watermark.fingerprint else {
            return .unverified(generation: generation, why: "the watermark \(w) was stored by an earlier release, without its record's fingerprint")
        }
        let sameTopic = watermark.topicID != nil && watermark.topicID == seen.topicID
        switch seen.record {
        case nil:
            return .needsRecord(offset: w)
        case .found(let offset, let found) where offset == w:
            if found == fingerprint { return .same(generation: generation, why: "the record at offset \(w) is the one stored") }
            return .recreated(
                generation: generation + 1,
                why: "the record at offset \(w) is not the one stored (\(found), stored \(fingerprint)): offsets were reused")
        case .found, .gone:
            // Compaction removes a record only for a later one of its key: the log goes on.
            if sameTopic { return .same(generation: generation, why: "the record at offset \(w) is gone, but the topic id is unchanged") }
            return .unverified(generation: generation, why: "the record at offset \(w) is gone, and the broker gives no topic id to compare")
        }
    }

    /// The default `tock-id` of a request (SPEC: `<topic>/<partition>/<offset>`). Records of a
    /// later incarnation add `~<generation>`, so that they never share an id with the old
    /// partition's: a pending old request would take the new one for its duplicate, and a
    /// consumer checking tock-ids would take two different requests for one.
    public static func defaultID(source: String, generation: Int) -> String {
        generation == 0 ? source : "\(source)~\(generation)"
    }
}
