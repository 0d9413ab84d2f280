package e2e

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"

	"github.com/redis/go-redis/v9"
)

// The cluster tests run several real dynakv processes on 127.0.0.1, joined
// through seeds over memberlist, and inject faults with signals: kill -9
// and restart, SIGSTOP and SIGCONT.

// startCluster starts count nodes named node-1..node-count, the first with
// no seeds and the others seeded with the first, and waits until every
// node sees every other alive.
func startCluster(t *testing.T, count int, extra ...string) []*proc {
	t.Helper()
	dynakvOnly(t)
	var procs []*proc
	var seed string
	for i := 1; i <= count; i++ {
		gossip := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, true)))
		args := append([]string{"--node-id", fmt.Sprint("node-", i), "--gossip-listen", gossip, "--log-level", "debug"}, extra...)
		if seed != "" {
			args = append(args, "--seeds", seed)
		} else {
			seed = gossip
		}
		procs = append(procs, startNode(t, args...))
	}
	waitClusterAlive(t, procs, count)
	return procs
}

// info returns the fields of INFO section of p.
func info(t *testing.T, c *redis.Client, section string) map[string]string {
	t.Helper()
	s, err := c.Info(testCtx(t, 5*time.Second), section).Result()
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// waitClusterAlive waits until every running node in procs counts alive
// members alive.
func waitClusterAlive(t *testing.T, procs []*proc, alive int) {
	t.Helper()
	for _, p := range procs {
		c := p.Shared(t)
		poll.Until(t, 30*time.Second, p.Addr()+" to see the cluster", func() bool {
			f := info(t, c, "cluster")
			return f["cluster_members"] == strconv.Itoa(len(procs)) && f["cluster_members_alive"] == strconv.Itoa(alive)
		})
	}
}

// holdsLocally reports whether the node behind c holds key in its own store as exactly one
// version with value want (VGET key LOCAL), with the reply and error for messages.
func holdsLocally(ctx context.Context, c *redis.Client, key, want string) ([]any, bool, error) {
	v, err := c.Do(ctx, "VGET", key, "LOCAL").Slice()
	return v, err == nil && len(v) == 2 && v[1] == want, err
}

// hintsPending sums hints_pending over the running nodes.
func hintsPending(t *testing.T, procs []*proc) int {
	total := 0
	for _, p := range procs {
		if !p.running() {
			continue
		}
		n, _ := strconv.Atoi(info(t, p.Shared(t), "cluster")["hints_pending"])
		total += n
	}
	return total
}

// homesOf returns the ids of key's first N replicas, from RING KEY.
func homesOf(t *testing.T, c *redis.Client, key string) []string {
	t.Helper()
	v, err := c.Do(testCtx(t, 5*time.Second), "RING", "KEY", key).Result()
	if err != nil {
		t.Fatalf("RING KEY: %v", err)
	}
	m, ok := v.(map[any]any)
	if !ok {
		t.Fatalf("RING KEY reply %T, want a map", v)
	}
	rows, _ := m["preference_list"].([]any)
	var homes []string
	for _, r := range rows {
		row, _ := r.([]any)
		if len(row) == 4 && row[3] == "replica" {
			homes = append(homes, fmt.Sprint(row[0]))
		}
	}
	if len(homes) == 0 {
		t.Fatalf("RING KEY %s: no replicas in %v", key, v)
	}
	return homes
}

// waitEveryNodeHolds waits until every node of procs holds k0..k<n-1> with
// values v0..v<n-1> in its own copy.
func waitEveryNodeHolds(t *testing.T, procs []*proc, n int) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	for _, p := range procs {
		c := p.Shared(t)
		poll.Until(t, 10*time.Second, "every key on "+p.Addr(), func() bool {
			for i := range n {
				if _, ok, _ := holdsLocally(ctx, c, fmt.Sprint("k", i), fmt.Sprint("v", i)); !ok {
					return false
				}
			}
			return true
		})
	}
}

