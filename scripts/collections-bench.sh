#!/usr/bin/env bash
# Size-scaling benchmark of the collections: starts redis-server and a dynakv node (or a local
# dynakv cluster), and runs scripts/collbench against both in the same run. For each type (set,
# hash) and size (10, 10k and 1M members), collbench preloads collections to the size with
# pipelined SADD/HSET of 1000 members each, then measures SADD/HSET of new members and
# SISMEMBER/HGET of present ones from 4 concurrent clients (one request in flight each), with the
# servers' CPU time per request from /proc/PID/stat (summed over a cluster's nodes). It prints a
# markdown table (system, members, op, ops/s, p50, p99, cpu-µs/op) and one of the largest size's
# figures against the smallest's. dynakv stores each member under its own key, so an update's
# work should not grow with the collection: the issue's target is the 1M figures within 2x of the
# 10-member ones.
#
# Run from the repo root:   scripts/collections-bench.sh                    (one node)
#                           COLLBENCH_CLUSTER=3 scripts/collections-bench.sh (a 3-node cluster, N=3 R=2 W=2)
#
# Environment:
#   COLLBENCH_SIZES   collection sizes, comma-separated          (default 10,10000,1000000)
#   COLLBENCH_TYPES   set, hash or both                          (default set,hash; a type dynakv does
#                     not know yet is measured on redis-server only)
#   COLLBENCH_COUNT   requests per measurement                   (default 30000)
#   COLLBENCH_ROUNDS  rounds (medians by ops/s)                  (default 1)
#   COLLBENCH_ARGS    more collbench flags (go run ./scripts/collbench -h), e.g. "-one-key"
#   COLLBENCH_CLUSTER nodes of a local cluster instead of one node (default 0: one node); started by
#                     scripts/cluster.sh with --n 3 --r 2 --w 2 on free ports, collbench sends to node-1
#   COLLBENCH_DYNAKV_ARGS  extra flags for the dynakv node, or every node of the cluster, e.g.
#                     "--anti-entropy-interval 0" or "--cache-size 1073741824"
#   COLLBENCH_TIMEOUT seconds the whole collbench run may take   (default 1800)
#   DYNAKV_BIN        use this dynakv binary instead of building one
#   COLLBENCH_KEEP_LOGS a directory to copy the dynakv logs (and INFO of every node at the end) into
#   DYNAKV_CPUPROFILE when set, every dynakv process writes a CPU profile of its whole run to
#                     $DYNAKV_CPUPROFILE.<node> (one node: .1); the preload is in it too
# Needs: go, redis-server, redis-cli, awk, timeout.
set -euo pipefail

cd "$(dirname "$0")/.."
[ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"

SIZES=${COLLBENCH_SIZES:-10,10000,1000000}
TYPES=${COLLBENCH_TYPES:-set,hash}
COUNT=${COLLBENCH_COUNT:-30000}
ROUNDS=${COLLBENCH_ROUNDS:-1}
CLUSTER=${COLLBENCH_CLUSTER:-0}
RUN_TIMEOUT=${COLLBENCH_TIMEOUT:-1800}
CLUSTER_FLAGS="--n 3 --r 2 --w 2"
for v in COUNT ROUNDS CLUSTER RUN_TIMEOUT; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]]; then
    echo "collections-bench: COLLBENCH_$v must be a number, not '${!v}'" >&2
    exit 1
  fi
done
if [ "$CLUSTER" -gt 100 ]; then
  echo "collections-bench: COLLBENCH_CLUSTER must be at most 100" >&2
  exit 1
fi
cluster_sh="$PWD/scripts/cluster.sh"
for tool in go redis-server redis-cli awk timeout; do
  command -v "$tool" >/dev/null || { echo "collections-bench: $tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynakv-collbench.XXXXXX")
