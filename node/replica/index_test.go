package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/node/store/storetest"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// refIndex computes, from the elements this replica holds, what the score
// index of sorted set coll must hold: the sort keys of its live members,
// in order.
func refIndex(t *testing.T, l *Local, coll []byte) [][]byte {
	t.Helper()
	prefix := ring.ElementPrefix(replication.ZSetType, coll)
	keys, _, err := l.ReadKeys(context.Background(), ring.HashKey(coll).Hi, prefix, ring.PrefixEnd(prefix), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, ks := range keys {
		_, _, m, _ := ring.ParseElementKey(ks.Key)
		if f, ok := replication.ScoreOf(ks.Obj); ok {
			out = append(out, replication.SortKey(f, m))
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return out
}

// readIndex reads sorted set coll's whole index through ReadIndex, limit
// entries at a time, in the given direction.
func readIndex(t *testing.T, l *Local, coll []byte, reverse bool, limit int) [][]byte {
	t.Helper()
	q := replication.IndexQuery{Pos: ring.HashKey(coll).Hi, Prefix: ring.ElementPrefix(replication.ZSetType, coll), Reverse: reverse, Limit: limit}
	var out [][]byte
	for {
		res, err := l.ReadIndex(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Entries {
			f, ok := replication.ScoreOf(e.Obj)
			if _, m, _ := replication.SplitSortKey(e.Sort); !ok || !bytes.Equal(replication.SortKey(f, m), e.Sort) {
				t.Fatalf("entry %x: its element's state scores %v (live %v)", e.Sort, f, ok)
			}
			out = append(out, e.Sort)
		}
		if !res.More {
			return out
		}
		last := res.Entries[len(res.Entries)-1].Sort
		if reverse {
			q.End = last
		} else {
			q.Start = append(bytes.Clone(last), 0)
		}
	}
}

// randomElementWrite is a random write of a sorted-set element: a score,
// a delete, or an increment.
func randomElementWrite(rng *rand.Rand, cur *replication.Object) replication.Write {
	switch rng.IntN(6) {
	case 0:
		return replication.Write{Context: cur.Context(), Tombstone: true}
	case 1:
		return replication.Write{Increment: strconv.AppendInt(nil, int64(rng.IntN(7)-3), 10)}
	case 2:
		return replication.Write{Value: replication.FormatScore(math.Inf(rng.IntN(2)*2 - 1))}
	default:
		return replication.Write{Context: cur.Context(), Value: replication.FormatScore(float64(rng.IntN(9)-4) / 2)}
	}
}

// TestIndexMatchesReference: after random writes of sorted-set elements
// (scores, deletes, increments, infinities) on three source replicas,
// merged into one replica in random orders by Merge, MergeBatch and
// Mutate, with tombstones collected and the replica reopened on the way,
// its index holds exactly the live elements at their scores, read whole
// forward and in reverse at any page size, and its skips count and digest
// what they pass over.
func TestIndexMatchesReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		colls := [][]byte{[]byte("z1"), []byte("z2"), {0xFF, 'x'}}
		var keys [][]byte
		for _, c := range colls {
			for i := range 8 {
				keys = append(keys, ring.ElementKey(replication.ZSetType, c, fmt.Appendf(nil, "m%d", i)))
			}
			keys = append(keys, ring.ElementKey('s', c, []byte("m0"))) // a set's element: never indexed
		}
		src := make([]map[string]*replication.Object, 3)
		for i := range src {
			src[i] = map[string]*replication.Object{}
		}
		for round := range 400 {
			r := rng.IntN(3)
			k := keys[rng.IntN(len(keys))]
			cur := src[r][string(k)]
			src[r][string(k)] = cur.Apply(replication.Dot{Actor: replication.ActorID(r + 1), Counter: uint64(round + 1)}, int64(round+1)*1e6, randomElementWrite(rng, cur), 10)
			// Ship some source states to the replica, in random orders.
			switch rng.IntN(4) {
			case 0:
				if err := l.Merge(ctx, k, src[r][string(k)]); err != nil {
					t.Fatal(err)
				}
			case 1:
				var items []KeyObject
				for range 1 + rng.IntN(6) {
					kk := keys[rng.IntN(len(keys))]
					if o := src[rng.IntN(3)][string(kk)]; o != nil {
						items = append(items, KeyObject{Key: kk, Obj: o})
					}
				}
				if err := l.MergeBatch(ctx, items); err != nil {
					t.Fatal(err)
				}
			case 2: // the replica's own write over what it holds
				write(t, l, k, func(cur *replication.Object) replication.Write { return randomElementWrite(rng, cur) })
			}
			if round%50 == 49 {
				// Collect the elements stored as tombstones only.
				for _, kk := range keys {
					o, err := l.ReadOwn(ctx, kk)
					if err != nil {
						t.Fatal(err)
					}
					if _, dead := deadSince(o); dead {
						if _, err := l.CollectTombstone(ctx, kk, o); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if round%100 == 99 {
				if l, err = Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 16}); err != nil {
					t.Fatal(err)
				}
			}
			if round%20 != 19 {
				continue
			}
			total := 0
			for _, c := range colls {
				want := refIndex(t, l, c)
				total += len(want)
				limit := 1 + rng.IntN(5)
				if got := readIndex(t, l, c, false, limit); !slices.EqualFunc(got, want, bytes.Equal) {
					t.Fatalf("round %d, %q forward by %d: index %x, want %x", round, c, limit, got, want)
				}
				rev := slices.Clone(want)
				slices.Reverse(rev)
				if got := readIndex(t, l, c, true, limit); !slices.EqualFunc(got, rev, bytes.Equal) {
					t.Fatalf("round %d, %q in reverse by %d: index %x, want %x", round, c, limit, got, rev)
				}
				skip := rng.IntN(len(want) + 2)
				res, err := l.ReadIndex(ctx, replication.IndexQuery{Pos: ring.HashKey(c).Hi, Prefix: ring.ElementPrefix(replication.ZSetType, c), Skip: int64(skip), Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				var digest uint64
				for _, p := range want[:min(skip, len(want))] {
					// The entry's state digest is the element's, as stored.
					ek := ring.ElementKey(replication.ZSetType, c, p[8:])
					o, err := l.ReadOwn(ctx, ek)
					if err != nil {
						t.Fatal(err)
					}
					digest ^= replication.IndexDigest(p, replication.Digest(ek, o))
				}
				if res.Skipped != int64(min(skip, len(want))) || res.Digest != digest {
					t.Fatalf("skip %d of %d: skipped %d, digest %x (want %x)", skip, len(want), res.Skipped, res.Digest, digest)
				}
				if skip < len(want) && !bytes.Equal(res.Entries[0].Sort, want[skip]) {
					t.Fatalf("skip %d: first entry %x, want %x", skip, res.Entries[0].Sort, want[skip])
				}
			}
			// No entry outlives its element: the index holds as many keys
			// as the sets have live members.
			n := 0
			if err := s.Iterate([]byte{store.IndexPrefix}, []byte{store.IndexPrefix + 1}, func(k, v []byte) bool { n++; return true }); err != nil {
				t.Fatal(err)
			}
			if n != total {
				t.Fatalf("round %d: %d index keys, %d live members", round, n, total)
			}
		}
	})
}

// TestIndexRebuiltWithoutMarker: a store whose index marker is gone (a
// store from before the index) has its index rebuilt from the data when
// the replica opens, and stale entries are dropped.
func TestIndexRebuiltWithoutMarker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s})
		if err != nil {
			t.Fatal(err)
		}
		coll := []byte("z")
		for i := range 50 {
			write(t, l, ring.ElementKey(replication.ZSetType, coll, fmt.Appendf(nil, "m%02d", i)), func(cur *replication.Object) replication.Write {
				return replication.Write{Context: cur.Context(), Value: replication.FormatScore(float64(i % 7))}
			})
		}
		want := refIndex(t, l, coll)
		// Forge what a store from before the index holds: no marker, and
		// (from an older format) an entry of nothing.
		stale := append(indexBase(ring.HashKey(coll).Hi, ring.ElementPrefix(replication.ZSetType, coll)), replication.SortKey(3, []byte("ghost"))...)
		if err := s.Apply(store.Op{Key: store.MetaKey(metaIndex), Delete: true}, store.Op{Key: stale, Value: []byte{}}); err != nil {
			t.Fatal(err)
		}
		var dropped int
		for _, p := range want {
			if bytes.HasSuffix(p, []byte("m07")) {
				if err := s.Apply(store.Op{Key: append(indexBase(ring.HashKey(coll).Hi, ring.ElementPrefix(replication.ZSetType, coll)), p...), Delete: true}); err != nil {
					t.Fatal(err)
				}
				dropped++
			}
		}
		if dropped != 1 {
			t.Fatalf("dropped %d entries", dropped)
		}
		l, err = Open(Config{Name: "n1", Store: s})
		if err != nil {
			t.Fatal(err)
		}
		if got := readIndex(t, l, coll, false, 7); !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("after the rebuild: %d entries, want %d", len(got), len(want))
		}
		if v, err := s.Get(store.MetaKey(metaIndex)); err != nil || string(v) != indexFormat {
			t.Fatalf("marker %q, %v", v, err)
		}
	})
}