// TestE2EClusterBasics: three nodes find each other through a seed; a write
// through any node is readable through every other; RING MEMBERS lists
// all three alive.
func TestE2EClusterBasics(t *testing.T) {
	procs := startCluster(t, 3)
	ctx := testCtx(t, 30*time.Second)
	for i := range 60 {
		c := procs[i%3].Shared(t)
		if err := c.Set(ctx, fmt.Sprint("k", i), fmt.Sprint("v", i), 0).Err(); err != nil {
			t.Fatalf("SET via node %d: %v", i%3+1, err)
		}
	}
	for i := range 60 {
		c := procs[(i+1)%3].Shared(t)
		if v, err := c.Get(ctx, fmt.Sprint("k", i)).Result(); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("GET k%d via another node: %q %v", i, v, err)
		}
	}
	// N=3 on three nodes: every node holds every key.
	waitEveryNodeHolds(t, procs, 60)
	n, err := procs[0].Shared(t).DBSize(ctx).Result()
	if err != nil || n != 60 {
		t.Fatalf("DBSIZE = %d, %v; want 60 distinct keys", n, err)
	}
	members, err := procs[2].Shared(t).Do(ctx, "RING", "MEMBERS").Slice()
	if err != nil || len(members) != 3 {
		t.Fatalf("RING MEMBERS: %v %v", members, err)
	}
	for _, m := range members {
		if s := fmt.Sprint(m); !strings.Contains(s, "alive") {
			t.Fatalf("RING MEMBERS row %s, want alive", s)
		}
	}
}

// TestE2EClusterKill9HintedHandoff is the scenario: four nodes,
// kill -9 one, a burst of writes through another is acknowledged at W=2 and
// read back at R=2; the killed node restarts and receives its hinted
// writes, seen with VGET key LOCAL.
func TestE2EClusterKill9HintedHandoff(t *testing.T) {
	procs := startCluster(t, 4)
	victim := procs[3]
	victim.Kill9()
	killedAt := time.Now()
	c := procs[0].Shared(t)
	ctx := testCtx(t, 60*time.Second)
	const burst = 400
	acked := 0
	var slowest time.Duration
	for i := range burst {
		start := time.Now()
		if err := c.Set(ctx, fmt.Sprint("burst:", i), fmt.Sprint("v", i), 0).Err(); err != nil {
			t.Errorf("SET burst:%d %v after the kill: %v", i, time.Since(killedAt), err)
			continue
		}
		slowest = max(slowest, time.Since(start))
		acked++
	}
	t.Logf("burst after kill -9 of node-4: %d of %d writes acknowledged at W=2, slowest %v", acked, burst, slowest)
	r := procs[1].Shared(t)
	for i := range burst {
		if v, err := r.Get(ctx, fmt.Sprint("burst:", i)).Result(); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("GET burst:%d at R=2 with node-4 down: %q %v", i, v, err)
		}
	}
	pending := hintsPending(t, procs)
	if pending == 0 {
		t.Fatal("no hints held for the killed node")
	}
	// Which keys node-4 is a home replica of, from RING KEY.
	var mine []int
	for i := range burst {
		if slices.Contains(homesOf(t, c, fmt.Sprint("burst:", i)), "node-4") {
			mine = append(mine, i)
		}
	}
	if len(mine) == 0 {
		t.Fatal("node-4 is home of none of the burst keys")
	}
	victim.Restart()
	took := poll.Until(t, 60*time.Second, "hint delivery", func() bool { return hintsPending(t, procs) == 0 })
	t.Logf("%d hints pending at restart; delivered %v after node-4 answered PING", pending, took)
	vc := victim.Shared(t)
	for _, i := range mine {
		if v, ok, err := holdsLocally(ctx, vc, fmt.Sprint("burst:", i), fmt.Sprint("v", i)); !ok {
			t.Fatalf("VGET burst:%d LOCAL on node-4 after handoff: %#v %v", i, v, err)
		}
	}
	t.Logf("node-4 holds all %d of its burst keys locally", len(mine))
}

