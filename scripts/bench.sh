#!/usr/bin/env bash
# Benchmark driver: redis-benchmark against a local dynakv node and against redis-server, in the
# same run, alternating targets, SET and GET at pipeline depths 1 and 16. Prints a markdown table
# of the median round (by rps) for each target, test and depth, and the dynakv/redis rps ratio.
#
# Run from the repo root:   scripts/bench.sh
#
# Environment:
#   BENCH_N       requests per redis-benchmark run          (default 200000)
#   BENCH_ROUNDS  runs per (target, test, pipeline depth)    (default 3)
#   BENCH_CLIENTS parallel connections                       (default 50)
#   DYNAKV_BIN    use this dynakv binary instead of building one
#   DYNAKV_CMD    start the "dynakv" target with this shell command instead; it sees $PORT (the
#                 client port to listen on), $DIR (an empty data directory), $GOSSIP_PORT and
#                 $PEER_PORT. For trying the script without dynakv, e.g.
#                 DYNAKV_CMD='exec redis-server --port $PORT --dir $DIR --save "" --appendonly no' scripts/bench.sh
# Needs: go (unless DYNAKV_BIN or DYNAKV_CMD), redis-server, redis-cli, redis-benchmark, awk.
set -euo pipefail

cd "$(dirname "$0")/.."
[ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"

N=${BENCH_N:-200000}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-50}
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-900} # seconds, per redis-benchmark run

for tool in redis-server redis-cli redis-benchmark awk timeout; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynakv-bench.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # bounded wait for each server, then SIGKILL
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

used_ports=" "
# free_port prints a TCP port on 127.0.0.1 that nothing answers on, below the ephemeral range.
free_port() {
  local p
  for _ in $(seq 1 500); do
    p=$((20000 + RANDOM % 12000))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports="$used_ports$p "
      echo "$p"
      return 0
    fi
  done
  echo "bench: no free port found" >&2
  return 1
}

# wait_ready PORT PID NAME LOG: poll PING, bounded to 30 s.
wait_ready() {
  local port=$1 pid=$2 name=$3 logf=$4
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited before answering PING; its log:"
      tail -n 50 "$logf" >&2 || true
      return 1
    fi
    if [ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
      return 0
    fi
    sleep 0.1
  done
  log "$name on port $port did not answer PING within 30 s; its log:"
  tail -n 50 "$logf" >&2 || true
  return 1
}

# --- start redis-server ---
redis_port=$(free_port)
mkdir -p "$tmp/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --save '' --appendonly no \
  --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
wait_ready "$redis_port" "$!" redis-server "$tmp/redis.log"

# --- start dynakv ---
dyn_port=$(free_port)
mkdir -p "$tmp/dynakv-data"
if [ -n "${DYNAKV_CMD:-}" ]; then
  log "starting the dynakv target with DYNAKV_CMD: $DYNAKV_CMD"
  PORT=$dyn_port DIR="$tmp/dynakv-data" GOSSIP_PORT=$(free_port) PEER_PORT=$(free_port) \
    bash -c "$DYNAKV_CMD" >"$tmp/dynakv.log" 2>&1 &
else
  bin=${DYNAKV_BIN:-}
  if [ -z "$bin" ]; then
    log "building dynakv"
    go build -o "$tmp/dynakv" .
    bin="$tmp/dynakv"
  fi
  "$bin" --listen "127.0.0.1:$dyn_port" --data-dir "$tmp/dynakv-data" \
    --gossip-listen "127.0.0.1:$(free_port)" --peer-listen "127.0.0.1:$(free_port)" \
    --log-level warn >"$tmp/dynakv.log" 2>&1 &
fi
pids+=($!)
wait_ready "$dyn_port" "$!" dynakv "$tmp/dynakv.log"
log "redis-server on $redis_port, dynakv on $dyn_port; $ROUNDS rounds of $N requests, $CLIENTS clients"

# bench TARGET PORT TEST P ROUND: one redis-benchmark run; appends its CSV row to a results file.
bench() {
  local target=$1 port=$2 test=$3 p=$4 round=$5 out row
  out="$tmp/out.$target.$test.$p.$round"
  if ! timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -t "$test" -c "$CLIENTS" -d 100 \
    -r 100000 -n "$N" -P "$p" --csv >"$out" 2>"$out.err"; then
    log "redis-benchmark against $target ($test, -P $p) failed:"
    cat "$out" "$out.err" >&2
    exit 1
  fi
  # Redis 7 CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  row=$(awk -F, -v t="${test^^}" '{ gsub(/"/, "") } $1 == t { print $1, $2, $5, $7; exit }' "$out")
  if [ -z "$row" ]; then
    log "no $test row in redis-benchmark output against $target:"
    cat "$out" "$out.err" >&2
    exit 1
  fi
  echo "$row" >>"$tmp/rows.$target.$test.$p"
  log "round $round $target ${test^^} -P $p: $row"
}

tests=(set get)
depths=(1 16)
for round in $(seq 1 "$ROUNDS"); do
  # alternate which target goes first, round by round
  if [ $((round % 2)) -eq 1 ]; then order=(redis dynakv); else order=(dynakv redis); fi
  for test in "${tests[@]}"; do
    for p in "${depths[@]}"; do
      for target in "${order[@]}"; do
        if [ "$target" = redis ]; then port=$redis_port; else port=$dyn_port; fi
        bench "$target" "$port" "$test" "$p" "$round"
      done
    done
  done
done

# median TARGET TEST P: the median row by rps: "TEST RPS P50 P99"
median() {
  sort -g -k2,2 "$tmp/rows.$1.$2.$3" | awk '{ rows[NR] = $0 } END { print rows[int((NR + 1) / 2)] }'
}

echo
echo "redis-benchmark -c $CLIENTS -d 100 -r 100000 -n $N, median of $ROUNDS rounds by rps (latencies in ms)"
echo
echo "| test | pipeline | redis rps | redis p50 | redis p99 | dynakv rps | dynakv p50 | dynakv p99 | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for test in "${tests[@]}"; do
  for p in "${depths[@]}"; do
    read -r _ r_rps r_p50 r_p99 <<<"$(median redis "$test" "$p")"
    read -r _ d_rps d_p50 d_p99 <<<"$(median dynakv "$test" "$p")"
    ratio=$(awk -v d="$d_rps" -v r="$r_rps" 'BEGIN { if (r > 0) printf "%.2f", d / r; else print "n/a" }')
    echo "| ${test^^} | $p | $r_rps | $r_p50 | $r_p99 | $d_rps | $d_p50 | $d_p99 | $ratio |"
  done
done
