# scripts/stack's --redis single: one redis-server with its files in .run/NAME itself.
# shellcheck shell=bash disable=SC2154 # globals of scripts/stack and the files it sources

start_redis() {
  start_redis_server "$redis_port" "$dir"
  await_ping redis "$redis_port" "$dir/redis.log"
}

start_single() {
  redis_port="${TOCK_STACK_REDIS_PORT:-${redis_port:-$(free_ports 1 0)}}"
  save_state
  if alive "$dir/redis.pid"; then log "redis already running on $redis_port"; else start_redis; log "redis up on 127.0.0.1:$redis_port"; fi
}

restart_single() {
  stop_redis_process "$dir/redis.pid" "$redis_port" redis
  start_redis
  log "redis restarted on $redis_port"
}
