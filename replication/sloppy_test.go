package replication

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
)

// testRouter serves one fixed preference list (homes first) for every key,
// with a failure detector whose verdicts a test sets.
type testRouter struct {
	list []Replica
	mu   sync.Mutex
	dead map[string]bool
}

func (r *testRouter) PreferenceList([]byte) []Replica { return r.list }

func (r *testRouter) Alive(rep Replica) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.dead[rep.Name()]
}

func (r *testRouter) setDead(names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead = map[string]bool{}
	for _, n := range names {
		r.dead[n] = true
	}
}

// memCluster is a cluster of in-memory replicas, each with its own
// coordinator, all sharing one preference list: names in order.
type memCluster struct {
	router *testRouter
	nodes  map[string]*memReplica
}

func newMemCluster(t *testing.T, n, r, w int, names ...string) *memCluster {
	t.Helper()
	mc := &memCluster{router: &testRouter{}, nodes: map[string]*memReplica{}}
	for _, name := range names {
		m := newMem(name)
		mc.nodes[name] = m
		mc.router.list = append(mc.router.list, m)
	}
	for i, name := range names {
		c, err := NewCoordinator(Config{
			Local: mc.nodes[name], Router: mc.router, Actor: ActorID(100 + i),
			N: n, R: r, W: w, Timeout: time.Second, SloppyAfter: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		mc.nodes[name].coord = c
	}
	return mc
}

func (mc *memCluster) put(via, key, val string, w int) (*Object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return mc.nodes[via].coord.Update(ctx, []byte(key), func(cur *Object) (*Write, error) {
		return &Write{Context: cur.Context(), Value: []byte(val)}, nil
	}, WriteOptions{W: w})
}

// eventually polls cond until it holds or the deadline passes.

func hasValue(o *Object, val string) bool {
	for _, s := range o.Live(0) {
		if string(s.Value) == val {
			return true
		}
	}
	return false
}

func TestSloppyQuorumDeadHomeGetsStandInWithHint(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d", "e")
	mc.router.setDead("c")
	if _, err := mc.put("a", "k", "v", 3); err != nil {
		t.Fatalf("W=3 with a home dead and stand-ins live: %v", err)
	}
	poll.Until(t, 5*time.Second, "the hint for c on d", func() bool { return hasValue(mc.nodes["d"].hint("c", "k"), "v") })
	if mc.nodes["c"].get("k") != nil {
		t.Fatal("the dead node was written to")
	}
	if mc.nodes["d"].get("k") != nil {
		t.Fatal("the stand-in stored the version as its own copy, not as a hint")
	}
	if mc.nodes["e"].hint("c", "k") != nil {
		t.Fatal("a second stand-in was used")
	}
}

func TestSloppyQuorumFailingHomeIsReplaced(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	mc.nodes["b"].fail.Store(true) // alive to the failure detector, failing requests
	if _, err := mc.put("a", "k", "v", 3); err != nil {
		t.Fatalf("W=3 with a failing home and a spare: %v", err)
	}
	if !hasValue(mc.nodes["d"].hint("b", "k"), "v") {
		t.Fatal("no hint for b on the spare d")
	}
}

func TestSlowReplicaGetsStandInBeforeTheDeadline(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	block := make(chan struct{})
	mc.nodes["c"].block = block
	start := time.Now()
	if _, err := mc.put("a", "k", "v", 3); err != nil {
		t.Fatalf("W=3 with a slow home: %v", err)
	}
	if el := time.Since(start); el >= time.Second {
		t.Fatalf("write took %v, not answered before the deadline", el)
	}
	if !hasValue(mc.nodes["d"].hint("c", "k"), "v") {
		t.Fatal("no hint for the slow replica c on d")
	}
	close(block)
	poll.Until(t, 5*time.Second, "the slow replica's own write to finish", func() bool { return hasValue(mc.nodes["c"].get("k"), "v") })
}

func TestNoStandInLeftHintsOnCoordinator(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.router.setDead("c")
	if _, err := mc.put("a", "k", "v", 0); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "a hint for c on the coordinator", func() bool { return hasValue(mc.nodes["a"].hint("c", "k"), "v") })
	// The hint does not count: with b failing too, W=2 is not met.
	mc.nodes["b"].fail.Store(true)
	if _, err := mc.put("a", "k2", "v", 0); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable: one node cannot make W=2", err)
	}
}

// TestAvailabilityAnyTwoNodes is DESIGN property 3: with N=3, W=2, a write
// succeeds while any two nodes of the key's extended preference list are
// reachable, whichever node it arrives at.
func TestAvailabilityAnyTwoNodes(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	for i, x := range names {
		for _, y := range names[i+1:] {
			for _, via := range []string{x, y} {
				t.Run(fmt.Sprintf("%s+%s via %s", x, y, via), func(t *testing.T) {
					mc := newMemCluster(t, 3, 2, 2, names...)
					var dead []string
					for _, n := range names {
						if n != x && n != y {
							dead = append(dead, n)
							mc.nodes[n].fail.Store(true)
						}
					}
					mc.router.setDead(dead...)
					if _, err := mc.put(via, "k", "v", 0); err != nil {
						t.Fatalf("write with %s and %s up: %v", x, y, err)
					}
					o, err := mc.nodes[via].coord.Get(context.Background(), []byte("k"), ReadOptions{})
					if err != nil || !hasValue(o, "v") {
						t.Fatalf("read back: %v %v", o, err)
					}
				})
			}
		}
	}
}

