package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/node/store/storetest"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// write applies w to key as this replica's next version.
func write(t *testing.T, l *Local, key []byte, w func(cur *replication.Object) replication.Write) *replication.Object {
	t.Helper()
	o, err := l.Mutate(context.Background(), key, func(cur *replication.Object) (*replication.Object, error) {
		ctr, err := l.NextCounter()
		if err != nil {
			return nil, err
		}
		return cur.Apply(replication.Dot{Actor: l.Actor(), Counter: ctr}, 1, w(cur), 10), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestElementsReadByKeyAndNotCounted: a collection's elements are read in
// member-hash order within their collection's prefix, are no keys to
// LiveKeys, and sit at the collection's position.
func TestElementsReadByKeyAndNotCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		coll := []byte("myset")
		write(t, l, coll, func(cur *replication.Object) replication.Write {
			return replication.Write{Context: cur.Context(), Type: 's'}
		})
		for _, m := range []string{"a", "b", "c", "d"} {
			write(t, l, ring.ElementKey('s', coll, []byte(m)), func(cur *replication.Object) replication.Write { return replication.Write{Context: cur.Context()} })
		}
		// Another collection's elements and a hash of the same name stay out.
		write(t, l, ring.ElementKey('h', coll, []byte("f")), func(cur *replication.Object) replication.Write { return replication.Write{Value: []byte("v")} })
		write(t, l, ring.ElementKey('s', []byte("other"), []byte("a")), func(cur *replication.Object) replication.Write { return replication.Write{} })
		pos := ring.HashKey(coll).Hi
		prefix := ring.ElementPrefix('s', coll)
		var got []string
		for from := prefix; ; {
			keys, more, err := l.ReadKeys(context.Background(), pos, from, ring.PrefixEnd(prefix), 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, ks := range keys {
				_, _, m, ok := ring.ParseElementKey(ks.Key)
				if !ok || ks.Pos != pos {
					t.Fatalf("ReadKeys gave %q at %x", ks.Key, ks.Pos)
				}
				got = append(got, string(m))
			}
			if !more {
				break
			}
			from = append(keys[len(keys)-1].Key, 0)
		}
		if len(got) != 4 {
			t.Fatalf("ReadKeys read %q, want the 4 members", got)
		}
		n, err := l.LiveKeys(context.Background(), 0)
		if err != nil || n != 1 {
			t.Fatalf("LiveKeys = %d, %v; want 1 (the set's head)", n, err)
		}
		// Walks of the keyspace list keys only, also a key that sorts
		// after the elements at their position (forged: an escaped user
		// key at the set's position).
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 9, Counter: 1}, 1, replication.Write{Value: []byte("x")}, 10)
		forged := []byte{0xFF, 0xFF, 'z'}
		if err := s.Apply(store.Op{Key: store.DataKey(ring.Hash{Hi: pos}, forged), Value: replication.AppendObject(nil, o)}); err != nil {
			t.Fatal(err)
		}
		var scanned []string
		if _, err := l.Scan(context.Background(), 0, func(k []byte, _ *replication.Object) bool {
			scanned = append(scanned, string(k))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		ranged, _, _, err := l.ReadRange(context.Background(), 0, ^uint64(0), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(scanned) != 2 || len(ranged) != 2 || scanned[0] != "myset" || scanned[1] != string(forged) || string(ranged[1].Key) != string(forged) {
			t.Fatalf("Scan listed %q, ReadRange %d keys; want the set's head and the forged key", scanned, len(ranged))
		}
	})
}

// TestCollectionDeleteKeptWhileElementsOutliveIt: the tombstone of a
// collection's delete is not collected while an element of it is live (an
// add concurrent with the delete), and is once none is.
func TestCollectionDeleteKeptWhileElementsOutliveIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		coll := []byte("cart")
		el := ring.ElementKey('s', coll, []byte("late add"))
		write(t, l, coll, func(cur *replication.Object) replication.Write {
			return replication.Write{Context: cur.Context(), Type: 's'}
		})
		write(t, l, el, func(cur *replication.Object) replication.Write { return replication.Write{Context: cur.Context()} })
		dead := write(t, l, coll, func(cur *replication.Object) replication.Write {
			return replication.Write{Context: cur.Context(), Tombstone: true, Type: 's'}
		})
		if ok, err := l.CollectTombstone(ctx, coll, dead); ok || err != nil {
			t.Fatalf("collected the delete of a set with a live member: %v %v", ok, err)
		}
		write(t, l, el, func(cur *replication.Object) replication.Write {
			return replication.Write{Context: cur.Context(), Tombstone: true}
		})
		if ok, err := l.CollectTombstone(ctx, coll, dead); !ok || err != nil {
			t.Fatalf("the delete of an emptied set was not collected: %v %v", ok, err)
		}
		// A string's delete is collected without a look at elements.
		plain := write(t, l, []byte("s"), func(cur *replication.Object) replication.Write {
			return replication.Write{Context: cur.Context(), Tombstone: true}
		})
		if ok, err := l.CollectTombstone(ctx, []byte("s"), plain); !ok || err != nil {
			t.Fatalf("string delete: %v %v", ok, err)
		}
	})
}

// TestScanLeafKeysSkips: a filtered leaf scan that skips passes over the
// keys before the skip unseen and sees every other key it accepts, on
// every store.
func TestScanLeafKeysSkips(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		coll := []byte("myset")
		write(t, l, coll, func(cur *replication.Object) replication.Write {
			return replication.Write{Context: cur.Context(), Type: 's'}
		})
		var members []string
		for i := range 200 {
			m := fmt.Sprint("m", i)
			members = append(members, m)
			write(t, l, ring.ElementKey('s', coll, []byte(m)), func(cur *replication.Object) replication.Write { return replication.Write{Context: cur.Context()} })
		}
		pos := ring.HashKey(coll).Hi
		// Accept the members whose hash is in the top quarter; skip from
		// any other to the top quarter.
		const quarter = uint64(3) << 62
		var asked, seen int
		want := func(key []byte) (bool, []byte) {
			asked++
			h, prefix, ok := ring.ElementHash(key)
			if !ok || h >= quarter {
				return true, nil
			}
			return false, binary.BigEndian.AppendUint64(bytes.Clone(key[:prefix]), quarter)
		}
		err = l.ScanLeafKeys(context.Background(), pos, pos, want, func(key []byte, h uint64) error {
			seen++
			if mh, _, ok := ring.ElementHash(key); ok && mh < quarter {
				t.Errorf("a skipped key was scanned: %q", key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		top := 0
		for _, m := range members {
			if ring.MemberHash([]byte(m)) >= quarter {
				top++
			}
		}
		if seen != top+1 || asked != top+2 {
			t.Fatalf("scanned %d keys after asking about %d; want the %d members of the top quarter and the head (asking about one more)", seen, asked, top)
		}
	})
}
