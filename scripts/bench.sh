#!/usr/bin/env bash
# Benchmark driver: redis-benchmark against a local dynakv node (or a local dynakv cluster) and
# against redis-server, in the same run, alternating targets, SET, GET and INCR (BENCH_TESTS) at
# pipeline depths 1 and 16; BENCH_TESTS=collections runs the set, hash and HyperLogLog commands. Prints which mode ran and a markdown table of the median round (by rps) for each target, test
# and depth, with the servers' CPU time per request (user+system, from /proc; for a cluster, summed
# over its nodes), and the dynakv/redis rps ratio.
#
# Run from the repo root:   scripts/bench.sh                   (one node)
#                           BENCH_CLUSTER=3 scripts/bench.sh   (a 3-node cluster, N=3 R=2 W=2)
#
# Environment:
#   BENCH_N       requests per redis-benchmark run          (default 200000)
#   BENCH_ROUNDS  runs per (target, test, pipeline depth)    (default 3)
#   BENCH_CLIENTS parallel connections                       (default 50)
#   BENCH_TESTS   tests to run (default "set get incr"): redis-benchmark's own (-t: set, get, incr,
#                 sadd, hset, ...) and these command lines, on keys filled before the first round:
#                   pfadd      PFADD bench:hll element:__rand_int__      (-r BENCH_ADD_RANGE)
#                   sismember  SISMEMBER bench:set element:__rand_int__  (a set of 100; every one a hit)
#                   smembers   SMEMBERS bench:small                      (a set of 10)
#                   hget       HGET bench:hash element:__rand_int__      (a hash of 100; every one a hit)
#                   hgetall    HGETALL bench:smallhash                   (a hash of 10, values of 100 bytes)
#                   pubsub     PUBLISH bench:chan message:__rand_int__   (one subscriber attached:
#                              redis-cli SUBSCRIBE bench:chan in the background, reading every
#                              message; on a cluster it is on node-1, where redis-benchmark publishes)
#                   lpush      LPUSH bench:list:__rand_int__ element  (-r 100000: short lists)
#                   lpop       LPOP bench:list:__rand_int__           (-r 100000: pops what lpush
#                              pushed, so run it after lpush; redis-benchmark's own -t lpush and
#                              -t lpop use one list, whose length dynakv's LPUSH reply walks)
#                 "collections" stands for "sadd sismember smembers hset hget hgetall pfadd",
#                 "lists" for "lpush lpop"
#                 (BENCH_TESTS="set collections" runs SET beside them).
#                 Sorted sets ("zsets" stands for "zadd zscore zrange zrangebig"):
#                   zadd       ZADD myzset __rand_int__ element:__rand_int__ (redis-benchmark's -t zadd,
#                              -r BENCH_ADD_RANGE: nearly every request adds a member)
#                   zscore     ZSCORE bench:zset element:__rand_int__    (a sorted set of 100; every one a hit)
#                   zrange     ZRANGE bench:zset 10 19 WITHSCORES        (10 members of a set of 100)
#                   zrangebig  ZRANGE bench:bigzset 10 19 WITHSCORES     (10 members of a set of
#                              BENCH_ZSET_BIG members, default 1000000: a range read costs what it
#                              returns, not what the set holds)
#                 sadd and hset (SADD myset / HSET myhash element:__rand_int__) run with
#                 -r BENCH_ADD_RANGE, so nearly every request adds a new member or field (with
#                 -r 100000 most of them would find theirs there already)
#   BENCH_ADD_RANGE  -r of sadd, hset, zadd and pfadd          (default 100000000)
#   BENCH_ZSET_BIG   members of zrangebig's sorted set          (default 1000000)
#   DYNAKV_BIN    use this dynakv binary instead of building one
#   BENCH_CLUSTER nodes of a local cluster to benchmark instead of one node (default 0: one node).
#                 The cluster runs with --n 3 --r 2 --w 2, is started by scripts/cluster.sh in the
#                 temporary directory on a free range of ports and stopped at the end; redis-benchmark
#                 targets node-1
#   BENCH_CLUSTER_ARGS extra flags for every cluster node (e.g. "--cluster-secret s")
#   BENCH_JOIN_WAIT    seconds to wait for the cluster's nodes to see each other (default 15)
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
CLUSTER=${BENCH_CLUSTER:-0}
JOIN_WAIT=${BENCH_JOIN_WAIT:-15}
CLUSTER_FLAGS="--n 3 --r 2 --w 2"
if ! [[ $CLUSTER =~ ^[0-9]+$ ]] || [ "$CLUSTER" -gt 100 ]; then
  echo "bench: BENCH_CLUSTER must be a number of nodes from 0 (one node, no cluster) to 100, not '$CLUSTER'" >&2
  exit 1
