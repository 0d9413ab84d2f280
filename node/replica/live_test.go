package replica

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/node/store/storetest"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

func deleteValue(t *testing.T, l *Local, key string) {
	t.Helper()
	_, err := l.Mutate(context.Background(), []byte(key), func(cur *replication.Object) (*replication.Object, error) {
		ctr, err := l.NextCounter()
		if err != nil {
			return nil, err
		}
		return cur.Apply(replication.Dot{Actor: l.Actor(), Counter: ctr}, 1, replication.Write{Context: cur.Context(), Tombstone: true}, 10), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// holdingByScan counts, per partition, the keys holding a value, by
// reading the whole store: what the maintained counts must equal.
func holdingByScan(t *testing.T, l *Local) []int64 {
	t.Helper()
	s := l.trees.Shape()
	out := make([]int64, s.Partitions())
	if _, err := l.Scan(context.Background(), 0, func(key []byte, o *replication.Object) bool {
		out[s.Partition(ring.HashKey(key).Hi)] += holdsValue(o)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func holdingCounts(l *Local) []int64 {
	out := make([]int64, len(l.holding))
	for i := range l.holding {
		out[i] = l.holding[i].Load()
	}
	return out
}

// TestLiveRangeSkipsPartitionsOfTombstones: after most keys were deleted,
// a walk of live keys reads only the partitions that still hold a value
// (DBSIZE, SCAN and FLUSHDB walked every tombstone: 25 ms on an empty node
// after 20k keys were flushed), returns every live key, and the counts
// behind it follow writes, deletes, merges, tombstone collection, partition
// drops and rebuilds.
func TestLiveRangeSkipsPartitionsOfTombstones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		shape, _ := antientropy.NewShape(64)
		l.EnableTrees(shape)
		if _, err := l.RebuildTrees(ctx); err != nil {
			t.Fatal(err)
		}
		live := []string{"keep:1", "keep:2", "keep:3"}
		for i := range 2000 {
			putValue(t, l, fmt.Sprint("gone:", i), "v")
		}
		for _, k := range live {
			putValue(t, l, k, "v")
		}
		for i := range 2000 {
			deleteValue(t, l, fmt.Sprint("gone:", i))
		}
		if got, want := holdingCounts(l), holdingByScan(t, l); !slices.Equal(got, want) {
			t.Fatalf("holding counts %v, by scan %v", got, want)
		}

		var seen []string
		visited := 0
		for from, pages := uint64(0), 0; ; pages++ {
			if pages > 100 {
				t.Fatal("ReadLiveRange does not end")
			}
			keys, next, done, err := l.ReadLiveRange(ctx, from, ^uint64(0), 512)
			if err != nil {
				t.Fatal(err)
			}
			visited += len(keys)
			for _, ks := range keys {
				if ks.Obj.Newest(0) != nil {
					seen = append(seen, string(ks.Key))
				}
			}
			if done {
				break
			}
			from = next
		}
		slices.Sort(seen)
		if !slices.Equal(seen, live) {
			t.Fatalf("live keys %q, want %q", seen, live)
		}
		// Only the (at most 3) partitions of the live keys were read: about
		// 3/64 of the 2003 keys, far from all of them.
		if visited > 3*2003/64*3 {
			t.Fatalf("ReadLiveRange read %d keys of 2003 to find 3", visited)
		}
		if n, err := l.LiveKeys(ctx, 0); err != nil || n != 3 {
			t.Fatalf("LiveKeys = %d, %v; want 3", n, err)
		}

		// Merges, collection and drops keep the counts; a rebuild agrees.
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 77, Counter: 1}, 5, replication.Write{Value: []byte("merged")}, 10)
		if err := l.MergeBatch(ctx, []KeyObject{{Key: []byte("gone:5"), Obj: o}, {Key: []byte("new:1"), Obj: o}}); err != nil {
			t.Fatal(err)
		}
		cur, _ := l.ReadOwn(ctx, []byte("gone:6"))
		if ok, err := l.CollectTombstone(ctx, []byte("gone:6"), cur); err != nil || !ok {
			t.Fatalf("CollectTombstone = %v, %v", ok, err)
		}
		p := shape.Partition(ring.HashKey([]byte("keep:1")).Hi)
		if _, err := l.DropPartition(ctx, p); err != nil {
			t.Fatal(err)
		}
		want := holdingByScan(t, l)
		if got := holdingCounts(l); !slices.Equal(got, want) {
			t.Fatalf("after merge, collect and drop: holding counts %v, by scan %v", got, want)
		}
		if _, err := l.RebuildTrees(ctx); err != nil {
			t.Fatal(err)
		}
		if got := holdingCounts(l); !slices.Equal(got, want) {
			t.Fatalf("after a rebuild: holding counts %v, by scan %v", got, want)
		}
	})
}

// TestLiveRangeBeforeTreesAreReady: until the counts are known the walk
// reads everything, and misses nothing.
func TestLiveRangeBeforeTreesAreReady(t *testing.T) {
	ctx := context.Background()
	l, err := Open(Config{Name: "n1", Store: store.NewMem(), CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	shape, _ := antientropy.NewShape(16)
	l.EnableTrees(shape) // not rebuilt: not ready
	for i := range 50 {
		putValue(t, l, fmt.Sprint("k", i), "v")
	}
	keys, _, done, err := l.ReadLiveRange(ctx, 0, ^uint64(0), 1000)
	if err != nil || !done || len(keys) != 50 {
		t.Fatalf("ReadLiveRange before the trees are ready: %d keys, done %v, %v", len(keys), done, err)
	}
}
