package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/setcheck"
	"github.com/dynakv/dynakv/ring"
)

// The convergent sets across a real cluster: three nodes in one process,
// each serving its RESP front end on 127.0.0.1, driven with go-redis
// through different coordinators while peer.MemNetwork drops and
// partitions the messages between them.

// setType is the element type of a set's members (resp's typeSet).
const setType = 's'

// serveRESP starts every node's client front end on a free port and
// returns a go-redis client per node id. A client never retries a
// command: a retried SADD or SREM would be a second update the checkers
// do not know of.
func (mc *memCluster) serveRESP() map[string]*redis.Client {
	mc.t.Helper()
	out := map[string]*redis.Client{}
	for _, id := range mc.ids {
		nd := mc.nodes[id]
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			mc.t.Fatal(err)
		}
		nd.goTracked(func() { nd.srv.Serve(ln) })
		c := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1,
			DialTimeout: time.Second, ReadTimeout: 8 * time.Second, WriteTimeout: time.Second})
		mc.t.Cleanup(func() { c.Close() })
		out[id] = c
	}
	return out
}

// cmdCtx is the deadline of one client command: longer than the several
// coordinated requests an SADD or SREM makes, each bounded by the
// request timeout (1 s).
func cmdCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 8*time.Second)
}

// memberKey returns the internal key of member m of set key.
func memberKey(key, m string) string {
	return string(ring.ElementKey(setType, []byte(key), []byte(m)))
}

// setConverged waits until every home holds the same own copy of set
// key's head and of each of members' element keys, running anti-entropy
// rounds meanwhile (hints are delivered by the nodes' own loops), then
// until SMEMBERS through every node reads the same members, and returns
// them sorted.
func (mc *memCluster) setConverged(cl map[string]*redis.Client, key string, members []string) []string {
	mc.t.Helper()
	keys := []string{key}
	for _, m := range members {
		keys = append(keys, memberKey(key, m))
	}
	homes := mc.homes(key)
	poll.Until(mc.t, 30*time.Second, "the replicas of set "+key+" to converge", func() bool {
		mc.aeRound()
		for _, k := range keys {
			first := mc.own(homes[0], k)
			for _, h := range homes[1:] {
				if !mc.own(h, k).Equal(first) {
					return false
				}
			}
		}
		return true
	})
	var got []string
	poll.Until(mc.t, 10*time.Second, "SMEMBERS "+key+" to read the same through every node", func() bool {
		var first []string
		for i, id := range mc.ids {
			ctx, cancel := cmdCtx()
			ms, err := cl[id].SMembers(ctx, key).Result()
			cancel()
			if err != nil {
				return false
			}
			slices.Sort(ms)
			if i == 0 {
				first = ms
			} else if !slices.Equal(ms, first) {
				return false
			}
		}
		got = first
		return true
	})
	return got
}

// must runs a command that has to succeed and returns its integer reply.
func must(t *testing.T, cmd *redis.IntCmd) int64 {
	t.Helper()
	n, err := cmd.Result()
	if err != nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
	return n
}

// TestClusterSetAddWinsOverConcurrentRemove: an SADD and an SREM of a
// member already in the set, through two coordinators that cannot hear
// each other (a third node hears both, so both reach W=2), leave the
// member in the set once the partition heals, in either order: the remove
// takes away only the add it saw, and the SADD is an add of its own, also
// when its coordinator already held the member.
func TestClusterSetAddWinsOverConcurrentRemove(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	const key = "s"
	// h0 reads the set's elements from itself and h1 (keyReaders), so
	// its SREM does not wait on h2 across the partition.
	homes := mc.homes(key)
	remover, adder := homes[0], homes[2]
	for i, addFirst := range []bool{false, true} {
		m := fmt.Sprint("m", i)
		ctx, cancel := cmdCtx()
		defer cancel()
		if n := must(t, cl[remover].SAdd(ctx, key, "keep", m)); n < 1 {
			t.Fatalf("SADD %s: %d", m, n)
		}
		mc.setConverged(cl, key, []string{"keep", m})
		mc.net.Partition([]string{peerAddrOf(remover)}, []string{peerAddrOf(adder)})
		add := func() {
			if _, err := cl[adder].SAdd(ctx, key, m).Result(); err != nil {
				t.Fatalf("SADD %s through %s: %v", m, adder, err)
			}
		}
		if addFirst {
			add()
		}
		if n := must(t, cl[remover].SRem(ctx, key, m)); n != 1 {
			t.Fatalf("SREM %s through %s = %d, want 1", m, remover, n)
		}
		if !addFirst {
			add()
		}
		mc.net.Heal()
		got := mc.setConverged(cl, key, []string{"keep", m})
		if !slices.Contains(got, m) {
			t.Errorf("add first %v: SMEMBERS = %v: the SADD of %s through %s, concurrent with the SREM through %s, was lost (add-wins)",
				addFirst, got, m, adder, remover)
		}
	}
}