fi
if ! [[ $JOIN_WAIT =~ ^[0-9]+$ ]]; then
  echo "bench: BENCH_JOIN_WAIT must be a number of seconds, not '$JOIN_WAIT'" >&2
  exit 1
fi
ADD_RANGE=${BENCH_ADD_RANGE:-100000000}
if ! [[ $ADD_RANGE =~ ^[1-9][0-9]*$ ]]; then
  echo "bench: BENCH_ADD_RANGE must be a positive number, not '$ADD_RANGE'" >&2
  exit 1
fi
read -r -a given <<<"${BENCH_TESTS:-set get incr}"
tests=()
for test in "${given[@]}"; do
  if [ "$test" = collections ]; then
    tests+=(sadd sismember smembers hset hget hgetall pfadd)
  elif [ "$test" = lists ]; then
    tests+=(lpush lpop)
  elif [ "$test" = zsets ]; then
    tests+=(zadd zscore zrange zrangebig)
  else
    tests+=("$test")
  fi
done
for test in "${tests[@]}"; do
  if ! [[ $test =~ ^[a-z_]+$ ]]; then
    echo "bench: BENCH_TESTS holds '$test': want redis-benchmark test names (set, get, incr, ...)" >&2
    exit 1
  fi
done
if [ "$CLUSTER" -gt 0 ] && [ -n "${DYNAKV_CMD:-}" ]; then
  echo "bench: BENCH_CLUSTER and DYNAKV_CMD cannot be combined" >&2
  exit 1
fi
cluster_sh="$PWD/scripts/cluster.sh"

