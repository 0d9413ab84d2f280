package main

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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

// pollUntil polls cond every 20 ms until it holds, failing after d.
func pollUntil(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// waitClusterAlive waits until every running node in procs counts alive
// members alive.
func waitClusterAlive(t *testing.T, procs []*proc, alive int) {
	t.Helper()
	for _, p := range procs {
		c := p.Client(t)
		pollUntil(t, 30*time.Second, p.Addr()+" to see the cluster", func() bool {
			f := info(t, c, "cluster")
			return f["cluster_members"] == strconv.Itoa(len(procs)) && f["cluster_members_alive"] == strconv.Itoa(alive)
		})
	}
}

// hintsPending sums hints_pending over the running nodes.
func hintsPending(t *testing.T, procs []*proc) int {
	total := 0
	for _, p := range procs {
		if !p.running() {
			continue
		}
		n, _ := strconv.Atoi(info(t, p.Client(t), "cluster")["hints_pending"])
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

// TestE2EClusterBasics: three nodes find each other through a seed; a write
// through any node is readable through every other; RING MEMBERS lists
// all three alive.
func TestE2EClusterBasics(t *testing.T) {
	procs := startCluster(t, 3)
	ctx := testCtx(t, 30*time.Second)
	for i := range 60 {
		c := procs[i%3].Client(t)
		if err := c.Set(ctx, fmt.Sprint("k", i), fmt.Sprint("v", i), 0).Err(); err != nil {
			t.Fatalf("SET via node %d: %v", i%3+1, err)
		}
	}
	for i := range 60 {
		c := procs[(i+1)%3].Client(t)
		if v, err := c.Get(ctx, fmt.Sprint("k", i)).Result(); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("GET k%d via another node: %q %v", i, v, err)
		}
	}
	// N=3 on three nodes: every node holds every key.
	for _, p := range procs {
		c := p.Client(t)
		pollUntil(t, 10*time.Second, "every key on "+p.Addr(), func() bool {
			for i := range 60 {
				v, err := c.Do(ctx, "VGET", fmt.Sprint("k", i), "LOCAL").Slice()
				if err != nil || len(v) != 2 || v[1] != fmt.Sprint("v", i) {
					return false
				}
			}
			return true
		})
	}
	n, err := procs[0].Client(t).DBSize(ctx).Result()
	if err != nil || n != 60 {
		t.Fatalf("DBSIZE = %d, %v; want 60 distinct keys", n, err)
	}
	members, err := procs[2].Client(t).Do(ctx, "RING", "MEMBERS").Slice()
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
	c := procs[0].Client(t)
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
	r := procs[1].Client(t)
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
	took := pollUntil(t, 60*time.Second, "hint delivery", func() bool { return hintsPending(t, procs) == 0 })
	t.Logf("%d hints pending at restart; delivered %v after node-4 answered PING", pending, took)
	vc := victim.Client(t)
	for _, i := range mine {
		v, err := vc.Do(ctx, "VGET", fmt.Sprint("burst:", i), "LOCAL").Slice()
		if err != nil || len(v) != 2 || v[1] != fmt.Sprint("v", i) {
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
	c := procs[0].Client(t)
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
	pc := paused.Client(t)
	took := pollUntil(t, 60*time.Second, "node-3 to catch up", func() bool {
		for i := range writes {
			v, err := pc.Do(ctx, "VGET", fmt.Sprint("paused:", i), "LOCAL").Slice()
			if err != nil || len(v) != 2 || v[1] != fmt.Sprint("v", i) {
				return false
			}
		}
		return true
	})
	t.Logf("node-3 held all %d writes locally %v after SIGCONT", writes, took)
	pollUntil(t, 30*time.Second, "no hints left", func() bool { return hintsPending(t, procs) == 0 })
}
