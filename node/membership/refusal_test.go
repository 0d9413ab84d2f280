package membership

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/node/store"
)

// msIdentity gives every node its own instance token ("dir-" + its id) and
// q partitions, as node.Open does from the data directory.
func msIdentity(q int) func(*Config) {
	return func(c *Config) { c.Instance, c.Partitions = "dir-"+c.Self.ID, q }
}

// msHolds checks that cond holds throughout d (a bounded poll of a
// condition that must not change).
func msHolds(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("no longer true: %s", what)
		}
		<-tick.C
	}
}

// msNeverLists checks, for d, that none of ms knows id: not in memberlist,
// not in the member set.
func msNeverLists(t *testing.T, d time.Duration, id string, ms ...msNode) {
	t.Helper()
	msHolds(t, d, "nobody knows "+id, func() bool {
		for _, m := range ms {
			if _, ok := m.Set().Get(id); ok || m.Liveness(id) != LiveDead {
				return false
			}
			for _, n := range m.list.Members() {
				if n.Name == id {
					return false
				}
			}
		}
		return true
	})
}

// msListsAt reports whether m's memberlist lists id alive at gossip
// address addr.
func msListsAt(m msNode, id, addr string) bool {
	got, ok := m.gossipAddrOf(id)
	return ok && got == addr && m.Liveness(id) == LiveAlive
}

// TestMembershipImpostorRefused: a second process started with a live
// node's id (another data directory: another instance token, another
// address) is refused when it joins: Start fails naming node_id, the id
// and the live node's address; the members log it, keep routing to the
// real node, and keep doing so after the real node restarts. On main the
// impostor joined silently.
func TestMembershipImpostorRefused(t *testing.T) {
	a, b, c := msStartCluster(t, msIdentity(64))
	start := time.Now()
	imp, err := msTryStart(t, "c", msSeeds(a), func(cfg *Config) { cfg.Instance, cfg.Partitions = "dir-impostor", 64 })
	if err == nil {
		t.Fatalf("the impostor started: it joined as c, whose data directory is another")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("refusing the impostor took %v; it should be told by its first join", took)
	}
	msg := err.Error()
	if !errors.Is(err, ErrRefused) || !strings.Contains(msg, "node_id") || !strings.Contains(msg, `"c"`) || !strings.Contains(msg, c.GossipAddr()) {
		t.Fatalf("impostor's error = %q; want ErrRefused naming node_id, the id and %s", msg, c.GossipAddr())
	}
	if strings.Contains(imp.logs.String(), "membership started") {
		t.Errorf("the impostor's log says it started:\n%s", imp.logs)
	}
	poll := func(what string, cond func() bool) { msWaitFor(t, 5*time.Second, what, cond) }
	poll("a logs the refusal at warn", func() bool {
		l := a.logs.String()
		return strings.Contains(l, "level=WARN") && strings.Contains(l, "refusing a node") && strings.Contains(l, "node_id")
	})
	// The members keep the real c: alive, at its own addresses.
	msHolds(t, 1500*time.Millisecond, "a and b route c to the real c", func() bool {
		for _, m := range []msNode{a, b} {
			cl, peer, _ := m.Addrs("c")
			if !msListsAt(m, "c", c.GossipAddr()) || m.Liveness("c") != LiveAlive || cl != c.cfg.Self.Addr || peer != c.cfg.Self.PeerAddr {
				return false
			}
		}
		return true
	})

	// The real c restarts (crash, same data directory and address): the
	// members take it back, not anything else.
	addr, st := c.GossipAddr(), c.cfg.Store
	if err := c.stop(false); err != nil {
		t.Fatal(err)
	}
	c2 := msStart(t, "c", msSeeds(a), msIdentity(64), func(cfg *Config) { cfg.GossipListen, cfg.Store = addr, st })
	poll("c alive again at its address", func() bool {
		return msAllAlive(a, b, c2) && msListsAt(a, "c", addr) && msListsAt(b, "c", addr)
	})
}

