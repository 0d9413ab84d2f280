package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/collcheck"
	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/ring"
)

// localItems returns the values of list key's items in node id's own
// store, in key (list) order, live ones only.
func (mc *memCluster) localItems(id, key string) []string {
	mc.t.Helper()
	prefix := ring.ElementPrefix(ring.TypeList, []byte(key))
	keys, _, err := mc.nodes[id].local.ReadKeys(context.Background(), ring.HashKey([]byte(key)).Hi, prefix, ring.PrefixEnd(prefix), 1024)
	if err != nil {
		mc.t.Fatal(err)
	}
	var out []string
	for _, ks := range keys {
		if s := ks.Obj.Newest(mc.clock.now().UnixMilli()); s != nil {
			out = append(out, string(s.Value))
		}
	}
	return out
}

// TestClusterListConcurrentPushesKeptInOneOrder: RPUSHes through two
// coordinators that cannot hear each other (a third node hears both, so
// both reach W=2), and pushes through all three at once while the network
// drops messages, are all kept once the network heals, in one order that
// every home stores and every node reads, each coordinator's pushes in the
// order it made them.
func TestClusterListConcurrentPushesKeptInOneOrder(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	const key = "queue"
	homes := mc.homes(key)
	ctx, cancel := cmdCtx()
	defer cancel()
	if n := must(t, cl[homes[1]].RPush(ctx, key, "first")); n != 1 {
		t.Fatalf("RPUSH first = %d", n)
	}
	// The two ends of a partition push after the same last item.
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[2])})
	must(t, cl[homes[0]].RPush(ctx, key, "x1", "x2"))
	must(t, cl[homes[2]].RPush(ctx, key, "y1", "y2"))
	mc.net.Heal()
	want := []string{"first", "x1", "x2", "y1", "y2"}
	got := mc.listConverged(cl, key, len(want))
	if !sameItems(got, want) {
		t.Fatalf("LRANGE = %q, want the items %q", got, want)
	}
	// Each push's values stay together and in order (no interleaving).
	if i := slices.Index(got, "x1"); got[i+1] != "x2" {
		t.Fatalf("LRANGE = %q: x1 x2 split", got)
	}
	if i := slices.Index(got, "y1"); got[i+1] != "y2" {
		t.Fatalf("LRANGE = %q: y1 y2 split", got)
	}

	// Pushes through every node at once over a lossy network.
	for _, from := range homes {
		for _, to := range homes {
			if from != to {
				mc.net.SetDrop(peerAddrOf(from), peerAddrOf(to), 0.2)
			}
		}
	}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for i, via := range homes {
		wg.Go(func() {
			for j := range 10 {
				v := fmt.Sprintf("n%d-%d", i, j)
				ctx, cancel := cmdCtx()
				err := cl[via].RPush(ctx, key, v).Err()
				cancel()
				if err == nil {
					mu.Lock()
					acked = append(acked, v)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, from := range homes {
		for _, to := range homes {
			mc.net.SetDrop(peerAddrOf(from), peerAddrOf(to), 0)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no push acknowledged")
	}
	got = mc.listConverged(cl, key, -1)
	for _, v := range append(want, acked...) {
		if !slices.Contains(got, v) {
			t.Fatalf("acknowledged %q missing from %q", v, got)
		}
	}
	// Each node's own pushes in the order it made them.
	for i := range homes {
		var mine []string
		for _, v := range got {
			if len(v) > 1 && v[:2] == fmt.Sprintf("n%d", i) {
				mine = append(mine, v)
			}
		}
		if !slices.IsSortedFunc(mine, func(a, b string) int {
			var x, y int
			fmt.Sscanf(a[3:], "%d", &x)
			fmt.Sscanf(b[3:], "%d", &y)
			return x - y
		}) {
			t.Fatalf("node %d's pushes out of order: %q", i, mine)
		}
	}
}

// sameItems reports whether a and b hold the same strings, in any order.
func sameItems(a, b []string) bool {
	return len(a) == len(b) && slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// listConverged waits (running anti-entropy rounds) until every home of
// list key stores the same items in the same order, with n of them (any
// number when n < 0), and LRANGE answers that list through every node;
// it returns it.
func (mc *memCluster) listConverged(cl map[string]*redis.Client, key string, n int) []string {
	mc.t.Helper()
	homes := mc.homes(key)
	var got []string
	poll.Until(mc.t, 30*time.Second, "the homes of "+key+" to store one list", func() bool {
		mc.aeRound()
		got = mc.localItems(homes[0], key)
		for _, h := range homes[1:] {
			if !slices.Equal(mc.localItems(h, key), got) {
				return false
			}
		}
		return n < 0 || len(got) == n
	})
	for _, id := range mc.ids {
		ctx, cancel := cmdCtx()
		vals, err := cl[id].LRange(ctx, key, 0, -1).Result()
		cancel()
		if err != nil || !slices.Equal(vals, got) {
			mc.t.Fatalf("LRANGE through %s = %q, %v; the homes store %q", id, vals, err, got)
		}
	}
	return got
}

// TestClusterListsUnderFaults: clients RPUSH and LREM list items through
// random nodes while the network drops messages, isolates a node and
// splits two nodes with the third hearing both; after the heal every home
// stores one order and every node reads each list alike, as the histories
// require (internal/collcheck): every acknowledged push nobody could have
// removed is there, every value its owner pushed once and removed is gone,
// and a push concurrent with a remove through another coordinator stays.
func TestClusterListsUnderFaults(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	conns := func() []*redis.Client {
		var out []*redis.Client
		for _, id := range mc.ids {
			out = append(out, cl[id])
		}
		return out
	}
	h := collcheck.New()
	keys := []string{"fl:0", "fl:1"}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	collcheck.Clients{Kind: collcheck.List, Conns: conns, N: 3, Seed: seed, Name: "c",
		Keys: func() []string { return keys }, Timeout: 8 * time.Second, Start: time.Now(), SharedEvery: 500 * time.Millisecond}.Run(h, stop, &wg)
	progress := func(what string, n int) {
		t.Helper()
		mark := h.Stats().AddsAcked
		poll.Until(t, 60*time.Second, what, func() bool { return h.Stats().AddsAcked >= mark+n })
	}
	progress("pushes while healthy", 60)
	mc.net.SetDrop("", "", 0.05)
	progress("pushes while 5% of the messages are lost", 40)
	mc.net.Heal()
	mc.net.Partition([]string{peerAddrOf(mc.ids[2])}, []string{peerAddrOf(mc.ids[0]), peerAddrOf(mc.ids[1])})
	progress("pushes with "+mc.ids[2]+" isolated", 40)
	mc.net.Heal()
	homes := mc.homes(keys[0])
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[2])})
	progress("pushes while "+homes[0]+" and "+homes[2]+" cannot hear each other", 40)
	mc.net.Heal()
	close(stop)
	wg.Wait()
	st := h.Stats()
	t.Logf("%d pushes sent, %d acknowledged; %d removes sent, %d answered, %d removed", st.Adds, st.AddsAcked, st.Removes, st.RemovesAcked, st.Removed)
	if st.AddsAcked == 0 || st.Removed == 0 {
		t.Fatalf("the list workload did too little: %+v", st)
	}
	for _, key := range h.Keys() {
		vals := mc.listConverged(cl, key, -1)
		got := map[string]string{}
		for _, v := range vals {
			got[v] = ""
		}
		bad, c := h.Check(key, got)
		for _, b := range bad {
			t.Error(b)
		}
		t.Logf("%s: %d items; checked %d there, %d gone, %d unknown", key, len(vals), c.MustHave, c.MustLack, c.Unknown)
	}
}
