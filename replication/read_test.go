package replication

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// countingReplica counts the reads a memReplica is asked.
type countingReplica struct {
	*memReplica
	reads atomic.Int64
}

func (r *countingReplica) Read(ctx context.Context, key []byte) (*Object, error) {
	r.reads.Add(1)
	return r.memReplica.Read(ctx, key)
}

// TestReadRepairChanceUsesConfigRand: with a seeded Config.Rand, the reads
// that ask all N replicas are exactly those a twin of the source picks.
func TestReadRepairChanceUsesConfigRand(t *testing.T) {
	const chance, reads = 0.3, 200
	a, b := newMem("a"), newMem("b")
	c := &countingReplica{memReplica: newMem("c")}
	var o *Object
	o = o.Apply(Dot{Actor: 7, Counter: 1}, 1, Write{Value: []byte("v")}, 10)
	for _, r := range []Replica{a, b, c} {
		if err := r.Merge(context.Background(), []byte("k"), o); err != nil {
			t.Fatal(err)
		}
	}
	list := []Replica{a, b, c}
	coord, err := NewCoordinator(Config{
		Local: a, Router: RouterFunc(func([]byte) []Replica { return list }),
		Actor: 42, N: 3, R: 2, W: 2, ReadRepairChance: chance,
		Rand: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for range reads {
		if _, err := coord.Get(context.Background(), []byte("k"), ReadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	coord.Close() // waits for the reads still running
	twin := rand.New(rand.NewPCG(1, 2))
	want := 0
	for range reads {
		if twin.Float64() < chance {
			want++
		}
	}
	if got := c.reads.Load(); got != int64(want) {
		t.Fatalf("the third replica was read %d times, want %d (the twin source's picks)", got, want)
	}
}

// TestSlowReadAsksReserveAfterSloppyAfter: a replica of the R that does not
// answer has the reserve asked after SloppyAfter, long before the deadline.
func TestSlowReadAsksReserveAfterSloppyAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, c := newMem("a"), newMem("b"), newMem("c")
		var o *Object
		o = o.Apply(Dot{Actor: 7, Counter: 1}, 1, Write{Value: []byte("v")}, 10)
		for _, r := range []*memReplica{a, b, c} {
			if err := r.Merge(context.Background(), []byte("k"), o); err != nil {
				t.Fatal(err)
			}
		}
		block := make(chan struct{})
		b.block = block
		list := []Replica{a, b, c}
		coord, err := NewCoordinator(Config{
			Local: a, Router: RouterFunc(func([]byte) []Replica { return list }),
			Actor: 42, N: 3, R: 2, W: 2, ReadRepairChance: -1,
			Timeout: time.Second, SloppyAfter: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer coord.Close()
		defer close(block)
		start := time.Now()
		got, err := coord.Get(context.Background(), []byte("k"), ReadOptions{})
		if err != nil || !hasValue(got, "v") {
			t.Fatalf("read with b slow: %v, %v", got, err)
		}
		if el := time.Since(start); el != 50*time.Millisecond {
			t.Fatalf("read took %v, want SloppyAfter (50ms)", el)
		}
	})
}