// TestMembershipRestartAtNewAddresses: the same data directory (same
// instance token) restarted at new client, peer and gossip addresses while
// the members still believe its old incarnation alive is not an impostor:
// it starts, and the members route to its new addresses once memberlist
// gives up the old one. A wiped node (another token) restarted at the same
// gossip address takes its place back too.
//
// It runs with production timing (a crashed node stays alive to the others
// for 3-6 s), so that the restart surely comes while the old incarnation is
// alive at the members.
func TestMembershipRestartAtNewAddresses(t *testing.T) {
	slow := func(c *Config) { c.Fast = false }
	a, b, c := msStartCluster(t, msIdentity(64), slow)
	joined, st := c.Self().Joined, c.cfg.Store
	if err := c.stop(false); err != nil { // a crash: no leave
		t.Fatal(err)
	}
	start := time.Now()
	c2 := msStart(t, "c", msSeeds(a), msIdentity(64), slow, func(cfg *Config) {
		cfg.Store = st
		cfg.Self.Addr, cfg.Self.PeerAddr = "127.0.0.1:16000", "127.0.0.1:17000"
	})
	if a.Liveness("c") != LiveAlive || !msListsAt(a, "c", c.GossipAddr()) {
		t.Fatalf("a found the old c dead %v after its crash, before the restart was tested", time.Since(start))
	}
	if c2.GossipAddr() == c.GossipAddr() {
		t.Fatalf("restarted at the same gossip address %s", c2.GossipAddr())
	}
	msWaitFor(t, 30*time.Second, "a and b route c to its new addresses", func() bool {
		for _, m := range []msNode{a, b} {
			cl, peer, _ := m.Addrs("c")
			if !msListsAt(m, "c", c2.GossipAddr()) || m.Liveness("c") != LiveAlive || cl != "127.0.0.1:16000" || peer != "127.0.0.1:17000" {
				return false
			}
		}
		return true
	})
	t.Logf("members took c's new addresses %v after its restart", time.Since(start).Round(time.Millisecond))
	if got := c2.Self().Joined; got != joined || a.Set().Len() != 3 {
		t.Errorf("c joined at %d (was %d), a knows %d records: a restart at new addresses must not make a new member", got, joined, a.Set().Len())
	}
	if strings.Contains(c2.logs.String(), "refused") {
		t.Errorf("the restarted node was refused:\n%s", c2.logs)
	}

	// Wiped: a fresh store (another instance token) at c2's gossip address.
	addr := c2.GossipAddr()
	if err := c2.stop(false); err != nil {
		t.Fatal(err)
	}
	c3 := msStart(t, "c", msSeeds(a), slow, func(cfg *Config) {
		cfg.Instance, cfg.Partitions, cfg.GossipListen = "dir-c-wiped", 64, addr
	})
	if got := c3.Self().Joined; got != joined {
		t.Errorf("wiped c joined at %d, want its old generation %d", got, joined)
	}
	msWaitFor(t, 30*time.Second, "wiped c alive again", func() bool { return msAllAlive(a, b, c3) && msListsAt(a, "c", addr) })
}

// TestMembershipPartitionsRefused: a node with another partition count is
// refused on both sides: its Start fails naming partitions, the members
// log it at warn and never list it.
func TestMembershipPartitionsRefused(t *testing.T) {
	a, b, _ := msStartCluster(t, msIdentity(64))
	_, err := msTryStart(t, "x", msSeeds(a), msIdentity(32))
	if err == nil {
		t.Fatal("a 32-partition node joined a 64-partition cluster")
	}
	if msg := err.Error(); !errors.Is(err, ErrRefused) || !strings.Contains(msg, "partitions") || !strings.Contains(msg, "64") || !strings.Contains(msg, "32") {
		t.Fatalf("error = %q; want ErrRefused naming partitions, 64 and 32", msg)
	}
	msWaitFor(t, 5*time.Second, "a logs the refusal at warn", func() bool {
		l := a.logs.String()
		return strings.Contains(l, "level=WARN") && strings.Contains(l, "refusing a node") && strings.Contains(l, "partitions")
	})
	msNeverLists(t, 1500*time.Millisecond, "x", a, b)
}

// TestMembershipSecretRefused: a joiner whose seed gossips with another
// cluster_secret (none against one, one against none, two different) is
// told so by its first join: Start fails with ErrRefused naming
// cluster_secret and the seed; the seed logs it at warn; nobody hears of
// the joiner. On main the joiner logged "no seed answered" and started
// alone as a cluster of its own. (A seed nobody listens on is not a
// refusal: TestMembershipLateSeed.)
func TestMembershipSecretRefused(t *testing.T) {
	for _, tc := range []struct{ name, cluster, joiner, want string }{
		{"joiner without a secret", "s1", "", "has none"},
		{"joiner with a secret, cluster without", "", "s1", "not encrypted"},
		{"another secret", "s1", "s2", "another cluster_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret := func(s string) func(*Config) { return func(c *Config) { c.Secret = s } }
			a := msStart(t, "a", secret(tc.cluster))
			b := msStart(t, "b", secret(tc.cluster), msSeeds(a))
			msWaitFor(t, 10*time.Second, "a and b agree", func() bool { return msConverged(2, a, b) && msAllAlive(a, b) })
			start := time.Now()
			x, err := msTryStart(t, "x", secret(tc.joiner), msSeeds(a))
			if err == nil {
				t.Fatal("the joiner started")
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refusing took %v, want the first join attempt's time", took)
			}
			if msg := err.Error(); !errors.Is(err, ErrRefused) || !strings.Contains(msg, "cluster_secret") ||
				!strings.Contains(msg, a.GossipAddr()) || !strings.Contains(msg, tc.want) {
				t.Fatalf("error = %q; want ErrRefused naming cluster_secret, the seed %s and %q", msg, a.GossipAddr(), tc.want)
			}
			if strings.Contains(x.logs.String(), "no seed answered") {
				t.Errorf("the joiner took the refusal for an unreachable seed:\n%s", x.logs)
			}
			msWaitFor(t, 5*time.Second, "the seed logs it at warn", func() bool {
				l := a.logs.String()
				return strings.Contains(l, "level=WARN") && strings.Contains(l, "another cluster_secret")
			})
			msNeverLists(t, time.Second, "x", a, b)
		})
	}
}