pids=()
cluster_env=()
dyn_port=0
cleanup() {
  local pid f
  if [ -n "${COLLBENCH_KEEP_LOGS:-}" ]; then
    mkdir -p "$COLLBENCH_KEEP_LOGS"
    for f in "$tmp"/dynakv.log "$tmp"/cluster/node-*.log; do
      [ -f "$f" ] && cp "$f" "$COLLBENCH_KEEP_LOGS/"
    done
    for ((f = 0; f < (CLUSTER > 0 ? CLUSTER : 1); f++)); do
      timeout 5 redis-cli -h 127.0.0.1 -p $((dyn_port + f)) INFO everything >"$COLLBENCH_KEEP_LOGS/info.$((f + 1))" 2>&1 || true
    done
  fi
  if [ ${#cluster_env[@]} -gt 0 ]; then
    env "${cluster_env[@]}" "$cluster_sh" stop >/dev/null ||
      echo "collections-bench: scripts/cluster.sh stop failed; check for dynakv processes under $tmp/cluster" >&2
  fi
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
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

log() { echo "collections-bench: $*" >&2; }

used_ports=" "
# take_port VAR: sets VAR to a free TCP port on 127.0.0.1 below the ephemeral range.
take_port() {
  local p
  for _ in $(seq 1 500); do
    p=$((20000 + RANDOM % 12000))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports="$used_ports$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  log "no free port found"
  return 1
}

# take_cluster_base VAR COUNT: a base port whose client, gossip and peer ports (as
# scripts/cluster.sh lays them out: B+i, B+100+i, B+200+i) are free.
take_cluster_base() {
  local b i p ok
  for _ in $(seq 1 300); do
    b=$((20000 + RANDOM % 11500))
    ok=1
    for ((i = 0; i < $2 && ok; i++)); do
      for p in $((b + i)) $((b + 100 + i)) $((b + 200 + i)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then ok=0 && break; fi
      done
    done
    if [ "$ok" = 1 ]; then
      printf -v "$1" '%s' "$b"
      return 0
    fi
  done
  log "no free range of ports found for $2 nodes"
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

log "building collbench"
go build -o "$tmp/collbench" ./scripts/collbench
bin=${DYNAKV_BIN:-}
if [ -z "$bin" ]; then
  log "building dynakv"
  go build -o "$tmp/dynakv" .
  bin="$tmp/dynakv"
fi

take_port redis_port
mkdir -p "$tmp/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --save '' --appendonly no \
  --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
redis_pid=$!
wait_ready "$redis_port" "$redis_pid" redis-server "$tmp/redis.log"

if [ "$CLUSTER" -gt 0 ]; then
  take_cluster_base dyn_port "$CLUSTER"
  if [ -n "${DYNAKV_CPUPROFILE:-}" ]; then
    # one profile per node: cluster.sh passes its environment on, so wrap the binary
    printf '#!/bin/sh\nnode=$(printf "%%s\\n" "$@" | sed -n "s/^node-//p" | head -n 1)\nDYNAKV_CPUPROFILE=%q.$node exec %q "$@"\n' \
      "$DYNAKV_CPUPROFILE" "$bin" >"$tmp/dynakv-prof"
    chmod +x "$tmp/dynakv-prof"
    bin="$tmp/dynakv-prof"
  fi
  cluster_env=(DYNAKV_BIN="$bin" DYNAKV_CLUSTER_DIR="$tmp/cluster" DYNAKV_CLUSTER_PORT="$dyn_port"
    DYNAKV_CLUSTER_ARGS="$CLUSTER_FLAGS --log-level warn ${COLLBENCH_DYNAKV_ARGS:-}"
    DYNAKV_CLUSTER_WAIT=30 DYNAKV_CLUSTER_JOIN_WAIT=15)
  log "starting a local cluster of $CLUSTER nodes (ports from $dyn_port)"
  env -u DYNAKV_CPUPROFILE "${cluster_env[@]}" "$cluster_sh" start "$CLUSTER" >&2
  alive=$(timeout 5 redis-cli -h 127.0.0.1 -p "$dyn_port" INFO cluster 2>/dev/null | tr -d '\r' |
    awk -F: '$1 == "cluster_members_alive" { v = $2 } END { print v }' || true)
  mode="a cluster of $CLUSTER dynakv nodes ($CLUSTER_FLAGS), collbench against node-1, which sees ${alive:-?} members alive"
  if ! [[ $alive =~ ^[0-9]+$ ]] || [ "$alive" -lt "$CLUSTER" ]; then
    mode="$mode; WARNING: the nodes do not form one cluster"
  fi
  dyn_pids=$(cat "$tmp"/cluster/node-*.pid | paste -sd+)
else
  take_port dyn_port
  take_port gossip_port
  take_port peer_port
  mkdir -p "$tmp/dynakv-data"
  read -r -a extra <<<"${COLLBENCH_DYNAKV_ARGS:-}"
  prof=()
  if [ -n "${DYNAKV_CPUPROFILE:-}" ]; then prof=(DYNAKV_CPUPROFILE="$DYNAKV_CPUPROFILE.1"); fi
  env -u DYNAKV_CPUPROFILE "${prof[@]}" "$bin" --listen "127.0.0.1:$dyn_port" --data-dir "$tmp/dynakv-data" \
    --gossip-listen "127.0.0.1:$gossip_port" --peer-listen "127.0.0.1:$peer_port" \
    --log-level warn "${extra[@]}" >"$tmp/dynakv.log" 2>&1 &
  pids+=($!)
  dyn_pids=$!
  wait_ready "$dyn_port" "$dyn_pids" dynakv "$tmp/dynakv.log"
  mode="one dynakv node"
fi

log "mode: $mode; redis-server on $redis_port, dynakv on $dyn_port"
echo "mode: $mode; redis-server without persistence; sizes $SIZES, types $TYPES"
# shellcheck disable=SC2086 # COLLBENCH_ARGS is split into flags on purpose
timeout "$RUN_TIMEOUT" "$tmp/collbench" -sizes "$SIZES" -types "$TYPES" -count "$COUNT" -rounds "$ROUNDS" \
  -clk-tck "$(getconf CLK_TCK 2>/dev/null || echo 100)" \
  -target "redis,127.0.0.1:$redis_port,$redis_pid" -target "dynakv,127.0.0.1:$dyn_port,$dyn_pids" \
  ${COLLBENCH_ARGS:-}

if [ "$CLUSTER" -gt 0 ] && ! env "${cluster_env[@]}" "$cluster_sh" status >"$tmp/status" 2>&1; then
  cat "$tmp/status" >&2
  echo "WARNING: not every dynakv node was running at the end"
fi