for tool in redis-server redis-cli redis-benchmark awk timeout; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynakv-bench.XXXXXX")
pids=()
subs=()        # background subscribers of the pubsub test (not servers: not in the CPU figures)
cluster_env=() # the environment of scripts/cluster.sh, once a cluster is being started
cleanup() {
  local pid
  for pid in "${subs[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  if [ ${#cluster_env[@]} -gt 0 ]; then
    env "${cluster_env[@]}" "$cluster_sh" stop >/dev/null ||
      echo "bench: scripts/cluster.sh stop failed; check for dynakv processes under $tmp/cluster" >&2
  fi
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
redis_port="" dyn_port="" gossip_port="" peer_port="" # set by take_port and take_cluster_base
# free_port prints a TCP port on 127.0.0.1 that nothing answers on, below the ephemeral range and
# not yet taken.
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

# take_port VAR: sets VAR to a free port and records it as taken (free_port runs in a subshell).
take_port() {
  local p
  p=$(free_port) || return 1
  used_ports="$used_ports$p "
  printf -v "$1" '%s' "$p"
}

# take_cluster_base VAR COUNT: sets VAR to a base port B such that the COUNT nodes' client
# (B+i), gossip (B+100+i) and peer (B+200+i) ports are free, as scripts/cluster.sh lays them out.
take_cluster_base() {
  local b i p ok
  for _ in $(seq 1 300); do
    b=$((20000 + RANDOM % 11500))
    ok=1
    for ((i = 0; i < $2 && ok; i++)); do
      for p in $((b + i)) $((b + 100 + i)) $((b + 200 + i)); do
        case "$used_ports" in *" $p "*) ok=0 ;; esac
        if [ "$ok" = 1 ] && (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then ok=0; fi
        if [ "$ok" = 0 ]; then break; fi
      done
    done
    if [ "$ok" = 1 ]; then
      for ((i = 0; i < $2; i++)); do used_ports="$used_ports$((b + i)) $((b + 100 + i)) $((b + 200 + i)) "; done
      printf -v "$1" '%s' "$b"
      return 0
    fi
  done
  echo "bench: no free range of ports found for $2 nodes" >&2
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
take_port redis_port
mkdir -p "$tmp/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --save '' --appendonly no \
  --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
wait_ready "$redis_port" "$!" redis-server "$tmp/redis.log"

# --- start dynakv ---
if [ -z "${DYNAKV_CMD:-}" ]; then
  bin=${DYNAKV_BIN:-}
  if [ -z "$bin" ]; then
    log "building dynakv"
    go build -o "$tmp/dynakv" .
    bin="$tmp/dynakv"
  fi
fi
if [ "$CLUSTER" -gt 0 ]; then
  # a local cluster through scripts/cluster.sh; cleanup stops it (cluster_env is set first, so
  # that even a start interrupted half-way is stopped)
  take_cluster_base dyn_port "$CLUSTER"
  cluster_env=(DYNAKV_BIN="$bin" DYNAKV_CLUSTER_DIR="$tmp/cluster" DYNAKV_CLUSTER_PORT="$dyn_port"
    DYNAKV_CLUSTER_ARGS="$CLUSTER_FLAGS --log-level warn ${BENCH_CLUSTER_ARGS:-}"
    DYNAKV_CLUSTER_WAIT=30 DYNAKV_CLUSTER_JOIN_WAIT="$JOIN_WAIT")
  log "starting a local cluster of $CLUSTER nodes with scripts/cluster.sh (ports from $dyn_port)"
  env "${cluster_env[@]}" "$cluster_sh" start "$CLUSTER" >&2
  info=$(timeout 5 redis-cli -h 127.0.0.1 -p "$dyn_port" INFO cluster 2>/dev/null | tr -d '\r' || true)
  field() { awk -F: -v k="$1" '$1 == k { v = $2 } END { print v }' <<<"$info"; }
  alive=$(field cluster_members_alive)
  mode="cluster of $CLUSTER dynakv nodes ($CLUSTER_FLAGS), redis-benchmark against node-1, which sees"
  mode="$mode ${alive:-?} of $CLUSTER members alive and quorums N=$(field cluster_n) R=$(field cluster_r) W=$(field cluster_w)"
  if ! [[ $alive =~ ^[0-9]+$ ]] || [ "$alive" -lt "$CLUSTER" ]; then
    mode="$mode; WARNING: the nodes do not form one cluster, so the dynakv figures are those of single nodes"
  fi
else
  take_port dyn_port
  take_port gossip_port
  take_port peer_port
  mkdir -p "$tmp/dynakv-data"
  if [ -n "${DYNAKV_CMD:-}" ]; then
    log "starting the dynakv target with DYNAKV_CMD: $DYNAKV_CMD"
    PORT=$dyn_port DIR="$tmp/dynakv-data" GOSSIP_PORT=$gossip_port PEER_PORT=$peer_port \
      bash -c "$DYNAKV_CMD" >"$tmp/dynakv.log" 2>&1 &
    mode="one node started by DYNAKV_CMD"
  else
    "$bin" --listen "127.0.0.1:$dyn_port" --data-dir "$tmp/dynakv-data" \
      --gossip-listen "127.0.0.1:$gossip_port" --peer-listen "127.0.0.1:$peer_port" \
      --log-level warn >"$tmp/dynakv.log" 2>&1 &
    mode="one dynakv node"
  fi
  pids+=($!)
  wait_ready "$dyn_port" "$!" dynakv "$tmp/dynakv.log"
fi
log "mode: $mode"
log "redis-server on $redis_port, dynakv on $dyn_port; $ROUNDS rounds of $N requests, $CLIENTS clients"

# target_pids TARGET: the server processes of TARGET (every node of a cluster).
target_pids() {
  if [ "$1" = redis ]; then
    echo "${pids[0]}"
  elif [ "$CLUSTER" -gt 0 ]; then
    cat "$tmp"/cluster/node-*.pid 2>/dev/null
  else
    echo "${pids[1]}"
  fi
}

# cpu_ticks TARGET: user+system CPU time used so far by TARGET's processes, in clock ticks
# (fields 14 and 15 of /proc/PID/stat), or nothing where /proc is missing.
cpu_ticks() {
  local pid total=0
  for pid in $(target_pids "$1"); do
    [ -r "/proc/$pid/stat" ] || return 0
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  echo "$total"
}
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# test_args TEST: sets targs to TEST's redis-benchmark arguments after the common ones: -r and
# either -t TEST or a command line (see BENCH_TESTS).
test_args() {
  case $1 in
    sadd | hset | zadd) targs=(-r "$ADD_RANGE" -t "$1") ;;
    zscore) targs=(-r 100 ZSCORE bench:zset 'element:__rand_int__') ;;
    zrange) targs=(-r 100000 ZRANGE bench:zset 10 19 WITHSCORES) ;;
    zrangebig) targs=(-r 100000 ZRANGE bench:bigzset 10 19 WITHSCORES) ;;
    pfadd) targs=(-r "$ADD_RANGE" PFADD bench:hll 'element:__rand_int__') ;;
    sismember) targs=(-r 100 SISMEMBER bench:set 'element:__rand_int__') ;;
    smembers) targs=(-r 100000 SMEMBERS bench:small) ;;
    hget) targs=(-r 100 HGET bench:hash 'element:__rand_int__') ;;
    hgetall) targs=(-r 100000 HGETALL bench:smallhash) ;;
    lpush) targs=(-r 100000 LPUSH 'bench:list:__rand_int__' element) ;;
    lpop) targs=(-r 100000 LPOP 'bench:list:__rand_int__') ;;
    pubsub) targs=(-r 100000 PUBLISH bench:chan 'message:__rand_int__') ;;
    *) targs=(-r 100000 -t "$1") ;;
  esac
}

