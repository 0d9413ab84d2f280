package e2e

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/setcheck"
)

// TestE2ESetsUnderFaults: clients SADD and SREM members of three sets
// through all three nodes of an N=3 R=2 W=2 cluster while one node is
// paused (SIGSTOP) and another killed with kill -9 and restarted. After
// the faults every node reads each set alike, with every acknowledged add
// no remove could have seen and without every member its owner removed
// (see faults_sets_test.go and internal/setcheck).
func TestE2ESetsUnderFaults(t *testing.T) {
	procs := startCluster(t, 3, "--anti-entropy-interval", "1s", "--request-timeout", "1s")
	start := time.Now()
	seed := uint64(start.UnixNano())
	t.Logf("seed %d", seed)
	h := setcheck.New()
	// New sets every 5 s, so sets are created during the faults too.
	keys := func() []string {
		gen := time.Since(start) / (5 * time.Second)
		return []string{fmt.Sprint("team:", gen, ":a"), fmt.Sprint("team:", gen, ":b"), fmt.Sprint("team:", gen, ":c")}
	}
	load := setLoad{procs: procs, seed: seed, clients: 6, keys: keys, timeout: 3 * time.Second, start: start}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	load.run(t, h, stop, &wg)
	progress := func(what string, n int) {
		t.Helper()
		mark := h.Stats().AddsAcked
		took := poll.Until(t, 60*time.Second, what, func() bool { return h.Stats().AddsAcked >= mark+n })
		t.Logf("%d %s in %v", n, what, took.Round(time.Millisecond))
	}
	progress("adds before the faults", 150)
	paused, killed := procs[1], procs[2]
	if err := syscall.Kill(paused.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	progress("adds during the pause", 40)
	if err := syscall.Kill(paused.PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	killed.Kill9()
	progress("adds with a node killed", 60)
	killed.Restart()
	progress("adds after the restart", 400)
	close(stop)
	wg.Wait()
	waitClusterAlive(t, procs, len(procs))
	poll.Until(t, 60*time.Second, "no hints pending", func() bool { return hintsPending(t, procs) == 0 })
	checkSets(t, procs, h, 60*time.Second)
}
