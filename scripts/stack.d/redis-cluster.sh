# scripts/stack's --redis cluster: 6 nodes (3 masters, a replica each), each in .run/NAME/redis-PORT.
# shellcheck shell=bash disable=SC2154 # globals of scripts/stack and the files it sources

start_cluster_node() { # port
  local d="$dir/redis-$1"
  mkdir -p "$d"
  start_redis_server "$1" "$d" "${replica_settings[@]}" \
    cluster-enabled yes cluster-config-file nodes.conf \
    cluster-node-timeout "$cluster_node_timeout" \
    cluster-replica-validity-factor 0 cluster-allow-reads-when-down no \
    cluster-require-full-coverage no
}

# Every node sees the whole cluster healthy, and each master (whoever it is now) has its replica.
cluster_healthy() {
  local p info repl masters=0
  for p in $redis_node_ports; do
    info="$(rcli "$p" cluster info)" || return 1
    grep -qx 'cluster_state:ok' <<<"$info" || return 1
    grep -qx 'cluster_slots_assigned:16384' <<<"$info" || return 1
    grep -qx 'cluster_slots_ok:16384' <<<"$info" || return 1
    grep -qx 'cluster_known_nodes:6' <<<"$info" || return 1
    repl="$(rcli "$p" info replication)" || return 1
    if grep -qx 'role:master' <<<"$repl"; then
      grep -qx 'connected_slaves:1' <<<"$repl" || return 1
      masters=$((masters + 1))
    else
      grep -qx 'master_link_status:up' <<<"$repl" || return 1
    fi
  done
  [ "$masters" -eq 3 ]
}

start_cluster() {
  local p started=$SECONDS
  cluster_node_timeout="${cluster_node_timeout:-${TOCK_STACK_CLUSTER_NODE_TIMEOUT:-2000}}"
  [ -n "$redis_node_ports" ] || redis_node_ports="$(free_ports 6 10000 "${kafka_port:-}")"
  save_state
  for p in $redis_node_ports; do
    if alive "$dir/redis-$p/redis.pid"; then log "redis node already running on $p"; else start_cluster_node "$p"; fi
  done
  for p in $redis_node_ports; do await_ping redis "$p" "$dir/redis-$p/redis.log"; done
  if [ -z "$redis_master_ports" ]; then
    # shellcheck disable=SC2046,SC2086
    redis-cli --cluster create $(addrs $redis_node_ports | tr , ' ') --cluster-replicas 1 --cluster-yes \
      </dev/null >"$dir/cluster-create.log" 2>&1 \
      || { log "redis-cli --cluster create failed; see $dir/cluster-create.log (scripts/stack stop $name, then start again)"; exit 1; }
    local masters=""
    for p in $redis_node_ports; do
      if [ "$(rcli "$p" role | head -n 1 || true)" = master ]; then masters+="${masters:+ }$p"; fi
    done
    # shellcheck disable=SC2086
    set -- $masters
    [ $# -eq 3 ] || { log "expected 3 masters after cluster create, found: $masters; see $dir/cluster-create.log"; exit 1; }
    redis_master_ports="$masters"
    save_state
  fi
  until_true 30 cluster_healthy || { log "cluster not healthy after 30 s; see $dir/redis-*/redis.log"; exit 1; }
  # shellcheck disable=SC2086
  log "redis cluster up on $(addrs $redis_node_ports) (masters at creation: $(addrs $redis_master_ports)) in $((SECONDS - started)) s"
}