// TestE2EClusterSIGSTOP: with one node paused, writes through another keep
// succeeding within the deadline; after SIGCONT the paused node catches up
// through hinted handoff.
func TestE2EClusterSIGSTOP(t *testing.T) {
	procs := startCluster(t, 3)
	paused := procs[2]
	if err := syscall.Kill(paused.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			syscall.Kill(paused.PID(), syscall.SIGCONT)
		}
	})
	c := procs[0].Shared(t)
	ctx := testCtx(t, 60*time.Second)
	const writes = 200
	var slowest time.Duration
	for i := range writes {
		start := time.Now()
		if err := c.Set(ctx, fmt.Sprint("paused:", i), fmt.Sprint("v", i), 0).Err(); err != nil {
			t.Fatalf("SET paused:%d with node-3 stopped: %v", i, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	if slowest >= 2*time.Second {
		t.Fatalf("slowest write took %v, beyond the 2 s request deadline", slowest)
	}
	t.Logf("%d writes with node-3 paused, slowest %v", writes, slowest)
	if err := syscall.Kill(paused.PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	pc := paused.Shared(t)
	took := poll.Until(t, 60*time.Second, "node-3 to catch up", func() bool {
		for i := range writes {
			if _, ok, _ := holdsLocally(ctx, pc, fmt.Sprint("paused:", i), fmt.Sprint("v", i)); !ok {
				return false
			}
		}
		return true
	})
	t.Logf("node-3 held all %d writes locally %v after SIGCONT", writes, took)
	poll.Until(t, 30*time.Second, "no hints left", func() bool { return hintsPending(t, procs) == 0 })
}

// TestE2EClusterMultiKeyAndQuorums: on four nodes with N=3 (so no node
// holds every key), the multi-key commands see the whole cluster through
// any node, and VSET/VGET/VDEL take per-request W and R: an acknowledged
// VSET ... W 3 is on three nodes the moment it returns.
func TestE2EClusterMultiKeyAndQuorums(t *testing.T) {
	procs := startCluster(t, 4)
	ctx := testCtx(t, 60*time.Second)
	c1, c2, c3, c4 := procs[0].Shared(t), procs[1].Shared(t), procs[2].Shared(t), procs[3].Shared(t)

	const count = 50
	var pairs []any
	var keys []string
	for i := range count {
		k := fmt.Sprint("mk:", i)
		keys = append(keys, k)
		pairs = append(pairs, k, fmt.Sprint("v", i))
	}
	if err := c1.MSet(ctx, pairs...).Err(); err != nil {
		t.Fatalf("MSET through node-1: %v", err)
	}
	vals, err := c2.MGet(ctx, append(keys, "mk:absent")...).Result()
	if err != nil || len(vals) != count+1 {
		t.Fatalf("MGET through node-2: %d values, %v", len(vals), err)
	}
	for i := range count {
		if vals[i] != fmt.Sprint("v", i) {
			t.Fatalf("MGET %s = %v, want v%d", keys[i], vals[i], i)
		}
	}
	if vals[count] != nil {
		t.Fatalf("MGET of an absent key = %v, want nil", vals[count])
	}
	if n, err := c3.Exists(ctx, "mk:1", "mk:2", "mk:absent", "mk:1").Result(); err != nil || n != 3 {
		t.Fatalf("EXISTS through node-3 = %d, %v; want 3 (a repeated key counts twice)", n, err)
	}
	got, err := c4.Keys(ctx, "mk:*").Result()
	slices.Sort(got)
	want := slices.Clone(keys)
	slices.Sort(want)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("KEYS mk:* through node-4 = %d keys, %v; want the %d written", len(got), err, count)
	}
	seen := map[string]int{}
	var cursor uint64
	for range 1000 {
		page, next, err := c2.Scan(ctx, cursor, "mk:*", 7).Result()
		if err != nil {
			t.Fatalf("SCAN: %v", err)
		}
		for _, k := range page {
			seen[k]++
		}
		if next >= 1<<53 {
			t.Fatalf("SCAN cursor %d: above 2^53, a JavaScript client rounds it", next)
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if cursor != 0 || len(seen) != count {
		t.Fatalf("SCAN through node-2 saw %d distinct keys (cursor %d), want %d", len(seen), cursor, count)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("SCAN returned %s %d times", k, n)
		}
	}
	if n, err := c3.DBSize(ctx).Result(); err != nil || n != count {
		t.Fatalf("DBSIZE through node-3 = %d, %v; want %d", n, err, count)
	}
	if n, err := c4.Del(ctx, "mk:0", "mk:1", "mk:absent").Result(); err != nil || n != 2 {
		t.Fatalf("DEL through node-4 = %d, %v; want 2", n, err)
	}
	if n, err := c1.Exists(ctx, "mk:0", "mk:1").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS after DEL = %d, %v; want 0", n, err)
	}

	// W 3: acknowledged only once three nodes stored it (homes, or stand-ins
	// for a slow home, which keep it as a hint and show it in VGET LOCAL).
	holding := func(key, val string) int {
		n := 0
		for _, p := range procs {
			v, err := p.Shared(t).Do(ctx, "VGET", key, "LOCAL").Slice()
			if err == nil && slices.Contains(v[min(1, len(v)):], any(val)) {
				n++
			}
		}
		return n
	}
	if err := c2.Do(ctx, "VSET", "q", "", "three", "W", "3").Err(); err != nil {
		t.Fatalf("VSET W 3: %v", err)
	}
	if n := holding("q", "three"); n < 3 {
		t.Fatalf("right after VSET ... W 3, %d nodes hold the value; want at least 3", n)
	}
	res, err := c3.Do(ctx, "VGET", "q", "R", "3").Slice()
	if err != nil || len(res) != 2 || res[1] != "three" {
		t.Fatalf("VGET q R 3 = %v, %v", res, err)
	}
	if err := c4.Do(ctx, "VDEL", "q", res[0], "W", "3").Err(); err != nil {
		t.Fatalf("VDEL W 3: %v", err)
	}
	for _, p := range procs {
		if v, err := p.Shared(t).Do(ctx, "VGET", "q").Slice(); err != nil || len(v) != 0 {
			t.Fatalf("VGET q through %s after VDEL W 3 = %v, %v; want empty", p.Addr(), v, err)
		}
	}
	for _, bad := range [][]any{{"VGET", "q", "R", "0"}, {"VSET", "q", "", "x", "W", "0"}, {"VGET", "q", "R", "x"}} {
		if err := c1.Do(ctx, bad...).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR ") {
			t.Fatalf("%v = %v, want an ERR", bad, err)
		}
	}

	if err := c3.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("FLUSHDB through node-3: %v", err)
	}
	if n, err := c1.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("DBSIZE after FLUSHDB = %d, %v; want 0", n, err)
	}
	if got, err := c2.Keys(ctx, "*").Result(); err != nil || len(got) != 0 {
		t.Fatalf("KEYS * after FLUSHDB = %v, %v; want none", got, err)
	}
}