# fill PORT: writes the collections the read tests read, as redis-benchmark names members
# (element:%012d), with redis-cli; only those of the tests to run, so that the set tests run
# against a server without hashes.
fill() {
  local port=$1 test i members=() fields=() small=() smallf=() val
  val=$(printf 'x%.0s' $(seq 1 100))
  for ((i = 0; i < 100; i++)); do
    members+=("$(printf 'element:%012d' "$i")")
    fields+=("${members[i]}" "$val")
  done
  small=("${members[@]:0:10}")
  smallf=("${fields[@]:0:20}")
  for test in "${tests[@]}"; do
    case $test in
      sismember) timeout 10 redis-cli -h 127.0.0.1 -p "$port" SADD bench:set "${members[@]}" ;;
      smembers) timeout 10 redis-cli -h 127.0.0.1 -p "$port" SADD bench:small "${small[@]}" ;;
      hget) timeout 10 redis-cli -h 127.0.0.1 -p "$port" HSET bench:hash "${fields[@]}" ;;
      hgetall) timeout 10 redis-cli -h 127.0.0.1 -p "$port" HSET bench:smallhash "${smallf[@]}" ;;
      pubsub)
        redis-cli -h 127.0.0.1 -p "$port" SUBSCRIBE bench:chan >/dev/null 2>&1 &
        subs+=($!)
        for i in $(seq 1 100); do # bounded wait for the subscription
          [ "$(redis-cli -h 127.0.0.1 -p "$port" PUBSUB NUMSUB bench:chan | tail -1)" = 1 ] && break
          sleep 0.1
        done
        redis-cli -h 127.0.0.1 -p "$port" PUBSUB NUMSUB bench:chan | tail -1
        ;;
      zscore | zrange)
        for ((i = 0; i < 100; i++)); do printf '%d %s ' "$i" "${members[i]}"; done |
          xargs timeout 10 redis-cli -h 127.0.0.1 -p "$port" ZADD bench:zset
        ;;
      zrangebig) fill_big "$port" ;;
      *) continue ;;
    esac >"$tmp/fill.out" 2>&1
    if ! grep -Eq '^\(integer\) [0-9]+$|^[0-9]+$' "$tmp/fill.out"; then
      log "filling the collection of the $test test on port $port failed:"
      cat "$tmp/fill.out" >&2
      exit 1
    fi
  done
}

