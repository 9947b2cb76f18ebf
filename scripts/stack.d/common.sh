# scripts/stack's helpers for everything it starts: free ports, process checks, waits, redis-cli.
# shellcheck shell=bash

free_ports() { # count bus-offset (0: none) [ports to avoid]: distinct free ports, space-separated
  # Below the kernel's ephemeral range (32768+), so no client socket can take a port while
  # restart-redis has it down. With a bus offset, port+offset is free too and also below that
  # range. Ports picked but not bound yet (the broker's) are avoided by name.
  python3 - "$1" "$2" "${3:-}" <<'PY'
import random, socket, sys
count, offset = int(sys.argv[1]), int(sys.argv[2])
avoid = {int(p) for p in sys.argv[3].split()}
high = 32000 - offset - 1 if offset else 32000
held, ports = [], []
for _ in range(2000):
    if len(ports) == count: break
    port = random.randint(20000, high)
    if port in ports or port in avoid or (offset and (port + offset in ports or port - offset in ports or port + offset in avoid)): continue
    socks = []
    try:
        for p in ([port, port + offset] if offset else [port]):
            s = socket.socket(); socks.append(s); s.bind(("127.0.0.1", p))
    except OSError:
        for s in socks: s.close()
        continue
    held += socks; ports.append(port)
for s in held: s.close()
if len(ports) < count: sys.exit("no free ports")
print(" ".join(map(str, ports)))
PY
}

# A zombie is not running: a SIGKILLed daemon's reaper (init) may take a while.
running() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

alive() { [ -f "$1" ] && running "$(cat "$1")"; }

gone() { # pid seconds; a zombie counts as gone (its reaper may be slow)
  local deadline=$((SECONDS + $2))
  while running "$1"; do
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# redis-cli on 127.0.0.1:PORT, output without CRs; bounded, as a stopped (SIGSTOP) server never answers.
rcli() { # port args...
  local port=$1; shift
  timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null | tr -d '\r'
}

wait_ping() { # port seconds
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(rcli "$1" ping || true)" = "PONG" ] && return 0
    sleep 0.1
  done
  return 1
}

await_ping() { # what port logfile: 20 s for a redis-server or Sentinel to answer, else the stack fails
  wait_ping "$2" 20 || { log "$1 did not answer on $2; see $3"; exit 1; }
}

until_true() { # seconds command...: runs command every 0.2 s until it succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

addrs() { # ports... -> 127.0.0.1:P1,127.0.0.1:P2,...
  local out="" p
  for p in "$@"; do out+="${out:+,}127.0.0.1:$p"; done
  printf '%s' "$out"
}