// TestE2EClusterWipedNodeRebuiltByAntiEntropy: a node whose data directory
// is wiped and which restarts empty gets every key back from the other
// replicas through Merkle-tree exchanges alone (no client reads them, and
// no hints were owed to it), seen with VGET key LOCAL.
func TestE2EClusterWipedNodeRebuiltByAntiEntropy(t *testing.T) {
	procs := startCluster(t, 3, "--anti-entropy-interval", "200ms")
	ctx := testCtx(t, 120*time.Second)
	c := procs[0].Shared(t)
	const count = 3000
	loadKeys(t, c, "ae:", count)
	victim := procs[2]
	localKeys := func() int { return localKeyCount(t, victim) }
	poll.Until(t, 30*time.Second, "node-3 to hold every key", func() bool { return localKeys() == count })
	victim.Wipe()
	victim.Restart()
	if n := localKeys(); n == count {
		t.Fatalf("node-3 holds %d keys right after restarting on an empty data directory", n)
	}
	took := poll.Until(t, 60*time.Second, "anti-entropy to rebuild node-3", func() bool { return localKeys() == count })
	vc := victim.Shared(t)
	for i := range count {
		if v, ok, err := holdsLocally(ctx, vc, fmt.Sprint("ae:", i), fmt.Sprint("v", i)); !ok {
			t.Fatalf("VGET ae:%d LOCAL on the rebuilt node: %#v %v", i, v, err)
		}
	}
	var repaired, bytes int
	for _, p := range procs {
		f := info(t, p.Shared(t), "cluster")
		r, _ := strconv.Atoi(f["anti_entropy_repaired"])
		b, _ := strconv.Atoi(f["anti_entropy_bytes"])
		repaired, bytes = repaired+r, bytes+b
	}
	if repaired < count {
		t.Fatalf("anti-entropy repaired %d keys in all, want at least %d", repaired, count)
	}
	t.Logf("wiped node-3 rebuilt by anti-entropy: %d keys in %v after it answered PING; %d keys repaired, %d bytes exchanged in all", count, took, repaired, bytes)
}

