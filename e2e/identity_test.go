package e2e

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/syncbuf"

	"github.com/redis/go-redis/v9"
)

// The identity tests: a node's id is kept in its data directory, so its
// addresses may change across restarts; a second process with a live
// node's id, a node with another partition count and a node with another
// cluster_secret are refused and exit non-zero, saying why.

// refusedTimeout bounds how long a refused node may take to exit: its
// first join attempt tells it.
const refusedTimeout = 30 * time.Second

// runRefused runs dynakv with args (ports and data directory filled in as
// startNode does) and waits for it to exit, which it must within
// refusedTimeout and with a non-zero status. It returns the output.
func runRefused(t *testing.T, args ...string) string {
	t.Helper()
	p := newProc(t, args)
	out := new(syncbuf.Buffer)
	cmd := exec.Command(p.name, p.args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = out, out, p.dataDir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
			t.Fatalf("dynakv %s exited with %v, want a non-zero status; output:\n%s", strings.Join(p.args, " "), err, tail(out.String(), 16<<10))
		}
	case <-time.After(refusedTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("dynakv %s still ran %v after its start; it should have been refused; output:\n%s",
			strings.Join(p.args, " "), refusedTimeout, tail(out.String(), 16<<10))
	}
	return out.String()
}

// wantAll fails unless s contains every one of subs.
func wantAll(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("%s does not contain %q:\n%s", what, sub, tail(s, 16<<10))
		}
	}
}

// ringMembers returns RING MEMBERS through c as id -> row.
func ringMembers(t *testing.T, c *redis.Client) map[string]map[any]any {
	t.Helper()
	rows, err := c.Do(testCtx(t, 10*time.Second), "RING", "MEMBERS").Slice()
	if err != nil {
		t.Fatalf("RING MEMBERS: %v", err)
	}
	out := map[string]map[any]any{}
	for _, r := range rows {
		m, ok := r.(map[any]any)
		if !ok {
			t.Fatalf("RING MEMBERS row %T, want a map", r)
		}
		out[fmt.Sprint(m["id"])] = m
	}
	return out
}

// nodeID is the node's id, from CONFIG GET node_id.
func nodeID(t *testing.T, p *proc) string {
	t.Helper()
	v, err := p.Shared(t).ConfigGet(testCtx(t, 10*time.Second), "node_id").Result()
	if err != nil || v["node_id"] == "" {
		t.Fatalf("CONFIG GET node_id on %s: %v %v", p.Addr(), v, err)
	}
	return v["node_id"]
}

// readdress gives p new client, peer and gossip addresses for its next
// start, keeping its data directory and every other flag.
func readdress(t *testing.T, p *proc) {
	t.Helper()
	p.port = freePort(t, false)
	fresh := map[string]string{
		"--listen":        p.Addr(),
		"--peer-listen":   net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, false))),
		"--gossip-listen": net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, true))),
	}
	for i := 0; i+1 < len(p.args); i++ {
		if v, ok := fresh[p.args[i]]; ok {
			p.args[i+1] = v
		}
	}
	p.shared = nil // the old client points at the old address
}

