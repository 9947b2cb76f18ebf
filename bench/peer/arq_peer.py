#!/usr/bin/env python3
"""Peer benchmark: arq (delayed jobs on Redis) forwarding each due item to Kafka.

One run of the same scenario `tock-bench burst` measures for Tock: N items due over S ms, the
first L ms after they are submitted; each due item is published to an output topic with the
headers `tock-id` and `tock-at` (its due time, ms), and a consumer of that topic measures
fire lateness (record timestamp, CreateTime, - due), delivery lateness (arrival - due), early,
lost and duplicated items.

    PYTHONPATH=.tools/py:.tools/peer python3 bench/peer/arq_peer.py --redis URL --brokers HOST:PORT \\
        --messages 20000 --spread-ms 10000 --lead-ms 5000 --poll-delay 0.5 --workers 2 --label peer

Processes: this one (orchestrator: creates the topic, enqueues the jobs, collects the results),
one consumer process (so its arrival stamps do not wait on the orchestrator's GIL) and W arq
worker processes. Each worker runs arq's own `Worker` with the given `poll_delay`; its job
function produces the item with a confluent_kafka Producer (idempotent, acks=all, small
linger, like Tock's output producer) and returns only once the broker acknowledged it, so a job
leaves arq's queue only after its record is stored (at-least-once, as in Tock).

Isolation: the arq queue (a Redis sorted set) is `arq:peer-<run>:queue` and the job ids are
`peer-<run>-<i>`, so every key a run writes (arq:job:, arq:in-progress:, arq:retry:,
arq:result: + id, and the queue's health-check key) carries the run id and is deleted at the end.

Exit status: 0 when the run completed (whatever it measured), 2 on a setup error.
"""

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

ROLE_WORKER = "worker"
ROLE_CONSUMER = "consumer"


class SetupError(Exception):
    pass