// TestClusterSetCreatedOnOneSideKeepsItsMembers: a set is created through
// one side of a partition (h0 | h2, h1 hearing both); a member added
// through h1 reaches h2, the head does not; an SADD through h2, which
// then holds a member of the set but not its head, must keep every
// acknowledged member once the partition heals.
func TestClusterSetCreatedOnOneSideKeepsItsMembers(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	const key = "fresh"
	homes := mc.homes(key)
	ctx, cancel := cmdCtx()
	defer cancel()
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[2])})
	for i, via := range homes {
		m := fmt.Sprint("m", i+1)
		if n := must(t, cl[via].SAdd(ctx, key, m)); n != 1 {
			t.Fatalf("SADD %s through %s = %d", m, via, n)
		}
	}
	mc.net.Heal()
	if got := mc.setConverged(cl, key, []string{"m1", "m2", "m3"}); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Errorf("SMEMBERS = %v, want [m1 m2 m3]: the SADD through %s, which held a member but no head of the set, deleted the members it read", got, homes[2])
	}
}

// TestClusterSetRecreatedAfterExpiryKeepsItsMembers: a set expires and is
// created anew through one side of a partition (h0 | h2, h1 hearing
// both); a member added through h1 reaches h2, the new head does not. An
// SADD through h2, whose copy shows only the expired head, must not take
// the new set's members for the expired one's hidden elements.
func TestClusterSetRecreatedAfterExpiryKeepsItsMembers(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	clock := mc.clock.freeze()
	cl := mc.serveRESP()
	const key = "ttl"
	homes := mc.homes(key)
	ctx, cancel := cmdCtx()
	defer cancel()
	must(t, cl[homes[0]].SAdd(ctx, key, "old"))
	if ok, err := cl[homes[0]].PExpire(ctx, key, time.Second).Result(); !ok || err != nil {
		t.Fatalf("PEXPIRE: %v %v", ok, err)
	}
	mc.setConverged(cl, key, []string{"old"})
	clock.advance(2 * time.Second)
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[2])})
	for i, via := range homes {
		m := fmt.Sprint("m", i+1)
		if n := must(t, cl[via].SAdd(ctx, key, m)); n != 1 {
			t.Fatalf("SADD %s through %s = %d", m, via, n)
		}
	}
	mc.net.Heal()
	if got := mc.setConverged(cl, key, []string{"old", "m1", "m2", "m3"}); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Errorf("SMEMBERS = %v, want [m1 m2 m3]: the expired set's member must stay gone and the new set's members stay", got)
	}
}

