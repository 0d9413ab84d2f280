package store

import (
	"flag"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/dynakv/dynakv/ring"
)

// Run with
//
//	go test ./node/store -run '^$' -bench LevelDB
//	go test ./node/store -run '^$' -bench Sustained -args -node.sustained=20000000 [-node.sustained.stock]
//
// On a 2-vCPU VM with ext4 (DefaultLevelDBOptions): Apply ~4.4 µs, parallel
// Apply ~5.4 µs, Get ~3.2 µs; 20M sustained writes 140-215k/s, p99.9
// 45-130 µs, worst 0.03-0.9 s (kernel write(2) waits during compaction
// fsyncs). goleveldb's own defaults (-node.sustained.stock): 43k/s, p99.9
// 1.8 ms, worst 1.9 s.

var (
	sustainedWrites = flag.Int("node.sustained", 500_000, "writes per BenchmarkLevelDBSustainedWrites run")
	sustainedStock  = flag.Bool("node.sustained.stock", false, "run BenchmarkLevelDBSustainedWrites with goleveldb's default options, for comparison")
)

// benchValue is the 100-byte value every write benchmark stores.
var benchValue = func() []byte {
	v := make([]byte, 100)
	for i := range v {
		v[i] = byte('a' + i%26)
	}
	return v
}()

// benchKey appends a random data key (random hash position, 16-byte user
// key) to dst, without the cost of MD5.
func benchKey(dst []byte, r *rand.Rand) []byte {
	var uk [16]byte
	lo, hi := r.Uint64(), r.Uint64()
	for i := range 8 {
		uk[i], uk[8+i] = byte(lo>>(8*i)), byte(hi>>(8*i))
	}
	return AppendDataKey(dst, ring.Hash{Hi: hi, Lo: lo}, uk[:])
}

func benchOpen(b *testing.B) *LevelDB {
	b.Helper()
	s, err := OpenLevelDB(b.TempDir(), DefaultLevelDBOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkLevelDBApply(b *testing.B) {
	s := benchOpen(b)
	r := rand.New(rand.NewPCG(1, 1))
	key := make([]byte, 0, 64)
	b.SetBytes(int64(len(benchValue)))
	b.ReportAllocs()
	for b.Loop() {
		key = benchKey(key[:0], r)
		if err := s.Apply(Op{Key: key, Value: benchValue}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLevelDBApplyParallel(b *testing.B) {
	s := benchOpen(b)
	b.SetBytes(int64(len(benchValue)))
	b.ReportAllocs()
	var seed atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(seed.Add(1), 4))
		key := make([]byte, 0, 64)
		for pb.Next() {
			key = benchKey(key[:0], r)
			if err := s.Apply(Op{Key: key, Value: benchValue}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLevelDBGet(b *testing.B) {
	const n = 200_000
	s := benchOpen(b)
	r := rand.New(rand.NewPCG(2, 2))
	keys := make([][]byte, n)
	ops := make([]Op, 0, 1000)
	for i := range keys {
		keys[i] = benchKey(nil, r)
		ops = append(ops, Op{Key: keys[i], Value: benchValue})
		if len(ops) == cap(ops) {
			if err := s.Apply(ops...); err != nil {
				b.Fatal(err)
			}
			ops = ops[:0]
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(keys[r.IntN(n)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLevelDBSustainedWrites makes -node.sustained sequential single-key
// writes into a fresh store and reports the latency distribution of Apply,
// so write stalls (compaction falling behind) show up as p99.9 and max.
func BenchmarkLevelDBSustainedWrites(b *testing.B) {
	n := *sustainedWrites
	lat := make([]time.Duration, 0, n)
	var (
		total  time.Duration
		stalls int
	)
	for b.Loop() {
		b.StopTimer()
		o := DefaultLevelDBOptions()
		if *sustainedStock {
			o = LevelDBOptions{}
		}
		s, err := OpenLevelDB(b.TempDir(), o)
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 3))
		key := make([]byte, 0, 64)
		b.StartTimer()
		runStart := time.Now()
		for i := range n {
			key = benchKey(key[:0], r)
			t0 := time.Now()
			if err := s.Apply(Op{Key: key, Value: benchValue}); err != nil {
				b.Fatal(err)
			}
			d := time.Since(t0)
			lat = append(lat, d)
			if d >= 100*time.Millisecond {
				stalls++
				var st leveldb.DBStats
				s.db.Load().Stats(&st)
				b.Logf("write %d at %v stalled %v; level tables %v", i, t0.Sub(runStart).Round(time.Millisecond), d.Round(time.Millisecond), st.LevelTablesCounts)
			}
		}
		total += time.Since(runStart)
		b.StopTimer()
		var st leveldb.DBStats
		s.db.Load().Stats(&st)
		b.Logf("%d writes in %v; level tables %v, sizes %v; write delays %d (%v); compactions: memdb %d, level-0 %d, other %d",
			n, time.Since(runStart).Round(time.Millisecond), st.LevelTablesCounts, st.LevelSizes, st.WriteDelayCount, st.WriteDelayDuration.Round(time.Millisecond), st.MemComp, st.Level0Comp, st.NonLevel0Comp)
		s.Close()
		b.StartTimer()
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) }
	b.ReportMetric(q(0.50), "ns-p50")
	b.ReportMetric(q(0.99), "ns-p99")
	b.ReportMetric(q(0.999), "ns-p99.9")
	b.ReportMetric(float64(lat[len(lat)-1]), "ns-max")
	b.ReportMetric(float64(len(lat))/total.Seconds(), "writes/s")
	b.ReportMetric(float64(stalls), "stalls>=100ms")
	b.ReportMetric(0, "ns/op") // one op is a whole run; the rate above is what matters
}
