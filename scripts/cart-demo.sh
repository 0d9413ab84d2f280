#!/usr/bin/env bash
# The shopping-cart demo: Dynamo's motivating example, on a local 3-node dynakv cluster, with
# redis-cli only. Two shoppers add items to the same cart at the same time, first from the same
# stale context through one node, then through two different nodes while a third is paused with
# SIGSTOP. dynakv keeps both versions as siblings; the demo reads them with their causal context,
# merges them (the union of the items) and writes the merge back with that context, after which
# one version holds every item, on every node.
#
# It narrates each step and exits non-zero as soon as something is not what it says.
#
# Run from the repo root:   scripts/cart-demo.sh
#
# Environment:
#   DYNAKV_BIN   the dynakv binary (default: built by scripts/cluster.sh)
#   DEMO_DIR     where the cluster lives (default: a temporary directory, deleted at the end)
# Needs: redis-cli, bash; uses scripts/cluster.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
command -v redis-cli >/dev/null || { echo "cart-demo: redis-cli not found (apt-get install redis-tools)" >&2; exit 1; }

own_dir=0
dir=${DEMO_DIR:-}
if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/dynakv-cart.XXXXXX")
  own_dir=1
fi
# a base port B with B..B+2, B+100..B+102, B+200..B+202 free (scripts/cluster.sh's layout)
base=""
for _ in $(seq 1 200); do
  b=$((20000 + RANDOM % 11000)) ok=1
  for i in 0 1 2; do
    for p in $((b + i)) $((b + 100 + i)) $((b + 200 + i)); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then ok=0; fi
    done
  done
  if [ "$ok" = 1 ]; then base=$b; break; fi
done
[ -n "$base" ] || { echo "cart-demo: no free ports" >&2; exit 1; }
export DYNAKV_CLUSTER_DIR="$dir" DYNAKV_CLUSTER_PORT="$base" DYNAKV_CLUSTER_ARGS="--n 3 --r 2 --w 2 --log-level warn"

paused=""
cleanup() {
  [ -n "$paused" ] && kill -CONT "$paused" 2>/dev/null || true
  "$root/scripts/cluster.sh" stop >/dev/null 2>&1 || true
  if [ "$own_dir" = 1 ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step=0
say() { step=$((step + 1)); printf '\n%d. %s\n' "$step" "$*"; }
show() { printf '   %s\n' "$@"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

# cli NODE ARGS...: redis-cli against node NODE (1-3), raw output
cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$((base + $1 - 1))" --raw "${@:2}"; }
# vget NODE KEY [LOCAL]: sets ctx and the array vals from VGET's reply
vget() {
  local out
  out=$(cli "$1" VGET "${@:2}") || fail "VGET ${*:2} through node $1: $out"
  ctx="" vals=()
  if [ -n "$out" ]; then
    mapfile -t lines <<<"$out"
    ctx=${lines[0]}
    vals=("${lines[@]:1}")
  fi
}
# vset NODE KEY CTX VALUE: VSET, which must answer OK
vset() {
  local out
  out=$(cli "$1" VSET "$2" "$3" "$4") || fail "VSET through node $1: $out"
  [ "$out" = OK ] || fail "VSET $2 through node $1 answered '$out', want OK"
}
# union VALUE...: the sorted union of comma-separated items
union() { printf '%s\n' "$@" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -; }
expect_vals() { # expect_vals WHAT VALUE...: vals must be exactly these, in any order
  local what=$1 want got
  shift
  want=$(printf '%s\n' "$@" | sort | paste -sd' ' -)
  got=$(printf '%s\n' "${vals[@]}" | sort | paste -sd' ' -)
  [ "$got" = "$want" ] || fail "$what: VGET shows [$got], want [$want]"
}

say "Start a local cluster of three nodes (N=3, R=2, W=2) on ports $base-$((base + 2))."
"$root/scripts/cluster.sh" start 3 >/dev/null 2>&1 || fail "scripts/cluster.sh start 3 failed; see $dir/node-*.log"
for i in 1 2 3; do
  [ "$(cli "$i" PING)" = PONG ] || fail "node $i does not answer PING"
done
show "all three answer PING"

say "Alice's cart starts empty: VGET returns an empty array."
vget 1 cart:alice
[ -z "$ctx" ] && [ "${#vals[@]}" = 0 ] || fail "cart:alice is not empty: ${vals[*]}"
show "VGET cart:alice -> (empty)"

say "She adds milk, writing with the empty context (\"I have seen nothing\")."
vset 1 cart:alice "" milk
vget 1 cart:alice
expect_vals "after the first add" milk
stale=$ctx
show "VSET cart:alice \"\" milk -> OK" "VGET -> context ${ctx:0:16}... and one version: milk"

say "Two shoppers on her account read that cart (the same context) and add an item each, through node 1."
vset 1 cart:alice "$stale" milk,eggs
show "shopper 1: VSET cart:alice <context> milk,eggs -> OK"
vset 1 cart:alice "$stale" milk,bread
show "shopper 2: VSET cart:alice <context> milk,bread -> OK"

say "Neither write saw the other, so both are kept: VGET returns two siblings and their joint context."
vget 2 cart:alice
expect_vals "after two writes from the same stale context" milk,eggs milk,bread
show "VGET cart:alice (through node 2) -> ${vals[*]}"

say "The application merges them (the union of the items) and writes back with the context it read."
merged=$(union "${vals[@]}")
vset 2 cart:alice "$ctx" "$merged"
vget 3 cart:alice
expect_vals "after the merge" "$merged"
show "VSET cart:alice <context> $merged -> OK" "VGET (through node 3) -> one version: ${vals[*]}"
stale=$ctx

say "Now node 3 is paused with SIGSTOP; two shoppers add items through different nodes."
pid3=$(cat "$dir/node-3.pid")
kill -STOP "$pid3"
paused=$pid3
vset 1 cart:alice "$stale" "$(union "$merged" apples)"
show "shopper 1 through node 1: + apples -> OK (W=2: nodes 1 and 2)"
vset 2 cart:alice "$stale" "$(union "$merged" pears)"
show "shopper 2 through node 2: + pears -> OK"

say "With node 3 still paused, VGET through node 1 shows both versions."
vget 1 cart:alice
expect_vals "after concurrent adds through two nodes" "$(union "$merged" apples)" "$(union "$merged" pears)"
show "VGET -> ${vals[*]}"

say "Merge and write back with the context, as before."
merged=$(union "${vals[@]}")
vset 1 cart:alice "$ctx" "$merged"
vget 2 cart:alice
expect_vals "after the second merge" "$merged"
show "VGET (through node 2) -> one version: ${vals[*]}"

say "Node 3 resumes (SIGCONT) and catches up by hinted handoff and anti-entropy."
kill -CONT "$pid3"
paused=""
for _ in $(seq 1 300); do
  vget 3 cart:alice LOCAL
  if [ "${#vals[@]}" = 1 ] && [ "${vals[0]}" = "$merged" ]; then break; fi
  sleep 0.1
done
expect_vals "node 3's own copy, 30 s after SIGCONT" "$merged"
show "VGET cart:alice LOCAL on node 3 -> ${vals[*]}"

say "Every node now holds the same single version of the cart."
for i in 1 2 3; do
  vget "$i" cart:alice LOCAL
  expect_vals "node $i's own copy" "$merged"
  show "node $i: ${vals[*]}"
done
[ "$merged" = "apples,bread,eggs,milk,pears" ] || fail "the final cart is '$merged'"
printf '\nNo item was lost: %s\n' "$merged"