// TestClusterSetThroughANonHome: a set created, emptied and created again
// through a node that is not one of its homes (the write is forwarded to
// a home, which coordinates it) is a set on every node: the forwarded
// write keeps its collection type. (Before, the forwarded head arrived as
// a string's version, and the key answered WRONGTYPE for good.)
func TestClusterSetThroughANonHome(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	cl := mc.serveRESP()
	const key = "far"
	homes := mc.homes(key)
	var via string
	for _, id := range mc.ids {
		if !slices.Contains(homes, id) {
			via = id
		}
	}
	ctx, cancel := cmdCtx()
	defer cancel()
	for round := range 2 {
		if n, err := cl[via].SAdd(ctx, key, "m1", "m2").Result(); n != 2 || err != nil {
			t.Fatalf("round %d: SADD through %s = %d, %v", round, via, n, err)
		}
		for _, id := range mc.ids {
			if typ, err := cl[id].Type(ctx, key).Result(); typ != "set" || err != nil {
				t.Fatalf("round %d: TYPE through %s = %q, %v", round, id, typ, err)
			}
		}
		if got := mc.setConverged(cl, key, []string{"m1", "m2"}); !slices.Equal(got, []string{"m1", "m2"}) {
			t.Fatalf("round %d: SMEMBERS = %v", round, got)
		}
		// Emptying it deletes its head through the same node: a
		// collection's delete, so members an SADD adds concurrently
		// keep the set alive.
		if n, err := cl[via].SRem(ctx, key, "m1", "m2").Result(); n != 2 || err != nil {
			t.Fatalf("round %d: SREM through %s = %d, %v", round, via, n, err)
		}
		for _, h := range homes {
			if o := mc.own(h, key); o.Len() != 1 || !o.Siblings[0].Tombstone || o.Siblings[0].Type != setType {
				t.Fatalf("round %d: %s holds %v for the emptied set's head, want one delete of a set", round, h, o)
			}
		}
	}
}

// TestClusterSetReadsPastASilentHome: a home that stops answering while the
// failure detector still trusts it (partitioned away) does not stop the
// reads of a set's elements: each read of it ends at the request timeout
// and the next home takes its place. (Before, the walk waited on it for as
// long as the client's connection lasted.)
func TestClusterSetReadsPastASilentHome(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	cl := mc.serveRESP()
	const key = "quiet"
	homes := mc.homes(key)
	ctx, cancel := cmdCtx()
	defer cancel()
	must(t, cl[homes[0]].SAdd(ctx, key, "m1", "m2"))
	mc.setConverged(cl, key, []string{"m1", "m2"})
	// h0 reads the elements from itself and h1: silence h1.
	mc.net.Partition([]string{peerAddrOf(homes[1])}, []string{peerAddrOf(homes[0]), peerAddrOf(homes[2])})
	got, err := cl[homes[0]].SMembers(ctx, key).Result()
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"m1", "m2"}) {
		t.Fatalf("SMEMBERS through %s with %s silent = %v, %v", homes[0], homes[1], got, err)
	}
	if n, err := cl[homes[0]].SRem(ctx, key, "m1").Result(); n != 1 || err != nil {
		t.Fatalf("SREM through %s with %s silent = %d, %v", homes[0], homes[1], n, err)
	}
	if n, err := cl[homes[0]].SCard(ctx, key).Result(); n != 1 || err != nil {
		t.Fatalf("SCARD through %s with %s silent = %d, %v", homes[0], homes[1], n, err)
	}
}

