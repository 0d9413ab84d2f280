package replication

import (
	"context"
	"testing"
)

// benchObject is a state with a few clock entries and siblings, the size a
// key written by several coordinators with some concurrency has.
func benchObject() *Object {
	h := newHistory(7, 4, 10)
	h.run(40)
	best := h.states[0]
	for _, o := range h.states {
		if o.Len() > best.Len() {
			best = o
		}
	}
	return best
}

func BenchmarkAppendObject(b *testing.B) {
	o := benchObject()
	buf := AppendObject(nil, o)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendObject(buf[:0], o)
	}
}

func BenchmarkDecodeObject(b *testing.B) {
	buf := AppendObject(nil, benchObject())
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeObject(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeContext(b *testing.B) {
	tok := EncodeContext(benchObject().Context())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeContext(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet reads a key held alike by three in-memory replicas: R of
// them (quorum), or all N (as a read-repair-chance read does).
func BenchmarkGet(b *testing.B) {
	for _, bc := range []struct {
		name   string
		chance float64
	}{{"quorum", -1}, {"all", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			reps := []*memReplica{newMem("a"), newMem("b"), newMem("c")}
			list := []Replica{reps[0], reps[1], reps[2]}
			o := benchObject()
			for _, r := range reps {
				if err := r.Merge(context.Background(), []byte("k"), o); err != nil {
					b.Fatal(err)
				}
			}
			c, err := NewCoordinator(Config{
				Local: reps[0], Router: RouterFunc(func([]byte) []Replica { return list }),
				Actor: 42, ReadRepairChance: bc.chance,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			key := []byte("k")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Get(ctx, key, ReadOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
