package e2e

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/collcheck"
	"github.com/dynakv/dynakv/internal/poll"
)

// TestE2ECollectionsUnderFaults: clients SADD/SREM set members,
// HSET/HDEL hash fields and ZADD/ZREM sorted-set members (read back with
// ZRANGE WITHSCORES) through all three nodes of an N=3 R=2 W=2 cluster
// while one node is paused (SIGSTOP) and another killed with kill -9 and
// restarted. After the faults every node reads each collection alike, as
// the histories require (see faults_colls_test.go and internal/collcheck).
func TestE2ECollectionsUnderFaults(t *testing.T) {
	procs := startCluster(t, 3, "--anti-entropy-interval", "1s", "--request-timeout", "1s")
	start := time.Now()
	seed := uint64(start.UnixNano())
	t.Logf("seed %d", seed)
	// New collections every 5 s, so some are created during the faults.
	keys := func(prefix string) func() []string {
		return func() []string {
			gen := time.Since(start) / (5 * time.Second)
			return []string{fmt.Sprint(prefix, gen, ":a"), fmt.Sprint(prefix, gen, ":b")}
		}
	}
	sets, hashes, zsets := collcheck.New(), collcheck.New(), collcheck.New()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	collClients(t, procs, collcheck.Set, 4, seed, 3*time.Second, keys("team:")).Run(sets, stop, &wg)
	collClients(t, procs, collcheck.Hash, 3, seed+1, 3*time.Second, keys("profile:")).Run(hashes, stop, &wg)
	collClients(t, procs, collcheck.ZSet, 3, seed+2, 3*time.Second, keys("board:")).Run(zsets, stop, &wg)
	progress := func(what string, n int) {
		t.Helper()
		acked := func() int { return sets.Stats().AddsAcked + hashes.Stats().AddsAcked + zsets.Stats().AddsAcked }
		mark := acked()
		took := poll.Until(t, 60*time.Second, what, func() bool { return acked() >= mark+n })
		t.Logf("%d %s in %v", n, what, took.Round(time.Millisecond))
	}
	progress("writes before the faults", 150)
	paused, killed := procs[1], procs[2]
	if err := syscall.Kill(paused.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	progress("writes during the pause", 40)
	if err := syscall.Kill(paused.PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	killed.Kill9()
	progress("writes with a node killed", 60)
	killed.Restart()
	progress("writes after the restart", 400)
	close(stop)
	wg.Wait()
	waitClusterAlive(t, procs, len(procs))
	poll.Until(t, 60*time.Second, "no hints pending", func() bool { return hintsPending(t, procs) == 0 })
	checkColls(t, procs, collcheck.Set, sets, 60*time.Second)
	checkColls(t, procs, collcheck.Hash, hashes, 60*time.Second)
	checkColls(t, procs, collcheck.ZSet, zsets, 60*time.Second)
}
