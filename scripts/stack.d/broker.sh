# scripts/stack's broker: tansu (memory storage) from .tools, answering on kafka_port.
# shellcheck shell=bash disable=SC2154 # globals of scripts/stack and the files it sources

wait_tcp() { # port seconds
  local port=$1 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

wait_kafka() {
  # The broker answers metadata once it is ready; kcat speaks the protocol with the runtime librdkafka.
  local deadline=$((SECONDS + $1))
  wait_tcp "$kafka_port" "$1" || return 1
  while [ $SECONDS -lt $deadline ]; do
    if LD_LIBRARY_PATH="$root/.tools/lib" timeout 5 kcat -b "127.0.0.1:$kafka_port" -L -m 3 >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

start_broker() {
  if alive "$dir/kafka.pid"; then log "broker already running on $kafka_port"; return; fi
  local tansu="$root/.tools/bin/tansu"
  [ -x "$tansu" ] || { log "broker binary missing: run scripts/setup first"; exit 1; }
  nohup "$tansu" broker --listener-url "tcp://127.0.0.1:$kafka_port" \
    --advertised-listener-url "tcp://127.0.0.1:$kafka_port" \
    --storage-engine memory://tansu/ >"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
  wait_kafka 30 || { log "broker did not answer on $kafka_port; see $dir/kafka.log"; exit 1; }
  log "broker up on 127.0.0.1:$kafka_port"
}

stop_broker() {
  if alive "$dir/kafka.pid"; then
    kill "$(cat "$dir/kafka.pid")" 2>/dev/null || true
    for _ in $(seq 50); do alive "$dir/kafka.pid" || break; sleep 0.1; done
    if alive "$dir/kafka.pid"; then kill -9 "$(cat "$dir/kafka.pid")" 2>/dev/null || true; fi
  fi
}
