#!/usr/bin/env bash
# Local dynakv cluster: COUNT nodes on 127.0.0.1, each with its own ports, data directory, log and
# pid file, seeded so that they find each other by gossip.
#
#   scripts/cluster.sh start [COUNT]   start COUNT nodes (default 3, at most 100), wait until every
#                                      one answers PING (and, for a while, until they see each other)
#   scripts/cluster.sh stop            stop every node (SIGTERM, up to 10 s, then SIGKILL)
#   scripts/cluster.sh status          one line per node; exit status 0 if all run, 3 if not
#   scripts/cluster.sh wipe            stop, then delete the nodes' data directories, logs, pid files
#
# Node i (1-based) is node-i: client port BASE+i-1, gossip port BASE+100+i-1, peer port BASE+200+i-1,
# data DIR/node-i, log DIR/node-i.log, pid DIR/node-i.pid. Node 1 seeds node 2, node 2 seeds node 1,
# every other node seeds nodes 1 and 2. A stopped cluster keeps its data: start it again with the
# same DIR (and COUNT) and the nodes come back with their data and their ring.
#
# Environment:
#   DYNAKV_CLUSTER_DIR        DIR (default ./dynakv-cluster, relative to the current directory)
#   DYNAKV_CLUSTER_PORT       BASE, node-1's client port (default 7001)
#   DYNAKV_CLUSTER_ARGS       extra flags for every node, split on whitespace,
#                             e.g. "--n 3 --r 2 --w 2 --cluster-secret s"
#   DYNAKV_CLUSTER_WAIT       seconds start waits for every node to answer PING (default 15)
#   DYNAKV_CLUSTER_JOIN_WAIT  seconds start then waits until every node counts COUNT members alive
#                             (INFO cluster, cluster_members_alive); only a warning if they do not
#                             (default 10; 0 skips)
#   DYNAKV_BIN                the dynakv binary (default: REPO/dynakv, built with `go build` when it
#                             is missing or older than a *.go, go.mod or go.sum file of the repo)
# Needs bash and coreutils; uses redis-cli, ss and setsid when present.
set -euo pipefail

self=$0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi

say() { echo "cluster.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

usage() {
  cat <<EOF
usage: $self start [COUNT]   start COUNT local nodes (default 3)
       $self stop            stop them
       $self status          one line per node
       $self wipe            stop them and delete their data
environment: DYNAKV_CLUSTER_DIR (./dynakv-cluster), DYNAKV_CLUSTER_PORT (7001),
  DYNAKV_CLUSTER_ARGS (extra node flags), DYNAKV_CLUSTER_WAIT (15), DYNAKV_CLUSTER_JOIN_WAIT (10),
  DYNAKV_BIN (default: build $root/dynakv when stale)
EOF
}

dir=${DYNAKV_CLUSTER_DIR:-./dynakv-cluster}
dir=${dir%/}
[ -n "$dir" ] || dir=/
base=${DYNAKV_CLUSTER_PORT:-7001}
ping_wait=${DYNAKV_CLUSTER_WAIT:-15}
join_wait=${DYNAKV_CLUSTER_JOIN_WAIT:-10}
# in_range VALUE MIN MAX: VALUE is a decimal number from MIN to MAX.
in_range() { [[ $1 =~ ^[0-9]{1,9}$ ]] && [ "$((10#$1))" -ge "$2" ] && [ "$((10#$1))" -le "$3" ]; }
if ! in_range "$base" 1 65535; then die "DYNAKV_CLUSTER_PORT must be a port number, not '$base'"; fi
if ! in_range "$ping_wait" 1 3600; then
  die "DYNAKV_CLUSTER_WAIT must be a number of seconds from 1 to 3600, not '$ping_wait'"
fi
if ! in_range "$join_wait" 0 3600; then
  die "DYNAKV_CLUSTER_JOIN_WAIT must be a number of seconds from 0 to 3600, not '$join_wait'"
fi
base=$((10#$base))
ping_wait=$((10#$ping_wait))
join_wait=$((10#$join_wait))

# Extra node flags; --requirepass is also what PING and INFO authenticate with.
extra=()
read -r -a extra <<<"${DYNAKV_CLUSTER_ARGS:-}" || true
pass=""
for ((k = 0; k < ${#extra[@]}; k++)); do
  case ${extra[k]} in
    --requirepass) pass=${extra[k + 1]:-} ;;
    --requirepass=*) pass=${extra[k]#*=} ;;
    --node-id | --node-id=* | --listen | --listen=* | --gossip-listen | --gossip-listen=* | \
      --peer-listen | --peer-listen=* | --data-dir | --data-dir=*)
      die "DYNAKV_CLUSTER_ARGS must not set ${extra[k]%%=*}: cluster.sh gives every node its own" ;;
  esac
done

have_redis_cli=0
command -v redis-cli >/dev/null 2>&1 && have_redis_cli=1

adir="" # absolute, physical path of $dir, once it exists
set_adir() { adir=$(cd "$dir" && pwd -P); }

client_port() { echo $((base + $1 - 1)); }
gossip_port() { echo $((base + 100 + $1 - 1)); }
peer_port() { echo $((base + 200 + $1 - 1)); }

# alive PID: the process exists and is not a zombie.
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ] || return 1
  fi
  return 0
}

# node_pid I: the pid in node I's pid file if that process is alive and is node I (its command
# line names node I's data directory, where /proc can tell), else nothing.
node_pid() {
  local i=$1 f pid cmd
  f="$adir/node-$i.pid"
  [ -f "$f" ] || return 0
  pid=$(head -n 1 "$f" 2>/dev/null) || return 0
  if ! in_range "$pid" 2 999999999; then return 0; fi
  alive "$pid" || return 0
  if [ -r "/proc/$pid/cmdline" ]; then
    cmd=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
    [[ $'\n'$cmd$'\n' == *$'\n'"$adir/node-$i"$'\n'* ]] || return 0
  fi
  echo "$pid"
}

# pid_file_nodes: the node numbers that have a pid file, ascending.
pid_file_nodes() {
  local f i
  for f in "$adir"/node-*.pid; do
    [ -e "$f" ] || continue
    i=${f##*/node-}
    i=${i%.pid}
    if is_uint "$i"; then echo "$i"; fi
  done | sort -n
}

# resp_raw PORT ARG...: one command over bash's /dev/tcp (when there is no redis-cli); prints a
# simple, error or integer reply's text, or a bulk reply's lines; nothing if nobody answers.
resp_raw() (
  LC_ALL=C
  port=$1
  shift
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || exit 0
  encode() {
    local a req="*$#"$'\r\n'
    for a; do req+="\$${#a}"$'\r\n'"$a"$'\r\n'; done
    printf '%s' "$req"
  }
  if [ -n "$pass" ]; then
    encode AUTH "$pass" >&3
    IFS= read -r -t 2 line <&3 || exit 0
    line=${line%$'\r'}
    if [[ $line == -* ]]; then
      printf '%s\n' "${line:1}"
      exit 0
    fi
  fi
  encode "$@" >&3
  IFS= read -r -t 2 line <&3 || exit 0
  line=${line%$'\r'}
  case $line in
    [-+:]*) printf '%s\n' "${line:1}" ;;
    \$*)
      len=${line:1}
      is_uint "$len" || exit 0
      n=0
      for ((k = 0; k < 100000 && n < len; k++)); do
        IFS= read -r -t 2 line <&3 || break
        n=$((n + ${#line} + 1))
        printf '%s\n' "${line%$'\r'}"
      done
      ;;
    *) printf '%s\n' "$line" ;;
  esac
)

# rcmd PORT ARG...: the reply's text (redis-cli, else resp_raw); nothing if the node does not answer.
rcmd() {
  local port=$1
  shift
  if [ "$have_redis_cli" = 1 ]; then
    if [ -n "$pass" ]; then
      REDISCLI_AUTH=$pass timeout 3 redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" "$@" 2>/dev/null || true
    else
      timeout 3 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null || true
    fi
  else
    resp_raw "$port" "$@" || true
  fi
}

ping_reply() { rcmd "$1" PING | head -n 1 | tr -d '\r'; }

# members_alive PORT: INFO cluster's cluster_members_alive, or nothing.
members_alive() {
  rcmd "$1" INFO cluster | tr -d '\r' | awk -F: '$1 == "cluster_members_alive" { v = $2 } END { print v }'
}

# log_tail I: the end of node I's log since cluster.sh last started it.
log_tail() {
  local i=$1 f from
  f="$adir/node-$i.log"
  say "last lines of $dir/node-$i.log:"
  from=$(grep -n '^=== .* cluster.sh starts ' "$f" 2>/dev/null | tail -n 1 | cut -d: -f1 || true)
  tail -n "+${from:-1}" "$f" 2>/dev/null | tail -n 20 >&2 || true
}

# now_ms: wall-clock milliseconds.
now_ms() {
  local t=${EPOCHREALTIME:-}
  t=${t//[.,]/}
  if [ -n "$t" ]; then echo $((t / 1000)); else date +%s%3N; fi
}

# stop_entries I:PID...: SIGTERM, poll up to 10 s, SIGKILL what is left, poll up to 2 s; removes
# the pid files that still name those pids. Fails if a process survives SIGKILL.
stop_entries() {
  local e i pid k left=() still=() killed=" " gone=" " failed=0
  for e; do
    pid=${e#*:}
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      left+=("$e")
    else
      gone+="${e%%:*} "
    fi
  done
  for ((k = 0; k < 100 && ${#left[@]} > 0; k++)); do
    sleep 0.1
    still=()
    for e in "${left[@]}"; do
      if alive "${e#*:}"; then still+=("$e"); fi
    done
    left=("${still[@]}")
  done
  if [ ${#left[@]} -gt 0 ]; then
    for e in "${left[@]}"; do
      say "node-${e%%:*} (pid ${e#*:}) did not stop within 10 s of SIGTERM: sending SIGKILL"
      kill -KILL "${e#*:}" 2>/dev/null || true
      killed+="${e%%:*} "
    done
    for ((k = 0; k < 20 && ${#left[@]} > 0; k++)); do
      sleep 0.1
      still=()
      for e in "${left[@]}"; do
        if alive "${e#*:}"; then still+=("$e"); fi
      done
      left=("${still[@]}")
    done
  fi
  for e; do
    i=${e%%:*}
    pid=${e#*:}
    if alive "$pid"; then
      say "node-$i (pid $pid) is still running after SIGKILL"
      failed=1
      continue
    fi
    if [ "$(head -n 1 "$adir/node-$i.pid" 2>/dev/null || true)" = "$pid" ]; then
      rm -f "$adir/node-$i.pid"
    fi
    if [[ $gone == *" $i "* ]]; then
      echo "node-$i (pid $pid) had already exited"
    elif [[ $killed == *" $i "* ]]; then
      echo "killed node-$i (pid $pid)"
    else
      echo "stopped node-$i (pid $pid)"
    fi
  done
  return "$failed"
}

# ---------------------------------------------------------------------------------------- stop --
cmd_stop() {
  local i pid entries=()
  if [ ! -d "$dir" ]; then
    echo "no dynakv cluster in $dir: nothing to stop"
    return 0
  fi
  set_adir
  for i in $(pid_file_nodes); do
    pid=$(node_pid "$i")
    if [ -n "$pid" ]; then
      entries+=("$i:$pid")
    else
      echo "node-$i was not running (removed its stale pid file)"
      rm -f "$adir/node-$i.pid"
    fi
  done
  if [ ${#entries[@]} -eq 0 ]; then
    echo "no dynakv node running in $dir"
    return 0
  fi
  stop_entries "${entries[@]}"
}

# -------------------------------------------------------------------------------------- status --
# read_state: count and base of the cluster last started in $adir (cluster.state), else
# count from the pid files and node directories and base from the environment.
read_state() {
  local k v i
  count=0
  if [ -f "$adir/cluster.state" ]; then
    while IFS='=' read -r k v; do
      case $k in
        count) if is_uint "$v"; then count=$v; fi ;;
        base) if is_uint "$v"; then base=$v; fi ;;
      esac
    done <"$adir/cluster.state"
  fi
  for i in $(pid_file_nodes); do
    if [ "$i" -gt "$count" ]; then count=$i; fi
  done
  if [ "$count" -eq 0 ]; then
    for i in "$adir"/node-*/; do
      [ -d "$i" ] || continue
      i=${i%/}
      i=${i##*/node-}
      if is_uint "$i" && [ "$i" -gt "$count" ]; then count=$i; fi
    done
  fi
}

cmd_status() {
  local i pid f rc=0 state reply count
  if [ ! -d "$dir" ]; then
    echo "no dynakv cluster in $dir"
    return 3
  fi
  set_adir
  read_state
  if [ "$count" -eq 0 ]; then
    echo "no dynakv cluster in $dir"
    return 3
  fi
  for ((i = 1; i <= count; i++)); do
    pid=$(node_pid "$i")
    if [ -n "$pid" ]; then
      reply=$(ping_reply "$(client_port "$i")")
      state="running, PING: ${reply:-no reply}"
    else
      f="$adir/node-$i.pid"
      if [ -f "$f" ]; then
        pid="$(head -n 1 "$f" 2>/dev/null || true)"
        state="not running (stale pid file)"
      else
        pid=-
        state="not running"
      fi
      rc=3
    fi
    printf '%-8s 127.0.0.1:%-6s pid %-8s %s\n' "node-$i" "$(client_port "$i")" "$pid" "$state"
  done
  return "$rc"
}

# --------------------------------------------------------------------------------------- start --
bin=""
resolve_bin() {
  local why=""
  if [ -n "${DYNAKV_BIN:-}" ]; then
    bin=$DYNAKV_BIN
    if [[ $bin != */* ]]; then
      bin=$(command -v "$bin") || die "DYNAKV_BIN=$DYNAKV_BIN: no such command"
    fi
    if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then die "DYNAKV_BIN=$DYNAKV_BIN is not an executable file"; fi
    bin="$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin")"
    return 0
  fi
  bin="$root/dynakv"
  if [ ! -x "$bin" ]; then
    why="it does not exist"
  elif [ -n "$(find "$root" -name .git -prune -o \( -name '*.go' -o -name go.mod -o -name go.sum \) \
    -newer "$bin" -print -quit 2>/dev/null)" ]; then
    why="a source file is newer"
  fi
  if [ -n "$why" ]; then
    if ! command -v go >/dev/null 2>&1; then
      die "cannot build $bin ($why): go is not on the PATH; install Go or set DYNAKV_BIN"
    fi
    say "building $bin ($why)"
    if ! (cd "$root" && go build -o dynakv .); then
      die "go build failed; fix the build or set DYNAKV_BIN to a dynakv binary"
    fi
  fi
}

listening=" "
snapshot_listening() {
  if command -v ss >/dev/null 2>&1; then
    listening=" $(ss -Hlntu 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | sort -u | tr '\n' ' ')"
  fi
}
# port_busy PORT: something listens on it (TCP or UDP, per ss), or accepts a TCP connection.
port_busy() {
  case $listening in *" $1 "*) return 0 ;; esac
  { (exec 3<>"/dev/tcp/127.0.0.1/$1"); } 2>/dev/null
}

seeds_of() {
  local i=$1 count=$2 s=()
  if [ "$count" -ge 2 ]; then
    if [ "$i" -ne 1 ]; then s+=("127.0.0.1:$(gossip_port 1)"); fi
    if [ "$i" -ne 2 ]; then s+=("127.0.0.1:$(gossip_port 2)"); fi
  fi
  local IFS=,
  echo "${s[*]}"
}

started=() # I:PID of the nodes this invocation launched
start_ok=0
launcher=()
if command -v setsid >/dev/null 2>&1; then launcher=(setsid); fi

# launch I COUNT: starts node I in the background, in its own session so that a Ctrl-C in this
# terminal does not reach it, and writes its pid file.
launch() {
  local i=$1 count=$2 seeds args shown a hide=0 pid
  args=(--node-id "node-$i" --listen "127.0.0.1:$(client_port "$i")"
    --gossip-listen "127.0.0.1:$(gossip_port "$i")" --peer-listen "127.0.0.1:$(peer_port "$i")"
    --data-dir "$adir/node-$i")
  seeds=$(seeds_of "$i" "$count")
  if [ -n "$seeds" ]; then args+=(--seeds "$seeds"); fi
  args+=("${extra[@]}")
  shown=""
  for a in "${args[@]}"; do
    if [ "$hide" = 1 ]; then a='***'; fi
    hide=0
    case $a in
      --requirepass | --cluster-secret) hide=1 ;;
      --requirepass=* | --cluster-secret=*) a="${a%%=*}=***" ;;
    esac
    shown+=" $a"
  done
  mkdir -p "$adir/node-$i"
  echo "=== $(date '+%Y-%m-%dT%H:%M:%S%z') cluster.sh starts $bin$shown" >>"$adir/node-$i.log"
  "${launcher[@]}" "$bin" "${args[@]}" </dev/null >>"$adir/node-$i.log" 2>&1 &
  pid=$!
  started+=("$i:$pid")
  echo "$pid" >"$adir/node-$i.pid"
}

started_pid() {
  local e
  for e in "${started[@]}"; do
    if [ "${e%%:*}" = "$1" ]; then echo "${e#*:}"; fi
  done
}

# wait_ping I...: until each node answers PING, bounded by DYNAKV_CLUSTER_WAIT; fails, showing the
# log, if one exits or does not answer in time.
wait_ping() {
  local deadline k i pid todo=("$@") still=()
  deadline=$(($(now_ms) + ping_wait * 1000))
  for ((k = 0; k < ping_wait * 20 + 10; k++)); do
    still=()
    for i in "${todo[@]}"; do
      pid=$(started_pid "$i")
      if ! alive "$pid"; then
        say "node-$i (pid $pid) exited before answering PING"
        log_tail "$i"
        return 1
      fi
      if [ -z "$(ping_reply "$(client_port "$i")")" ]; then still+=("$i"); fi
    done
    todo=("${still[@]}")
    if [ ${#todo[@]} -eq 0 ]; then return 0; fi
    if [ "$(now_ms)" -ge "$deadline" ]; then break; fi
    sleep 0.1
  done
  for i in "${todo[@]}"; do
    say "node-$i did not answer PING on 127.0.0.1:$(client_port "$i") within ${ping_wait} s"
    log_tail "$i"
  done
  return 1
}

# wait_join COUNT: until every node counts COUNT members alive, bounded by
# DYNAKV_CLUSTER_JOIN_WAIT; a warning if not; fails if a node exits meanwhile.
wait_join() {
  local count=$1 deadline k i v pid behind=()
  if [ "$count" -lt 2 ] || [ "$join_wait" -eq 0 ]; then return 0; fi
  deadline=$(($(now_ms) + join_wait * 1000))
  for ((k = 0; k < join_wait * 20 + 10; k++)); do
    behind=()
    for ((i = 1; i <= count; i++)); do
      pid=$(started_pid "$i")
      if ! alive "$pid"; then
        say "node-$i (pid $pid) exited"
        log_tail "$i"
        return 1
      fi
      v=$(members_alive "$(client_port "$i")")
      if ! is_uint "$v"; then
        say "node-$i does not report cluster_members_alive in INFO cluster; not waiting for the membership"
        return 0
      fi
      if [ "$v" -lt "$count" ]; then behind+=("node-$i:$v"); fi
    done
    if [ ${#behind[@]} -eq 0 ]; then return 0; fi
    if [ "$(now_ms)" -ge "$deadline" ]; then break; fi
    sleep 0.1
  done
  say "warning: after ${join_wait} s not every node sees all $count members alive" \
    "(members alive: ${behind[*]}); the nodes run, but may not form one cluster: see their logs"
  return 0
}

on_start_exit() {
  if [ "$start_ok" != 1 ] && [ ${#started[@]} -gt 0 ]; then
    say "stopping the nodes this start launched"
    stop_entries "${started[@]}" >&2 || true
  fi
}

cmd_start() {
  local count=${1:-3} i pid kind port plural="s" envp="" try2 try3 all=()
  if ! in_range "$count" 1 100; then die "COUNT must be a number of nodes from 1 to 100, not '$count'"; fi
  count=$((10#$count))
  if [ $((base + 200 + count - 1)) -gt 65535 ]; then
    die "DYNAKV_CLUSTER_PORT=$base leaves no room for $count nodes (ports up to BASE+$((200 + count - 1)))"
  fi
  mkdir -p "$dir" || die "cannot create $dir"
  set_adir

  for i in $(pid_file_nodes); do
    pid=$(node_pid "$i")
    if [ -n "$pid" ]; then
      die "cluster already running in $dir (node-$i, pid $pid); $self stop first"
    fi
    rm -f "$adir/node-$i.pid"
  done

  snapshot_listening
  for ((i = 1; i <= count; i++)); do
    for kind in client gossip peer; do
      port=$("${kind}_port" "$i")
      if port_busy "$port"; then
        die "port $port (node-$i $kind) is already in use; stop what listens there or choose another base with DYNAKV_CLUSTER_PORT"
      fi
    done
  done

  resolve_bin
  printf 'count=%s\nbase=%s\n' "$count" "$base" >"$adir/cluster.state"

  trap on_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  # all at once: nodes 1 and 2 seed each other, so neither can wait for the other to be up first
  all=()
  for ((i = 1; i <= count; i++)); do
    launch "$i" "$count"
    all+=("$i")
  done
  wait_ping "${all[@]}" || exit 1
  wait_join "$count" || exit 1
  start_ok=1

  for i in "$adir"/node-*/; do
    i=${i%/}
    i=${i##*/node-}
    if is_uint "$i" && [ "$i" -gt "$count" ]; then
      say "note: $dir/node-$i holds a node that was not started; it stays a ring member until RING REMOVE node-$i"
    fi
  done

  if [ "$count" -eq 1 ]; then plural=""; fi
  echo "dynakv cluster of $count node$plural on 127.0.0.1 (data in $dir):"
  for ((i = 1; i <= count; i++)); do
    printf '  %-8s redis-cli -p %-6s (gossip 127.0.0.1:%s, peer 127.0.0.1:%s, pid %s, log %s)\n' \
      "node-$i" "$(client_port "$i")" "$(gossip_port "$i")" "$(peer_port "$i")" \
      "$(started_pid "$i")" "$dir/node-$i.log"
  done
  try2=$(client_port $((count >= 2 ? 2 : 1)))
  try3=$(client_port $((count >= 3 ? 3 : count)))
  if [ -n "$pass" ]; then
    echo "(--requirepass is set: add -a PASSWORD to redis-cli)"
  fi
  echo "Try: redis-cli -p $base SET k v; redis-cli -p $try2 GET k; redis-cli -p $try3 RING MEMBERS"
  if [ -n "${DYNAKV_CLUSTER_DIR:-}" ]; then envp="DYNAKV_CLUSTER_DIR=$dir "; fi
  echo "Stop: $envp$self stop"
}

# ---------------------------------------------------------------------------------------- wipe --
cmd_wipe() {
  local n=0 f what
  cmd_stop || die "could not stop every node; not deleting $dir"
  [ -d "$dir" ] || return 0
  set_adir
  for f in "$adir"/node-*/; do
    if [ -d "$f" ]; then n=$((n + 1)); fi
  done
  rm -rf -- "$adir"/node-[0-9]* "$adir/cluster.state"
  what="$n data directories"
  if [ "$n" -eq 1 ]; then what="1 data directory"; fi
  if rmdir -- "$adir" 2>/dev/null; then
    echo "wiped $dir ($what)"
  else
    echo "wiped the nodes' data, logs and pid files from $dir ($what); left its other files"
  fi
}

cmd=${1:-}
case $cmd in
  start)
    [ $# -le 2 ] || {
      usage >&2
      exit 2
    }
    cmd_start "${2:-3}"
    ;;
  stop | status | wipe)
    [ $# -eq 1 ] || {
      usage >&2
      exit 2
    }
    case $cmd in
      stop) cmd_stop ;;
      status) cmd_status ;;
      wipe) cmd_wipe ;;
    esac
    ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
