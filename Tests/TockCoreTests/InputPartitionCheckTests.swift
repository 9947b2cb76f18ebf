import Testing

@testable import TockCore

@Suite("Input partition incarnations")
struct InputPartitionCheckTests {
    let fp = "1900000000000:00000000000000aa"

    func check(_ marks: [PartitionMark]) -> InputPartitionCheck { InputPartitionCheck(marks: marks) }

    func seen(topicID: String? = "T1", firstRead: Int64 = 0, logEnd: Int64 = 1_000, record: InputPartitionCheck.RecordAt? = nil)
        -> InputPartitionCheck.Observation
    {
        InputPartitionCheck.Observation(topicID: topicID, firstRead: firstRead, logEnd: logEnd, record: record)
    }

    /// With the watermark at offset 99 (fingerprint `fp`, topic id T1) and the partition read from
    /// `firstRead`: the check needs the record at the watermark; that record the one stored means
    /// the same partition, a record of fingerprint `other` there a new one (generation 1, else
    /// `notRecreated` is recorded). Returns whether it was a new one.
    @discardableResult
    func expectTheRecordDecides(
        firstRead: Int64, other: String, _ notRecreated: Comment, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        let c = check([PartitionMark(offset: 99, topicID: "T1", fingerprint: fp)])
        #expect(c.decide(seen(firstRead: firstRead)) == .needsRecord(offset: 99), sourceLocation: sourceLocation)
        #expect(
            c.decide(seen(firstRead: firstRead, record: .found(offset: 99, fingerprint: fp)))
                == .same(generation: 0, why: "the record at offset 99 is the one stored"), sourceLocation: sourceLocation)
        guard case .recreated(1, _) = c.decide(seen(firstRead: firstRead, record: .found(offset: 99, fingerprint: other))) else {
            Issue.record(notRecreated, sourceLocation: sourceLocation)
            return false
        }
        return true
    }

    @Test("the current incarnation is the highest generation of any shard, its watermark the highest offset in it")
    func currentIncarnation() {
        let c = check([
            PartitionMark(offset: 900, generation: 0, topicID: "T0", fingerprint: "old"),
            PartitionMark(offset: 12, generation: 1, topicID: "T1", fingerprint: "a"),
            PartitionMark(offset: 40, generation: 1, topicID: "T1", fingerprint: "b"),
            PartitionMark(offset: -1),
        ])
        #expect(c.generation == 1)
        #expect(c.watermark == PartitionMark(offset: 40, generation: 1, topicID: "T1", fingerprint: "b"))
        #expect(check([]).generation == 0 && check([]).watermark == nil)
        // A generation begun by reset-watermarks, with nothing stored in it yet.
        let reset = check([PartitionMark(offset: -1, generation: 2), PartitionMark(offset: 500, generation: 1, fingerprint: "x")])
        #expect(reset.generation == 2 && reset.watermark == nil)
        #expect(reset.decide(seen()) == .same(generation: 2, why: "nothing stored of it yet"))
    }

    @Test("a changed topic id makes the partition new, whatever its records")
    func topicIDChanged() {
        let c = check([PartitionMark(offset: 99, generation: 3, topicID: "T0", fingerprint: fp)])
        guard case .recreated(let generation, _) = c.decide(seen(topicID: "T1", firstRead: 200, logEnd: 5_000)) else {
            Issue.record("not recreated")
            return
        }
        #expect(generation == 4)
        // An unknown id now (the broker or librdkafka gives none) proves nothing either way.
        #expect(c.decide(seen(topicID: nil, firstRead: 200)) == .needsRecord(offset: 99))
    }

    @Test("a watermark at or past the log end means the offsets restarted")
    func watermarkPastLogEnd() {
        let c = check([PartitionMark(offset: 99, topicID: "T1", fingerprint: fp)])
        #expect(
            c.decide(seen(firstRead: 0, logEnd: 99)) == .recreated(generation: 1, why: "it was stored up to offset 99, but the partition ends at 99"))
        #expect(c.decide(seen(firstRead: 0, logEnd: 100)) == .needsRecord(offset: 99))
    }

    @Test("reading past the watermark: the record there still tells a partition whose committed offset outlived it")
    func readingPastTheWatermark() {
        guard expectTheRecordDecides(firstRead: 100, other: "other", "a different record at the watermark, read from past it, is a new partition")
        else { return }
        // Without a fingerprint there is nothing to tell by, and nothing read is a re-read.
        let old = check([PartitionMark(offset: 99, topicID: "T1")])
        #expect(old.decide(seen(firstRead: 100)) == .same(generation: 0, why: "read from offset 100, past the watermark 99"))
    }

    @Test("reading at or below the watermark: the record there decides")
    func recordAtTheWatermark() {
        // Same topic id, other record: a broker that lost records and reused the offsets.
        expectTheRecordDecides(firstRead: 0, other: "1:00000000000000bb", "a different record at the watermark was not taken for a new partition")
        #expect(check([PartitionMark(offset: 99, topicID: "T1", fingerprint: fp)]).decide(seen(firstRead: 99)) == .needsRecord(offset: 99))
    }

    @Test("a record gone from the watermark (compaction) is the same partition only if the topic id says so; else loud")
    func recordGone() {
        let withID = check([PartitionMark(offset: 99, topicID: "T1", fingerprint: fp)])
        #expect(withID.decide(seen(record: .gone)) == .same(generation: 0, why: "the record at offset 99 is gone, but the topic id is unchanged"))
        #expect(withID.decide(seen(record: .found(offset: 104, fingerprint: "x"))).isSame)
        let withoutID = check([PartitionMark(offset: 99, topicID: nil, fingerprint: fp)])
        #expect(withoutID.decide(seen(record: .gone)).isUnverified)
        #expect(withID.decide(seen(topicID: nil, record: .gone)).isUnverified)
    }

    @Test("a watermark of an earlier release (no fingerprint) is taken for the same partition, loudly")
    func earlierRelease() {
        let c = check([PartitionMark(offset: 99)])
        #expect(c.decide(seen(topicID: nil, firstRead: 0)).isUnverified)
        #expect(
            c.decide(seen(topicID: nil, firstRead: 0, logEnd: 50))
                == .recreated(generation: 1, why: "it was stored up to offset 99, but the partition ends at 50"))
    }

    @Test("default ids: the first incarnation's are SPEC's topic/partition/offset; later ones add their generation")
    func defaultIDs() {
        #expect(InputPartitionCheck.defaultID(source: "tock.requests/3/17", generation: 0) == "tock.requests/3/17")
        #expect(InputPartitionCheck.defaultID(source: "tock.requests/3/17", generation: 2) == "tock.requests/3/17~2")
    }

    @Test("a fingerprint changes with the timestamp, key, value and headers, and tells null from empty")
    func fingerprints() {
        let base = InputRecord(
            topic: "t", partition: 0, offset: 5, timestampMillis: 1_900_000_000_000, key: [1], value: [2, 3],
            headers: [RecordHeader(key: "a", value: [4])])
        var variants: [InputRecord] = []
        for change in 0..<7 {
            var r = base
            switch change {
            case 0: r.timestampMillis = 1_900_000_000_001
            case 1: r.key = nil
            case 2: r.key = []
            case 3: r.value = [2, 3, 0]
            case 4: r.headers = [RecordHeader(key: "a", value: nil)]
            case 5: r.headers = [RecordHeader(key: "a", value: [4]), RecordHeader(key: "", value: nil)]
            default: r.timestampMillis = nil
            }
            variants.append(r)
        }
        let prints = variants.map(\.fingerprint)
        #expect(Set(prints + [base.fingerprint]).count == 8)
        #expect(base.fingerprint.hasPrefix("1900000000000:") && base.fingerprint.count == 14 + 16)
        // Where the record was read from is not part of it.
        var moved = base
        moved.offset = 6
        moved.partition = 1
        #expect(moved.fingerprint == base.fingerprint)
        #expect(variants[6].fingerprint.hasPrefix("-:"))
    }
}

extension InputPartitionCheck.Verdict {
    var isSame: Bool { if case .same = self { true } else { false } }
    var isUnverified: Bool { if case .unverified = self { true } else { false } }
}
