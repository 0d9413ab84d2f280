package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
)

// TestE2EClusterBLPOPWokenThroughAnotherNode: a BLPOP blocked on one node
// is served by an RPUSH through another node (found by the blocked
// client's re-reads: nothing of the push runs on its node), and a second
// push through the blocked client's own node serves the next BLPOP; every
// node then reads the same list.
func TestE2EClusterBLPOPWokenThroughAnotherNode(t *testing.T) {
	procs := startCluster(t, 3)
	ctx := testCtx(t, 60*time.Second)
	blocked := procs[0].Client(t, func(o *redis.Options) { o.ReadTimeout = 30 * time.Second })
	type popped struct {
		vals []string
		err  error
	}
	done := make(chan popped, 1)
	go func() {
		vals, err := blocked.BLPop(ctx, 20*time.Second, "jobs").Result()
		done <- popped{vals, err}
	}()
	poll.Until(t, 10*time.Second, "the BLPOP to block", func() bool {
		return info(t, procs[0].Shared(t), "clients")["blocked_clients"] == "1"
	})
	if err := procs[1].Shared(t).RPush(ctx, "jobs", "j1").Err(); err != nil {
		t.Fatalf("RPUSH through node 2: %v", err)
	}
	got := <-done
	if got.err != nil || !slices.Equal(got.vals, []string{"jobs", "j1"}) {
		t.Fatalf("BLPOP through node 1 = %q, %v; want [jobs j1]", got.vals, got.err)
	}
	// The item is gone everywhere.
	for i, p := range procs {
		if n, err := p.Shared(t).LLen(ctx, "jobs").Result(); err != nil || n != 0 {
			t.Fatalf("LLEN through node %d = %d, %v", i+1, n, err)
		}
	}
	// A list pushed through all three nodes reads the same through each.
	for i, p := range procs {
		if err := p.Shared(t).RPush(ctx, "log", string(rune('a'+i))).Err(); err != nil {
			t.Fatalf("RPUSH through node %d: %v", i+1, err)
		}
	}
	for i, p := range procs {
		vals, err := p.Shared(t).LRange(ctx, "log", 0, -1).Result()
		if err != nil || !slices.Equal(vals, []string{"a", "b", "c"}) {
			t.Fatalf("LRANGE through node %d = %q, %v", i+1, vals, err)
		}
	}
}
