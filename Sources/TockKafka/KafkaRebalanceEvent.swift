/// A change of a consumer's assignment, reported after librdkafka applied an assignment and
/// before it drops revoked partitions (so offsets for them can still be stored).
public struct KafkaRebalanceEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case assigned
        case revoked
        /// Revoked because the consumer lost its group membership (session timeout, fencing):
        /// another member may already own these partitions, so committing for them is useless.
        case lost
    }

    public enum RebalanceProtocol: Sendable, Hashable {
        /// Each event carries the whole assignment (revoke all, then assign all).
        case eager
        /// Each event carries only the partitions added or removed (cooperative-sticky).
        case cooperative
    }

    public var kind: Kind
    public var partitions: [KafkaTopicPartition]
    public var rebalanceProtocol: RebalanceProtocol

    public init(kind: Kind, partitions: [KafkaTopicPartition], rebalanceProtocol: RebalanceProtocol) {
        self.kind = kind
        self.partitions = partitions
        self.rebalanceProtocol = rebalanceProtocol
    }
}
