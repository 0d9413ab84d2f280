package membership

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/dynakv/dynakv/node/store"

	"github.com/hashicorp/memberlist"
)

type msNode struct {
	*Gossip
	cfg     Config
	logs    *syncbuf.Buffer
	changes *atomic.Int64
}

// msStart starts a membership for id on 127.0.0.1, any port, with a
// fresh MemStore, Fast timing and a short JoinTimeout, adjusted by opts. It
// is closed when the test ends.
func msStart(t *testing.T, id string, opts ...func(*Config)) msNode {
	t.Helper()
	tm, err := msTryStart(t, id, opts...)
	if err != nil {
		t.Fatalf("StartMembership(%s): %v\nlog:\n%s", id, err, tm.logs)
	}
	return tm
}

// msTryStart is msStart returning Start's error instead of failing; the
// log of a membership that did not start is in the returned logs.
func msTryStart(t *testing.T, id string, opts ...func(*Config)) (msNode, error) {
	t.Helper()
	tm := msNode{logs: new(syncbuf.Buffer), changes: new(atomic.Int64)}
	tm.cfg = Config{
		Self:         MemberRecord{ID: id, Addr: "127.0.0.1:6" + id, PeerAddr: "127.0.0.1:7" + id, Weight: 1},
		GossipListen: "127.0.0.1:0",
		Store:        store.NewMem(),
		Logger:       slog.New(slog.NewTextHandler(tm.logs, nil)),
		JoinTimeout:  10 * time.Second, // seeds answer at once unless a test makes them unreachable
		OnChange:     func() { tm.changes.Add(1) },
		Fast:         true,
	}
	for _, o := range opts {
		o(&tm.cfg)
	}
	m, err := Start(tm.cfg)
	if err != nil {
		return tm, err
	}
	tm.Gossip = m
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close(%s): %v", id, err)
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", id, tm.logs)
		}
	})
	return tm, nil
}

func msSeeds(ms ...msNode) func(*Config) {
	return func(c *Config) {
		for _, m := range ms {
			c.Seeds = append(c.Seeds, m.GossipAddr())
		}
	}
}

// msWaitFor polls cond until it holds or timeout passes.
func msWaitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		<-tick.C
	}
}

// msConverged reports whether every member has the same set of n records.
func msConverged(n int, ms ...msNode) bool {
	want := AppendMemberSet(nil, ms[0].Set())
	for _, m := range ms {
		if m.Set().Len() != n || !bytes.Equal(AppendMemberSet(nil, m.Set()), want) {
			return false
		}
	}
	return true
}

func msAllAlive(ms ...msNode) bool {
	for _, m := range ms {
		for _, o := range ms {
			if m.Liveness(o.cfg.Self.ID) != LiveAlive {
				return false
			}
		}
		if a, s, d := m.Counts(); a != len(ms) || s != 0 || d != 0 {
			return false
		}
	}
	return true
}

func msCounts(m msNode) [3]int {
	a, s, d := m.Counts()
	return [3]int{a, s, d}
}

// msStartCluster starts a, b, c one after the other, b and c seeded with a,
// and waits until they agree and see each other alive.
func msStartCluster(t *testing.T, opts ...func(*Config)) (a, b, c msNode) {
	t.Helper()
	a = msStart(t, "a", opts...)
	b = msStart(t, "b", append(opts, msSeeds(a))...)
	msWaitFor(t, 5*time.Second, "a learns b", func() bool { _, ok := a.Set().Get("b"); return ok })
	c = msStart(t, "c", append(opts, msSeeds(a))...)
	msWaitFor(t, 10*time.Second, "the three sets converge", func() bool { return msConverged(3, a, b, c) })
	msWaitFor(t, 10*time.Second, "everyone alive everywhere", func() bool { return msAllAlive(a, b, c) })
	return a, b, c
}

