/// The `# HELP` text of every metric Tock exports, by name: `TockMetrics.render` puts each before
/// its metric's `# TYPE` line (swift-metrics has no place for it).
public enum MetricHelp {
    public static let text: [String: String] = [
        // Worker: requests
        "tock_requests_total": "Requests read from the input topics, by what the store did with them (result).",
        "tock_rejected_total": "Requests rejected to the rejected topic, by tock-error code.",
        "tock_input_lag": "Records of an input partition not read yet: the partition's high watermark less the next offset to read.",
        "tock_commit_failures_total": "Offset commits that failed (harmless: the records are re-read and recognised).",
        "tock_recreated_partitions_total":
            "Input partitions found new (deleted and recreated, or offsets reused after the broker lost records): all their records are stored, under a new generation.",
        "tock_partition_checks_total":
            "Checks of which incarnation an input partition is, by result: same, recreated, unverified (taken for the same without proof: look at the log), failed (retried).",
        // Worker: firing
        "tock_fired_total": "Fired messages by result: delivered, retried, dead, skipped (no longer claimed), withheld (lease ran out first).",
        "tock_fire_lateness_seconds": "Record timestamp minus due time of first attempts.",
        "tock_delivery_seconds": "The broker's acknowledgement latency of published records: from the hand-off to librdkafka to the delivery report.",
        "tock_delivery_lock_seconds": "Round trip of the Redis call that locks a fired batch for delivery.",
        "tock_retries_total": "Deliveries queued again for a later attempt, by reason.",
        "tock_dead_letters_total": "Records written to the dead-letter topic, by tock-error code.",
        "tock_readback_total": "Later attempts looked for in their output partition (checked), and those found already there (found).",
        "tock_wheel_entries": "Entries in the worker's timing wheel.",
        // Worker: the cold tier
        "tock_cold_moved_total": "Cold messages moved into the hot store.",
        "tock_api_requests_total": "Requests to the monitor's API under /v1/, by status and whether they write.",
        "tock_api_audit_failures_total": "API writes whose audit record could not be written (answered 503).",
        "tock_api_tag_cancels_total": "Cancel requests written by the cancels by tag (DELETE /v1/tags/<tag>) this monitor ran.",
        "tock_cold_move_ahead_seconds": "How far ahead of its due time each cold message was moved (0 when after it).",
        "tock_cold_moved_late_total": "Cold messages moved after their due time (the mover fell behind: they fire late, never early).",
        "tock_cold_copied_total": "Cold records copied from a day partition into their hour partition.",
        "tock_cold_stale_total": "Cold records not moved: cancelled, rescheduled, moved already, or a copy a crash left.",
        "tock_cold_unreadable_total": "Records in a cold topic that are not Tock's cold records, skipped.",
        "tock_cold_errors_total": "Rounds of the cold mover that failed (Redis or Kafka) and were read again from the recorded positions.",
        "tock_cold_messages": "Cold messages (monitor): their records in Kafka, their index entries in Redis (every monitor: take the max).",
        "tock_claimed_total": "Messages claimed from Redis into the timing wheel.",
        "tock_reconciled_total": "Expired claims put back into the wheel (a claim whose reply was lost).",
        "tock_stalls_total": "Times the worker process stood still longer than a third of the delivery lease.",
        "tock_oldest_held_delivery_seconds":
            "How far past its publish time the oldest delivery this worker holds a lock for is (0 when none is late).",
        "tock_deliveries_handed_back_total":
            "Deliveries whose lock was held a lease past their publish time without an outcome, given back to Redis (a bug or a stuck stage: see the log).",
        "tock_producer_replacements_total": "Output producers the broker fenced, replaced.",
        "tock_series_occurrences_skipped_total":
            "Series occurrences not published: passed over by tock-catchup, or left behind by a reschedule (published already, not of the new definition, or past its count).",
        "tock_series_ended_total": "Series that ended (count reached, past tock-until, or no occurrence left).",
        "tock_rate_limit_delay_seconds": "Delay a rate limit added to a record, by configured topic glob.",
        "tock_rate_limit_waiting": "Records waiting behind a rate limit at this worker's last call, across workers, by configured topic glob.",
        "tock_rate_limit_requeued_total": "Records queued again for lack of a rate-limit slot within a second, by configured topic glob.",
        // Clock (worker and monitor)
        "tock_clock_offset_seconds":
            "This host's wall clock against the cluster's reference (Redis TIME): reference minus local, from the last measurement. Tock runs on the reference.",
        "tock_clock_round_trip_seconds": "Round trip of the best sample of the last clock measurement: the offset is known to half of it.",
        "tock_clock_unfit":
            "1 while the clock cannot be trusted (beyond clock.maxSkew with clock.onSkew hold, or not measured): a worker then fires nothing.",
        // Redis and Kafka
        "tock_redis_errors_total": "Redis calls that failed.",
        "tock_kafka_errors_total": "Kafka produce or consume errors.",
        "tock_redis_not_replicated_total": "Writes that fewer than store.replicaAcks replicas confirmed in time (retried).",
        "tock_replica_wait_shards": "Shards whose writes wait for replicas: fewer than store.replicaAcks confirmed their last write (Redis WAIT).",
        "tock_redis_cluster_redirects_total": "Redis Cluster redirects followed, by kind (moved, ask).",
        "tock_redis_cluster_retries_total": "Redis Cluster requests retried (TRYAGAIN, CLUSTERDOWN, a connection lost).",
        "tock_redis_cluster_map_refreshes_total": "Reads of the Redis Cluster slot map.",
        // HTTP (worker and monitor)
        "tock_http_refused_total":
            "HTTP requests or connections refused for a limit, by reason: request-line (414), headers (431), body (413), timeout (closed: no whole request in time, idle, or a response not taken), connections (over the cap).",
        // Monitor
        "tock_monitor_leader": "1 while this monitor leads the cluster, else 0.",
        "tock_monitor_live_workers": "Workers with a heartbeat within cluster.heartbeatTimeout (the leader's view; 0 on a standby).",
        "tock_monitor_shards": "Shards assigned to each live worker (the leader's view).",
        "tock_monitor_reassignments_total": "Shards moved from one worker to another.",
        "tock_monitor_oldest_overdue_seconds": "How long the most overdue queued message has been due (0 when none is).",
        "tock_pending_messages":
            "Messages (and series) stored: pending (cold ones included), claimed or being delivered (every monitor: take the max).",
        "tock_due_messages": "Queued messages due within the window (1m, 10m, 1h, 1d), overdue ones included (every monitor: take the max).",
    ]

    /// `exposition` with a `# HELP` line before each `# TYPE` line of a known metric.
    public static func annotate(_ exposition: String) -> String {
        var out = ""
        out.reserveCapacity(exposition.utf8.count + 4_096)
        for line in exposition.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first, let help = text[String(name)] {
                out += "# HELP \(name) \(help)\n"
            }
            out += line
            out += "\n"
        }
        if !exposition.hasSuffix("\n"), out.hasSuffix("\n") { out.removeLast() }
        return out
    }
}
