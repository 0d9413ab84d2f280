package node

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/collcheck"
	"github.com/dynakv/dynakv/internal/poll"
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

// setConverged is collConverged for a set, and returns its members
// sorted.
func (mc *memCluster) setConverged(cl map[string]*redis.Client, key string, members []string) []string {
	mc.t.Helper()
	got := mc.collConverged(cl, collcheck.Set, setType, key, members)
	return slices.Sorted(maps.Keys(got))
}

// collConverged waits until every home holds the same own copy of
// collection key's head and of the element keys (of type t) of members,
// running anti-entropy rounds meanwhile (hints are delivered by the
// nodes' own loops), then until the collection reads the same through
// every node, and returns what it reads.
func (mc *memCluster) collConverged(cl map[string]*redis.Client, kind collcheck.Kind, t byte, key string, members []string) map[string]string {
	mc.t.Helper()
	keys := []string{key}
	for _, m := range members {
		keys = append(keys, string(ring.ElementKey(t, []byte(key), []byte(m))))
	}
	homes := mc.homes(key)
	poll.Until(mc.t, 30*time.Second, "the replicas of "+key+" to converge", func() bool {
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
	conns := make([]*redis.Client, len(mc.ids))
	for i, id := range mc.ids {
		conns[i] = cl[id]
	}
	var got map[string]string
	poll.Until(mc.t, 10*time.Second, key+" to read the same through every node", func() bool {
		ctx, cancel := cmdCtx()
		defer cancel()
		var same bool
		got, same, _ = kind.Agree(ctx, conns, key)
		return same
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
		// W=2: the third home gets the delete after the reply.
		for _, h := range homes {
			poll.Until(t, 10*time.Second, fmt.Sprintf("round %d: %s holding one delete of a set for the emptied set's head", round, h), func() bool {
				o := mc.own(h, key)
				return o.Len() == 1 && o.Siblings[0].Tombstone && o.Siblings[0].Type == setType
			})
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

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