// TestE2EClusterRemoveDeadNode: with N=3 on four nodes, a node killed with
// kill -9 and removed with RING REMOVE leaves three members, each a home of
// every partition; anti-entropy rebuilds every key on each of them.
func TestE2EClusterRemoveDeadNode(t *testing.T) {
	procs := startCluster(t, 4, "--anti-entropy-interval", "200ms")
	ctx := testCtx(t, 120*time.Second)
	c := procs[0].Shared(t)
	const count = 2000
	loadKeys(t, c, "rm:", count)
	localKeys := func(p *proc) int { return localKeyCount(t, p) }
	procs[3].Kill9()
	before := []int{localKeys(procs[0]), localKeys(procs[1]), localKeys(procs[2])}
	if before[0] == count && before[1] == count && before[2] == count {
		t.Fatalf("every survivor already holds every key (%v): N=3 on 4 nodes should spread them", before)
	}
	start := time.Now()
	if err := c.Do(ctx, "RING", "REMOVE", "node-4").Err(); err != nil {
		t.Fatalf("RING REMOVE node-4: %v", err)
	}
	for _, p := range procs[:3] {
		poll.Until(t, 60*time.Second, p.Addr()+" to hold every key", func() bool { return localKeys(p) == count })
	}
	took := time.Since(start)
	for _, p := range procs[:3] {
		pc := p.Shared(t)
		for i := range count {
			if v, ok, err := holdsLocally(ctx, pc, fmt.Sprint("rm:", i), fmt.Sprint("v", i)); !ok {
				t.Fatalf("VGET rm:%d LOCAL on %s after the removal: %#v %v", i, p.Addr(), v, err)
			}
		}
	}
	members, err := c.Do(ctx, "RING", "MEMBERS").Slice()
	if err != nil || !strings.Contains(fmt.Sprint(members), "removed") {
		t.Fatalf("RING MEMBERS after the removal: %v %v", members, err)
	}
	t.Logf("node-4 removed: the survivors held %v of %d keys, all %d each %v after RING REMOVE", before, count, count, took)

	// Keys deleted after the removal stay deleted when node-4 comes back
	// with its old copies: it learns it was removed, says so, refuses data
	// commands and sends nothing.
	var gone []string
	for i := 0; i < count; i += 10 {
		gone = append(gone, fmt.Sprint("rm:", i))
	}
	if err := c.Del(ctx, gone...).Err(); err != nil {
		t.Fatal(err)
	}
	removed := procs[3]
	removed.Restart()
	const refusal = "ERR this node was removed from the ring (RING REMOVE); wipe its data directory and start it again to rejoin"
	rc := removed.Shared(t)
	poll.Until(t, 30*time.Second, "node-4 to learn its removal", func() bool {
		err := rc.Get(ctx, "rm:1").Err()
		return err != nil && err.Error() == refusal
	})
	if !strings.Contains(removed.Output(), "this node was removed from the ring by an operator") {
		t.Fatal("node-4 did not log its removal")
	}
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING on the removed node: %v", err)
	}
	if err := rc.Set(ctx, "rm:new", "x", 0).Err(); err == nil || err.Error() != refusal {
		t.Fatalf("SET on the removed node = %v, want the refusal", err)
	}
	// A few anti-entropy rounds of the survivors pass.
	r0, _ := strconv.Atoi(info(t, c, "cluster")["anti_entropy_rounds"])
	poll.Until(t, 30*time.Second, "anti-entropy rounds", func() bool {
		r, _ := strconv.Atoi(info(t, c, "cluster")["anti_entropy_rounds"])
		return r >= r0+5
	})
	for _, p := range procs[:3] {
		for _, k := range gone {
			if v, err := p.Shared(t).Do(ctx, "VGET", k, "LOCAL").Slice(); err != nil || len(v) != 0 {
				t.Fatalf("%s on %s after the removed node returned: %v %v", k, p.Addr(), v, err)
			}
		}
	}

	// Wiped, it joins anew under its old id and serves again.
	removed.Wipe()
	removed.Restart()
	waitClusterAlive(t, procs, 4)
	poll.Until(t, 30*time.Second, "the wiped node-4 to serve", func() bool {
		v, err := rc.Get(ctx, "rm:1").Result()
		return err == nil && v == "v1"
	})
	if v, err := rc.Get(ctx, "rm:0").Result(); err != redis.Nil {
		t.Fatalf("GET rm:0 (deleted) through the rejoined node = %q, %v", v, err)
	}
}