// TestMembershipRefusedAfterStart: a node whose seed was not up within
// JoinTimeout starts alone; when the seed comes up with another secret,
// the node is refused in the background: OnRefused gets the reason, once.
func TestMembershipRefusedAfterStart(t *testing.T) {
	seed := msFreeAddr(t)
	refused := make(chan error, 4)
	x := msStart(t, "x", func(c *Config) {
		c.Seeds, c.JoinTimeout, c.Secret = []string{seed}, 200*time.Millisecond, "s2"
		c.OnRefused = func(err error) { refused <- err }
	})
	if x.refused() {
		t.Fatal("refused with nobody listening on the seed address")
	}
	msStart(t, "a", func(c *Config) { c.GossipListen, c.Secret = seed, "s1" })
	select {
	case err := <-refused:
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "cluster_secret") || !strings.Contains(err.Error(), seed) {
			t.Fatalf("OnRefused(%q); want ErrRefused naming cluster_secret and %s", err, seed)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("OnRefused not called 20 s after the seed came up; log:\n%s", x.logs)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(refused); n != 0 {
		t.Errorf("OnRefused called %d more times", n)
	}
}

// TestHubRefuses: the Hub applies the same rules to its members.
func TestHubRefuses(t *testing.T) {
	h := NewHub()
	cfg := func(id, inst string, q int) Config {
		return Config{Self: MemberRecord{ID: id, Weight: 1}, Store: store.NewMem(), Instance: inst, Partitions: q}
	}
	a, err := h.Join(cfg("a", "dir-a", 64))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Join(cfg("x", "dir-x", 32)); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "partitions") {
		t.Fatalf("32 partitions in a 64-partition hub: %v", err)
	}
	if _, err := h.Join(cfg("a", "dir-other", 64)); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "node_id") {
		t.Fatalf("a second a: %v", err)
	}
	if _, err := h.Join(cfg("a", "dir-a", 64)); err != nil { // a restart of a
		t.Fatalf("a restarted: %v", err)
	}
	h.SetAlive("a", false)
	if _, err := h.Join(cfg("a", "dir-a-wiped", 64)); err != nil { // a dead a, wiped
		t.Fatalf("a wiped while dead: %v", err)
	}
	if s := a.Set(); s.Len() != 1 {
		t.Errorf("refused members entered the set: %v", s.Records())
	}
	a.Close()
}

func TestNodeMetaRoundTrip(t *testing.T) {
	rec := MemberRecord{ID: "a", Addr: "h:1", PeerAddr: "h:2", GossipAddr: "h:3", Weight: 2, Joined: 7}
	for _, nm := range []NodeMeta{
		{},
		{Instance: "0123456789abcdef", Partitions: 1024},
		{Instance: "i", Partitions: 64, Record: &rec},
	} {
		enc := AppendNodeMeta(nil, nm)
		got, err := DecodeNodeMeta(enc)
		if err != nil {
			t.Fatalf("DecodeNodeMeta(%+v): %v", nm, err)
		}
		if got.Instance != nm.Instance || got.Partitions != nm.Partitions || (got.Record == nil) != (nm.Record == nil) ||
			(got.Record != nil && *got.Record != *nm.Record) {
			t.Fatalf("round trip of %+v gave %+v", nm, got)
		}
	}
	two := AppendNodeMeta(nil, NodeMeta{Instance: "i"})
	two = AppendMemberSet(two, NewMemberSet(rec, MemberRecord{ID: "b", Weight: 1, Joined: 1}))
	for name, bad := range map[string][]byte{
		"empty":       nil,
		"member set":  AppendMemberSet(nil, NewMemberSet(rec)),
		"truncated":   AppendNodeMeta(nil, NodeMeta{Instance: "abc"})[:3],
		"two records": two,
		"long token":  AppendNodeMeta(nil, NodeMeta{Instance: strings.Repeat("x", maxInstanceLen+1)}),
		"huge q":      AppendNodeMeta(nil, NodeMeta{Partitions: 1 << 31}),
	} {
		if _, err := DecodeNodeMeta(bad); !errors.Is(err, ErrCorruptMembers) {
			t.Errorf("%s: DecodeNodeMeta = %v, want ErrCorruptMembers", name, err)
		}
	}
}

func FuzzDecodeNodeMeta(f *testing.F) {
	rec := MemberRecord{ID: "a", Addr: "h:1", PeerAddr: "h:2", GossipAddr: "h:3", Weight: 1, Joined: 1}
	f.Add(AppendNodeMeta(nil, NodeMeta{Instance: "i", Partitions: 1024, Record: &rec}))
	f.Add(AppendNodeMeta(nil, NodeMeta{Instance: "i", Partitions: 64}))
	f.Add([]byte{nodeMetaVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		nm, err := DecodeNodeMeta(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		if enc := AppendNodeMeta(nil, nm); !bytes.Equal(enc, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, nm, enc)
		}
	})
}
