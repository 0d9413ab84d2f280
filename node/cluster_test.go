package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/peer"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
)

// memCluster is an in-process cluster: real nodes (goleveldb's memdb
// underneath, the real coordinator, hint store and delivery loop) talking
// over peer.MemNetwork, which can drop, delay and partition their messages,
// with a failure detector the test controls (a membership.Hub).
type memCluster struct {
	t     testing.TB
	net   *peer.MemNetwork
	hub   *membership.Hub
	clock *fakeClock
	ids   []string
	nodes map[string]*Node
}

func peerAddrOf(id string) string { return "peer-" + id }

// newMemCluster builds len(ids) nodes sharing one member set (joined in the
// order given) with n/r/w and Q=64.
func newMemCluster(t testing.TB, n, r, w int, ids ...string) *memCluster {
	return newMemClusterQ(t, 64, n, r, w, ids...)
}

// newMemClusterQ is newMemCluster with q partitions.
func newMemClusterQ(t testing.TB, q, n, r, w int, ids ...string) *memCluster {
	t.Helper()
	return newMemClusterWith(t, memOpts{q: q}, n, r, w, ids...)
}

// memOpts are an in-process cluster's settings beyond N, R and W.
type memOpts struct {
	q     int           // partitions
	grace time.Duration // tombstone_grace (0: never collect)
	// store wraps a node's store (nil: the in-memory store as it is).
	store func(id string, st store.Store) store.Store
}

// newMemClusterWith is newMemCluster with o's settings. Every node reads
// the cluster's one clock, mc.clock.
func newMemClusterWith(t testing.TB, o memOpts, n, r, w int, ids ...string) *memCluster {
	t.Helper()
	q := o.q
	mc := &memCluster{t: t, net: peer.NewMemNetwork(1), ids: ids, nodes: map[string]*Node{}, clock: &fakeClock{}}
	var recs []membership.MemberRecord
	for i, id := range ids {
		recs = append(recs, membership.MemberRecord{ID: id, Addr: "client-" + id, PeerAddr: peerAddrOf(id), GossipAddr: "gossip-" + id, Weight: 1, Joined: uint64(i + 1)})
	}
	set := membership.NewMemberSet(recs...)
	mc.hub = membership.NewHub(recs...)
	for _, id := range ids {
		cfg := conf.Default()
		cfg.NodeID, cfg.Partitions, cfg.N, cfg.R, cfg.W = id, q, n, r, w
		cfg.RequestTimeout = time.Second
		cfg.DataDir = t.TempDir()
		cfg.TombstoneGrace = o.grace
		var st store.Store = store.NewMem()
		if o.store != nil {
			st = o.store(id, st)
		}
		if err := membership.SaveMemberSet(st, set); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", id)
		}
		nd, err := build(cfg.Resolve(), log, st, knobs{now: mc.clock.now})
		if err != nil {
			t.Fatal(err)
		}
		nd.cluster.transport = mc.net.Endpoint(peerAddrOf(id))
		m, err := mc.hub.Join(membership.Config{Self: recs[slices.Index(ids, id)], Store: st, OnChange: nd.onMembership})
		if err != nil {
			t.Fatal(err)
		}
		nd.members = m
		nd.cluster.setMembership(m)
		mc.net.ListenBatch(peerAddrOf(id), nd.cluster.handle, nd.cluster)
		nd.goTracked(func() { nd.cluster.hintDeliveryLoop(nd.done, nd.kick, 10*time.Millisecond) })
		mc.nodes[id] = nd
		t.Cleanup(func() { nd.Close() })
	}
	return mc
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func (mc *memCluster) alive(id string) bool { return mc.hub.Alive(id) }

// kill takes a node down: its peer address stops answering and the failure
// detector says so.
func (mc *memCluster) kill(id string) {
	mc.net.Down(peerAddrOf(id))
	mc.hub.SetAlive(id, false)
}

// revive brings a killed node back.
func (mc *memCluster) revive(id string) {
	mc.net.ListenBatch(peerAddrOf(id), mc.nodes[id].cluster.handle, mc.nodes[id].cluster)
	mc.hub.SetAlive(id, true)
}

