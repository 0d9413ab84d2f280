package node

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/collcheck"
	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/replication"
)

// hashType is the element type of a hash's fields (resp's typeHash).
const hashType = 'h'

// TestClusterHashSetWinsOverConcurrentDelete: an HSET and an HDEL of a
// field already in the hash, through two coordinators that cannot hear
// each other (a third node hears both), leave the field with the HSET's
// value once the partition heals, in either order.
func TestClusterHashSetWinsOverConcurrentDelete(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	const key = "h"
	homes := mc.homes(key)
	deleter, setter := homes[0], homes[2] // h0 reads the fields from itself and h1
	for i, setFirst := range []bool{false, true} {
		f := fmt.Sprint("f", i)
		ctx, cancel := cmdCtx()
		defer cancel()
		must(t, cl[deleter].HSet(ctx, key, "keep", "k", f, "old"))
		mc.collConverged(cl, collcheck.Hash, hashType, key, []string{"keep", f})
		mc.net.Partition([]string{peerAddrOf(deleter)}, []string{peerAddrOf(setter)})
		set := func() {
			if err := cl[setter].HSet(ctx, key, f, "new").Err(); err != nil {
				t.Fatalf("HSET %s through %s: %v", f, setter, err)
			}
		}
		if setFirst {
			set()
		}
		if n := must(t, cl[deleter].HDel(ctx, key, f)); n != 1 {
			t.Fatalf("HDEL %s through %s = %d, want 1", f, deleter, n)
		}
		if !setFirst {
			set()
		}
		mc.net.Heal()
		if got := mc.collConverged(cl, collcheck.Hash, hashType, key, []string{"keep", f}); got[f] != "new" {
			t.Errorf("set first %v: HGETALL = %v: the HSET of %s through %s, concurrent with the HDEL through %s, was lost",
				setFirst, got, f, setter, deleter)
		}
	}
}

// TestClusterCollectionsUnderFaults: clients SADD/SREM set members,
// HSET/HDEL hash fields and ZADD/ZREM sorted-set members (read back with
// ZRANGE WITHSCORES, through the score indexes) through random nodes while the network drops
// messages, isolates a node, and splits two nodes with the third hearing
// both; after the heal every node reads each collection alike, as the
// histories require (internal/collcheck): every acknowledged write nobody
// could have removed there (an owned field with its last value), every
// member its owner wrote once and removed gone, and every member written
// at the moment another coordinator removed it there (add-wins).
func TestClusterCollectionsUnderFaults(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	start := time.Now()
	conns := func() []*redis.Client {
		var out []*redis.Client
		for _, id := range mc.ids {
			out = append(out, cl[id])
		}
		return out
	}
	type load struct {
		kind collcheck.Kind
		t    byte
		keys []string
		h    *collcheck.History
	}
	loads := []load{
		{collcheck.Set, setType, []string{"fs:0", "fs:1", "fs:2"}, collcheck.New()},
		{collcheck.Hash, hashType, []string{"fh:0", "fh:1"}, collcheck.New()},
		{collcheck.ZSet, replication.ZSetType, []string{"fz:0", "fz:1"}, collcheck.New()},
	}

	// Members the add-wins step removes through one side of a split and
	// writes again through the other, at the same moment: there first.
	pairKey := loads[0].keys[0]
	homes := mc.homes(pairKey)
	var pairs []string
	for i := range 4 {
		pairs = append(pairs, fmt.Sprint("pair-", i))
	}
	ctx, cancel := cmdCtx()
	defer cancel()
	inv := time.Now()
	must(t, cl[homes[0]].SAdd(ctx, pairKey, toAny(pairs)...))
	for _, m := range pairs {
		loads[0].h.Add(pairKey, m, "", false, inv, nil)
	}
	mc.setConverged(cl, pairKey, pairs)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, l := range loads {
		collcheck.Clients{Kind: l.kind, Conns: conns, N: 3, Seed: seed + uint64(i), Name: "c",
			Keys: func() []string { return l.keys }, Timeout: 8 * time.Second, Start: start, SharedEvery: 500 * time.Millisecond}.Run(l.h, stop, &wg)
	}
	progress := func(what string, n int) {
		t.Helper()
		acked := func() int {
			n := 0
			for _, l := range loads {
				n += l.h.Stats().AddsAcked
			}
			return n
		}
		mark := acked()
		poll.Until(t, 60*time.Second, what, func() bool { return acked() >= mark+n })
	}
	progress("writes while healthy", 100)
	mc.net.SetDrop("", "", 0.05)
	progress("writes while 5% of the messages are lost", 60)
	mc.net.Heal()
	lone := mc.ids[2]
	mc.net.Partition([]string{peerAddrOf(lone)}, []string{peerAddrOf(mc.ids[0]), peerAddrOf(mc.ids[1])})
	progress("writes with "+lone+" isolated", 60)
	mc.net.Heal()
	// The split h0 | h2, h1 hearing both: an SREM through h0 cannot see
	// an SADD through h2, so each pair is truly concurrent.
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[2])})
	progress("writes while "+homes[0]+" and "+homes[2]+" cannot hear each other", 60)
	var pairWG sync.WaitGroup
	for _, m := range pairs {
		pairWG.Go(func() {
			ctx, cancel := cmdCtx()
			defer cancel()
			inv := time.Now()
			n, err := cl[homes[0]].SRem(ctx, pairKey, m).Result()
			loads[0].h.Remove(pairKey, m, false, inv, n, err)
		})
		pairWG.Go(func() {
			ctx, cancel := cmdCtx()
			defer cancel()
			inv := time.Now()
			err := cl[homes[2]].SAdd(ctx, pairKey, m).Err()
			loads[0].h.Add(pairKey, m, "", false, inv, err)
			if err != nil {
				t.Errorf("SADD %s through %s: %v", m, homes[2], err)
			}
		})
	}
	pairWG.Wait()
	mc.net.SetDrop(peerAddrOf(homes[1]), "", 0.2)
	progress("writes while the split holds and "+homes[1]+" loses a fifth of its calls", 40)
	mc.net.Heal()
	close(stop)
	wg.Wait()

	for _, l := range loads {
		st := l.h.Stats()
		t.Logf("%s: %d writes sent, %d acknowledged; %d removes sent, %d answered, %d removed, %d answered 0 for an acknowledged own member",
			l.kind.Name, st.Adds, st.AddsAcked, st.Removes, st.RemovesAcked, st.Removed, st.MissedRemoves)
		if st.AddsAcked == 0 || st.Removed == 0 {
			t.Errorf("the %s workload did too little: %+v", l.kind.Name, st)
		}
		for _, key := range l.h.Keys() {
			got := mc.collConverged(cl, l.kind, l.t, key, l.h.Members(key))
			bad, c := l.h.Check(key, got)
			for _, b := range bad {
				t.Error(b)
			}
			t.Logf("%s: %d members; checked %d there (%d values), %d gone, %d unknown", key, len(got), c.MustHave, c.Values, c.MustLack, c.Unknown)
		}
	}
	got := mc.setConverged(cl, pairKey, loads[0].h.Members(pairKey))
	for _, m := range pairs {
		if !slices.Contains(got, m) {
			t.Errorf("%s lacks %s: the SADD through %s was concurrent with the SREM through %s (add-wins)", pairKey, m, homes[2], homes[0])
		}
	}
}
