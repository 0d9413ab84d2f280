#!/usr/bin/env bash
# Data transfer between replicas on a local cluster of the real binary (N=3), timed:
#
#   scripts/transfer.sh wipe   (default) 3 nodes, so every node holds every key: loads KEYS keys
#                              with 100-byte values through node 1, waits until node 3 holds all,
#                              stops node 3, deletes its data directory, restarts it empty, and
#                              times how long until it holds every key again (INFO keyspace).
#                              Nothing reads the keys and no hints are owed to node 3, so only
#                              Merkle-tree exchanges can refill it.
#   scripts/transfer.sh join   the same load on 3 nodes, then a 4th node joins: times how long
#                              until every node sees 4 members, none holds a partition it does not
#                              replicate (transfers_in_progress 0) and the nodes hold N=3 copies of
#                              every key between them (the joiner got its share, the others
#                              dropped theirs).
#
# Prints a table row: keys, mode, the time, the bytes the nodes' anti-entropy counters report
# exchanged meanwhile, and their rate.
#
# Environment:
#   KEYS         keys to load (default 100000)
#   AE_INTERVAL  the nodes' --anti-entropy-interval (default: dynakv's default, 10s)
#   DYNAKV_BIN   use this dynakv binary instead of building one
#   AE_TIMEOUT   seconds to wait for the transfer before giving up (default 300)
# Needs: go (unless DYNAKV_BIN), redis-cli, awk.
set -euo pipefail

cd "$(dirname "$0")/.."
[ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"
MODE=${1:-wipe}
case $MODE in wipe | join) ;; *) echo "usage: scripts/transfer.sh [wipe|join]" >&2; exit 2 ;; esac
KEYS=${KEYS:-100000}
TIMEOUT=${AE_TIMEOUT:-300}
for v in KEYS TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "transfer: $v must be a number, not '${!v}'" >&2; exit 1; }
done
for tool in redis-cli awk; do
  command -v "$tool" >/dev/null || { echo "transfer: $tool not found (apt-get install redis-tools)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynakv-ae.XXXXXX")
declare -A pid
cleanup() {
  local i
  for i in "${!pid[@]}"; do kill -TERM "${pid[$i]}" 2>/dev/null || true; done
  for i in "${!pid[@]}"; do
    for _ in $(seq 1 100); do kill -0 "${pid[$i]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${pid[$i]}" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "transfer: $*" >&2; }

bin=${DYNAKV_BIN:-}
if [ -z "$bin" ]; then
  log "building dynakv"
  go build -o "$tmp/dynakv" .
  bin="$tmp/dynakv"
fi

# a base port B with B+i, B+100+i, B+200+i free for i = 0..3
base=""
for _ in $(seq 1 200); do
  b=$((20000 + RANDOM % 11000)) ok=1
  for i in 0 1 2 3; do
    for p in $((b + i)) $((b + 100 + i)) $((b + 200 + i)); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then ok=0; fi
    done
  done
  if [ "$ok" = 1 ]; then base=$b; break; fi
done
[ -n "$base" ] || { log "no free ports"; exit 1; }
extra=(--n 3 --r 2 --w 2 --log-level warn)
if [ -n "${AE_INTERVAL:-}" ]; then extra+=(--anti-entropy-interval "$AE_INTERVAL"); fi

launch() { # launch I: start node I (1-based) in the background
  local i=$1 seeds="127.0.0.1:$((base + 100))"
  [ "$i" = 1 ] && seeds="127.0.0.1:$((base + 101))"
  mkdir -p "$tmp/node-$i"
  "$bin" --node-id "node-$i" --listen "127.0.0.1:$((base + i - 1))" \
    --gossip-listen "127.0.0.1:$((base + 99 + i))" --peer-listen "127.0.0.1:$((base + 199 + i))" \
    --data-dir "$tmp/node-$i" --seeds "$seeds" "${extra[@]}" </dev/null >>"$tmp/node-$i.log" 2>&1 &
  pid[$i]=$!
}
rcli() { timeout 10 redis-cli -h 127.0.0.1 -p "$((base + $1 - 1))" "${@:2}" 2>/dev/null | tr -d '\r'; }
field() { rcli "$1" INFO "$2" | awk -F: -v k="$3" '$1 == k { print $2 }'; }
local_keys() { field "$1" keyspace db0 | awk -F'[=,]' '{ n = $2 + 0 } END { print n + 0 }'; }
now_ms() { date +%s%3N; }
wait_for() { # wait_for SECONDS WHAT COMMAND...: poll every 50 ms
  local limit=$(($(now_ms) + $1 * 1000)) what=$2
  shift 2
  until "$@"; do
    if [ "$(now_ms)" -gt "$limit" ]; then log "timed out waiting for $what"; tail -n 20 "$tmp"/node-*.log >&2; exit 1; fi
    sleep 0.05
  done
}
alive3() { [ "$(field "$1" cluster cluster_members_alive)" = 3 ]; }
holds_all() { [ "$(local_keys "$1")" = "$KEYS" ]; }
answers() { [ "$(rcli "$1" PING)" = PONG ]; }