// TestE2EClusterDeletesStayDeleted: keys deleted while a node is down (kill
// -9) stay deleted on every node after it restarts with its old values and
// hinted handoff and anti-entropy rounds have run.
func TestE2EClusterDeletesStayDeleted(t *testing.T) {
	procs := startCluster(t, 3, "--anti-entropy-interval", "200ms")
	ctx := testCtx(t, 120*time.Second)
	c := procs[0].Shared(t)
	const count = 600
	var pairs []any
	for i := range count {
		pairs = append(pairs, fmt.Sprint("del:", i), "old")
	}
	if err := c.MSet(ctx, pairs...).Err(); err != nil {
		t.Fatal(err)
	}
	victim := procs[2]
	poll.Until(t, 30*time.Second, "node-3 to hold every key", func() bool { return localKeyCount(t, victim) == count })
	victim.Kill9()
	var gone []string
	for i := 0; i < count; i += 2 {
		gone = append(gone, fmt.Sprint("del:", i))
	}
	if n, err := c.Del(ctx, gone...).Result(); err != nil || n != int64(len(gone)) {
		t.Fatalf("DEL with node-3 down = %d, %v", n, err)
	}
	victim.Restart()
	rounds := func() int {
		n, _ := strconv.Atoi(info(t, victim.Shared(t), "cluster")["anti_entropy_rounds"])
		return n
	}
	poll.Until(t, 60*time.Second, "hints delivered and anti-entropy rounds on node-3", func() bool {
		return hintsPending(t, procs) == 0 && rounds() >= 3
	})
	for _, p := range procs {
		pc := p.Shared(t)
		for i := range count {
			v, err := pc.Do(ctx, "VGET", fmt.Sprint("del:", i), "LOCAL").Slice()
			if err != nil {
				t.Fatal(err)
			}
			if deleted := i%2 == 0; deleted != (len(v) == 0) {
				t.Fatalf("del:%d on %s after the restart: %v (deleted: %v)", i, p.Addr(), v, deleted)
			}
		}
	}
	if n, err := procs[2].Shared(t).DBSize(ctx).Result(); err != nil || n != count/2 {
		t.Fatalf("DBSIZE = %d, %v; want %d", n, err, count/2)
	}
}

