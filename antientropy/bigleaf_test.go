package antientropy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/ring"
)

// TestCompareBigLeaf: a leaf holding many keys at one position (the
// elements of a large collection) is compared bucket by bucket: the keys
// that differ are found, each once, and the answers carry the bucket
// hashes and the differing buckets' keys, not the whole leaf.
func TestCompareBigLeaf(t *testing.T) {
	s, err := NewShape(16)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := newMemReplica(s), newMemReplica(s)
	const n = 20_000
	pos := rng.Uint64()
	var leafBytes int
	for i := range n {
		k, h := fmt.Sprint("set:member:", i), rng.Uint64()|1
		a.setAt(k, pos, h)
		b.setAt(k, pos, h)
		leafBytes += len(k) + 8
	}
	// Small leaves beside it too.
	for i := range 200 {
		k, h := fmt.Sprint("key:", i), rng.Uint64()|1
		a.set(k, h)
		b.set(k, h)
	}
	b.setAt("set:member:17", pos, 42)   // another version
	a.setAt("set:member:extra", pos, 7) // only on a
	b.setAt("set:member:1999", pos, 0)  // only on a
	b.set("key:5", 9)                   // a small leaf differs too
	remote := &counted{Replica: &b.Local}
	diffs, st, err := Compare(context.Background(), s, &a.Local, remote, allParts(s), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, string(d.Key))
	}
	slices.Sort(got)
	want := []string{"key:5", "set:member:17", "set:member:1999", "set:member:extra"}
	if !slices.Equal(got, want) {
		t.Fatalf("differences %q, want %q", got, want)
	}
	if st.BucketsDiff == 0 {
		t.Fatal("the big leaf was not compared by buckets")
	}
	if remote.bytes > leafBytes/10 {
		t.Fatalf("the remote side's answers took %d bytes; the big leaf's keys alone are %d", remote.bytes, leafBytes)
	}
	t.Logf("%d keys in one leaf, %d differing: %d bytes of answers (the leaf's key list: %d), %d calls", n, len(want), remote.bytes, leafBytes, remote.calls)

	// The big leaf's bucket hashes are now kept on both sides, up to date
	// with every change: the next exchanges scan it no more to hash it.
	scanned := func(m *memReplica) bool {
		for _, r := range m.scans {
			if r[0] <= pos && pos <= r[1] {
				return true
			}
		}
		return false
	}
	for round := range 3 {
		a.scans, b.scans = nil, nil
		b.setAt(fmt.Sprint("set:member:", 100+round), pos, uint64(1000+round))
		diffs, _, err = Compare(context.Background(), s, &a.Local, &b.Local, allParts(s), DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) != 5+round {
			t.Fatalf("round %d: %d differences, want %d", round, len(diffs), 5+round)
		}
		if scanned(a) || scanned(b) {
			t.Fatalf("round %d: the big leaf was scanned again though its bucket hashes are kept (a %v, b %v)", round, scanned(a), scanned(b))
		}
	}
	// A change the trees learn without the key's name makes the kept
	// hashes disagree with the leaf: they are dropped and the leaf scanned.
	b.Trees.Update(pos, 0, 77)
	b.scans = nil
	if _, _, err := Compare(context.Background(), s, &a.Local, &b.Local, allParts(s), DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if !scanned(b) {
		t.Fatal("stale bucket hashes were used")
	}
}

