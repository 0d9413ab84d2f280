package node

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/node/store"
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
	batch := make([]replica.KeyObject, 0, 1000)
	for i := range keys {
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 7, Counter: uint64(i + 1)}, int64(i), replication.Write{Value: value}, 10)
		batch = append(batch, replica.KeyObject{Key: fmt.Appendf(nil, "key:%d", i), Obj: o})
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

// BenchmarkForegroundUnderAntiEntropy measures foreground writes (4
// goroutines writing random keys of 100k on node a and merging the result
// into b, as a replicated write does) alone, and
// while anti-entropy repairs 2000 freshly diverged keys between a and b
// round after round, unpaced and paced by admission control. It reports
// the foreground's throughput and latency percentiles, and the
// background's repaired keys per second:
//
//	go test ./node -run '^$' -bench ForegroundUnderAntiEntropy -benchtime 3x
func BenchmarkForegroundUnderAntiEntropy(b *testing.B) {
	const keys, writers, opsPerWriter = 100_000, 4, 20_000
	mc := loadedPair(b, keys)
	a, peer := mc.nodes["a"], mc.nodes["b"]
	adm := a.cluster.adm
	parts := make([]int, 1024)
	for i := range parts {
		parts[i] = i
	}
	for _, mode := range []string{"alone", "anti-entropy-unpaced", "anti-entropy-paced"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "anti-entropy-unpaced" {
				a.cluster.adm = nil
				a.local.SetAdmission(nil)
			} else {
				a.cluster.adm = adm
				a.local.SetAdmission(adm)
			}
			var lat []time.Duration
			var fgTime time.Duration
			var repaired, rounds int64
			var bgTime time.Duration
			for b.Loop() {
				ctx, stop := context.WithCancel(context.Background())
				bgDone := make(chan struct{})
				bgStart := time.Now()
				go func() {
					// Every 200 ms, 2000 keys diverge on b (in every mode, so
					// that the modes differ only by the exchanges); a repairs
					// them by exchanges with b.
					defer close(bgDone)
					rng := rand.New(rand.NewPCG(9, uint64(rounds)))
					tick := time.NewTicker(200 * time.Millisecond)
					defer tick.Stop()
					for ctx.Err() == nil {
						for range 2000 {
							mc.localWrite("b", fmt.Sprint("key:", rng.IntN(keys)), "diverged", false)
						}
						if mode != "alone" {
							n, err := a.cluster.exchange(ctx, a.cluster.replica(peer.cluster.self).(*remoteReplica), parts)
							if err != nil && ctx.Err() == nil {
								b.Error(err)
								return
							}
							repaired += int64(n)
						}
						rounds++
						select {
						case <-ctx.Done():
						case <-tick.C:
						}
					}
				}()
				start := time.Now()
				per := make([][]time.Duration, writers)
				done := make(chan int, writers)
				for w := range writers {
					go func() {
						rng := rand.New(rand.NewPCG(uint64(w), 77))
						for range opsPerWriter {
							k := fmt.Appendf(nil, "key:%d", rng.IntN(keys))
							t0 := time.Now()
							o, err := a.local.Mutate(ctx, k, func(cur *replication.Object) (*replication.Object, error) {
								return cur.Apply(replication.Dot{Actor: 5, Counter: uint64(t0.UnixNano())}, t0.UnixNano(),
									replication.Write{Context: cur.Context(), Value: []byte("foreground")}, 10), nil
							})
							if err == nil { // replicated to b, as a W=2 write is
								err = peer.local.Merge(ctx, k, o)
							}
							if err != nil {
								b.Error(err)
								break
							}
							per[w] = append(per[w], time.Since(t0))
						}
						done <- w
					}()
				}
				for range writers {
					<-done
				}
				fgTime += time.Since(start)
				stop()
				<-bgDone
				bgTime += time.Since(bgStart)
				for _, l := range per {
					lat = append(lat, l...)
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
			b.ReportMetric(float64(len(lat))/fgTime.Seconds(), "fg-ops/s")
			b.ReportMetric(pct(0.50), "fg-p50-us")
			b.ReportMetric(pct(0.99), "fg-p99-us")
			b.ReportMetric(pct(0.999), "fg-p99.9-us")
			b.ReportMetric(float64(repaired)/bgTime.Seconds(), "bg-keys/s")
		})
	}
}

// BenchmarkRebuildTrees measures building a node's hash trees from a real
// goleveldb store of 100k keys with 100-byte values (Q=1024), as at start:
//
//	go test ./node -run '^$' -bench RebuildTrees -benchtime 3x
func BenchmarkRebuildTrees(b *testing.B) {
	st, err := store.OpenLevelDB(b.TempDir(), store.DefaultLevelDBOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l, err := replica.Open(replica.Config{Name: "n1", Store: st, CacheBytes: 0})
	if err != nil {
		b.Fatal(err)
	}
	shape, _ := antientropy.NewShape(1024)
	l.EnableTrees(shape)
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 100)
	const keys = 100_000
	batch := make([]replica.KeyObject, 0, 1000)
	for i := range keys {
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 7, Counter: uint64(i + 1)}, int64(i), replication.Write{Value: value}, 10)
		batch = append(batch, replica.KeyObject{Key: fmt.Appendf(nil, "key:%d", i), Obj: o})
		if len(batch) == cap(batch) {
			if err := l.MergeBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for b.Loop() {
		n, err := l.RebuildTrees(ctx)
		if err != nil || n != keys {
			b.Fatalf("rebuilt %d keys, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/keys, "ns/key")
}
