# scripts/stack's --redis sentinel: a primary and a replica in .run/NAME/redis-PORT, 3 Sentinels in .run/NAME/sentinel-PORT.
# shellcheck shell=bash disable=SC2154 # globals of scripts/stack and the files it sources

# A config file of its own: Sentinel makes a node a replica or a primary with REPLICAOF and
# CONFIG REWRITE, so a restarted node keeps the role Sentinel gave it.
write_node_conf() { # port [primary-port]
  local d="$dir/redis-$1" i value
  local -a pairs
  mkdir -p "$d"
  redis_settings "$1" "$d"
  pairs=("${redis_settings_pairs[@]}" "${replica_settings[@]}")
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    value="${pairs[i + 1]}"
    # Paths may hold spaces, and save's value is empty.
    if [[ ! "$value" =~ ^[A-Za-z0-9.-]+$ ]]; then value="\"$value\""; fi
    printf '%s %s\n' "${pairs[i]}" "$value"
  done >"$d/redis.conf"
  if [ -n "${2:-}" ]; then echo "replicaof 127.0.0.1 $2" >>"$d/redis.conf"; fi
}

write_sentinel_conf() { # port primary-port
  local d="$dir/sentinel-$1"
  mkdir -p "$d"
  cat >"$d/sentinel.conf" <<CONF
bind 127.0.0.1
port $1
dir "$d"
daemonize yes
pidfile "$d/sentinel.pid"
logfile "$d/sentinel.log"
protected-mode no
sentinel resolve-hostnames no
sentinel monitor tock 127.0.0.1 $2 2
sentinel down-after-milliseconds tock ${TOCK_STACK_SENTINEL_DOWN_AFTER:-2000}
sentinel failover-timeout tock 10000
sentinel parallel-syncs tock 1
CONF
}

# The primary one Sentinel names, as 127.0.0.1:PORT (empty if it does not answer).
primary_by() { rcli "$1" sentinel get-master-addr-by-name tock | paste -sd:; }

# The primary the first Sentinel that answers names.
current_primary() {
  local s addr
  for s in $sentinel_ports; do
    addr="$(primary_by "$s" || true)"
    if [ -n "$addr" ]; then echo "$addr"; return; fi
  done
}

# There is one replica and its link to the primary is up (whichever node is which by now).
replication_up() {
  local p repl replicas=0
  for p in $redis_node_ports; do
    repl="$(rcli "$p" info replication)" || return 1
    if grep -qx 'role:slave' <<<"$repl"; then
      grep -qx 'master_link_status:up' <<<"$repl" || return 1
      replicas=$((replicas + 1))
    fi
  done
  [ "$replicas" -eq 1 ]
}

# Every Sentinel names the same primary (one of the two nodes), knows the 2 other Sentinels and
# knows the other node as a replica it can reach (flags exactly "slave": not down, not disconnected).
sentinels_healthy() {
  local s p primary="" addr others
  for s in $sentinel_ports; do
    addr="$(primary_by "$s")" || return 1
    [ -n "$primary" ] || primary="$addr"
    [ "$addr" = "$primary" ] || return 1
    others=()
    for p in $redis_node_ports; do
      if [ "127.0.0.1:$p" != "$addr" ]; then others+=("127.0.0.1:$p"); fi
    done
    [ ${#others[@]} -eq 1 ] || return 1
    [ "$(rcli "$s" sentinel master tock | awk 'prev == "num-other-sentinels" { print; exit } { prev = $0 }')" = 2 ] || return 1
    [ "$(rcli "$s" sentinel replicas tock | awk -v want="${others[0]}" '
      NR % 2 == 1 { key = $0; next }
      key == "name" { name = $0 }
      key == "flags" && name == want { print; exit }')" = slave ] || return 1
  done
}

start_sentinel() {
  local p s started=$SECONDS ports primary replica current
  if [ -z "$redis_node_ports" ]; then
    ports="$(free_ports 5 0 "${kafka_port:-}")"
    # shellcheck disable=SC2086
    set -- $ports
    redis_node_ports="$1 $2"
    sentinel_ports="$3 $4 $5"
  fi
  save_state
  # shellcheck disable=SC2086
  set -- $redis_node_ports
  primary=$1 replica=$2
  [ -f "$dir/redis-$primary/redis.conf" ] || write_node_conf "$primary"
  [ -f "$dir/redis-$replica/redis.conf" ] || write_node_conf "$replica" "$primary"
  # A node restarted after a failover follows the primary the Sentinels name now, rather than
  # coming back as a second primary until they notice it (10 s or so).
  current="$(current_primary)"
  for p in $redis_node_ports; do
    if alive "$dir/redis-$p/redis.pid"; then
      log "redis already running on $p"
    elif [ -n "$current" ] && [ "$current" != "127.0.0.1:$p" ]; then
      redis-server "$dir/redis-$p/redis.conf" --replicaof 127.0.0.1 "${current#127.0.0.1:}" >/dev/null
    else
      redis-server "$dir/redis-$p/redis.conf" >/dev/null
    fi
  done
  for p in $redis_node_ports; do await_ping redis "$p" "$dir/redis-$p/redis.log"; done
  # Sentinels learn the replicas from the primary's INFO, asked at once and then every 10 s.
  until_true 30 replication_up || { log "the replica did not sync; see $dir/redis-*/redis.log"; exit 1; }
  for s in $sentinel_ports; do
    [ -f "$dir/sentinel-$s/sentinel.conf" ] || write_sentinel_conf "$s" "$primary"
    if alive "$dir/sentinel-$s/sentinel.pid"; then log "sentinel already running on $s"; else redis-server "$dir/sentinel-$s/sentinel.conf" --sentinel >/dev/null; fi
  done
  for s in $sentinel_ports; do await_ping sentinel "$s" "$dir/sentinel-$s/sentinel.log"; done
  until_true 30 sentinels_healthy || { log "sentinels do not agree after 30 s; see $dir/sentinel-*/sentinel.log"; exit 1; }
  # shellcheck disable=SC2086
  log "redis up on $(addrs $redis_node_ports) (primary $(current_primary)), sentinels on $(addrs $sentinel_ports) in $((SECONDS - started)) s"
}