func TestMembershipJoin(t *testing.T) {
	// Readers hammer every started member while the others join (-race).
	var (
		mu      sync.Mutex
		started []*Gossip
		stop    = make(chan struct{})
		readers sync.WaitGroup
	)
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				ms := started
				mu.Unlock()
				for _, m := range ms {
					for _, id := range []string{"a", "b", "c", "x"} {
						_ = m.Liveness(id)
						_, _, _ = m.Addrs(id)
					}
					_ = m.Set().Members()
					_, _, _ = m.Counts()
					_ = m.Self()
					_ = m.Removed()
				}
				runtime.Gosched() // leave memberlist room when GOMAXPROCS is 1
			}
		}()
	}
	a := msStart(t, "a")
	mu.Lock()
	started = append(started, a.Gossip)
	mu.Unlock()
	b := msStart(t, "b", msSeeds(a))
	mu.Lock()
	started = append(started, b.Gossip)
	mu.Unlock()
	msWaitFor(t, 5*time.Second, "a learns b", func() bool { _, ok := a.Set().Get("b"); return ok })
	c := msStart(t, "c", msSeeds(a))
	mu.Lock()
	started = append(started, c.Gossip)
	mu.Unlock()

	msWaitFor(t, 10*time.Second, "the three sets converge", func() bool { return msConverged(3, a, b, c) })
	msWaitFor(t, 10*time.Second, "everyone alive everywhere", func() bool { return msAllAlive(a, b, c) })
	close(stop)
	readers.Wait()

	var gens []uint64
	for _, m := range []msNode{a, b, c} {
		self := m.Self()
		gens = append(gens, self.Joined)
		if self.GossipAddr != m.GossipAddr() || self.Addr != m.cfg.Self.Addr || self.Weight != 1 {
			t.Errorf("Self() = %+v, gossip address %s", self, m.GossipAddr())
		}
		if got, _ := a.Set().Get(self.ID); got != self {
			t.Errorf("a's record of %s = %+v, want %+v", self.ID, got, self)
		}
		if m.changes.Load() == 0 {
			t.Errorf("OnChange of %s never called", self.ID)
		}
		if m.Removed() {
			t.Errorf("%s reports itself removed", self.ID)
		}
	}
	if gens[0] != 1 || gens[1] != 2 || gens[2] != 3 {
		t.Errorf("join generations of a, b, c = %v, want [1 2 3]", gens)
	}
	if cl, peer, ok := a.Addrs("c"); !ok || cl != c.cfg.Self.Addr || peer != c.cfg.Self.PeerAddr {
		t.Errorf(`a.Addrs("c") = %q, %q, %v`, cl, peer, ok)
	}
	if _, _, ok := a.Addrs("x"); ok || a.Liveness("x") != LiveDead {
		t.Errorf("an unknown id has addresses or is not dead")
	}
	// Each node persisted the set it knows.
	for _, m := range []msNode{a, b, c} {
		msWaitFor(t, 5*time.Second, "the set is persisted", func() bool {
			s, err := LoadMemberSet(m.cfg.Store)
			return err == nil && s.Len() == 3
		})
	}
}

func TestMembershipRestart(t *testing.T) {
	a, b, c := msStartCluster(t)
	joined, addr, store := c.Self().Joined, c.GossipAddr(), c.cfg.Store
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	msWaitFor(t, 5*time.Second, "a and b see c dead", func() bool {
		return msCounts(a) == [3]int{2, 0, 1} && msCounts(b) == [3]int{2, 0, 1} && a.Liveness("c") == LiveDead
	})
	// A dead node keeps its record.
	if r, ok := a.Set().Get("c"); !ok || r.Removed != 0 {
		t.Fatalf("a's record of dead c = %+v, %v", r, ok)
	}

	c2 := msStart(t, "c", msSeeds(a), func(cfg *Config) {
		cfg.GossipListen = addr
		cfg.Store = store
	})
	if got := c2.Self().Joined; got != joined {
		t.Errorf("restarted c joined at %d, want %d as before", got, joined)
	}
	if n := c2.Set().Len(); n != 3 {
		t.Errorf("restarted c knows %d records before hearing from anyone, want 3", n)
	}
	msWaitFor(t, 10*time.Second, "c seen alive again", func() bool { return msAllAlive(a, b, c2) })
	msWaitFor(t, 5*time.Second, "sets converge", func() bool { return msConverged(3, a, b, c2) })
}