// TestE2EIdentityRestartWithNewAddresses: nodes started without --node-id
// keep the id generated on their first start; restarted at new client,
// peer and gossip addresses, a node is the same member: GET and SET work
// at once, with no RING REMOVE, and the ring keeps its members. On main
// the id was the listen address, so the restart made a new member and the
// old one stayed dead: every GET and SET of a single node failed with
// NOREPLICAS ... %!w(<nil>).
func TestE2EIdentityRestartWithNewAddresses(t *testing.T) {
	dynakvOnly(t)
	t.Run("single node", func(t *testing.T) {
		p := startNode(t)
		ctx := testCtx(t, 60*time.Second)
		id := nodeID(t, p)
		if err := p.Shared(t).Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		p.Stop()
		readdress(t, p)
		p.Restart()
		c := p.Shared(t)
		if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("GET k after the restart at %s = %q, %v", p.Addr(), v, err)
		}
		if err := c.Set(ctx, "k2", "v2", 0).Err(); err != nil {
			t.Fatalf("SET after the restart: %v", err)
		}
		if got := nodeID(t, p); got != id {
			t.Fatalf("node id %q after the restart, want %q", got, id)
		}
		if ms := ringMembers(t, c); len(ms) != 1 || ms[id] == nil {
			t.Fatalf("RING MEMBERS after the restart: %v, want only %s", ms, id)
		}
	})

	t.Run("three nodes", func(t *testing.T) {
		var procs []*proc
		for i := range 3 {
			args := []string{"--log-level", "debug"}
			if i > 0 {
				args = append(args, "--seeds", procs[0].gossipAddr(t))
			}
			procs = append(procs, startNode(t, args...))
		}
		waitClusterAlive(t, procs, 3)
		ids := []string{nodeID(t, procs[0]), nodeID(t, procs[1]), nodeID(t, procs[2])}
		ctx := testCtx(t, 120*time.Second)
		loadKeys(t, procs[0].Shared(t), "id:", 200)

		// kill -9: the others still believe the old incarnation alive for a
		// few seconds after the new one starts.
		moved := procs[2]
		moved.Kill9()
		readdress(t, moved)
		moved.Restart()
		// At once, through the moved node and through another.
		for i, p := range []*proc{moved, procs[0]} {
			c := p.Shared(t)
			if v, err := c.Get(ctx, "id:7").Result(); err != nil || v != "v7" {
				t.Fatalf("GET id:7 through %s right after the restart = %q, %v", p.Addr(), v, err)
			}
			if err := c.Set(ctx, fmt.Sprint("after:", i), "x", 0).Err(); err != nil {
				t.Fatalf("SET through %s right after the restart: %v", p.Addr(), err)
			}
		}
		if got := nodeID(t, moved); got != ids[2] {
			t.Fatalf("moved node's id %q, want %q", got, ids[2])
		}
		// The others take its new address: three members, all alive, the
		// moved one at its new client address.
		start := time.Now()
		for _, p := range procs {
			c := p.Shared(t)
			poll.Until(t, 60*time.Second, p.Addr()+" to see the moved node alive at its new address", func() bool {
				ms := ringMembers(t, c)
				row := ms[ids[2]]
				return len(ms) == 3 && row != nil && row["state"] == "alive" && row["addr"] == moved.Addr()
			})
		}
		t.Logf("members routed to the moved node's new address %v after its restart", time.Since(start).Round(time.Millisecond))
		if v, err := procs[1].Shared(t).Do(ctx, "VGET", "after:1", "LOCAL").Slice(); err != nil || len(v) != 2 {
			t.Fatalf("VGET after:1 LOCAL on another node: %v %v", v, err)
		}
		poll.Until(t, 30*time.Second, "a write through another node to reach the moved node", func() bool {
			_, ok, _ := holdsLocally(ctx, moved.Shared(t), "after:1", "x")
			return ok
		})
	})
}

// TestE2EIdentityImpostorRefused: a second process started with a live
// node's --node-id (its own data directory, its own addresses) exits
// non-zero naming node_id, the id and the live node's gossip address; the
// cluster keeps routing the node's replicas to the real one, also after
// the real one restarts. On main the impostor joined silently.
func TestE2EIdentityImpostorRefused(t *testing.T) {
	procs := startCluster(t, 3)
	real := procs[2]
	out := runRefused(t, "--node-id", "node-3", "--seeds", procs[0].gossipAddr(t))
	wantAll(t, "the impostor's output", out, "node_id", `node \"node-3\" is alive at `+real.gossipAddr(t))

	ctx := testCtx(t, 120*time.Second)
	c := procs[0].Shared(t)
	poll.Until(t, 10*time.Second, "node-1 to log the refusal at warn", func() bool {
		return strings.Contains(procs[0].Output(), "level=WARN msg=\"refusing a node\"")
	})
	check := func(prefix string) {
		t.Helper()
		loadKeys(t, c, prefix, 100)
		ms := ringMembers(t, c)
		if row := ms["node-3"]; len(ms) != 3 || row == nil || row["addr"] != real.Addr() || row["state"] != "alive" {
			t.Fatalf("RING MEMBERS: %v; want node-3 alive at %s", ms, real.Addr())
		}
		// N=3 on three nodes: the real node-3 is a home of every key.
		rc := real.Shared(t)
		for i := range 100 {
			k := fmt.Sprint(prefix, i)
			poll.Until(t, 30*time.Second, k+" on the real node-3", func() bool {
				_, ok, _ := holdsLocally(ctx, rc, k, fmt.Sprint("v", i))
				return ok
			})
		}
	}
	check("imp1:")
	real.Kill9()
	real.Restart()
	waitClusterAlive(t, procs, 3)
	check("imp2:")
}