func TestWriteForwardedToFirstLiveHome(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	o, err := mc.put("d", "k", "v1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Siblings[0].Dot.Actor; got != mc.nodes["a"].coord.cfg.Actor {
		t.Fatalf("version minted by actor %d, want a's (the first home)", got)
	}
	if mc.nodes["d"].get("k") != nil {
		t.Fatal("the forwarding node kept a copy")
	}
	if s := mc.nodes["d"].coord.Stats(); s.Forwarded != 1 {
		t.Fatalf("stats %+v, want one forward", s)
	}
	// a dead: b coordinates; a unreachable but believed alive: b too.
	mc.router.setDead("a")
	o, err = mc.put("d", "k", "v2", 0)
	if err != nil || o.Siblings[0].Dot.Actor != mc.nodes["b"].coord.cfg.Actor {
		t.Fatalf("with a dead: %v, %v", o, err)
	}
	mc.router.setDead()
	mc.nodes["a"].fail.Store(true)
	o, err = mc.put("d", "k", "v3", 0)
	if err != nil || o.Siblings[0].Dot.Actor != mc.nodes["b"].coord.cfg.Actor {
		t.Fatalf("with a failing: %v, %v", o, err)
	}
	if len(o.Live(0)) != 1 {
		t.Fatalf("plain writes through forwarding left %d siblings, want 1", len(o.Live(0)))
	}
}

// TestForwardRetriesOnConcurrentWrite: when the home's state changes between
// the forwarder's read and its write, the write is retried on the fresh
// state instead of being written on the stale one.
func TestForwardRetriesOnConcurrentWrite(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	calls := 0
	ctx := context.Background()
	_, err := mc.nodes["d"].coord.Update(ctx, []byte("k"), func(cur *Object) (*Write, error) {
		calls++
		if calls == 1 {
			if _, err := mc.put("a", "k", "concurrent", 0); err != nil {
				return nil, err
			}
		}
		return &Write{Context: cur.Context(), Value: []byte("mine")}, nil
	}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("fn called %d times, want 2 (one conflict, one retry)", calls)
	}
	live := mc.nodes["a"].get("k").Live(0)
	if len(live) != 1 || string(live[0].Value) != "mine" {
		t.Fatalf("a holds %v, want only the retried write (it saw the concurrent one)", live)
	}
}

func TestStandInCoordinatorUsesFreshActor(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d", "e")
	mc.router.setDead("a", "b", "c")
	o, err := mc.put("d", "k", "v", 0)
	if err != nil {
		t.Fatal(err)
	}
	actor := o.Siblings[0].Dot.Actor
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		if actor == mc.nodes[n].coord.cfg.Actor {
			t.Fatalf("stand-in write minted under %s's actor", n)
		}
	}
	if !hasValue(mc.nodes["d"].hint("a", "k"), "v") || !hasValue(mc.nodes["e"].hint("b", "k"), "v") {
		t.Fatal("stand-ins d and e should hold hints for a and b")
	}
	if mc.nodes["d"].get("k") != nil {
		t.Fatal("the stand-in coordinator kept its own copy")
	}
	if s := mc.nodes["d"].coord.Stats(); s.StandIns != 1 {
		t.Fatalf("stats %+v, want one stand-in write", s)
	}
}

func TestReadReplacesFailedReplicaAndRepairsStandInByHint(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	if _, err := mc.put("a", "k", "v", 3); err != nil {
		t.Fatal(err)
	}
	mc.nodes["b"].fail.Store(true)
	mc.nodes["c"].fail.Store(true)
	// Only a and the spare d are left: R=2 reads both; d has nothing yet.
	o, err := mc.nodes["a"].coord.Get(context.Background(), []byte("k"), ReadOptions{})
	if err != nil || !hasValue(o, "v") {
		t.Fatalf("read with two homes failing: %v %v", o, err)
	}
	poll.Until(t, 5*time.Second, "read repair of the stand-in d by a hint", func() bool {
		return hasValue(mc.nodes["d"].hint("b", "k"), "v") || hasValue(mc.nodes["d"].hint("c", "k"), "v")
	})
	if mc.nodes["d"].get("k") != nil {
		t.Fatal("read repair stored the stand-in's copy as its own")
	}
}

// TestUpdateOwnsKeyForBackgroundSends is the regression test of a bug the
// multi-process kill -9 test found: sends that finish after the quorum read
// the caller's key buffer, which the RESP server reuses for the next
// command, so a slow replica stored one key's version under another key.
func TestUpdateOwnsKeyForBackgroundSends(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	block := make(chan struct{})
	mc.nodes["c"].block = block
	buf := []byte("key-1")
	_, err := mc.nodes["a"].coord.Update(context.Background(), buf, func(cur *Object) (*Write, error) {
		return &Write{Value: []byte("v1")}, nil
	}, WriteOptions{W: 2})
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "key-2") // the caller reuses its buffer
	close(block)
	poll.Until(t, 5*time.Second, "c to store the version", func() bool { return hasValue(mc.nodes["c"].get("key-1"), "v1") })
	if o := mc.nodes["c"].get("key-2"); o != nil {
		t.Fatalf("c stored the version under the reused buffer's new key: %v", o)
	}
}
