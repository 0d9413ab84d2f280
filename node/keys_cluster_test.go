package node

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/ring"
)

// TestClusterRenameAndCopyThroughANonHome: on three nodes over goleveldb
// (N=2, so each key has a node that is none of its homes), COPY and RENAME
// of a set and of a hash with more members than one copy batch, sent to a
// node that is home to neither key, leave every element at each home of
// the destination; RENAME leaves none live at the source's homes; DUMP and
// RESTORE through that node do the same.
func TestClusterRenameAndCopyThroughANonHome(t *testing.T) {
	mc := newMemClusterWith(t, memOpts{q: 64, store: func(id string, _ store.Store) store.Store {
		st, err := store.OpenLevelDB(t.TempDir(), store.DefaultLevelDBOptions())
		if err != nil {
			t.Fatal(err)
		}
		return st // the node closes it
	}}, 2, 2, 2, "a", "b", "c")
	cl := mc.serveRESP()
	// Keys none of whose homes is node c.
	const via = "c"
	var names []string
	for i := 0; len(names) < 6; i++ {
		if k := fmt.Sprint("k", i); !slices.Contains(mc.homes(k), via) {
			names = append(names, k)
		}
	}
	set, hash, setCopy, hashMoved, setMoved, restored := names[0], names[1], names[2], names[3], names[4], names[5]
	ctx, cancel := cmdCtx()
	defer cancel()
	const n = 300 // more than one copy batch (256)
	members := make([]string, n)
	pairs := make([]any, 0, 2*n)
	for i := range n {
		members[i] = fmt.Sprint("m", i)
		pairs = append(pairs, members[i], fmt.Sprint("v", i))
	}
	if got := must(t, cl[via].SAdd(ctx, set, toAny(members)...)); got != n {
		t.Fatalf("SADD = %d", got)
	}
	if got := must(t, cl[via].HSet(ctx, hash, pairs...)); got != n {
		t.Fatalf("HSET = %d", got)
	}
	if got := must(t, cl[via].Copy(ctx, set, setCopy, 0, false)); got != 1 {
		t.Fatalf("COPY = %d", got)
	}
	if err := cl[via].Rename(ctx, hash, hashMoved).Err(); err != nil {
		t.Fatalf("RENAME of the hash: %v", err)
	}
	if err := cl[via].Rename(ctx, setCopy, setMoved).Err(); err != nil {
		t.Fatalf("RENAME of the set: %v", err)
	}
	payload, err := cl[via].Dump(ctx, set).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := cl[via].Restore(ctx, restored, 0, payload).Err(); err != nil {
		t.Fatalf("RESTORE: %v", err)
	}
	// Every home of each destination holds every element, live.
	holds := func(key string, typ byte, live bool) {
		t.Helper()
		for _, h := range mc.homes(key) {
			poll.Until(t, 10*time.Second, fmt.Sprintf("%s's copy of %s's %d elements to be live=%v", h, key, n, live), func() bool {
				for _, m := range members {
					o := mc.own(h, string(ring.ElementKey(typ, []byte(key), []byte(m))))
					if (o.Newest(mc.clock.now().UnixMilli()) != nil) != live {
						return false
					}
				}
				return true
			})
		}
	}
	holds(setMoved, setType, true)
	holds(hashMoved, hashType, true)
	holds(restored, setType, true)
	holds(hash, hashType, false)
	holds(setCopy, setType, false)
	holds(set, setType, true) // COPY and DUMP leave the source
	// And every node reads them.
	for _, id := range mc.ids {
		got, err := cl[id].SMembers(ctx, setMoved).Result()
		slices.Sort(got)
		want := slices.Sorted(slices.Values(members))
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("SMEMBERS %s through %s: %d members, %v", setMoved, id, len(got), err)
		}
		fields, err := cl[id].HGetAll(ctx, hashMoved).Result()
		if err != nil || len(fields) != n || fields["m7"] != "v7" {
			t.Fatalf("HGETALL %s through %s: %d fields, %v", hashMoved, id, len(fields), err)
		}
		if got := must(t, cl[id].Exists(ctx, hash, setCopy)); got != 0 {
			t.Fatalf("EXISTS of the renamed keys through %s = %d", id, got)
		}
		if got := must(t, cl[id].SCard(ctx, restored)); got != n {
			t.Fatalf("SCARD %s through %s = %d", restored, id, got)
		}
	}
}