func (mc *memCluster) set(via, key, val string, w int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := mc.nodes[via].coord.Update(ctx, []byte(key), func(cur *replication.Object) (*replication.Write, error) {
		return &replication.Write{Context: cur.Context(), Value: []byte(val)}, nil
	}, replication.WriteOptions{W: w})
	return err
}

func (mc *memCluster) get(via, key string, r int) (*replication.Object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return mc.nodes[via].coord.Get(ctx, []byte(key), replication.ReadOptions{R: r})
}

// own returns id's own copy of key (no hints).
func (mc *memCluster) own(id, key string) *replication.Object {
	o, err := mc.nodes[id].local.ReadOwn(context.Background(), []byte(key))
	if err != nil {
		mc.t.Fatal(err)
	}
	return o
}

// homes returns key's first n replicas.
func (mc *memCluster) homes(key string) []string {
	var out []string
	nd := mc.nodes[mc.ids[0]]
	for _, r := range nd.cluster.PreferenceList([]byte(key))[:nd.cfg.N] {
		out = append(out, r.Name())
	}
	return out
}

func value(o *replication.Object) string {
	if s := o.Newest(0); s != nil {
		return string(s.Value)
	}
	return ""
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestClusterWritesReachExactlyTheHomes: whichever node a write arrives at,
// it ends up on the key's N home replicas and nowhere else; a node that is
// not a home forwards it.
func TestClusterWritesReachExactlyTheHomes(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d", "e")
	for i := range 100 {
		key := fmt.Sprint("key-", i)
		via := mc.ids[i%len(mc.ids)]
		if err := mc.set(via, key, "v", 0); err != nil {
			t.Fatalf("SET via %s: %v", via, err)
		}
	}
	var forwarded int64
	for _, id := range mc.ids {
		forwarded += mc.nodes[id].coord.Stats().Forwarded
	}
	if forwarded == 0 {
		t.Fatal("no write was forwarded, though 2 of 5 nodes are not homes of a key")
	}
	for i := range 100 {
		key := fmt.Sprint("key-", i)
		homes := mc.homes(key)
		poll.Until(t, 5*time.Second, "replication of "+key, func() bool {
			for _, id := range mc.ids {
				has := value(mc.own(id, key)) == "v"
				if has != contains(homes, id) {
					return false
				}
			}
			return true
		})
	}
}

// TestClusterTimedOutReplicaGetsHintsThenHandoff: a home replica that stops
// answering (partitioned away while the failure detector still trusts it)
// does not stop W=2 writes; stand-ins hold its versions as hints and hand
// them over once it is reachable.
func TestClusterTimedOutReplicaGetsHintsThenHandoff(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	mc.net.Partition([]string{peerAddrOf("c")}, []string{peerAddrOf("a"), peerAddrOf("b"), peerAddrOf("d")})
	var keys []string
	for i := 0; len(keys) < 30; i++ {
		key := fmt.Sprint("k", i)
		if !contains(mc.homes(key), "c") {
			continue
		}
		via := "a"
		if contains(mc.homes(key), "a") == false {
			via = mc.homes(key)[0]
			if via == "c" {
				via = mc.homes(key)[1]
			}
		}
		start := time.Now()
		if err := mc.set(via, key, "v", 0); err != nil {
			t.Fatalf("SET %s via %s with c partitioned: %v", key, via, err)
		}
		if el := time.Since(start); el > 900*time.Millisecond {
			t.Fatalf("SET took %v, not within the deadline", el)
		}
		keys = append(keys, key)
	}
	hints := func() int64 {
		var n int64
		for _, id := range []string{"a", "b", "d"} {
			n += mc.nodes[id].local.HintsPending()["c"]
		}
		return n
	}
	poll.Until(t, 5*time.Second, "hints for c", func() bool { return hints() >= int64(len(keys)) })
	for _, k := range keys {
		if mc.own("c", k) != nil {
			t.Fatalf("c got %s while partitioned", k)
		}
	}
	mc.net.Heal()
	for _, nd := range mc.nodes {
		nd.onLiveness()
	}
	poll.Until(t, 10*time.Second, "hint delivery to c", func() bool { return hints() == 0 })
	for _, k := range keys {
		if value(mc.own("c", k)) != "v" {
			t.Fatalf("c lacks %s after handoff", k)
		}
	}
}

// TestClusterDeadNodeHintsDeliveredOnReturn: with a node down (the failure
// detector knows), writes go to stand-ins with hints, reads still answer at
// R=2, and the hints reach the node when it is back.
func TestClusterDeadNodeHintsDeliveredOnReturn(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	mc.kill("d")
	for i := range 50 {
		if err := mc.set(mc.ids[i%3], fmt.Sprint("k", i), fmt.Sprint("v", i), 0); err != nil {
			t.Fatalf("write %d with d down: %v", i, err)
		}
	}
	for i := range 50 {
		o, err := mc.get(mc.ids[(i+1)%3], fmt.Sprint("k", i), 2)
		if err != nil || value(o) != fmt.Sprint("v", i) {
			t.Fatalf("read %d with d down: %q %v", i, value(o), err)
		}
	}
	var held int64
	for _, id := range []string{"a", "b", "c"} {
		held += mc.nodes[id].local.HintsPending()["d"]
	}
	if held == 0 {
		t.Fatal("no hints held for d")
	}
	mc.revive("d")
	for i := range 50 {
		k := fmt.Sprint("k", i)
		if !contains(mc.homes(k), "d") {
			continue
		}
		poll.Until(t, 10*time.Second, "handoff of "+k, func() bool { return value(mc.own("d", k)) == fmt.Sprint("v", i) })
	}
	poll.Until(t, 5*time.Second, "no hints left", func() bool {
		for _, id := range mc.ids {
			if mc.nodes[id].local.HintsTotal() != 0 {
				return false
			}
		}
		return true
	})
}

// TestClusterReadRepair: a read that sees a stale replica sends it the
// merged state without delaying the reply.
func TestClusterReadRepair(t *testing.T) {
	mc := newMemCluster(t, 3, 3, 3, "a", "b", "c")
	if err := mc.set("a", "k", "old", 0); err != nil {
		t.Fatal(err)
	}
	// A newer version reaches a and b only.
	newer, err := mc.nodes["a"].local.Mutate(context.Background(), []byte("k"), func(cur *replication.Object) (*replication.Object, error) {
		return cur.Apply(replication.Dot{Actor: 99, Counter: 1}, time.Now().UnixNano(), replication.Write{Context: cur.Context(), Value: []byte("new")}, 10), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.nodes["b"].local.Merge(context.Background(), []byte("k"), newer); err != nil {
		t.Fatal(err)
	}
	o, err := mc.get("b", "k", 3)
	if err != nil || value(o) != "new" {
		t.Fatalf("read: %q %v", value(o), err)
	}
	poll.Until(t, 5*time.Second, "read repair of c", func() bool { return mc.own("c", "k").Equal(newer) })
}

// TestClusterScanSeesEveryKeyOnce: SCAN over the cluster (Coordinator.Scan
// over RangeRouter) returns each live key once, from any node.
func TestClusterScanSeesEveryKeyOnce(t *testing.T) {
	mc := newMemCluster(t, 2, 2, 2, "a", "b", "c", "d")
	const total = 700
	for i := range total {
		if err := mc.set(mc.ids[i%4], fmt.Sprint("key:", i), "v", 2); err != nil {
			t.Fatal(err)
		}
	}
	for _, via := range mc.ids {
		seen := map[string]int{}
		var cursor uint64
		for calls := 0; ; calls++ {
			if calls > 10000 {
				t.Fatal("scan does not terminate")
			}
			n := 0
			next, err := mc.nodes[via].coord.Scan(context.Background(), cursor, func(key []byte, o *replication.Object) bool {
				seen[string(key)]++
				n++
				return n < 37
			})
			if err != nil {
				t.Fatal(err)
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		if len(seen) != total {
			t.Fatalf("scan via %s saw %d keys, want %d", via, len(seen), total)
		}
		for k, c := range seen {
			if c != 1 {
				t.Fatalf("scan via %s saw %s %d times", via, k, c)
			}
		}
	}
}
