package node

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// fakeClock is an in-process cluster's clock: real time until frozen,
// then moved only by advance.
type fakeClock struct {
	mu     sync.Mutex
	frozen bool
	t      time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		return time.Now()
	}
	return c.t
}

// freeze stops the clock at the current time.
func (c *fakeClock) freeze() *fakeClock {
	c.mu.Lock()
	c.frozen, c.t = true, time.Now()
	c.mu.Unlock()
	return c
}

func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newGraceCluster is newMemCluster with tombstone_grace set to grace and
// the cluster's clock frozen.
func newGraceCluster(t *testing.T, grace time.Duration, n, r, w int, ids ...string) (*memCluster, *fakeClock) {
	mc := newMemClusterWith(t, memOpts{q: 64, grace: grace}, n, r, w, ids...)
	return mc, mc.clock.freeze()
}

// stored reports whether node id's store holds key at all (any state).
func (mc *memCluster) stored(id, key string) bool {
	l := mc.nodes[id].local
	_, err := l.Store().Get(store.DataKey(ringHash(key), []byte(key)))
	return err == nil
}

func (mc *memCluster) del(via, key string, w int) error {
	_, err := mc.nodes[via].coord.Update(context.Background(), []byte(key), func(cur *replication.Object) (*replication.Write, error) {
		return &replication.Write{Context: cur.Context(), Tombstone: true}, nil
	}, replication.WriteOptions{W: w})
	return err
}

// TestTombstonesCollectedOnlyOnceEveryHomeHasThem: tombstones are kept
// while a home is down (it still holds the old values) and while they are
// younger than the grace period; once every home holds them and the grace
// period is over they are collected everywhere, and the deleted values
// never come back, through exchanges or reads.
func TestTombstonesCollectedOnlyOnceEveryHomeHasThem(t *testing.T) {
	mc, clk := newGraceCluster(t, time.Hour, 3, 2, 3, "a", "b", "c")
	var keys []string
	for i := range 100 {
		k := fmt.Sprint("key-", i)
		keys = append(keys, k)
		if err := mc.set("a", k, "v", 3); err != nil {
			t.Fatal(err)
		}
	}
	mc.kill("c")
	for _, k := range keys[:50] {
		if err := mc.del("a", k, 2); err != nil {
			t.Fatal(err)
		}
	}
	mc.buildTrees()
	clk.advance(2 * time.Hour)
	mc.aeRound() // c is down: it cannot confirm, so nothing goes
	for _, k := range keys[:50] {
		if !mc.stored("a", k) || !mc.stored("b", k) {
			t.Fatalf("%s collected while home c, which still holds its old value, is down", k)
		}
	}
	// c returns (still through exchanges only: the hints held for it are
	// older than the grace period, so they are dropped, not delivered).
	mc.revive("c")
	for round := 0; ; round++ {
		mc.aeRound()
		clk.advance(2 * time.Hour) // the tombstones c just received age too
		gone := 0
		for _, k := range keys[:50] {
			if !mc.stored("a", k) && !mc.stored("b", k) && !mc.stored("c", k) {
				gone++
			}
		}
		if gone == 50 {
			break
		}
		if round == 6 {
			t.Fatalf("after %d rounds %d of 50 deleted keys are collected everywhere", round+1, gone)
		}
	}
	for _, k := range keys {
		for _, id := range mc.ids {
			live := mc.own(id, k).Newest(0) != nil
			if want := !contains(keys[:50], k); live != want {
				t.Fatalf("%s on %s: live %v, want %v", k, id, live, want)
			}
		}
		o, err := mc.get("b", k, 3)
		if err != nil {
			t.Fatal(err)
		}
		if (o.Newest(0) != nil) == contains(keys[:50], k) {
			t.Fatalf("GET %s at R=3 = %v after collection", k, o)
		}
	}
	var collected int64
	for _, nd := range mc.nodes {
		collected += nd.cluster.ae.tombsCollected.Load()
		if n := nd.local.Tombstones(); n != 0 {
			t.Fatalf("%s still indexes %d tombstones", nd.cfg.NodeID, n)
		}
	}
	if collected < 100 {
		t.Fatalf("%d tombstones collected in all, want at least 100 (50 keys on a and b, and c's)", collected)
	}
	mc.assertConverged(keys)
}

// TestTombstonesKeptWithinGrace: a fresh tombstone is not collected even
// though every home holds it.
func TestTombstonesKeptWithinGrace(t *testing.T) {
	mc, clk := newGraceCluster(t, time.Hour, 3, 2, 3, "a", "b", "c")
	if err := mc.set("a", "k", "v", 3); err != nil {
		t.Fatal(err)
	}
	if err := mc.del("a", "k", 3); err != nil {
		t.Fatal(err)
	}
	mc.buildTrees()
	clk.advance(59 * time.Minute)
	mc.aeRound()
	for _, id := range mc.ids {
		if !mc.stored(id, "k") {
			t.Fatalf("tombstone collected on %s within the grace period", id)
		}
	}
	clk.advance(2 * time.Minute)
	mc.aeRound()
	for _, id := range mc.ids {
		if mc.stored(id, "k") {
			t.Fatalf("tombstone on %s not collected after the grace period", id)
		}
	}
}

// TestExpiredHintsDroppedNotDelivered: hints older than the grace period
// are neither read nor handed to their owner; they are dropped.
func TestExpiredHintsDroppedNotDelivered(t *testing.T) {
	mc, clk := newGraceCluster(t, time.Hour, 3, 2, 2, "a", "b", "c", "d")
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprint("key-", i); contains(mc.homes(k), "d") {
			key = k
		}
	}
	mc.kill("d")
	if err := mc.set("a", key, "hinted", 2); err != nil {
		t.Fatal(err)
	}
	var holder string
	poll.Until(t, 5*time.Second, "a stand-in to store the hint for d", func() bool {
		for _, id := range mc.ids {
			if mc.nodes[id].local.HintsTotal() > 0 {
				holder = id
			}
		}
		return holder != ""
	})
	clk.advance(2 * time.Hour)
	if o, _ := mc.nodes[holder].local.HintedState([]byte(key), nil); o != nil {
		t.Fatalf("an expired hint is still read: %v", o)
	}
	mc.revive("d")
	poll.Until(t, 10*time.Second, "the expired hint to be dropped", func() bool {
		return mc.nodes[holder].local.HintsTotal() == 0
	})
	if mc.stored("d", key) {
		t.Fatal("an expired hint was delivered")
	}
	if n := mc.nodes[holder].cluster.ae.hintsExpired.Load(); n == 0 {
		t.Fatal("hints_expired not counted")
	}
}

func ringHash(key string) ring.Hash { return ring.HashKey([]byte(key)) }
