package antientropy

// Bucket hashes of big leaves, kept up to date. A leaf holding the elements
// of a large collection (they share its ring position) is answered with
// bucket hashes (LeafKeys); computing them takes a scan of the leaf, which
// for a million-member set is seconds of CPU, and a leaf that is being
// written to differs between replicas at almost every exchange. So once a
// scan has computed a big leaf's bucket hashes, Trees keeps them: every
// UpdateKey of a key of that leaf also updates its bucket. A vector is
// installed only if its buckets XOR to the leaf's hash at that moment
// (under the lock that updates take), so a write that raced with the scan
// cannot leave it wrong (a mismatch, but for a 2^-64 chance, discards it
// and the next exchange scans again), and it is checked the same way
// every time it is used. A rebuilt partition's vectors are dropped.

// bucketVec is one big leaf's bucket hashes.
type bucketVec [LeafBuckets]uint64

func (v *bucketVec) xor() uint64 {
	var x uint64
	for _, h := range v {
		x ^= h
	}
	return x
}

// UpdateKey is Update for a key whose name is known, keeping the bucket
// hashes of its leaf when the leaf's are kept.
func (ts *Trees) UpdateKey(pos uint64, key []byte, old, new uint64) {
	if old == new {
		return
	}
	p := ts.shape.Partition(pos)
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	ts.updateLocked(st.trees, p, pos, old, new)
	if v := st.buckets[Ref{p, ts.shape.Leaf(pos)}]; v != nil {
		v[KeyBucket(key)] ^= old ^ new
	}
}

// LeafBucketHashes returns the kept bucket hashes of leaf l of partition
// p, if they are kept and agree with the leaf's hash.
func (ts *Trees) LeafBucketHashes(p, l int) ([]uint64, bool) {
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	v := st.buckets[Ref{p, l}]
	if v == nil {
		return nil, false
	}
	var leaf uint64
	if t := st.trees[p]; t != nil {
		leaf = t.leaves[l]
	}
	if v.xor() != leaf {
		delete(st.buckets, Ref{p, l})
		return nil, false
	}
	return append([]uint64(nil), v[:]...), true
}

// KeepLeafBuckets keeps bucket hashes hs (LeafBuckets of them) of leaf l
// of partition p, computed by a scan, if they agree with the leaf's hash
// now; it reports whether it kept them.
func (ts *Trees) KeepLeafBuckets(p, l int, hs []uint64) bool {
	if len(hs) != LeafBuckets {
		return false
	}
	var v bucketVec
	copy(v[:], hs)
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.trees[p]
	if t == nil || v.xor() != t.leaves[l] {
		return false
	}
	if st.buckets == nil {
		st.buckets = map[Ref]*bucketVec{}
	}
	st.buckets[Ref{p, l}] = &v
	return true
}