// TestIndexKeptWithDataThroughFailures: writes whose store batch fails
// (the data and its index entries are one batch: neither lands) and
// writes over damaged element states (whose old score is unknown: the
// member's entries are looked up) leave the index equal to what the data
// says.
func TestIndexKeptWithDataThroughFailures(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	f := store.NewFaulty(store.NewMem())
	l, err := Open(Config{Name: "n1", Store: f, CacheBytes: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	coll := []byte("z")
	var keys [][]byte
	for i := range 10 {
		keys = append(keys, ring.ElementKey(replication.ZSetType, coll, fmt.Appendf(nil, "m%d", i)))
	}
	dataKey := func(k []byte) []byte { return store.DataKey(ring.HashKey(k), k) }
	failed, lost := 0, 0
	for round := range 600 {
		k := keys[rng.IntN(len(keys))]
		switch rng.IntN(10) {
		case 0:
			f.FailAfter(store.OpApply, 0, 1, nil)
		case 1:
			// Damage the element's stored state; drop it from the
			// cache so the next write reads the store.
			f.Corrupt(dataKey(k))
			l.ForgetCaches()
		}
		before := f.Corrupted()
		_, err := l.Mutate(ctx, k, func(cur *replication.Object) (*replication.Object, error) {
			ctr, err := l.NextCounter()
			if err != nil {
				return nil, err
			}
			return cur.Apply(replication.Dot{Actor: l.Actor(), Counter: ctr}, int64(round+1)*1e6, randomElementWrite(rng, cur), 10), nil
		})
		switch {
		case errors.Is(err, store.ErrInjected):
			failed++
		case err != nil:
			t.Fatal(err)
		case f.Corrupted() < before:
			lost++
		}
		f.Clear(store.OpApply)
	}
	if failed == 0 || lost == 0 {
		t.Fatalf("%d failed writes, %d writes over damaged states: the test exercised nothing", failed, lost)
	}
	l.ForgetCaches()
	want := refIndex(t, l, coll)
	if got := readIndex(t, l, coll, false, 3); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("index %x\nwant %x", got, want)
	}
	n := 0
	if err := f.Iterate([]byte{store.IndexPrefix}, []byte{store.IndexPrefix + 1}, func(k, v []byte) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d index keys, %d live members", n, len(want))
	}
}