// TestBigCollectionReadByBucketRanges: a big leaf holding a collection's
// elements is read bucket by bucket: the keys of the buckets asked are
// exactly those a full scan puts in them, and a replica asked for one
// differing member reads a few buckets' worth of keys, not the leaf.
func TestBigCollectionReadByBucketRanges(t *testing.T) {
	s, err := NewShape(16)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := newMemReplica(s), newMemReplica(s)
	const n = 30_000
	pos := rng.Uint64()
	for i := range n {
		k, h := string(ring.ElementKey('s', []byte("big"), fmt.Append(nil, "m:", i))), rng.Uint64()|1
		a.setAt(k, pos, h)
		b.setAt(k, pos, h)
	}
	// Beside it at the same position: its head, another collection, and
	// keys that are not elements.
	for i := range 3000 {
		k, h := string(ring.ElementKey('h', []byte("big"), fmt.Append(nil, "f:", i))), rng.Uint64()|1
		a.setAt(k, pos, h)
		b.setAt(k, pos, h)
	}
	for _, k := range []string{"big", "\xff\xffesc", "zzz"} {
		a.setAt(k, pos, 11)
		b.setAt(k, pos, 11)
	}

	// Every bucket's keys, as a full scan files them.
	var ref Ref
	ref.P = s.Partition(pos)
	ref.I = s.Leaf(pos)
	byBucket := map[int][]KeyHash{}
	for _, k := range a.sorted(pos, pos) {
		byBucket[KeyBucket([]byte(k))] = append(byBucket[KeyBucket([]byte(k))], KeyHash{Key: []byte(k), Hash: a.keys[k].hash})
	}
	for round := range 50 {
		var asked []BucketRef
		for range 1 + rng.IntN(20) {
			asked = append(asked, BucketRef{Ref: ref, B: rng.IntN(LeafBuckets)})
		}
		if round == 0 {
			asked = append(asked, BucketRef{Ref: ref, B: 0}, BucketRef{Ref: ref, B: LeafBuckets - 1})
		}
		got, err := a.BucketKeys(context.Background(), asked)
		if err != nil {
			t.Fatal(err)
		}
		for i, br := range asked {
			if !slices.EqualFunc(got[i], byBucket[br.B], func(x, y KeyHash) bool { return string(x.Key) == string(y.Key) && x.Hash == y.Hash }) {
				t.Fatalf("round %d: bucket %d: %d keys, a full scan files %d there", round, br.B, len(got[i]), len(byBucket[br.B]))
			}
		}
	}

	b.setAt(string(ring.ElementKey('s', []byte("big"), []byte("m:17"))), pos, 42)
	b.setAt(string(ring.ElementKey('h', []byte("big"), []byte("f:5"))), pos, 0)
	if _, _, err := Compare(context.Background(), s, &a.Local, &b.Local, allParts(s), DefaultLimits()); err != nil {
		t.Fatal(err) // the first exchange hashes the big leaf by scanning it
	}
	a.asked, b.asked = 0, 0
	diffs, _, err := Compare(context.Background(), s, &a.Local, &b.Local, allParts(s), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 2 {
		t.Fatalf("%d differences, want 2", len(diffs))
	}
	if limit := 2 * (n + 3000) / LeafBuckets * 4; a.asked > limit || b.asked > limit {
		t.Fatalf("reading 2 buckets of a %d-key leaf asked about %d and %d keys (more than %d)", n+3000, a.asked, b.asked, limit)
	}
	t.Logf("2 differing members of a %d-key leaf: %d and %d keys looked at", n+3000, a.asked, b.asked)
}

// TestLeafScanUnderWrites: a big leaf scanned while its keys are written
// keeps the right bucket hashes (the scan's snapshot combined with the
// changes made since the scan began), and a write the snapshot holds that
// was also recorded after the scan began is caught, not kept.
func TestLeafScanUnderWrites(t *testing.T) {
	s, err := NewShape(16)
	if err != nil {
		t.Fatal(err)
	}
	m := newMemReplica(s)
	pos := uint64(12345) << 40
	key := func(i int) string { return string(ring.ElementKey('s', []byte("c"), fmt.Append(nil, i))) }
	for i := range 3000 {
		m.setAt(key(i), pos, uint64(i)+1)
	}
	p, l := s.Partition(pos), s.Leaf(pos)
	// hashesOf files a snapshot of the leaf into buckets, as a scan does.
	hashesOf := func(snap map[string]uint64) []uint64 {
		hs := make([]uint64, LeafBuckets)
		for k, h := range snap {
			hs[KeyBucket([]byte(k))] ^= h
		}
		return hs
	}
	snapshot := func() map[string]uint64 {
		snap := map[string]uint64{}
		for k, v := range m.keys {
			if v.pos == pos {
				snap[k] = v.hash
			}
		}
		return snap
	}

	sc := m.Trees.BeginLeafScan(p, l)
	snap := snapshot()
	for i := range 500 { // writes after the snapshot, while the scan runs
		m.setAt(key(i*5), pos, uint64(i)+7777)
	}
	m.setAt(key(9999), pos, 5)
	m.setAt(key(17), pos, 0)
	if !m.Trees.KeepLeafBuckets(sc, hashesOf(snap)) {
		t.Fatal("a scan under writes was not kept")
	}
	got, ok := m.Trees.LeafBucketHashes(p, l)
	if !ok || !slices.Equal(got, hashesOf(snapshot())) {
		t.Fatal("the kept bucket hashes are not the leaf's")
	}

	// A write the snapshot already holds, recorded after the scan began.
	delete(m.Trees.stripes[p%treeStripes].buckets, Ref{p, l}) // forget the kept vector
	snapBefore := snapshot()
	sc = m.Trees.BeginLeafScan(p, l)
	m.setAt(key(1), pos, 4242)
	snapBefore[key(1)] = 4242
	if m.Trees.KeepLeafBuckets(sc, hashesOf(snapBefore)) {
		t.Fatal("a write counted twice was kept")
	}
	// The pending scans are gone once ended.
	sc = m.Trees.BeginLeafScan(p, l)
	m.Trees.EndLeafScan(sc)
	st := &m.Trees.stripes[p%treeStripes]
	if len(st.pending) != 0 {
		t.Fatalf("%d pending scans left", len(st.pending))
	}
}
