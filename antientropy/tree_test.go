package antientropy

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestShapeLeafRanges: for every Q, a position's leaf range contains it,
// the leaves of a partition are contiguous and cover it exactly, and all
// partitions together stay within 2^20 leaves.
func TestShapeLeafRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, q := range []int{1, 2, 8, 1024, 2048, 1 << 16, 1 << 20, 1 << 24} {
		s, err := NewShape(q)
		if err != nil {
			t.Fatal(err)
		}
		if s.Partitions() != q || s.Leaves()*q > 1<<20 && s.Leaves() > 1 || s.Branches()*s.LeavesPerBranch() != s.Leaves() {
			t.Fatalf("Q=%d: shape %d leaves = %d branches x %d", q, s.Leaves(), s.Branches(), s.LeavesPerBranch())
		}
		for range 2000 {
			pos := rng.Uint64()
			p, l := s.Partition(pos), s.Leaf(pos)
			first, last := s.LeafRange(p, l)
			if pos < first || pos > last {
				t.Fatalf("Q=%d: pos %x in partition %d leaf %d, whose range is [%x, %x]", q, pos, p, l, first, last)
			}
		}
		for _, p := range []int{0, q / 2, q - 1} {
			prevLast := uint64(0)
			for l := range s.Leaves() {
				first, last := s.LeafRange(p, l)
				if l > 0 && first != prevLast+1 {
					t.Fatalf("Q=%d partition %d: leaf %d starts at %x, previous ended at %x", q, p, l, first, prevLast)
				}
				if s.Partition(first) != p || s.Partition(last) != p || s.Leaf(first) != l || s.Leaf(last) != l {
					t.Fatalf("Q=%d partition %d leaf %d: range [%x, %x] maps elsewhere", q, p, l, first, last)
				}
				prevLast = last
			}
		}
	}
	for _, q := range []int{0, 3, 1 << 25} {
		if _, err := NewShape(q); err == nil {
			t.Fatalf("NewShape(%d) accepted", q)
		}
	}
}

// memReplica is a replica's keys and their contributions in memory, kept
// in position order, with its Trees updated on every change.
type memReplica struct {
	Local
	keys  map[string]memKey
	scans [][2]uint64 // the ranges the leaf scanner was called for (not the filtered one)
	asked int         // the keys the filtered scanner asked want about
}

type memKey struct {
	pos  uint64
	hash uint64
}

func newMemReplica(s Shape) *memReplica {
	m := &memReplica{keys: map[string]memKey{}}
	m.Local = Local{Trees: NewTrees(s), Scan: m.scan, Filter: m.filter}
	return m
}

