package e2e

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestE2ETransactions: redis-py's pipeline() and go-redis's TxPipelined
// (MULTI, the commands, EXEC, sent without waiting) through a node that is
// not a home replica of the key, so the transaction's one write is
// forwarded to the key's coordinator. On one key it applies; on two keys it
// is refused and applies nothing (before transactions existed MULTI was
// refused, the commands ran, and a retried "failed" transaction applied its
// writes twice).
func TestE2ETransactions(t *testing.T) {
	procs := startCluster(t, 4)
	ctx := testCtx(t, 2*time.Minute)
	const key = "cart:1"
	// A node that is not one of the key's three homes.
	homes := homesOf(t, procs[0].Shared(t), key)
	var via *proc
	for i, p := range procs {
		if !slices.Contains(homes, fmt.Sprint("node-", i+1)) {
			via = p
		}
	}
	if via == nil {
		t.Fatalf("every node is a home of %s: %v", key, homes)
	}
	c := via.Shared(t)

	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key, "apple", 0)
		p.Append(ctx, key, ",pear")
		p.Get(ctx, key)
		return nil
	})
	if err != nil || cmds[2].(*redis.StringCmd).Val() != "apple,pear" {
		t.Fatalf("go-redis TxPipelined on one key: %v, %v", cmds, err)
	}
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx:a", "1", 0)
		p.Set(ctx, "tx:b", "1", 0)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "must touch one key") {
		t.Fatalf("go-redis TxPipelined on two keys: %v, want the refusal", err)
	}

	// Concurrent transactions appending to one key through different
	// nodes: each is applied whole (its two appends together) or, for a
	// concurrent pair, as siblings of which GET shows one; never half.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			cc := procs[i].Shared(t)
			for j := range 10 {
				if _, err := cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Append(ctx, "pairs", fmt.Sprintf("<%d:%d|", i, j))
					p.Append(ctx, "pairs", fmt.Sprintf("%d:%d>", i, j))
					return nil
				}); err != nil {
					t.Errorf("node-%d transaction %d: %v", i+1, j, err)
				}
			}
		})
	}
	wg.Wait()
	v, err := c.Get(ctx, "pairs").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(strings.TrimPrefix(v, "<"), "<") {
		var a, b, x, y int
		if n, _ := fmt.Sscanf(part, "%d:%d|%d:%d>", &a, &b, &x, &y); n != 4 || a != x || b != y {
			t.Fatalf("a transaction's two appends are not together in %q (part %q)", v, part)
		}
	}

	// redis-py: pipeline() is a MULTI/EXEC transaction.
	py := `import redis, sys
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
p = r.pipeline()
p.set("py:k", "v1").get("py:k").strlen("py:k")
print(p.execute())
p = r.pipeline()
p.set("py:a", "1").set("py:b", "2")
try:
    p.execute()
    print("applied")
except redis.ResponseError as e:
    print("refused:", e, r.exists("py:a", "py:b"))
`
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", py, via.Port()).CombinedOutput()
	if err != nil {
		t.Fatalf("python3-redis pipeline: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != "[True, b'v1', 2]" || !strings.HasPrefix(lines[1], "refused:") ||
		!strings.Contains(lines[1], "must touch one key") || !strings.HasSuffix(lines[1], " 0") {
		t.Fatalf("python3-redis pipeline:\n%s", out)
	}
}
