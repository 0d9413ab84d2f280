package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// faultyReplica returns a replica with trees of 16 partitions over a
// Faulty in-memory store.
func faultyReplica(t *testing.T) (*store.Faulty, *Local, antientropy.Shape) {
	t.Helper()
	f := store.NewFaulty(store.NewMem())
	t.Cleanup(func() { f.Close() })
	l, err := Open(Config{Name: "n1", Store: f})
	if err != nil {
		t.Fatal(err)
	}
	shape, _ := antientropy.NewShape(16)
	l.EnableTrees(shape)
	return f, l, shape
}

// Keys the store cannot read (a damaged table): reads of them answer
// ErrUnreadable and mark their partitions damaged; the trees build over
// what is readable (they used to fail, and never finished); scans skip
// them; a merge from another replica replaces them and they read locally
// again; a write minted over one takes a new actor id first.
func TestUnreadableKeys(t *testing.T) {
	ctx := context.Background()
	f, l, shape := faultyReplica(t)
	const n = 200
	for i := range n {
		putValue(t, l, fmt.Sprint("k", i), fmt.Sprint("v", i))
	}
	var bad [][]byte
	var badParts []int
	for i := 0; i < n; i += 17 {
		k := fmt.Appendf(nil, "k%d", i)
		h := ring.HashKey(k)
		bad = append(bad, k)
		f.Corrupt(store.DataKey(h, k))
		badParts = append(badParts, shape.Partition(h.Hi))
	}
	slices.Sort(badParts)
	badParts = slices.Compact(badParts)

	keys, err := l.RebuildTrees(ctx)
	if err != nil {
		t.Fatalf("RebuildTrees over unreadable keys: %v", err)
	}
	if want := int64(n - len(bad)); keys != want {
		t.Fatalf("trees count %d keys, want the %d readable ones", keys, want)
	}
	if !l.TreesReady() {
		t.Fatal("trees not ready")
	}
	if got := l.Damaged(); !slices.Equal(got, badParts) {
		t.Fatalf("damaged partitions %v, want %v", got, badParts)
	}
	if stale := l.staleDamaged(); len(stale) != 0 {
		t.Fatalf("partitions %v still stale after the rebuild", stale)
	}
	for _, k := range bad {
		if _, err := l.ReadOwn(ctx, k); !errors.Is(err, ErrUnreadable) || !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("ReadOwn %s: %v, want ErrUnreadable", k, err)
		}
	}
	seen := 0
	if _, err := l.Scan(ctx, 0, func([]byte, *replication.Object) bool { seen++; return true }); err != nil || seen != n-len(bad) {
		t.Fatalf("Scan: %d keys, %v; want %d", seen, err, n-len(bad))
	}
	objs, err := l.ReadMany(ctx, bad[:2])
	if err != nil || objs[0] != nil || objs[1] != nil {
		t.Fatalf("ReadMany of unreadable keys = %v, %v; want absent", objs, err)
	}

	// Repair: another replica's states merged in.
	var items []KeyObject
	for i, k := range bad[1:] {
		var o *replication.Object
		o = o.Apply(replication.Dot{Actor: 99, Counter: uint64(i + 1)}, 1, replication.Write{Value: []byte("repaired")}, 10)
		items = append(items, KeyObject{Key: k, Obj: o})
	}
	if err := l.MergeBatch(ctx, items); err != nil {
		t.Fatalf("MergeBatch over unreadable keys: %v", err)
	}
	for _, k := range bad[1:] {
		if o, err := l.ReadOwn(ctx, k); err != nil || value(o) != "repaired" {
			t.Fatalf("after repair %s = %v, %v", k, o, err)
		}
	}
	// A write minted over an unreadable key: a new actor first.
	actor := l.Actor()
	putValue(t, l, string(bad[0]), "new")
	if l.Actor() == actor {
		t.Fatal("a write over an unreadable key kept the actor id")
	}
	if f.Corrupted() != 0 {
		t.Fatalf("%d keys still unreadable", f.Corrupted())
	}
	if st := l.DamageStats(); st.Rewritten != int64(len(bad)) || st.UnreadableReads == 0 {
		t.Fatalf("damage stats %+v", st)
	}
	// rebuilt over what is now readable, and marked repaired
	if _, err := l.RebuildDamaged(ctx); err != nil {
		t.Fatal(err)
	}
	if cleared := l.Repaired(badParts); !slices.Equal(cleared, badParts) || len(l.Damaged()) != 0 {
		t.Fatalf("Repaired cleared %v, damaged now %v", cleared, l.Damaged())
	}
	if keys, _ := l.RebuildTrees(ctx); keys != n {
		t.Fatalf("trees count %d keys after repair, want %d", keys, n)
	}
}

// A walk whose next partition starts with an unreadable key goes on past
// it (it used to resume inside the partition it had just walked, forever).
func TestWalkPastDamageAtPartitionStarts(t *testing.T) {
	ctx := context.Background()
	f, l, shape := faultyReplica(t)
	// the first key of every partition unreadable
	first := map[int][]byte{}
	const n = 400
	for i := range n {
		k := fmt.Appendf(nil, "k%d", i)
		putValue(t, l, string(k), "v")
		h := ring.HashKey(k)
		p := shape.Partition(h.Hi)
		if cur, ok := first[p]; !ok || string(store.DataKey(h, k)) < string(cur) {
			first[p] = store.DataKey(h, k)
		}
	}
	for _, dk := range first {
		f.Corrupt(dk)
	}
	l.ForgetCaches()
	keys, err := l.RebuildTrees(ctx)
	if err != nil || keys != int64(n-len(first)) {
		t.Fatalf("RebuildTrees: %d keys, %v; want %d", keys, err, n-len(first))
	}
	seen := 0
	if _, err := l.Scan(ctx, 0, func([]byte, *replication.Object) bool { seen++; return true }); err != nil || seen != n-len(first) {
		t.Fatalf("Scan: %d keys, %v; want %d", seen, err, n-len(first))
	}
	if got := len(l.Damaged()); got != len(first) {
		t.Fatalf("%d partitions damaged, want %d", got, len(first))
	}
}
