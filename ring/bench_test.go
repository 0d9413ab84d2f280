package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkKeyPreferenceList measures the routing hot path: hash a key,
// find its partition and its replicas. It does not allocate.
func BenchmarkKeyPreferenceList(b *testing.B) {
	for _, c := range []struct{ s, q int }{{10, 1024}, {1000, 65536}} {
		b.Run(fmt.Sprintf("S=%d/Q=%d", c.s, c.q), func(b *testing.B) {
			if c.s >= 1000 && testing.Short() {
				b.Skip("large ring skipped in -short mode")
			}
			r := mustNew(b, c.q, 3, randomMembers(rand.New(rand.NewPCG(1, 2)), c.s, 1))
			benchLookup(b, r)
		})
	}
}

func benchLookup(b *testing.B, r *Ring) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%d:cart", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		pl := r.KeyPreferenceList(keys[i&1023])
		n += len(pl.Replicas()[0])
	}
	_ = n
}

// BenchmarkPreferenceTail measures reading one entry past the replicas, as
// a sloppy quorum does when a replica is down.
func BenchmarkPreferenceTail(b *testing.B) {
	r := mustNew(b, 1024, 3, randomMembers(rand.New(rand.NewPCG(1, 2)), 100, 1))
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(r.PreferenceList(i & 1023).At(3))
	}
	_ = n
}

// BenchmarkNew measures building a ring, which every node does on each
// membership change.
func BenchmarkNew(b *testing.B) {
	for _, c := range []struct{ s, q, maxW int }{{100, 4096, 1}, {100, 16384, 4}, {1000, 16384, 1}, {1000, 65536, 4}} {
		b.Run(fmt.Sprintf("S=%d/Q=%d/w<=%d", c.s, c.q, c.maxW), func(b *testing.B) {
			if c.s >= 1000 && testing.Short() {
				b.Skip("large ring skipped in -short mode")
			}
			ms := randomMembers(rand.New(rand.NewPCG(1, 2)), c.s, c.maxW)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(c.q, 3, ms); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