// TestClusterSetsUnderFaults: clients SADD and SREM members of three sets
// through random nodes while the network drops messages, isolates a node,
// and splits two nodes with the third hearing both; after the heal every
// node reads each set alike, with every acknowledged add nobody could
// have removed, without every member its owner removed, and with every
// member an SADD added concurrently with an SREM of it (add-wins).
func TestClusterSetsUnderFaults(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	keys := []string{"fs:0", "fs:1", "fs:churn"} // churn: emptied and created again and again
	h := setcheck.New()
	start := time.Now()

	// Members the add-wins step removes through one side of a split and
	// adds again through the other, at the same moment: in the set first.
	pairKey := keys[0]
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
		h.Add(pairKey, m, false, inv, nil)
	}
	mc.setConverged(cl, pairKey, pairs)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	const clients, maxOps = 6, 2000
	for id := range clients {
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(id)))
		wg.Go(func() {
			var mine []string // owned members, "key\x00member"
			for seq := range maxOps {
				select {
				case <-stop:
					return
				default:
				}
				key := keys[rng.IntN(len(keys))]
				c := cl[mc.ids[rng.IntN(len(mc.ids))]]
				ctx, cancel := cmdCtx()
				inv := time.Now()
				switch r := rng.IntN(10); {
				case r < 4 || (r < 6 && len(mine) == 0):
					m := fmt.Sprintf("c%d-%d", id, seq)
					_, err := c.SAdd(ctx, key, m).Result()
					h.Add(key, m, true, inv, err)
					if err == nil {
						mine = append(mine, key+"\x00"+m)
					}
				case r < 6:
					i := rng.IntN(len(mine))
					k, m, _ := strings.Cut(mine[i], "\x00")
					n, err := c.SRem(ctx, k, m).Result()
					h.Remove(k, m, true, inv, n, err)
					if !h.Present(k, m) {
						mine = slices.Delete(mine, i, i+1)
					}
				default: // shared members: a few per key, new ones every half second
					m := fmt.Sprintf("x%d-%d", time.Since(start)/(500*time.Millisecond), rng.IntN(3))
					if key == keys[2] {
						key = keys[1]
					}
					if r < 8 {
						_, err := c.SAdd(ctx, key, m).Result()
						h.Add(key, m, false, inv, err)
					} else {
						n, err := c.SRem(ctx, key, m).Result()
						h.Remove(key, m, false, inv, n, err)
					}
				}
				cancel()
			}
		})
	}
	progress := func(what string, n int) {
		t.Helper()
		mark := h.Stats().AddsAcked
		poll.Until(t, 60*time.Second, what, func() bool { return h.Stats().AddsAcked >= mark+n })
	}
	progress("adds while healthy", 100)
	mc.net.SetDrop("", "", 0.05)
	progress("adds while 5% of the messages are lost", 60)
	mc.net.Heal()
	lone := mc.ids[2]
	mc.net.Partition([]string{peerAddrOf(lone)}, []string{peerAddrOf(mc.ids[0]), peerAddrOf(mc.ids[1])})
	progress("adds with "+lone+" isolated", 60)
	mc.net.Heal()
	// The split h0 | h2, h1 hearing both: an SREM through h0 cannot see
	// an SADD through h2, so each pair is truly concurrent.
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[2])})
	progress("adds while "+homes[0]+" and "+homes[2]+" cannot hear each other", 60)
	var pairWG sync.WaitGroup
	for _, m := range pairs {
		pairWG.Go(func() {
			ctx, cancel := cmdCtx()
			defer cancel()
			inv := time.Now()
			n, err := cl[homes[0]].SRem(ctx, pairKey, m).Result()
			h.Remove(pairKey, m, false, inv, n, err)
		})
		pairWG.Go(func() {
			ctx, cancel := cmdCtx()
			defer cancel()
			inv := time.Now()
			_, err := cl[homes[2]].SAdd(ctx, pairKey, m).Result()
			h.Add(pairKey, m, false, inv, err)
			if err != nil {
				t.Errorf("SADD %s through %s: %v", m, homes[2], err)
			}
		})
	}
	pairWG.Wait()
	mc.net.SetDrop(peerAddrOf(homes[1]), "", 0.2)
	progress("adds while the split holds and "+homes[1]+" loses a fifth of its calls", 40)
	mc.net.Heal()
	close(stop)
	wg.Wait()

	st := h.Stats()
	t.Logf("SADD %d sent, %d acknowledged; SREM %d sent, %d answered, %d removed, %d answered 0 for an acknowledged own member",
		st.Adds, st.AddsAcked, st.Removes, st.RemovesAcked, st.Removed, st.MissedRemoves)
	for _, key := range keys {
		got := mc.setConverged(cl, key, h.Members(key))
		bad, c := h.Check(key, got)
		for _, b := range bad {
			t.Error(b)
		}
		t.Logf("%s: %d members; checked %d present, %d absent, %d unknown", key, len(got), c.MustHave, c.MustLack, c.Unknown)
		if key == pairKey {
			for _, m := range pairs {
				if !slices.Contains(got, m) {
					t.Errorf("%s lacks %s: the SADD through %s was concurrent with the SREM through %s (add-wins)", key, m, homes[2], homes[0])
				}
			}
		}
	}
	if st.AddsAcked == 0 || st.Removed == 0 {
		t.Fatalf("the workload did nothing: %+v", st)
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
