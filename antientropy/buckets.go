package antientropy

// Bucket hashes of big leaves, kept up to date. A leaf holding the elements
// of a large collection (they share its ring position) is answered with
// bucket hashes (LeafKeys); computing them takes a scan of the leaf, which
// for a million-member set is seconds of CPU. So once a scan has computed a
// big leaf's bucket hashes, Trees keeps them: every UpdateKey of a key of
// that leaf also updates its bucket, and they are checked against the
// leaf's hash every time they are used (a mismatch, but for a 2^-64 chance,
// discards them, and the next exchange scans again). A rebuilt partition's
// vectors are dropped.
//
// A leaf is scanned while it is written to (a collection under load), so a
// scan's hashes alone rarely agree with the leaf by the time the scan ends.
// Before it starts, the scanner registers a pending vector (BeginLeafScan)
// that collects every change UpdateKey makes to the leaf meanwhile; the
// scan reads a snapshot of the store taken after that, so the changes after
// the snapshot are exactly those collected, and the scan's hashes combined
// with them are the leaf's now. A write stored before the snapshot but
// recorded after the registration is counted twice; the check against the
// leaf's hash catches it, and that scan's result is dropped.

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
// hashes of its leaf when the leaf's are kept or being scanned for.
func (ts *Trees) UpdateKey(pos uint64, key []byte, old, new uint64) {
	if old == new {
		return
	}
	p := ts.shape.Partition(pos)
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	ts.updateLocked(st.trees, p, pos, old, new)
	ref := Ref{p, ts.shape.Leaf(pos)}
	if v := st.buckets[ref]; v != nil {
		v[KeyBucket(key)] ^= old ^ new
	}
	if vs := st.pending[ref]; vs != nil {
		b := KeyBucket(key)
		for _, v := range vs {
			v[b] ^= old ^ new
		}
	}
}

// LeafScan is a scan of a leaf for its bucket hashes under way
// (BeginLeafScan).
type LeafScan struct {
	ref     Ref
	changes *bucketVec
}

// BeginLeafScan registers a scan of leaf l of partition p: from now on the
// changes to its keys are collected, to be combined with the scan's result
// by KeepLeafBuckets. The scan must read a snapshot taken after this call.
// Every BeginLeafScan must be ended by KeepLeafBuckets or EndLeafScan.
func (ts *Trees) BeginLeafScan(p, l int) *LeafScan {
	sc := &LeafScan{ref: Ref{p, l}, changes: new(bucketVec)}
	st := &ts.stripes[p%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pending == nil {
		st.pending = map[Ref][]*bucketVec{}
	}
	st.pending[sc.ref] = append(st.pending[sc.ref], sc.changes)
	return sc
}

// EndLeafScan ends scan sc without keeping anything.
func (ts *Trees) EndLeafScan(sc *LeafScan) {
	st := &ts.stripes[sc.ref.P%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	ts.endLocked(st.pending, sc)
}

func (ts *Trees) endLocked(pending map[Ref][]*bucketVec, sc *LeafScan) {
	vs := pending[sc.ref]
	for i, v := range vs {
		if v == sc.changes {
			vs = append(vs[:i], vs[i+1:]...)
			break
		}
	}
	if len(vs) == 0 {
		delete(pending, sc.ref)
	} else {
		pending[sc.ref] = vs
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

// KeepLeafBuckets ends scan sc, which computed bucket hashes hs
// (LeafBuckets of them) of its leaf: combined with the changes made since
// the scan began, they are kept if they agree with the leaf's hash now. It
// reports whether they were kept.
func (ts *Trees) KeepLeafBuckets(sc *LeafScan, hs []uint64) bool {
	st := &ts.stripes[sc.ref.P%treeStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	ts.endLocked(st.pending, sc)
	if len(hs) != LeafBuckets {
		return false
	}
	var v bucketVec
	for i := range v {
		v[i] = hs[i] ^ sc.changes[i]
	}
	t := st.trees[sc.ref.P]
	if t == nil || v.xor() != t.leaves[sc.ref.I] {
		return false
	}
	if st.buckets == nil {
		st.buckets = map[Ref]*bucketVec{}
	}
	st.buckets[sc.ref] = &v
	return true
}
