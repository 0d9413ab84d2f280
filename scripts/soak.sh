#!/usr/bin/env bash
# The long run of the fault-injection workload checker (e2e/faults_test.go): a 5-node cluster of
# the real binary (N=3, R=2, W=2), concurrent shopping-cart clients recording every acknowledged
# add, and a seeded random schedule of kill -9 / restart, SIGSTOP / SIGCONT and wipe / restart
# faults, for DURATION; then it heals, waits for the replicas to converge without client reads,
# and checks that no acknowledged add was lost. Prints the schedule, the seed and the report table.
#
# Run from the repo root:   scripts/soak.sh [DURATION]      (a Go duration, default 30m)
#
# Environment: DYNAKV_FAULTS_SEED replays a schedule.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"
duration=${1:-30m}
if ! [[ $duration =~ ^([0-9]+h)?([0-9]+m)?([0-9]+s)?$ ]] || [ -z "$duration" ]; then
  echo "soak: DURATION must be like 30m, 2h, 1h30m or 90s, not '$duration'" >&2
  exit 2
fi
secs=0
[ -n "${BASH_REMATCH[1]}" ] && secs=$((secs + ${BASH_REMATCH[1]%h} * 3600))
[ -n "${BASH_REMATCH[2]}" ] && secs=$((secs + ${BASH_REMATCH[2]%m} * 60))
[ -n "${BASH_REMATCH[3]}" ] && secs=$((secs + ${BASH_REMATCH[3]%s}))
[ "$secs" -gt 0 ] || { echo "soak: DURATION must be positive" >&2; exit 2; }
# The test's own timeout: the fault phase, plus convergence and checking, plus a margin.
timeout=$((secs + 900))s
export DYNAKV_FAULTS_DURATION="$duration"
go test -count=1 -run '^TestFaultsWorkload$' -timeout "$timeout" -v ./e2e/ 2>&1 | grep -vE '^=== RUN|^ +time=|^redis: '
exit "${PIPESTATUS[0]}"
