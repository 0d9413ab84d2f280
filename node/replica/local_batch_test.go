package replica

import (
	"context"
	"fmt"
	"github.com/dynakv/dynakv/node/store/storetest"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
)

// randomStates returns count states of a few keys, as several coordinators
// would have written them: each a chain of writes by random actors with
// random (often stale) contexts, so states of one key are concurrent,
// descend one another, or repeat.
func randomStates(rng *rand.Rand, keys, count int) []KeyObject {
	per := make([][]*replication.Object, keys)
	counter := uint64(0)
	var out []KeyObject
	for range count {
		k := rng.IntN(keys)
		var base *replication.Object
		if n := len(per[k]); n > 0 && rng.IntN(4) > 0 {
			base = per[k][rng.IntN(n)]
		}
		counter++
		var ctx replication.Clock
		if base != nil && rng.IntN(2) == 0 {
			ctx = base.Context()
		}
		o := base.Apply(replication.Dot{Actor: replication.ActorID(1 + rng.IntN(3)), Counter: counter}, int64(counter),
			replication.Write{Context: ctx, Value: fmt.Appendf(nil, "v%d", counter)}, 10)
		per[k] = append(per[k], o)
		out = append(out, KeyObject{Key: fmt.Appendf(nil, "key:%d", k), Obj: o})
	}
	return out
}

// storedState reads key straight from the store, bypassing any cache.
func storedState(t *testing.T, s store.Store, key []byte) *replication.Object {
	t.Helper()
	l, err := Open(Config{Name: "check", Store: s, CacheBytes: 0})
	if err != nil {
		t.Fatal(err)
	}
	o, err := l.ReadOwn(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestLocalMergeBatchIsSequentialMerges: merging a batch (keys repeated,
// states concurrent, stale or equal) leaves every key, in the cache and in
// the store, exactly as merging the items one by one with Merge does.
func TestLocalMergeBatchIsSequentialMerges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, batched store.Store) {
		ctx := context.Background()
		one := store.NewMem()
		t.Cleanup(func() { one.Close() })
		lb, err := Open(Config{Name: "b", Store: batched, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		lo, err := Open(Config{Name: "o", Store: one, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for round := range 50 {
			items := randomStates(rng, 6, 1+rng.IntN(40))
			if err := lb.MergeBatch(ctx, items); err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if err := lo.Merge(ctx, it.Key, it.Obj); err != nil {
					t.Fatal(err)
				}
			}
			for k := range 6 {
				key := fmt.Appendf(nil, "key:%d", k)
				want, _ := lo.ReadOwn(ctx, key)
				got, _ := lb.ReadOwn(ctx, key)
				if !got.Equal(want) {
					t.Fatalf("round %d, %s: batch merged to %v, one by one to %v", round, key, got, want)
				}
				if stored := storedState(t, batched, key); !stored.Equal(want) {
					t.Fatalf("round %d, %s: store holds %v, want %v", round, key, stored, want)
				}
			}
		}
	})
}

// TestLocalMergeBatchConcurrent: batches and single mutations on
// overlapping keys, from many goroutines, finish (no lock-order deadlock)
// and lose nothing: every key ends as the join of every state merged in.
func TestLocalMergeBatchConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		const workers, keys = 8, 40
		rng := rand.New(rand.NewPCG(1, 2))
		work := make([][]KeyObject, workers)
		for w := range work {
			work[w] = randomStates(rng, keys, 400)
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				items := work[w]
				for len(items) > 0 {
					n := min(len(items), 1+w*5)
					if w%2 == 0 {
						if err := l.MergeBatch(ctx, items[:n]); err != nil {
							t.Error(err)
							return
						}
					} else {
						for _, it := range items[:n] {
							if err := l.Merge(ctx, it.Key, it.Obj); err != nil {
								t.Error(err)
								return
							}
						}
					}
					items = items[n:]
				}
			})
		}
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(60 * time.Second):
			t.Fatal("batches and single merges did not finish within 60 s: deadlock?")
		}
		want := map[string]*replication.Object{}
		for _, items := range work {
			for _, it := range items {
				want[string(it.Key)] = want[string(it.Key)].Merge(it.Obj)
			}
		}
		for k, w := range want {
			got, err := l.ReadOwn(ctx, []byte(k))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(w) {
				t.Fatalf("%s = %v, want the join of every state %v", k, got, w)
			}
			if stored := storedState(t, s, []byte(k)); !stored.Equal(w) {
				t.Fatalf("%s: store holds %v, want %v", k, stored, w)
			}
		}
	})
}

// TestLocalCachesAbsence: a read of a key the store lacks is answered from
// the cache afterwards, and the key's first write replaces the cached
// absence (it is never served stale).
func TestLocalCachesAbsence(t *testing.T) {
	ctx := context.Background()
	s := &countingStore{Store: store.NewMem()}
	l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	s.gets.Store(0) // the replica's own meta reads at open
	for range 3 {
		if o, err := l.ReadOwn(ctx, []byte("nope")); err != nil || o != nil {
			t.Fatalf("ReadOwn(absent) = %v, %v", o, err)
		}
	}
	if n := s.gets.Load(); n != 1 {
		t.Fatalf("three reads of an absent key did %d store reads, want 1", n)
	}
	putValue(t, l, "nope", "now here")
	if n := s.gets.Load(); n != 1 {
		t.Fatalf("the first write did %d store reads in all, want the one read's", n)
	}
	o, err := l.ReadOwn(ctx, []byte("nope"))
	if err != nil || value(o) != "now here" {
		t.Fatalf("after the first write ReadOwn = %v, %v", o, err)
	}
	if err := l.MergeBatch(ctx, []KeyObject{{Key: []byte("other"), Obj: o}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := l.ReadOwn(ctx, []byte("other")); value(o) != "now here" {
		t.Fatalf("after MergeBatch into an absent key, ReadOwn = %v", o)
	}
}

// countingStore counts Gets.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (s *countingStore) Get(key []byte) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(key)
}