// TestE2EIdentityPartitionsRefused: a --partitions 512 node started against
// a 1024-partition cluster exits non-zero naming partitions; the members
// log it at warn and never make it a member. On main it joined.
func TestE2EIdentityPartitionsRefused(t *testing.T) {
	procs := startCluster(t, 2)
	out := runRefused(t, "--node-id", "q512", "--partitions", "512", "--seeds", procs[0].gossipAddr(t))
	wantAll(t, "the joiner's output", out, "partitions", "1024", "512")
	poll.Until(t, 10*time.Second, "node-1 to log the refusal at warn", func() bool {
		o := procs[0].Output()
		return strings.Contains(o, "level=WARN msg=\"refusing a node\"") && strings.Contains(o, "partitions")
	})
	for _, p := range procs {
		if ms := ringMembers(t, p.Shared(t)); len(ms) != 2 || ms["q512"] != nil {
			t.Fatalf("RING MEMBERS on %s: %v; want node-1 and node-2 only", p.Addr(), ms)
		}
	}
}

// TestE2EIdentitySecretRefused: a node whose seed has another
// cluster_secret (none against one, one against none, two different ones)
// exits non-zero naming cluster_secret. On main it logged "no seed
// answered; starting alone" and ran as a cluster of its own. A seed that
// nobody listens on is not a refusal: the node starts alone.
func TestE2EIdentitySecretRefused(t *testing.T) {
	dynakvOnly(t)
	for _, tc := range []struct {
		name            string
		cluster, joiner []string
		want            string
	}{
		{"joiner without a secret", []string{"--cluster-secret", "s3cret"}, nil, "this node has none"},
		{"joiner with a secret, cluster without", nil, []string{"--cluster-secret", "s3cret"}, "this node has a cluster_secret"},
		{"another secret", []string{"--cluster-secret", "s3cret"}, []string{"--cluster-secret", "other"}, "it has another cluster_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := startNode(t, append([]string{"--node-id", "seed"}, tc.cluster...)...)
			out := runRefused(t, append([]string{"--node-id", "joiner", "--seeds", seed.gossipAddr(t)}, tc.joiner...)...)
			wantAll(t, "the joiner's output", out, "cluster_secret", "seed "+seed.gossipAddr(t)+" refused this node", tc.want)
			if strings.Contains(out, "no seed answered") {
				t.Fatalf("the joiner took the refusal for an unreachable seed:\n%s", out)
			}
			if ms := ringMembers(t, seed.Shared(t)); len(ms) != 1 {
				t.Fatalf("RING MEMBERS on the seed: %v", ms)
			}
		})
	}
	t.Run("unreachable seed", func(t *testing.T) {
		nobody := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, true)))
		p := startNode(t, "--node-id", "alone", "--cluster-secret", "s3cret", "--seeds", nobody)
		if err := p.Shared(t).Set(testCtx(t, 10*time.Second), "k", "v", 0).Err(); err != nil {
			t.Fatalf("SET on a node whose seed is not up: %v", err)
		}
	})
}