func TestMembershipDetectsCrash(t *testing.T) {
	a, b, c := msStartCluster(t)
	if err := c.stop(false); err != nil { // no leave message: peers must probe
		t.Fatal(err)
	}
	msWaitFor(t, 5*time.Second, "a and b find c dead", func() bool {
		return msCounts(a) == [3]int{2, 0, 1} && msCounts(b) == [3]int{2, 0, 1}
	})
	if r, ok := a.Set().Get("c"); !ok || r.Removed != 0 {
		t.Errorf("a's record of crashed c = %+v, %v; a dead node keeps its record", r, ok)
	}
}

func TestMembershipWipedNodeTakesBackItsRecord(t *testing.T) {
	a, b, c := msStartCluster(t)
	joined := c.Self().Joined
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := msStart(t, "c", msSeeds(a)) // a fresh store: no stored record
	if got := c2.Self().Joined; got != joined {
		t.Errorf("wiped c joined at %d, want its old generation %d", got, joined)
	}
	msWaitFor(t, 10*time.Second, "c seen alive again", func() bool { return msAllAlive(a, b, c2) })
}

// msFreeAddr returns a 127.0.0.1 address whose port is free for TCP and UDP
// at the time of the call.
func msFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	pc, err := net.ListenPacket("udp", addr)
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	pc.Close()
	return addr
}

func TestMembershipLateSeed(t *testing.T) {
	seed := msFreeAddr(t)
	const joinTimeout = 300 * time.Millisecond
	start := time.Now()
	b := msStart(t, "b", func(c *Config) {
		c.Seeds = []string{seed}
		c.JoinTimeout = joinTimeout
	})
	if d := time.Since(start); d < joinTimeout || d > joinTimeout+2*time.Second {
		t.Errorf("starting with an unreachable seed took %v, want about %v", d, joinTimeout)
	}
	if got := b.Self().Joined; got != 1 || b.Set().Len() != 1 {
		t.Errorf("b alone: joined %d with %d records, want 1 and 1", got, b.Set().Len())
	}

	a := msStart(t, "a", func(c *Config) { c.GossipListen = seed })
	msWaitFor(t, 10*time.Second, "b joins the late seed and the sets merge", func() bool { return msConverged(2, a, b) })
	msWaitFor(t, 5*time.Second, "both alive", func() bool { return msAllAlive(a, b) })
}

func TestMembershipRemove(t *testing.T) {
	a, b, c := msStartCluster(t)
	cAddr, cStore := c.GossipAddr(), c.cfg.Store
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	if err := a.Remove("c"); err != nil {
		t.Fatalf(`Remove("c"): %v`, err)
	}
	// Persisted before Remove returned.
	stored, err := LoadMemberSet(a.cfg.Store)
	if r, ok := stored.Get("c"); err != nil || !ok || r.Removed == 0 {
		t.Fatalf("a's stored record of c = %+v, %v, %v; want removed", r, ok, err)
	}
	for _, m := range []msNode{a, b} {
		msWaitFor(t, 5*time.Second, "the removal reaches every node", func() bool {
			r, ok := m.Set().Get("c")
			return ok && r.Removed > r.Joined
		})
		msWaitFor(t, 5*time.Second, "counts leave c out", func() bool { return msCounts(m) == [3]int{2, 0, 0} })
	}

	for _, tc := range []struct {
		id   string
		want error
		text string
	}{
		{"nope", ErrUnknownMember, "no such node 'nope'"},
		{"c", ErrAlreadyRemoved, "node 'c' is already removed"},
		{"a", ErrRemoveSelf, "cannot remove this node itself"},
	} {
		err := a.Remove(tc.id)
		if !errors.Is(err, tc.want) || err.Error() != tc.text {
			t.Errorf("Remove(%q) = %v, want %q", tc.id, err, tc.text)
		}
	}

	// c comes back with its old data: it learns it was removed.
	c2 := msStart(t, "c", msSeeds(a), func(cfg *Config) {
		cfg.GossipListen = cAddr
		cfg.Store = cStore
	})
	msWaitFor(t, 10*time.Second, "c learns its removal", c2.Removed)
	const msg = "this node was removed from the ring by an operator"
	msWaitFor(t, 5*time.Second, "c logs its removal", func() bool { return strings.Contains(c2.logs.String(), msg) })
	if r, _ := a.Set().Get("c"); r.Removed == 0 {
		t.Errorf("c's return undid its removal at a: %+v", r)
	}
	if got := msCounts(a); got != [3]int{2, 0, 0} {
		t.Errorf("a.Counts() = %v after c's return, want [2 0 0]", got)
	}
	if n := strings.Count(c2.logs.String(), msg); n != 1 {
		t.Errorf("c logged its removal %d times, want once", n)
	}
}

