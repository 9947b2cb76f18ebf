# scripts/stack's redis-servers of every topology: the settings they start with, how they stop, which run.
# shellcheck shell=bash disable=SC2154 # globals of scripts/stack and the files it sources

# Tock writes each message a few times and deletes it once fired, so the AOF grows fast (about
# 9 MB/s at 10k messages/s) while the data set stays small. Redis's default rewrites it every
# 64 MB, every few seconds at that rate, and each rewrite stalls Redis on a 2-core machine for
# 60-170 ms (measured; delivery.lockAhead hides that from fire lateness, not from ingest):
# rewrite after 1 GB instead.
aof_rewrite_min_size="${TOCK_STACK_AOF_REWRITE_MIN_SIZE:-1gb}"

# Name-value pairs, as options (start_redis_server) or as a config file's lines (Sentinel's nodes).
redis_settings() { # port dir: sets redis_settings_pairs
  redis_settings_pairs=(bind 127.0.0.1 port "$1" dir "$2" daemonize yes
    pidfile "$2/redis.pid" logfile "$2/redis.log"
    appendonly yes appendfsync always save "" protected-mode no
    auto-aof-rewrite-min-size "$aof_rewrite_min_size")
}

# Replicas (cluster and sentinel) sync at once: Redis 7 otherwise waits 5 s
# (repl-diskless-sync-delay) for more replicas before each full sync, at creation and when a
# failed-over master comes back as a replica.
# shellcheck disable=SC2034 # used by redis-cluster.sh and redis-sentinel.sh
replica_settings=(repl-diskless-sync-delay 0)

start_redis_server() { # port dir [name value]...: a daemon with redis_settings and these
  local -a pairs options=()
  local i
  redis_settings "$1" "$2"; shift 2
  pairs=("${redis_settings_pairs[@]}" "$@")
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do options+=("--${pairs[i]}" "${pairs[i + 1]}"); done
  redis-server "${options[@]}" >/dev/null
}

# Stops one redis-server (or Sentinel) and returns once its process is gone. SHUTDOWN alone is
# not enough: with a password set on the running server (CONFIG SET requirepass) it is refused
# with NOAUTH and redis-cli still exits 0. So the process decides: SHUTDOWN, then SIGTERM (Redis
# shuts down the same way, AOF flushed), then SIGKILL. A process already gone (a test killed it)
# is fine.
stop_redis_process() { # pidfile port [label]
  alive "$1" || return 0
  local pid label="${3:-redis on $2}"
  pid="$(cat "$1")"
  timeout 5 redis-cli -h 127.0.0.1 -p "$2" shutdown nosave >/dev/null 2>&1 || true
  gone "$pid" 2 && return 0
  kill "$pid" 2>/dev/null || true
  gone "$pid" 10 && return 0
  log "$label (pid $pid) did not stop on SIGTERM; killing it"
  kill -9 "$pid" 2>/dev/null || true
  gone "$pid" 5 || { log "$label (pid $pid) is still running"; return 1; }
}

stop_redis_processes() { # "pidfile port [label]"...: stops them side by side
  local spec jobs=() job status=0
  for spec in "$@"; do
    # shellcheck disable=SC2086
    stop_redis_process $spec &
    jobs+=($!)
  done
  for job in "${jobs[@]}"; do wait "$job" || status=1; done
  return $status
}

# Sentinels first, so that none fails a node over while the nodes stop.
stop_all_redis() {
  local -a sentinels nodes
  mapfile -t sentinels < <(sentinel_processes)
  mapfile -t nodes < <(redis_node_processes)
  if [ ${#sentinels[@]} -gt 0 ]; then stop_redis_processes "${sentinels[@]}" || true; fi
  if [ ${#nodes[@]} -gt 0 ]; then stop_redis_processes "${nodes[@]}" || true; fi
}

# "pidfile port [label]" of each of the stack's redis-servers, and of its Sentinels.
redis_node_processes() {
  local p
  if [ "$redis_topology" = single ]; then echo "$dir/redis.pid $redis_port redis"; return; fi
  for p in $redis_node_ports; do echo "$dir/redis-$p/redis.pid $p"; done
}
sentinel_processes() {
  local p
  for p in $sentinel_ports; do echo "$dir/sentinel-$p/sentinel.pid $p"; done
}

# The pidfile of this stack's redis-server or Sentinel on HOST:PORT (or PORT), empty if none.
pidfile_on() { # addr
  local port="${1##*:}" host=127.0.0.1 pidfile="" file p
  if [ "$port" != "$1" ]; then host="${1%:*}"; fi
  if [ "$host" = 127.0.0.1 ] || [ "$host" = localhost ]; then
    while read -r file p _; do
      if [ "$p" = "$port" ]; then pidfile="$file"; fi
    done < <(redis_node_processes; sentinel_processes)
  fi
  echo "$pidfile"
}

redis_status() {
  local p
  case "$redis_topology" in
    single) alive "$dir/redis.pid" && echo "redis: up on $redis_port" || echo "redis: down" ;;
    *)
      echo "redis: $redis_topology"
      for p in $redis_node_ports; do node_status "redis 127.0.0.1:$p" "$dir/redis-$p/redis.pid" "$p"; done
      for p in $sentinel_ports; do node_status "sentinel 127.0.0.1:$p" "$dir/sentinel-$p/sentinel.pid" "$p"; done
      ;;
  esac
}

node_status() { # label pidfile port
  local role
  if alive "$2"; then
    role="$(rcli "$3" role | head -n 1 || true)"
    echo "$1: up on $3, pid $(cat "$2")${role:+, $role}"
  else
    echo "$1: down ($3)"
  fi
}