func keyPos(key string) uint64 {
	// a cheap stand-in for the ring position: a mix of the key's bytes
	var h uint64 = 14695981039346656037
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// set gives key the contribution hash (0 removes it).
func (m *memReplica) set(key string, hash uint64) { m.setAt(key, keyPos(key), hash) }

// setAt is set for a key at position pos.
func (m *memReplica) setAt(key string, pos, hash uint64) {
	old := m.keys[key]
	m.Trees.UpdateKey(pos, []byte(key), old.hash, hash)
	if hash == 0 {
		delete(m.keys, key)
	} else {
		m.keys[key] = memKey{pos, hash}
	}
}

func (m *memReplica) scan(ctx context.Context, first, last uint64, fn func([]byte, uint64) error) error {
	m.scans = append(m.scans, [2]uint64{first, last})
	return m.walk(ctx, first, last, fn)
}

func (m *memReplica) walk(_ context.Context, first, last uint64, fn func([]byte, uint64) error) error {
	ks := m.sorted(first, last)
	for _, k := range ks {
		if err := fn([]byte(k), m.keys[k].hash); err != nil {
			return err
		}
	}
	return nil
}

// sorted returns the keys at positions first..last in a store's order:
// by position, then by key.
func (m *memReplica) sorted(first, last uint64) []string {
	var ks []string
	for k, v := range m.keys {
		if v.pos >= first && v.pos <= last {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b string) int {
		return cmp.Or(cmp.Compare(m.keys[a].pos, m.keys[b].pos), strings.Compare(a, b))
	})
	return ks
}

// filter is the FilteredScanner: a skip passes over the keys at the same
// position before it without asking about them.
func (m *memReplica) filter(_ context.Context, first, last uint64, want func([]byte) (bool, []byte), fn func([]byte, uint64) error) error {
	ks := m.sorted(first, last)
	for i := 0; i < len(ks); {
		k := ks[i]
		m.asked++
		ok, skip := want([]byte(k))
		if ok {
			if err := fn([]byte(k), m.keys[k].hash); err != nil {
				return err
			}
		}
		i++
		if !ok && skip != nil {
			pos := m.keys[k].pos
			for i < len(ks) && m.keys[ks[i]].pos == pos && ks[i] < string(skip) {
				i++
			}
		}
	}
	return nil
}

// counted counts the calls and the bytes a remote side's answers would
// take on the wire (8 per hash, key length + 8 per key).
type counted struct {
	Replica
	calls, bytes int
}

func (c *counted) Roots(ctx context.Context, parts []int) ([]uint64, error) {
	c.calls++
	r, err := c.Replica.Roots(ctx, parts)
	c.bytes += 8 * len(r)
	return r, err
}

func (c *counted) Branches(ctx context.Context, parts []int) ([][]uint64, error) {
	c.calls++
	r, err := c.Replica.Branches(ctx, parts)
	for _, b := range r {
		c.bytes += 8 * len(b)
	}
	return r, err
}

func (c *counted) Leaves(ctx context.Context, refs []Ref) ([][]uint64, error) {
	c.calls++
	r, err := c.Replica.Leaves(ctx, refs)
	for _, b := range r {
		c.bytes += 8 * len(b)
	}
	return r, err
}

func (c *counted) Keys(ctx context.Context, refs []Ref) ([]LeafKeys, error) {
	c.calls++
	r, err := c.Replica.Keys(ctx, refs)
	for _, lk := range r {
		c.bytes += 8 * len(lk.Buckets)
		for _, k := range lk.Keys {
			c.bytes += len(k.Key) + 8
		}
	}
	return r, err
}

func (c *counted) BucketKeys(ctx context.Context, refs []BucketRef) ([][]KeyHash, error) {
	c.calls++
	r, err := c.Replica.BucketKeys(ctx, refs)
	for _, ks := range r {
		for _, k := range ks {
			c.bytes += len(k.Key) + 8
		}
	}
	return r, err
}

func allParts(s Shape) []int {
	parts := make([]int, s.Partitions())
	for i := range parts {
		parts[i] = i
	}
	return parts
}

// twins returns two replicas holding the same n keys.
func twins(s Shape, n int, rng *rand.Rand) (*memReplica, *memReplica) {
	a, b := newMemReplica(s), newMemReplica(s)
	for i := range n {
		k, h := fmt.Sprint("key:", i), rng.Uint64()|1
		a.set(k, h)
		b.set(k, h)
	}
	return a, b
}

// TestCompareFindsExactlyTheDifferences: keys missing on either side, and
// keys with other versions, are found, each once, with both sides'
// contributions, and nothing else is; identical replicas cost one call.
func TestCompareFindsExactlyTheDifferences(t *testing.T) {
	ctx := context.Background()
	for _, q := range []int{1, 16, 1024, 1 << 16} {
		t.Run(fmt.Sprint("Q=", q), func(t *testing.T) {
			s, _ := NewShape(q)
			rng := rand.New(rand.NewPCG(uint64(q), 3))
			a, b := twins(s, 5000, rng)
			diffs, st, err := Compare(ctx, s, &a.Local, &b.Local, allParts(s), DefaultLimits())
			rootCalls := (q + DefaultLimits().RootsPerCall - 1) / DefaultLimits().RootsPerCall
			if err != nil || len(diffs) != 0 || st.Calls != rootCalls {
				t.Fatalf("identical replicas: %d diffs, %d calls, %v; want no diffs in %d calls (roots only)", len(diffs), st.Calls, err, rootCalls)
			}
			want := map[string][2]uint64{}
			for i := range 300 {
				k := fmt.Sprint("key:", rng.IntN(5000))
				switch i % 4 {
				case 0: // lost on b
					b.set(k, 0)
				case 1: // another version on a
					a.set(k, rng.Uint64()|1)
				case 2: // only on b
					k = fmt.Sprint("new:", i)
					b.set(k, rng.Uint64()|1)
				case 3: // deleted on a, other version on b
					a.set(k, 0)
					b.set(k, rng.Uint64()|1)
				}
				if a.keys[k].hash != b.keys[k].hash {
					want[k] = [2]uint64{a.keys[k].hash, b.keys[k].hash}
				} else {
					delete(want, k)
				}
			}
			diffs, _, err = Compare(ctx, s, &a.Local, &b.Local, allParts(s), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][2]uint64{}
			for _, d := range diffs {
				if _, dup := got[string(d.Key)]; dup {
					t.Fatalf("%s reported twice", d.Key)
				}
				if d.P != s.Partition(keyPos(string(d.Key))) {
					t.Fatalf("%s reported in partition %d", d.Key, d.P)
				}
				got[string(d.Key)] = [2]uint64{d.Local, d.Remote}
			}
			if len(got) != len(want) {
				t.Fatalf("%d differences found, want %d", len(got), len(want))
			}
			for k, w := range want {
				if got[k] != w {
					t.Fatalf("%s: found %x, want %x", k, got[k], w)
				}
			}
			// After repairing the differences, the replicas compare equal.
			for k := range want {
				a.set(k, b.keys[k].hash)
			}
			if diffs, _, _ := Compare(ctx, s, &a.Local, &b.Local, allParts(s), DefaultLimits()); len(diffs) != 0 {
				t.Fatalf("%d differences after repair", len(diffs))
			}
		})
	}
}

// TestCompareEmptySide: against a replica that lost everything, every key
// is a difference, and the empty side is never asked below its roots.
func TestCompareEmptySide(t *testing.T) {
	ctx := context.Background()
	s, _ := NewShape(1024)
	rng := rand.New(rand.NewPCG(5, 5))
	a, _ := twins(s, 3000, rng)
	empty := &counted{Replica: &newMemReplica(s).Local}
	diffs, _, err := Compare(ctx, s, &a.Local, empty, allParts(s), DefaultLimits())
	if err != nil || len(diffs) != 3000 {
		t.Fatalf("%d differences with an empty replica, %v; want 3000", len(diffs), err)
	}
	if empty.calls != 1 {
		t.Fatalf("the empty side was called %d times; want once (roots)", empty.calls)
	}
}

// TestCompareTruncates: with MaxDiffs set, Compare stops after about that
// many and says so; repeated exchanges get through the rest.
func TestCompareTruncates(t *testing.T) {
	ctx := context.Background()
	s, _ := NewShape(64)
	rng := rand.New(rand.NewPCG(6, 6))
	a, _ := twins(s, 2000, rng)
	b := newMemReplica(s)
	lim := DefaultLimits()
	lim.MaxDiffs = 300
	rounds := 0
	for ; rounds < 20; rounds++ {
		diffs, st, err := Compare(ctx, s, &a.Local, &b.Local, allParts(s), lim)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) == 0 {
			break
		}
		if len(diffs) > lim.MaxDiffs+s.Leaves()*lim.KeysPerCall || (len(diffs) >= lim.MaxDiffs) != st.Truncated {
			t.Fatalf("round %d: %d diffs, truncated %v", rounds, len(diffs), st.Truncated)
		}
		for _, d := range diffs {
			b.set(string(d.Key), d.Local)
		}
	}
	if rounds < 2 || len(b.keys) != 2000 {
		t.Fatalf("%d rounds, %d keys repaired", rounds, len(b.keys))
	}
}