func TestMembershipDropsInvalidGossip(t *testing.T) {
	a := msStart(t, "a")
	before := AppendMemberSet(nil, a.Set())
	d := memberDelegate{a.Gossip}
	for _, junk := range [][]byte{nil, {}, {0xff}, {1, 200}, []byte("not a member set"), before[:len(before)-1]} {
		d.NotifyMsg(junk)
		d.MergeRemoteState(junk, false)
		a.observe(&memberlist.Node{Name: "z", Meta: junk})
	}
	// Metadata whose record is not the node's own is ignored too, and so
	// is a bare member set (the metadata of the version before NodeMeta).
	a.observe(&memberlist.Node{Name: "z", Meta: AppendNodeMeta(nil, NodeMeta{Instance: "i", Record: &MemberRecord{ID: "y", Weight: 1, Joined: 5}})})
	a.observe(&memberlist.Node{Name: "z", Meta: AppendMemberSet(nil, NewMemberSet(MemberRecord{ID: "z", Weight: 1, Joined: 5}))})
	if after := AppendMemberSet(nil, a.Set()); !bytes.Equal(after, before) {
		t.Errorf("invalid gossip changed the set: %v", a.Set().Records())
	}
	if meta := d.NodeMeta(memberlist.MetaMaxSize); len(meta) == 0 {
		t.Errorf("NodeMeta is empty")
	} else if nm, err := DecodeNodeMeta(meta); err != nil || nm.Record == nil || nm.Record.ID != "a" {
		t.Errorf("NodeMeta decodes to %+v, %v", nm, err)
	}
	if meta := d.NodeMeta(3); meta != nil {
		t.Errorf("NodeMeta ignores its limit: %d bytes", len(meta))
	}
}

func TestMembershipConfigErrors(t *testing.T) {
	ok := Config{Self: MemberRecord{ID: "a", Weight: 1}, GossipListen: "127.0.0.1:0", Store: store.NewMem()}
	for name, mut := range map[string]func(*Config){
		"Self.ID":      func(c *Config) { c.Self.ID = "" },
		"Self.Weight":  func(c *Config) { c.Self.Weight = 0 },
		"Store":        func(c *Config) { c.Store = nil },
		"GossipListen": func(c *Config) { c.GossipListen = "nope" },
	} {
		cfg := ok
		mut(&cfg)
		m, err := Start(cfg)
		if err == nil {
			m.Close()
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not name the key", name, err)
		}
	}
}

func TestMembershipLivenessString(t *testing.T) {
	for l, want := range map[Liveness]string{LiveDead: "dead", LiveSuspect: "suspect", LiveAlive: "alive", 7: "Liveness(7)"} {
		if got := fmt.Sprint(l); got != want {
			t.Errorf("%d.String() = %q, want %q", l, got, want)
		}
	}
}
