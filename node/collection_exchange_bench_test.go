package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// BenchmarkAntiEntropyCollection measures one exchange between two
// replicas of every partition (Q=1024, in process over peer.MemNetwork, as
// BenchmarkAntiEntropyExchange) after one member of a set diverged on one
// side, for a set of 10, 10k and 1M members. A collection's elements share
// their collection's ring position (ring.ElementKey), so they fall in one
// leaf of its partition's tree; a big leaf is compared by bucket hashes,
// kept up to date by every write once a first scan computed them (the
// first exchange, logged, not timed), and a differing bucket's keys are a
// range of the collection's, so an exchange's cost follows the
// differences, as for ordinary keys (BenchmarkAntiEntropyExchange):
//
//	go test ./node -run '^$' -bench AntiEntropyCollection -benchtime 20x
func BenchmarkAntiEntropyCollection(b *testing.B) {
	for _, members := range []int{10, 10_000, 1_000_000} {
		mc := loadedSetPair(b, members)
		a, peer := mc.nodes["a"].cluster, mc.nodes["b"].cluster.self
		parts := make([]int, 1024)
		for i := range parts {
			parts[i] = i
		}
		rng := rand.New(rand.NewPCG(uint64(members), 1))
		mc.localWrite("a", string(ring.ElementKey('s', []byte("big"), []byte("m:0"))), "diverged", false)
		start := time.Now()
		if _, err := a.exchange(context.Background(), a.replica(peer).(*remoteReplica), parts); err != nil {
			b.Fatal(err)
		}
		b.Logf("members=%d: the first exchange (scanning the set to hash its leaf) took %v", members, time.Since(start).Round(time.Millisecond))
		b.Run(fmt.Sprintf("members=%d/diffs=1", members), func(b *testing.B) {
			var msgs, byts, repaired int64
			for b.Loop() {
				b.StopTimer()
				m := []byte("m:" + strconv.Itoa(rng.IntN(members)))
				mc.localWrite("a", string(ring.ElementKey('s', []byte("big"), m)), "diverged", false)
				m0, b0 := a.ae.messages.Load(), a.ae.bytes.Load()
				b.StartTimer()
				n, err := a.exchange(context.Background(), a.replica(peer).(*remoteReplica), parts)
				if err != nil {
					b.Fatal(err)
				}
				msgs += a.ae.messages.Load() - m0
				byts += a.ae.bytes.Load() - b0
				repaired += int64(n)
			}
			b.ReportMetric(float64(msgs)/float64(b.N), "msgs/op")
			b.ReportMetric(float64(byts)/float64(b.N), "wire-bytes/op")
			b.ReportMetric(float64(repaired)/float64(b.N), "keys-repaired/op")
		})
	}
}

// loadedSetPair returns two nodes a and b replicating every partition (N=2,
// Q=1024), each holding the same set "big" of members elements (members
// m:0, m:1, ...), with trees built.
func loadedSetPair(b *testing.B, members int) *memCluster {
	b.Helper()
	mc := newMemClusterQ(b, 1024, 2, 1, 2, "a", "b")
	ctx := context.Background()
	batch := make([]replica.KeyObject, 0, 1000)
	for i := range members {
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 7, Counter: uint64(i + 1)}, int64(i), replication.Write{}, 10)
		batch = append(batch, replica.KeyObject{Key: ring.ElementKey('s', []byte("big"), []byte("m:"+strconv.Itoa(i))), Obj: o})
		if len(batch) == cap(batch) || i == members-1 {
			for _, id := range mc.ids {
				if err := mc.nodes[id].local.MergeBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			batch = batch[:0]
		}
	}
	for _, id := range mc.ids {
		start := time.Now()
		n, err := mc.nodes[id].local.RebuildTrees(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("node %s: trees of %d keys rebuilt in %v", id, n, time.Since(start).Round(time.Millisecond))
	}
	return mc
}