# fill_big PORT: ZADDs BENCH_ZSET_BIG members to bench:bigzset with redis-cli --pipe, 1000 members
# a command, and prints its ZCARD (what fill checks).
fill_big() {
  local port=$1 big=${BENCH_ZSET_BIG:-1000000}
  log "filling bench:bigzset with $big members on port $port"
  awk -v n="$big" 'BEGIN {
    for (i = 0; i < n; i += 1000) {
      m = (n - i < 1000) ? n - i : 1000
      printf "*%d\r\n$4\r\nZADD\r\n$13\r\nbench:bigzset\r\n", 2 + 2 * m
      for (j = i; j < i + m; j++) {
        s = sprintf("%d", j); e = sprintf("element:%012d", j)
        printf "$%d\r\n%s\r\n$%d\r\n%s\r\n", length(s), s, length(e), e
      }
    }
  }' | timeout 1800 redis-cli -h 127.0.0.1 -p "$port" --pipe >"$tmp/fill-big.out" 2>&1 || { cat "$tmp/fill-big.out" >&2; exit 1; }
  timeout 60 redis-cli -h 127.0.0.1 -p "$port" ZCARD bench:bigzset
}

# bench TARGET PORT TEST P ROUND: one redis-benchmark run; appends its CSV row, and the servers'
# CPU time per request in microseconds, to a results file.
bench() {
  local target=$1 port=$2 test=$3 p=$4 round=$5 out row t0 t1 cpu targs=()
  out="$tmp/out.$target.$test.$p.$round"
  test_args "$test"
  t0=$(cpu_ticks "$target")
  if ! timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -d 100 \
    -n "$N" -P "$p" --csv "${targs[@]}" >"$out" 2>"$out.err"; then
    log "redis-benchmark against $target ($test, -P $p) failed:"
    cat "$out" "$out.err" >&2
    exit 1
  fi
  # Redis 7 CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  # (the test column of a command line is the command line: the one row after the header)
  row=$(awk -F, -v t="${test^^}" '{ gsub(/"/, "") } NR > 1 && $2 ~ /^[0-9.]+$/ { print t, $2, $5, $7; exit }' "$out")
  if [ -z "$row" ]; then
    log "no $test row in redis-benchmark output against $target:"
    cat "$out" "$out.err" >&2
    exit 1
  fi
  t1=$(cpu_ticks "$target")
  cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$clk_tck" -v n="$N" \
    'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%.1f", (b - a) * 1e6 / hz / n }')
  row="$row $cpu"
  echo "$row" >>"$tmp/rows.$target.$test.$p"
  log "round $round $target ${test^^} -P $p: $row"
}

fill "$redis_port"
fill "$dyn_port"

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

if [ "$CLUSTER" -gt 0 ] && ! env "${cluster_env[@]}" "$cluster_sh" status >"$tmp/status" 2>&1; then
  cat "$tmp/status" >&2
  mode="$mode; WARNING: not every node was running at the end"
fi

echo
echo "mode: $mode"
echo "redis-benchmark -c $CLIENTS -d 100 -r 100000 -n $N (sadd, hset, zadd, pfadd: -r $ADD_RANGE), median of $ROUNDS rounds by rps (latencies in ms)"
echo
echo "CPU: user+system time of the servers per request in microseconds (for a cluster, all nodes together)"
echo
echo "| test | pipeline | redis rps | redis p50 | redis p99 | redis CPU | dynakv rps | dynakv p50 | dynakv p99 | dynakv CPU | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for test in "${tests[@]}"; do
  for p in "${depths[@]}"; do
    read -r _ r_rps r_p50 r_p99 r_cpu <<<"$(median redis "$test" "$p")"
    read -r _ d_rps d_p50 d_p99 d_cpu <<<"$(median dynakv "$test" "$p")"
    ratio=$(awk -v d="$d_rps" -v r="$r_rps" 'BEGIN { if (r > 0) printf "%.2f", d / r; else print "n/a" }')
    echo "| ${test^^} | $p | $r_rps | $r_p50 | $r_p99 | $r_cpu | $d_rps | $d_p50 | $d_p99 | $d_cpu | $ratio |"
  done
done
