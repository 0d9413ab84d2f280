package replica

import (
	"context"
	"testing"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
)

// TestFailedWritesLeaveNothingHalfDone: when the store refuses a write (an
// I/O error, a full disk), Mutate and MergeBatch return the error and the
// replica stays as it was — the cache, the hash trees and the tombstone
// index included — and it works again once the disk does.
func TestFailedWritesLeaveNothingHalfDone(t *testing.T) {
	ctx := context.Background()
	f := store.NewFaulty(store.NewMem())
	defer f.Close()
	l, err := Open(Config{Name: "n1", Store: f, CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	shape, _ := antientropy.NewShape(16)
	l.EnableTrees(shape)
	if _, err := l.RebuildTrees(ctx); err != nil {
		t.Fatal(err)
	}
	putValue(t, l, "k", "v1")
	roots := make([]uint64, shape.Partitions())
	for i := range roots {
		roots[i] = l.Trees().Root(i)
	}

	for _, fault := range []struct {
		name string
		arm  func()
	}{
		{"io error", func() { f.Fail(store.OpApply, nil) }},
		{"disk full", func() { f.SetCapacity(0) }}, // ENOSPC: store.ErrDiskFull
	} {
		fault.arm()
		_, err := l.Mutate(ctx, []byte("k"), func(cur *replication.Object) (*replication.Object, error) {
			ctr, err := l.NextCounter()
			if err != nil {
				return nil, err
			}
			return cur.Apply(replication.Dot{Actor: l.Actor(), Counter: ctr}, 2, replication.Write{Context: cur.Context(), Tombstone: true}, 10), nil
		})
		if err == nil {
			t.Fatalf("%s: Mutate succeeded on a failing store", fault.name)
		}
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 99, Counter: 1}, 3, replication.Write{Value: []byte("other")}, 10)
		if err := l.MergeBatch(ctx, []KeyObject{{Key: []byte("k2"), Obj: o}, {Key: []byte("k"), Obj: o}}); err == nil {
			t.Fatalf("%s: MergeBatch succeeded on a failing store", fault.name)
		}
		if o, err := l.ReadOwn(ctx, []byte("k")); err != nil || value(o) != "v1" || len(o.Live(0)) != 1 {
			t.Fatalf("%s: after the failed writes k = %v, %v; want v1 alone", fault.name, o, err)
		}
		if o, err := l.ReadOwn(ctx, []byte("k2")); err != nil || o != nil {
			t.Fatalf("%s: k2 = %v, %v; want absent", fault.name, o, err)
		}
		for i := range roots {
			if l.Trees().Root(i) != roots[i] {
				t.Fatalf("%s: partition %d's tree changed by a write that failed", fault.name, i)
			}
		}
		if n := l.Tombstones(); n != 0 {
			t.Fatalf("%s: %d tombstones indexed by a delete that failed", fault.name, n)
		}
		f.Heal()
	}

	// a fresh replica over the same store agrees: nothing was half-written
	again, err := Open(Config{Name: "n1", Store: f})
	if err != nil {
		t.Fatal(err)
	}
	if o, err := again.ReadOwn(ctx, []byte("k")); err != nil || value(o) != "v1" {
		t.Fatalf("reopened: k = %v, %v", o, err)
	}
	putValue(t, l, "k", "v2")
	if o, _ := l.ReadOwn(ctx, []byte("k")); value(o) != "v2" {
		t.Fatalf("after healing, k = %v", o)
	}
}
