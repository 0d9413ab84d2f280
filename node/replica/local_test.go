package replica

import (
	"context"
	"fmt"
	"github.com/dynakv/dynakv/node/store/storetest"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// value returns o's newest value, "" for none.
func value(o *replication.Object) string {
	if s := o.Newest(0); s != nil {
		return string(s.Value)
	}
	return ""
}

func putValue(t *testing.T, l *Local, key, val string) {
	t.Helper()
	_, err := l.Mutate(context.Background(), []byte(key), func(cur *replication.Object) (*replication.Object, error) {
		ctr, err := l.NextCounter()
		if err != nil {
			return nil, err
		}
		return cur.Apply(replication.Dot{Actor: l.Actor(), Counter: ctr}, 1, replication.Write{Context: cur.Context(), Value: []byte(val)}, 10), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLocalScanResumesWithoutGaps: paging through the keyspace with random
// page sizes visits every key exactly once, even when two keys share the
// 64-bit hash position a page may stop at.
func TestLocalScanResumesWithoutGaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for i := range 500 {
			k := fmt.Sprintf("key:%d", i)
			putValue(t, l, k, k)
			want[k] = true
		}
		// Two extra keys stored at the same position as key:7 (a 64-bit
		// collision, forged by writing the data keys directly).
		h := ring.HashKey([]byte("key:7"))
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 1, Counter: 1}, 1, replication.Write{Value: []byte("x")}, 10)
		for _, k := range []string{"collide:a", "collide:b"} {
			if err := s.Apply(store.Op{Key: store.DataKey(h, []byte(k)), Value: replication.AppendObject(nil, o)}); err != nil {
				t.Fatal(err)
			}
			want[k] = true
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for round := range 20 {
			seen := map[string]int{}
			cursor := uint64(0)
			for pages := 0; ; pages++ {
				if pages > 10000 {
					t.Fatal("scan does not terminate")
				}
				limit, n := 1+rng.IntN(7), 0
				next, err := l.Scan(context.Background(), cursor, func(key []byte, _ *replication.Object) bool {
					seen[string(key)]++
					n++
					return n < limit
				})
				if err != nil {
					t.Fatal(err)
				}
				if next == 0 {
					break
				}
				if next <= cursor {
					t.Fatalf("round %d: cursor went from %d to %d", round, cursor, next)
				}
				cursor = next
			}
			for k := range want {
				if seen[k] != 1 {
					t.Fatalf("round %d: key %q seen %d times", round, k, seen[k])
				}
			}
			if len(seen) != len(want) {
				t.Fatalf("round %d: saw %d keys, want %d", round, len(seen), len(want))
			}
		}
	})
}

// TestLocalCountersNeverRepeat: counters never repeat across reopenings;
// each opening starts past the last durably reserved block.
func TestLocalCountersNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	seen := map[uint64]bool{}
	var actor replication.ActorID
	for open := range 3 {
		s, err := store.OpenLevelDB(dir, store.DefaultLevelDBOptions())
		if err != nil {
			t.Fatal(err)
		}
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			actor = l.Actor()
		} else if l.Actor() != actor {
			t.Fatal("actor changed across reopen")
		}
		for range 1000 {
			c, err := l.NextCounter()
			if err != nil {
				t.Fatal(err)
			}
			if seen[c] {
				t.Fatalf("counter %d handed out twice", c)
			}
			seen[c] = true
		}
		s.Close()
	}
}

// TestLocalMergeIsJoin: merging the same remote state twice changes nothing
// the second time, and a merge never drops a local sibling the remote has
// not seen.
func TestLocalMergeIsJoin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		putValue(t, l, "k", "local")
		var remote *replication.Object
		remote = remote.Apply(replication.Dot{Actor: 99, Counter: 5}, 2, replication.Write{Value: []byte("remote")}, 10)
		for range 2 {
			if err := l.Merge(ctx, []byte("k"), remote); err != nil {
				t.Fatal(err)
			}
		}
		o, err := l.Read(ctx, []byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		if o.Len() != 2 {
			t.Fatalf("%d siblings after merge, want 2", o.Len())
		}
	})
}

// TestLocalCacheNeverStale: with readers filling the cache while writers
// mutate the same keys, the cached state always ends equal to the stored
// one, and the cache stays within its byte budget.
func TestLocalCacheNeverStale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := range 300 {
					putValue(t, l, fmt.Sprintf("k%d", i%40), fmt.Sprintf("w%d-%d", w, i))
				}
			}()
			go func() {
				defer wg.Done()
				for i := range 600 {
					if _, err := l.Read(ctx, []byte(fmt.Sprintf("k%d", i%40))); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for i := range 40 {
			key := []byte(fmt.Sprintf("k%d", i))
			got, err := l.Read(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			want, err := l.read(store.DataKey(ring.HashKey(key), key))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Fatalf("key %s: cached state differs from the stored one", key)
			}
		}
		for i := range l.cache.shards {
			sh := &l.cache.shards[i]
			if sh.used > sh.max {
				t.Fatalf("shard %d holds %d bytes, budget %d", i, sh.used, sh.max)
			}
		}
	})
}