// TestE2EClusterJoinUnderLoad: a fourth node joins a loaded 3-node cluster
// (N=3) while a client keeps writing. Every acknowledged write stays
// readable at R=2 throughout; afterwards every node holds exactly the keys
// whose preference list names it among the first N: the joiner got its
// share, and the others dropped what they no longer replicate, once the
// new homes held it.
func TestE2EClusterJoinUnderLoad(t *testing.T) {
	procs := startCluster(t, 3, "--anti-entropy-interval", "200ms")
	ctx := testCtx(t, 180*time.Second)
	c := procs[0].Shared(t)
	var acked []string
	write := func(k string) {
		if err := c.Set(ctx, k, "v:"+k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		acked = append(acked, k)
	}
	for i := range 1500 {
		write(fmt.Sprint("join:", i))
	}
	gossip := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, true)))
	joiner := startNode(t, "--node-id", "node-4", "--gossip-listen", gossip, "--seeds", procs[0].gossipAddr(t),
		"--anti-entropy-interval", "200ms", "--log-level", "debug")
	all := append(procs[:3:3], joiner)
	reader := procs[1].Shared(t)
	unreadable, reads := 0, 0
	// Settled: every node sees the same 4-node ring, holds no partition it
	// does not replicate, and the nodes hold N=3 copies of every key between
	// them.
	settled := func() bool {
		version, copies := "", 0
		for _, p := range all {
			f := info(t, p.Shared(t), "cluster")
			if f["cluster_members_alive"] != "4" || f["transfers_in_progress"] != "0" || f["anti_entropy_trees"] != "ready" ||
				(version != "" && f["cluster_ring_version"] != version) {
				return false
			}
			version = f["cluster_ring_version"]
			copies += localKeyCount(t, p)
		}
		return copies == 3*len(acked)
	}
	// Keep writing, and reading back earlier writes, until the transfer is over.
	start := time.Now()
	for i := 1500; ; i++ {
		write(fmt.Sprint("join:", i))
		k := acked[(i*7919)%len(acked)]
		reads++
		if v, err := reader.Get(ctx, k).Result(); err != nil || v != "v:"+k {
			unreadable++
			t.Errorf("GET %s at R=2 during the join: %q, %v", k, v, err)
		}
		if i%25 == 0 && settled() {
			break
		}
		if time.Since(start) > 90*time.Second {
			t.Fatal("the join did not settle within 90 s")
		}
	}
	took := time.Since(start)
	for _, k := range acked {
		homes := homesOf(t, c, k)
		for _, p := range all {
			v, err := p.Shared(t).Do(ctx, "VGET", k, "LOCAL").Slice()
			if err != nil {
				t.Fatal(err)
			}
			id := fmt.Sprint("node-", slices.Index(all, p)+1)
			if has, home := len(v) == 2, slices.Contains(homes, id); has != home {
				t.Fatalf("%s on %s: held %v, home %v (homes %v)", k, id, has, home, homes)
			}
		}
	}
	t.Logf("node-4 joined under load: %d writes acknowledged, %d reads of earlier writes, %d unreadable; settled %v after the start", len(acked), reads, unreadable, took)
}

// gossipAddr returns the node's --gossip-listen address.
func (p *proc) gossipAddr(t *testing.T) string {
	t.Helper()
	v, ok := hasFlag(p.args, "--gossip-listen")
	if !ok {
		t.Fatalf("%s has no --gossip-listen", p.Addr())
	}
	return v
}

// loadKeys writes count keys prefix0.. through c with MSET, 100 at a time;
// key prefix<i> gets value v<i>.
func loadKeys(t *testing.T, c *redis.Client, prefix string, count int) {
	t.Helper()
	ctx := testCtx(t, 60*time.Second)
	for i := 0; i < count; i += 100 {
		var pairs []any
		for j := i; j < min(i+100, count); j++ {
			pairs = append(pairs, fmt.Sprint(prefix, j), fmt.Sprint("v", j))
		}
		if err := c.MSet(ctx, pairs...).Err(); err != nil {
			t.Fatalf("MSET: %v", err)
		}
	}
}

// localKeyCount is the node's own key count, from INFO keyspace.
func localKeyCount(t *testing.T, p *proc) int {
	n := 0
	fmt.Sscanf(info(t, p.Shared(t), "keyspace")["db0"], "keys=%d", &n)
	return n
}
