package node

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
)

// BenchmarkAntiEntropyExchange measures one exchange between two replicas
// of every partition (Q=1024, in-process over peer.MemNetwork with the real
// message encoding) holding 100k or 1M keys of 100 bytes, after d keys
// diverged on one side: messages and bytes on the wire per exchange, and
// how long it takes, including the repair. Cost should follow d, not the
// data:
//
//	go test ./node -run '^$' -bench AntiEntropyExchange -benchtime 5x
func BenchmarkAntiEntropyExchange(b *testing.B) {
	for _, keys := range []int{100_000, 1_000_000} {
		mc := loadedPair(b, keys)
		a, peer := mc.nodes["a"].cluster, mc.nodes["b"].cluster.self
		parts := make([]int, 1024)
		for i := range parts {
			parts[i] = i
		}
		rng := rand.New(rand.NewPCG(uint64(keys), 1))
		for _, diffs := range []int{0, 10, 1000} {
			b.Run(fmt.Sprintf("keys=%d/diffs=%d", keys, diffs), func(b *testing.B) {
				var msgs, byts, repaired int64
				for b.Loop() {
					b.StopTimer()
					for range diffs {
						mc.localWrite("a", fmt.Sprint("key:", rng.IntN(keys)), "diverged", false)
					}
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
}

// loadedPair returns two nodes a and b replicating every partition (N=2,
// Q=1024), each holding the same keys, with trees built.
func loadedPair(b *testing.B, keys int) *memCluster {
	b.Helper()
	mc := newMemClusterQ(b, 1024, 2, 1, 2, "a", "b")
	value := bytes.Repeat([]byte("v"), 100)
	ctx := context.Background()
	batch := make([]KeyObject, 0, 1000)
	for i := range keys {
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 7, Counter: uint64(i + 1)}, int64(i), replication.Write{Value: value}, 10)
		batch = append(batch, KeyObject{Key: fmt.Appendf(nil, "key:%d", i), Obj: o})
		if len(batch) == cap(batch) || i == keys-1 {
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
