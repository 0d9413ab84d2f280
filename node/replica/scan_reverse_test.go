package replica

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/node/store/storetest"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// TestReadKeysReverse: a list's items read greatest first, a batch at a
// time, are exactly the forward read's items in reverse, without the keys
// of other collections at the same position or outside the range.
func TestReadKeysReverse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s store.Store) {
		l, err := Open(Config{Name: "n1", Store: s, CacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		coll := []byte("mylist")
		var want []string
		for i := range 10 {
			id := fmt.Appendf(nil, "%08d", i)
			want = append(want, string(ring.ElementKey(ring.TypeList, coll, id)))
			write(t, l, ring.ElementKey(ring.TypeList, coll, id), func(cur *replication.Object) replication.Write { return replication.Write{Value: id} })
		}
		// Neighbours that must stay out: a set of the same name, the list's
		// own head, another list.
		write(t, l, ring.ElementKey('s', coll, []byte("m")), func(cur *replication.Object) replication.Write { return replication.Write{} })
		write(t, l, coll, func(cur *replication.Object) replication.Write { return replication.Write{Type: ring.TypeList} })
		write(t, l, ring.ElementKey(ring.TypeList, []byte("other"), []byte("00000001")), func(cur *replication.Object) replication.Write { return replication.Write{} })
		pos := ring.HashKey(coll).Hi
		prefix := ring.ElementPrefix(ring.TypeList, coll)
		var got []string
		for end := ring.PrefixEnd(prefix); ; {
			keys, more, err := l.ReadKeysReverse(context.Background(), pos, prefix, end, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, ks := range keys {
				if ks.Pos != pos {
					t.Fatalf("ReadKeysReverse gave %q at %x", ks.Key, ks.Pos)
				}
				got = append(got, string(ks.Key))
			}
			if !more {
				break
			}
			end = keys[len(keys)-1].Key
		}
		slices.Reverse(got)
		if !slices.Equal(got, want) {
			t.Fatalf("ReadKeysReverse read %q, want %q reversed", got, want)
		}
	})
}
