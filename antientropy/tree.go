package antientropy

import (
	"fmt"
	"math/bits"
	"sync"
)

// maxLeafBits bounds the leaves of one partition's tree (2^10 = 1024), and
// totalLeafBits the leaves of all partitions together (2^20), so that a
// node's trees take at most 8 MiB of leaf hashes whatever Q is.
const (
	maxLeafBits   = 10
	totalLeafBits = 20
)

// Shape is the layout of the hash trees for a partition count Q: each
// partition's tree has Leaves() leaves, each the XOR of the contributions
// of the keys whose positions fall in one equal slice of the partition,
// grouped under Branches() branches of LeavesPerBranch() leaves; the root
// is the XOR of the branches. A Shape is a small value, safe to copy and
// to use concurrently.
type Shape struct {
	qBits      uint // log2(Q)
	leafBits   uint // log2(leaves per partition)
	branchBits uint // log2(branches per partition)
}

// NewShape returns the tree layout for q partitions, a power of two from 1
// to 1<<24: 1024 leaves in 32 branches per partition up to Q=1024, then
// fewer so that all partitions together have at most 2^20 leaves.
func NewShape(q int) (Shape, error) {
	if q < 1 || q > 1<<24 || q&(q-1) != 0 {
		return Shape{}, fmt.Errorf("antientropy: partitions must be a power of two between 1 and %d, got %d", 1<<24, q)
	}
	qb := uint(bits.TrailingZeros(uint(q)))
	lb := uint(0)
	if qb < totalLeafBits {
		lb = min(maxLeafBits, totalLeafBits-qb)
	}
	return Shape{qBits: qb, leafBits: lb, branchBits: lb / 2}, nil
}

// Partitions returns Q.
func (s Shape) Partitions() int { return 1 << s.qBits }

// Leaves returns the leaves of one partition's tree.
func (s Shape) Leaves() int { return 1 << s.leafBits }

// Branches returns the branches of one partition's tree.
func (s Shape) Branches() int { return 1 << s.branchBits }

// LeavesPerBranch returns the leaves under one branch.
func (s Shape) LeavesPerBranch() int { return 1 << (s.leafBits - s.branchBits) }

// Partition returns the partition of a key at ring position pos (the top
// 64 bits of its hash, ring.Hash.Hi).
func (s Shape) Partition(pos uint64) int {
	if s.qBits == 0 {
		return 0
	}
	return int(pos >> (64 - s.qBits))
}

// Leaf returns the leaf, within its partition, of a key at position pos.
func (s Shape) Leaf(pos uint64) int {
	if s.leafBits == 0 {
		return 0
	}
	return int((pos << s.qBits) >> (64 - s.leafBits))
}

// LeafRange returns the first and last positions (inclusive) of leaf l of
// partition p: the keys of one leaf are one range of positions, so one
// range scan of a node's store.
func (s Shape) LeafRange(p, l int) (first, last uint64) {
	width := s.qBits + s.leafBits // the position bits that select a leaf
	if width == 0 {
		return 0, ^uint64(0)
	}
	shift := 64 - width
	first = (uint64(p)<<s.leafBits | uint64(l)) << shift
	return first, first | (uint64(1)<<shift - 1)
}

// Tree is the hash tree of one partition. The zero value is not usable;
// NewTree makes one. A Tree is not safe for concurrent use by itself; the
// Trees that holds it guards it.
type Tree struct {
	root     uint64
	branches []uint64
	leaves   []uint64
	keys     int64 // keys with a non-zero contribution
}

// NewTree returns an empty tree of shape s.
func NewTree(s Shape) *Tree {
	return &Tree{branches: make([]uint64, s.Branches()), leaves: make([]uint64, s.Leaves())}
}

// Add adds a key's contribution c (its replication.Digest; 0 adds nothing)
// at leaf l, for building a tree from a scan.
func (t *Tree) Add(s Shape, l int, c uint64) {
	if c == 0 {
		return
	}
	t.flip(s, l, c)
	t.keys++
}