// TestTreeUpdateMatchesRebuild: a tree kept up to date through any
// sequence of writes equals the tree built from the final keys.
func TestTreeUpdateMatchesRebuild(t *testing.T) {
	s, _ := NewShape(16)
	rng := rand.New(rand.NewPCG(8, 8))
	m := newMemReplica(s)
	for range 20000 {
		k := fmt.Sprint("k", rng.IntN(3000))
		h := rng.Uint64()
		if rng.IntN(5) == 0 {
			h = 0
		}
		m.set(k, h)
	}
	for p := range s.Partitions() {
		fresh := NewTree(s)
		first, _ := s.LeafRange(p, 0)
		_, last := s.LeafRange(p, s.Leaves()-1)
		m.scan(context.Background(), first, last, func(key []byte, h uint64) error {
			fresh.Add(s, s.Leaf(keyPos(string(key))), h)
			return nil
		})
		if fresh.Root() != m.Trees.Root(p) || fresh.Keys() != m.Trees.Keys(p) ||
			!slices.Equal(fresh.branches, m.Trees.Branches(p)) {
			t.Fatalf("partition %d: updated tree differs from the rebuilt one", p)
		}
		for b := range s.Branches() {
			per := s.LeavesPerBranch()
			if !slices.Equal(fresh.leaves[b*per:(b+1)*per], m.Trees.Leaves(p, b)) {
				t.Fatalf("partition %d branch %d: leaves differ", p, b)
			}
		}
		m.Trees.Replace(p, fresh)
		if m.Trees.Root(p) != fresh.Root() {
			t.Fatal("Replace did not install the tree")
		}
	}
}