for i in 1 2 3; do launch "$i"; done
for i in 1 2 3; do wait_for 30 "node-$i to start" answers "$i"; done
for i in 1 2 3; do wait_for 30 "node-$i to see the cluster" alive3 "$i"; done

log "loading $KEYS keys through node-1"
awk -v n="$KEYS" 'BEGIN {
  v = sprintf("%100s", ""); gsub(/ /, "v", v)
  for (i = 0; i < n; i += 100) {
    m = (n - i < 100) ? n - i : 100
    printf "*%d\r\n$4\r\nMSET\r\n", 1 + 2 * m
    for (j = i; j < i + m; j++) { k = "key:" j; printf "$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v }
  }
}' >"$tmp/load.resp"
timeout 600 redis-cli -h 127.0.0.1 -p "$base" --pipe <"$tmp/load.resp" >"$tmp/load.out"
grep -q "errors: 0" "$tmp/load.out" || { log "loading failed:"; cat "$tmp/load.out" >&2; exit 1; }
wait_for "$TIMEOUT" "node-3 to hold every key" holds_all 3

bytes_now() { # the anti-entropy bytes of nodes 1..$1
  local i total=0
  for i in $(seq 1 "$1"); do total=$((total + $(field "$i" cluster anti_entropy_bytes))); done
  echo "$total"
}
if [ "$MODE" = wipe ]; then
  log "stopping node-3 and wiping its data directory"
  kill -TERM "${pid[3]}"
  for _ in $(seq 1 300); do kill -0 "${pid[3]}" 2>/dev/null || break; sleep 0.1; done
  unset 'pid[3]'
  before=$(bytes_now 2)
  rm -rf "$tmp/node-3"
  launch 3
  wait_for 30 "node-3 to restart" answers 3
  start=$(now_ms)
  wait_for "$TIMEOUT" "anti-entropy to refill node-3" holds_all 3
  took=$(($(now_ms) - start))
  after=$(bytes_now 3)
  what="wiped replica refilled"
else
  # Settled: one ring of 4 everywhere, no partition held that is not replicated, the joiner
  # holds keys, and N=3 copies of every key in all (while a transfer runs, the old homes still
  # hold what they hand off, so there are more).
  settled() {
    local i copies=0 version="" v
    for i in 1 2 3 4; do
      [ "$(field "$i" cluster cluster_members_alive)" = 4 ] || return 1
      [ "$(field "$i" cluster transfers_in_progress)" = 0 ] || return 1
      v=$(field "$i" cluster cluster_ring_version)
      [ -z "$version" ] || [ "$v" = "$version" ] || return 1
      version=$v
      copies=$((copies + $(local_keys "$i")))
    done
    [ "$(local_keys 4)" -gt 0 ] && [ "$copies" = $((3 * KEYS)) ]
  }
  before=$(bytes_now 3)
  log "starting node-4"
  start=$(now_ms)
  launch 4
  wait_for 30 "node-4 to start" answers 4
  wait_for "$TIMEOUT" "the join's transfer to finish" settled
  took=$(($(now_ms) - start))
  after=$(bytes_now 4)
  what="4th node joined, transfer done"
fi
# The counters are added when an exchange returns, which may be just after the data arrived:
# read them until two readings 0.5 s apart agree.
nodes=3
[ "$MODE" = join ] && nodes=4
for _ in $(seq 1 20); do
  sleep 0.5
  again=$(bytes_now "$nodes")
  [ "$again" = "$after" ] && break
  after=$again
done
interval=${AE_INTERVAL:-$(rcli 1 CONFIG GET anti_entropy_interval | tail -n 1)}
if [ -n "${TRANSFER_DEBUG:-}" ]; then
  for i in 1 2 3 4; do echo "node-$i: keys $(local_keys "$i") $(rcli "$i" INFO cluster | grep -E 'anti_entropy|transfers|handed' | tr '\n' ' ')"; done
fi

echo
echo "| keys | what | anti_entropy_interval | time | exchange bytes (all nodes) | MB/s |"
echo "|---|---|---|---|---|---|"
awk -v k="$KEYS" -v w="$what" -v iv="$interval" -v ms="$took" -v b="$((after - before))" \
  'BEGIN { printf "| %d | %s | %s | %.2f s | %d | %.1f |\n", k, w, iv, ms / 1000, b, (ms > 0 ? b / 1e6 / (ms / 1000) : 0) }'