// flip XORs d into leaf l and the branch and root above it.
func (t *Tree) flip(s Shape, l int, d uint64) {
	t.leaves[l] ^= d
	t.branches[l>>(s.leafBits-s.branchBits)] ^= d
	t.root ^= d
}

// Root returns the XOR of every key's contribution: 0 for an empty tree.
func (t *Tree) Root() uint64 { return t.root }

// Keys returns the number of keys in the tree.
func (t *Tree) Keys() int64 { return t.keys }

// treeStripes is the number of locks over a Trees' partitions.
const treeStripes = 64

// Trees holds the hash trees of one node's partitions, created on first
// use. Every method is safe for concurrent use; each takes a lock over a
// stripe of partitions for a few hundred nanoseconds, never while calling
// out.
type Trees struct {
	shape   Shape
	stripes [treeStripes]struct {
		mu      sync.Mutex
		trees   map[int]*Tree
		buckets map[Ref]*bucketVec   // big leaves' bucket hashes (buckets.go)
		pending map[Ref][]*bucketVec // changes to leaves being scanned for them
	}
}

// NewTrees returns empty trees of shape s.
func NewTrees(s Shape) *Trees {
	ts := &Trees{shape: s}
	for i := range ts.stripes {
		ts.stripes[i].trees = make(map[int]*Tree)
	}
	return ts
}

// Shape returns the trees' layout.
func (ts *Trees) Shape() Shape { return ts.shape }

// Update replaces the contribution old of the key at position pos by new
// (each a replication.Digest; 0 for absent): a write changed the key's
// state from one to the other. It costs a few XORs.
func (ts *Trees) Update(pos uint64, old, new uint64) {
	if old == new {
		return
	}
	p := ts.shape.Partition(pos)
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	ts.updateLocked(st.trees, p, pos, old, new)
	// A key of unknown name: its leaf's bucket hashes, if kept, no longer
	// agree with the leaf and are dropped when next used.
}

// updateLocked is Update's change of partition p's tree; its stripe's lock
// is held.
func (ts *Trees) updateLocked(trees map[int]*Tree, p int, pos, old, new uint64) {
	t := trees[p]
	if t == nil {
		t = NewTree(ts.shape)
		trees[p] = t
	}
	t.flip(ts.shape, ts.shape.Leaf(pos), old^new)
	switch {
	case old == 0:
		t.keys++
	case new == 0:
		t.keys--
	}
}

// Replace installs t as partition p's tree (a tree rebuilt from the store;
// the caller must hold off writes to p meanwhile).
func (ts *Trees) Replace(p int, t *Tree) {
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	for ref := range st.buckets {
		if ref.P == p {
			delete(st.buckets, ref)
		}
	}
	if t.root == 0 && t.keys == 0 {
		delete(st.trees, p)
		return
	}
	st.trees[p] = t
}

// Root returns partition p's root hash (0: no keys).
func (ts *Trees) Root(p int) uint64 {
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	if t := st.trees[p]; t != nil {
		return t.root
	}
	return 0
}

// Branches returns a copy of partition p's branch hashes.
func (ts *Trees) Branches(p int) []uint64 {
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	if t := st.trees[p]; t != nil {
		return append([]uint64(nil), t.branches...)
	}
	return make([]uint64, ts.shape.Branches())
}

// Leaves returns a copy of the leaf hashes under branch b of partition p.
func (ts *Trees) Leaves(p, b int) []uint64 {
	per := ts.shape.LeavesPerBranch()
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	if t := st.trees[p]; t != nil {
		return append([]uint64(nil), t.leaves[b*per:(b+1)*per]...)
	}
	return make([]uint64, per)
}

// Keys returns the number of keys in partition p's tree.
func (ts *Trees) Keys(p int) int64 {
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	if t := st.trees[p]; t != nil {
		return t.keys
	}
	return 0
}
