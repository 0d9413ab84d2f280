package e2e

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/redis/go-redis/v9"
)

// TestE2ECounterUnderFaults: clients INCRBY one key through all three
// nodes of an N=3 R=2 W=2 cluster while one node is paused (SIGSTOP) and
// another killed with kill -9 and restarted. After the faults every node
// reads the same value, between the increments acknowledged and those
// attempted: none acknowledged is lost, none is counted twice.
func TestE2ECounterUnderFaults(t *testing.T) {
	procs := startCluster(t, 3, "--anti-entropy-interval", "1s")
	ctx := testCtx(t, 3*time.Minute)
	const key, maxPerClient = "visits", 200000
	var acked, attempted, ackedCalls atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i, p := range procs {
		c := p.Client(t, func(o *redis.Options) { o.MaxRetries = -1 })
		wg.Go(func() {
			for j := range maxPerClient {
				select {
				case <-stop:
					return
				default:
				}
				d := int64(i*10 + j%7 + 1)
				attempted.Add(d)
				if err := c.IncrBy(ctx, key, d).Err(); err == nil {
					acked.Add(d)
					ackedCalls.Add(1)
				}
			}
		})
	}
	progress := func(what string, n int64) {
		t.Helper()
		mark := ackedCalls.Load()
		poll.Until(t, 60*time.Second, what, func() bool { return ackedCalls.Load() > mark+n })
	}
	progress("increments before the faults", 300)
	// The faults, one after the other, while the clients count.
	paused, killed := procs[1], procs[2]
	if err := syscall.Kill(paused.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	progress("increments during the pause", 500)
	if err := syscall.Kill(paused.PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	killed.Kill9()
	progress("increments with a node killed", 500)
	killed.Restart()
	progress("increments after the restart", 300)
	close(stop)
	wg.Wait()
	lo, hi := acked.Load(), attempted.Load()
	t.Logf("acknowledged %d, attempted %d", lo, hi)
	var last string
	poll.Until(t, 90*time.Second, "every node reading one value within bounds", func() bool {
		var vals []int64
		for _, p := range procs {
			v, err := p.Shared(t).Get(ctx, key).Result()
			if err != nil {
				last = err.Error()
				return false
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			vals = append(vals, n)
		}
		last = fmt.Sprint(vals)
		return vals[0] == vals[1] && vals[1] == vals[2] && vals[0] >= lo && vals[0] <= hi
	})
	t.Logf("converged at %s", last)
}