def die(message):
    print(f"arq_peer: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def import_deps():
    try:
        import confluent_kafka  # noqa: F401
        import arq  # noqa: F401
        import redis  # noqa: F401
    except ImportError as e:
        die(f"{e}; run scripts/setup-peer and use PYTHONPATH=.tools/py:.tools/peer")


def now_ms():
    return time.time_ns() // 1_000_000


def percentile(sorted_values, p):
    # Same rule as tock-bench: the value at index floor(n * p), clamped.
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


# ----------------------------------------------------------------------------------------------
# Worker process: arq's Worker; the job function forwards the item to Kafka.
# ----------------------------------------------------------------------------------------------

def worker_main(args):
    import logging

    from arq.connections import RedisSettings
    from arq.worker import Worker, func
    from confluent_kafka import KafkaException, Producer

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    topic = args.topic
    stats = {"forwarded": 0}

    async def on_startup(ctx):
        producer = Producer({
            "bootstrap.servers": args.brokers,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": args.linger_ms,
            "client.id": f"arq-peer-{args.worker_index}",
        })
        # Metadata for the topic before the first job, so the first forward does not pay for it.
        producer.list_topics(topic, timeout=15)
        stop = threading.Event()

        def serve_reports():
            while not stop.is_set():
                producer.poll(0.05)

        thread = threading.Thread(target=serve_reports, name="kafka-reports", daemon=True)
        thread.start()
        ctx.update(producer=producer, stop=stop, thread=thread)
        with open(args.ready_file, "w") as f:
            f.write(str(os.getpid()))

    async def on_shutdown(ctx):
        if "producer" in ctx:
            ctx["stop"].set()
            ctx["thread"].join(5)
            ctx["producer"].flush(10)
        print(f"worker {args.worker_index}: forwarded {stats['forwarded']} complete {worker.jobs_complete} "
              f"failed {worker.jobs_failed} retried {worker.jobs_retried}", flush=True)

    async def forward(ctx, item_id, due_ms, payload):
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def settle(err):
            if done.done():
                return
            if err is None:
                done.set_result(None)
            else:
                done.set_exception(KafkaException(err))

        # The delivery report arrives on the reports thread.
        def report(err, _msg):
            loop.call_soon_threadsafe(settle, err)

        # tock-published-us: the same sub-millisecond hand-off stamp a Tock worker adds with
        # delivery.publishedHeader, taken just before the produce call.
        ctx["producer"].produce(
            topic,
            key=item_id.encode(),
            value=payload,
            headers=[("tock-id", item_id.encode()), ("tock-at", str(due_ms).encode()),
                     ("tock-published-us", str(time.time_ns() // 1000).encode())],
            on_delivery=report,
        )
        await done
        stats["forwarded"] += 1

    worker = Worker(
        functions=[func(forward, name="forward")],
        queue_name=args.queue,
        redis_settings=RedisSettings.from_dsn(args.redis),
        poll_delay=args.poll_delay,
        max_jobs=args.max_jobs,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        log_results=False,
    )
    worker.run()


# ----------------------------------------------------------------------------------------------
# Consumer process: measures every record of the output topic.
# ----------------------------------------------------------------------------------------------

def consumer_main(args):
    from confluent_kafka import TIMESTAMP_CREATE_TIME, Consumer

    assigned = threading.Event()
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "fetch.wait.max.ms": 5,
    })
    consumer.subscribe([args.topic], on_assign=lambda c, parts: parts and assigned.set())
    deadline = time.monotonic() + 30
    while not assigned.is_set():
        if time.monotonic() > deadline:
            print("consumer: no partition assignment within 30 s", file=sys.stderr, flush=True)
            sys.exit(2)
        consumer.consume(num_messages=100, timeout=0.1)
    with open(args.ready_file, "w") as f:
        f.write(str(os.getpid()))

    seen = {}
    fire, delivery, stamps, fire_us = [], [], [], []
    duplicates = early = early_fire = early_delivery = unknown = other_timestamps = 0
    first_arrival = last_arrival = None

    def handle(messages):
        nonlocal duplicates, early, early_fire, early_delivery, unknown, other_timestamps
        nonlocal first_arrival, last_arrival
        now_us = time.time_ns() // 1000
        for m in messages:
            if m.error():
                print(f"consumer: {m.error()}", file=sys.stderr, flush=True)
                continue
            headers = dict(m.headers() or [])
            try:
                item_id = headers["tock-id"].decode()
                due = int(headers["tock-at"])
            except (KeyError, ValueError):
                unknown += 1
                continue
            n = seen.get(item_id, 0) + 1
            seen[item_id] = n
            if n > 1:
                duplicates += 1
                continue
            kind, stamp = m.timestamp()
            if kind != TIMESTAMP_CREATE_TIME:
                other_timestamps += 1
            f = stamp - due
            d = int((now_us - due * 1000) / 1000)  # truncated, like tock-bench
            fire.append(f)
            delivery.append(d)
            stamps.append(stamp)
            if "tock-published-us" in headers:
                fire_us.append(int(headers["tock-published-us"]) - due * 1000)
            if f < 0:
                early_fire += 1
            if d < 0:
                early_delivery += 1
            if f < 0 or d < 0:
                early += 1
            if first_arrival is None:
                first_arrival = now_us // 1000
            last_arrival = now_us // 1000

    while len(seen) < args.messages and not os.path.exists(args.stop_file):
        handle(consumer.consume(num_messages=5000, timeout=0.02))
    # Late duplicates would show up in the next moments (tock-bench waits 2 s as well).
    settle = time.monotonic() + 2
    while time.monotonic() < settle:
        handle(consumer.consume(num_messages=5000, timeout=0.05))
    consumer.close()
    with open(args.result_file + ".tmp", "w") as out:
        json.dump({
            "arrived": len(seen), "duplicates": duplicates, "early": early, "early_fire": early_fire,
            "early_delivery": early_delivery, "unknown": unknown, "other_timestamps": other_timestamps,
            "first_arrival_ms": first_arrival, "last_arrival_ms": last_arrival,
            "fire": fire, "delivery": delivery, "stamps": stamps, "fire_us": fire_us,
        }, out)
    os.replace(args.result_file + ".tmp", args.result_file)


# ----------------------------------------------------------------------------------------------
# Orchestrator.
# ----------------------------------------------------------------------------------------------

def spawn(role, extra, log_path):
    cmd = [sys.executable, os.path.abspath(__file__), "--role", role] + [str(a) for a in extra]
    log = open(log_path, "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=os.environ)


def wait_files(paths, procs, timeout, what, logs):
    deadline = time.monotonic() + timeout
    while not all(os.path.exists(p) for p in paths):
        for proc, log in zip(procs, logs):
            if proc.poll() is not None:
                raise SetupError(f"{what} exited with {proc.returncode} before it was ready:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise SetupError(f"{what} not ready within {timeout} s:\n" + "\n".join(tail(l) for l in logs))
        time.sleep(0.05)


def tail(path, lines=20):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def stop_process(proc, timeout=15):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def create_topic(brokers, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": brokers})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                                  operation_timeout=15, request_timeout=15)
    try:
        futures[topic].result(20)
    except Exception as e:
        raise SetupError(f"cannot create topic {topic} on {brokers}: {e}")
    deadline = time.monotonic() + 15
    while True:
        md = admin.list_topics(topic, timeout=5).topics.get(topic)
        if md is not None and md.error is None and len(md.partitions) == partitions:
            return admin
        if time.monotonic() > deadline:
            raise SetupError(f"topic {topic} did not show {partitions} partitions")
        time.sleep(0.1)


async def enqueue_all(args, queue, run, base_ms):
    from arq.connections import RedisSettings, create_pool

    pool = await create_pool(RedisSettings.from_dsn(args.redis), default_queue_name=queue)
    n, spread = args.messages, args.spread_ms
    failed = 0

    async def lane(k):
        nonlocal failed
        for i in range(k, n, args.enqueue_concurrency):
            due = base_ms + args.lead_ms + i * spread // n
            item_id = f"peer-{run}-{i}"
            job = await pool.enqueue_job(
                "forward", item_id, due, f"payload-{i}".encode(),
                _job_id=item_id, _queue_name=queue,
                _defer_until=datetime.fromtimestamp(due / 1000, tz=timezone.utc),
            )
            if job is None:
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(lane(k) for k in range(min(args.enqueue_concurrency, n))))
    seconds = time.perf_counter() - started
    await pool.aclose()
    return seconds, failed


async def redis_cleanup(url, queue, run):
    from redis.asyncio import Redis

    r = Redis.from_url(url)
    try:
        left = await r.zcard(queue)
        deleted = await r.unlink(queue, queue + ":health-check")
        batch = []
        async for key in r.scan_iter(match=f"arq:*peer-{run}-*", count=2000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += await r.unlink(*batch)
                batch = []
        if batch:
            deleted += await r.unlink(*batch)
        return left, deleted
    finally:
        await r.aclose()


async def redis_ping(url):
    from redis.asyncio import Redis

    r = Redis.from_url(url, socket_connect_timeout=3)
    try:
        await r.ping()
    finally:
        await r.aclose()


def orchestrate(args):
    import arq.version

    run = secrets.token_hex(4)
    topic = f"peer.out-{run}"
    queue = f"arq:peer-{run}:queue"
    group = f"peer-{run}"
    tmp = tempfile.mkdtemp(prefix=f"arq-peer-{run}-")
    workers, consumer, admin = [], None, None
    label = args.label

    try:
        try:
            asyncio.run(redis_ping(args.redis))
        except Exception as e:
            raise SetupError(f"Redis at {args.redis} does not answer: {e}")
        admin = create_topic(args.brokers, topic, args.partitions)

        consumer_log = os.path.join(tmp, "consumer.log")
        consumer_ready = os.path.join(tmp, "consumer.ready")
        stop_file = os.path.join(tmp, "consumer.stop")
        result_file = os.path.join(tmp, "consumer.json")
        consumer = spawn(ROLE_CONSUMER, ["--brokers", args.brokers, "--topic", topic, "--group", group,
                                         "--messages", args.messages, "--ready-file", consumer_ready,
                                         "--stop-file", stop_file, "--result-file", result_file], consumer_log)
        wait_files([consumer_ready], [consumer], 40, "consumer", [consumer_log])

        worker_logs, worker_ready = [], []
        for k in range(args.workers):
            log = os.path.join(tmp, f"worker-{k}.log")
            ready = os.path.join(tmp, f"worker-{k}.ready")
            workers.append(spawn(ROLE_WORKER, ["--redis", args.redis, "--brokers", args.brokers, "--topic", topic,
                                               "--queue", queue, "--poll-delay", args.poll_delay,
                                               "--max-jobs", args.max_jobs, "--linger-ms", args.linger_ms,
                                               "--worker-index", k, "--ready-file", ready], log))
            worker_logs.append(log)
            worker_ready.append(ready)
        wait_files(worker_ready, workers, 40, "arq workers", worker_logs)
        cpu_before = [cpu_seconds(w.pid) for w in workers]

        base_ms = now_ms()
        first_due = base_ms + args.lead_ms
        enqueue_seconds, enqueue_failed = asyncio.run(enqueue_all(args, queue, run, base_ms))
        enqueued_at = now_ms()
        if enqueue_failed:
            raise SetupError(f"arq refused {enqueue_failed} jobs (job id already present)")

        deadline = time.monotonic() + (base_ms + args.lead_ms + args.spread_ms + 60_000 - now_ms()) / 1000
        timed_out = False
        try:
            consumer.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            open(stop_file, "w").close()
            try:
                consumer.wait(30)
            except subprocess.TimeoutExpired:
                raise SetupError(f"consumer did not stop:\n{tail(consumer_log)}")
        if consumer.returncode != 0 or not os.path.exists(result_file):
            raise SetupError(f"consumer failed ({consumer.returncode}):\n{tail(consumer_log)}")
        with open(result_file) as f:
            r = json.load(f)

        cpu_used = [cpu_seconds(w.pid) - b for w, b in zip(workers, cpu_before)]
        for w in workers:
            stop_process(w)
        forwarded, failed, retried, problems = [], 0, 0, False
        for k, log in enumerate(worker_logs):
            text = tail(log, 100_000)
            for line in text.splitlines():
                if line.startswith(f"worker {k}: forwarded "):
                    words = line.split()
                    forwarded.append(int(words[3]))
                    failed += int(words[7])
                    retried += int(words[9])
            if "Traceback" in text or " ERROR " in text or " WARNING " in text:
                problems = True
                print(f"--- worker {k} log ({log}) shows problems:\n{tail(log)}", file=sys.stderr)
        workers = []
        left, deleted = asyncio.run(redis_cleanup(args.redis, queue, run))
    except BaseException as e:
        # Setup error, interrupt or bug: stop what this run started and drop its keys, keep the logs.
        for w in workers:
            stop_process(w, 5)
        if consumer is not None:
            stop_process(consumer, 5)
        try:
            asyncio.run(redis_cleanup(args.redis, queue, run))
        except Exception:
            pass
        if not os.listdir(tmp):
            os.rmdir(tmp)
        if isinstance(e, SetupError):
            die(f"{e}" + (f"\n(logs in {tmp})" if os.path.isdir(tmp) else ""))
        print(f"arq_peer: stopped by {type(e).__name__}" + (f"; logs in {tmp}" if os.path.isdir(tmp) else ""), file=sys.stderr)
        raise
    if not args.keep_logs and not problems:
        shutil.rmtree(tmp, ignore_errors=True)

    if admin is not None and not args.keep_topic:
        try:
            admin.delete_topics([topic], operation_timeout=10)[topic].result(15)
        except Exception:
            pass

    n = args.messages
    fire, delivery, fire_us = sorted(r["fire"]), sorted(r["delivery"]), sorted(r["fire_us"])
    arrived, lost = r["arrived"], n - r["arrived"]
    if r["last_arrival_ms"] is not None:
        window_s = max(r["last_arrival_ms"] - first_due, 1) / 1000
        throughput = len(fire) / window_s
    else:
        window_s, throughput = 0.0, 0.0
    per_second = {}
    for stamp in r["stamps"]:
        per_second[stamp // 1000] = per_second.get(stamp // 1000, 0) + 1
    peak = max(per_second.values(), default=0)
    ingest = n / enqueue_seconds if enqueue_seconds > 0 else 0.0
    last_due = base_ms + args.lead_ms + (n - 1) * args.spread_ms // n

    print(f"arq {arq.version.VERSION} peer: {n} messages due over {args.spread_ms} ms, enqueued {args.lead_ms} ms ahead; "
          f"{args.workers} worker(s), poll_delay {args.poll_delay} s, max_jobs {args.max_jobs}, linger.ms {args.linger_ms}")
    print(f"enqueued in {enqueue_seconds:.2f} s ({ingest:.0f}/s, {args.enqueue_concurrency} concurrent enqueue_job calls)"
          + (f"; WARNING: enqueueing ended {enqueued_at - first_due} ms after the first due time" if enqueued_at > first_due else ""))
    print(f"arrived {arrived}, lost {lost}, duplicates {r['duplicates']}, early {r['early']} "
          f"(by record timestamp {r['early_fire']}, by arrival {r['early_delivery']})"
          + (" [timed out]" if timed_out else ""))
    print(f"fire lateness ms (record timestamp - due):  p50 {percentile(fire, 0.5)}  p99 {percentile(fire, 0.99)}  "
          f"p99.9 {percentile(fire, 0.999)}  max {fire[-1] if fire else 0}")
    print(f"fire lateness us (tock-published-us - due):  p50 {percentile(fire_us, 0.5)}  p99 {percentile(fire_us, 0.99)}  "
          f"max {fire_us[-1] if fire_us else 0}")
    print(f"delivery lateness ms (arrival - due):       p50 {percentile(delivery, 0.5)}  p99 {percentile(delivery, 0.99)}  "
          f"p99.9 {percentile(delivery, 0.999)}  max {delivery[-1] if delivery else 0}")
    print(f"throughput {throughput:.0f}/s ({len(fire)} delivered from the first due time to the last arrival, {window_s:.2f} s; "
          f"last due at +{(last_due - first_due) / 1000:.2f} s); peak {peak} records/s by record timestamp")
    print(f"arq workers: forwarded {forwarded}, {failed} jobs failed, {retried} retried, CPU {sum(cpu_used):.1f} s in total over the run; "
          f"queue left {left}, {deleted} Redis keys deleted"
          + (f"; {r['other_timestamps']} records without CreateTime" if r["other_timestamps"] else "")
          + (f"; {r['unknown']} records without tock headers" if r["unknown"] else ""))
    print(f"RESULT {label}_ingest_per_s={int(ingest)}")
    print(f"RESULT {label}_fire_p50_ms={percentile(fire, 0.5)}")
    print(f"RESULT {label}_fire_p99_ms={percentile(fire, 0.99)}")
    print(f"RESULT {label}_fire_p99_us={percentile(fire_us, 0.99)}")
    print(f"RESULT {label}_fire_max_ms={fire[-1] if fire else 0}")
    print(f"RESULT {label}_delivery_p99_ms={percentile(delivery, 0.99)}")
    print(f"RESULT {label}_early={r['early']}")
    print(f"RESULT {label}_lost={lost}")
    print(f"RESULT {label}_duplicates={r['duplicates']}")
    print(f"RESULT {label}_throughput_per_s={int(throughput)}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--redis", default=os.environ.get("TOCK_REDIS_URL"), help="Redis URL (default: TOCK_REDIS_URL)")
    p.add_argument("--brokers", default=os.environ.get("TOCK_KAFKA_BROKERS"), help="bootstrap servers (default: TOCK_KAFKA_BROKERS)")
    p.add_argument("--messages", type=int, default=20_000)
    p.add_argument("--spread-ms", type=int, default=10_000, help="due times spread over this many ms")
    p.add_argument("--lead-ms", type=int, default=5_000, help="the first is due this many ms after enqueueing starts")
    p.add_argument("--poll-delay", type=float, default=0.5, help="arq worker poll_delay, seconds (arq's default 0.5)")
    p.add_argument("--workers", type=int, default=2, help="arq worker processes")
    p.add_argument("--max-jobs", type=int, default=1000, help="arq max_jobs per worker (arq's default is 10)")
    p.add_argument("--linger-ms", type=int, default=1, help="linger.ms of each worker's producer (Tock's default 1)")
    p.add_argument("--enqueue-concurrency", type=int, default=32, help="enqueue_job calls in flight")
    p.add_argument("--partitions", type=int, default=24, help="partitions of the output topic")
    p.add_argument("--keep-topic", action="store_true", help="do not delete the output topic at the end")
    p.add_argument("--keep-logs", action="store_true", help="keep the worker/consumer logs and raw results (a temp dir)")
    p.add_argument("--label", default="peer", help="prefix of the RESULT keys")
    # Internal: the worker and consumer processes.
    p.add_argument("--role", choices=[ROLE_WORKER, ROLE_CONSUMER], help=argparse.SUPPRESS)
    for name in ("--topic", "--queue", "--group", "--ready-file", "--stop-file", "--result-file"):
        p.add_argument(name, help=argparse.SUPPRESS)
    p.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()

    import_deps()
    if args.role == ROLE_WORKER:
        return worker_main(args)
    if args.role == ROLE_CONSUMER:
        return consumer_main(args)
    if not args.redis or not args.brokers:
        die("--redis and --brokers are required (or TOCK_REDIS_URL and TOCK_KAFKA_BROKERS)")
    if args.messages < 1 or args.spread_ms < 0 or args.lead_ms < 0 or args.workers < 1 or args.poll_delay <= 0:
        die("need --messages >= 1, --spread-ms >= 0, --lead-ms >= 0, --workers >= 1, --poll-delay > 0")
    orchestrate(args)


if __name__ == "__main__":
    main()
