package antientropy

import (
	"context"
	"fmt"

	"github.com/dynakv/dynakv/ring"
)

// KeyHash is one key of a leaf with its contribution (replication.Digest).
type KeyHash struct {
	Key  []byte
	Hash uint64
}

// Ref names a branch or a leaf: partition P, index I within it.
type Ref struct {
	P, I int
}

// BucketRef names bucket B of leaf Ref (see LeafKeys).
type BucketRef struct {
	Ref
	B int
}

// BigLeaf is the most keys a leaf's answer lists: a leaf with more (the
// elements of a large collection share one ring position, so one leaf) is
// answered with LeafBuckets bucket hashes instead, and only the keys of
// the buckets that differ are listed then.
const BigLeaf = 1024

// LeafBuckets is the number of buckets a big leaf's keys are hashed into.
const LeafBuckets = 1 << leafBucketBits

// LeafKeys is a replica's answer for one leaf: its keys with their
// contributions, or, when it holds more than BigLeaf keys, Buckets: per
// bucket (KeyBucket), the XOR of the contributions of its keys.
type LeafKeys struct {
	Keys    []KeyHash
	Buckets []uint64
}

// leafBucketBits is log2(LeafBuckets).
const leafBucketBits = 10

// KeyBucket returns the bucket of a big leaf that key falls in: for an
// element key, the top bits of the member hash it carries, so that one
// bucket of a collection is one range of its keys (a replica reads a
// bucket without walking the others); for any other key, its 64-bit
// FNV-1a hash modulo LeafBuckets.
func KeyBucket(key []byte) int {
	if h, _, ok := ring.ElementHash(key); ok {
		return int(h >> (64 - leafBucketBits))
	}
	h := uint64(14695981039346656037)
	for _, b := range key {
		h ^= uint64(b)
		h *= 1099511628211
	}
	return int(h % LeafBuckets)
}

// buckets returns the bucket hashes of a leaf's answer.
func (lk LeafKeys) buckets() []uint64 {
	if lk.Buckets != nil {
		return lk.Buckets
	}
	out := make([]uint64, LeafBuckets)
	for _, k := range lk.Keys {
		out[KeyBucket(k.Key)] ^= k.Hash
	}
	return out
}

// Replica is what an exchange asks of each of the two replicas it
// compares: hashes level by level, then the keys of the leaves that
// differ. Each call answers for many partitions, branches or leaves at
// once, in the order asked; a result slice must have one entry per item
// asked. The local side reads its own Trees and store; the remote one sends
// a request per call.
type Replica interface {
	// Roots returns the root hash of each partition.
	Roots(ctx context.Context, parts []int) ([]uint64, error)
	// Branches returns the branch hashes of each partition.
	Branches(ctx context.Context, parts []int) ([][]uint64, error)
	// Leaves returns the leaf hashes under each branch.
	Leaves(ctx context.Context, branches []Ref) ([][]uint64, error)
	// Keys returns the keys, with their contributions, of each leaf, or
	// the bucket hashes of a leaf with more than BigLeaf keys.
	Keys(ctx context.Context, leaves []Ref) ([]LeafKeys, error)
	// BucketKeys returns the keys, with their contributions, of each
	// bucket of a big leaf.
	BucketKeys(ctx context.Context, buckets []BucketRef) ([][]KeyHash, error)
}

// Diff is a key whose state differs between the two replicas: Local and
// Remote are its contributions on each side, 0 on the side that lacks it.
type Diff struct {
	P      int
	Key    []byte
	Local  uint64
	Remote uint64
}

// Stats counts what one Compare looked at, level by level, and the calls
// it made to each side.
type Stats struct {
	Partitions     int // partitions compared by root
	PartitionsDiff int // ... whose roots differed
	BranchesDiff   int // branches that differed
	LeavesDiff     int // leaves that differed
	BucketsDiff    int // buckets of big leaves that differed
	Calls          int // calls to the remote side
	Truncated      bool
}

// Limits bound one Compare: the items of one call, and the differences it
// collects before it stops descending (the next exchange finds the rest).
type Limits struct {
	RootsPerCall    int // partitions per Roots call
	BranchesPerCall int // partitions per Branches call
	LeavesPerCall   int // branches per Leaves call
	KeysPerCall     int // leaves per Keys call
	MaxDiffs        int // differences collected before stopping
}

// DefaultLimits keeps every call's answer under about a megabyte for up to
// 1024 keys per leaf, and an exchange's differences to 100k keys.
func DefaultLimits() Limits {
	return Limits{RootsPerCall: 4096, BranchesPerCall: 256, LeavesPerCall: 512, KeysPerCall: 64, MaxDiffs: 100_000}
}

// Compare finds the keys whose states differ between local and remote in
// partitions parts. It compares the partitions' roots, then the branches
// of the partitions whose roots differ, the leaves of the branches that
// differ, and the keys of the leaves that differ, so its cost grows with
// the number of differences, not with the data. A side whose hash is 0 at
// some level (no keys there) is not asked for the level below. It stops
// descending once it holds lim.MaxDiffs differences (Stats.Truncated).
func Compare(ctx context.Context, s Shape, local, remote Replica, parts []int, lim Limits) ([]Diff, Stats, error) {
	var st Stats
	st.Partitions = len(parts)

	// Roots.
	var diffParts []int
	var lr, rr []uint64
	for _, chunk := range chunks(parts, lim.RootsPerCall) {
		l, err := local.Roots(ctx, chunk)
		if err != nil {
			return nil, st, err
		}
		r, err := remote.Roots(ctx, chunk)
		st.Calls++
		if err != nil {
			return nil, st, err
		}
		if len(l) != len(chunk) || len(r) != len(chunk) {
			return nil, st, fmt.Errorf("antientropy: %d roots for %d partitions", min(len(l), len(r)), len(chunk))
		}
		for i, p := range chunk {
			if l[i] != r[i] {
				diffParts = append(diffParts, p)
				lr, rr = append(lr, l[i]), append(rr, r[i])
			}
		}
	}
	st.PartitionsDiff = len(diffParts)

	var diffs []Diff
	for pi := 0; pi < len(diffParts) && len(diffs) < lim.MaxDiffs; pi += lim.BranchesPerCall {
		end := min(pi+lim.BranchesPerCall, len(diffParts))
		// Branches of these partitions; a side whose root is 0 has none.
		lb, err := level(ctx, local.Branches, diffParts[pi:end], lr[pi:end], s.Branches(), nil)
		if err != nil {
			return nil, st, err
		}
		rb, err := level(ctx, remote.Branches, diffParts[pi:end], rr[pi:end], s.Branches(), &st.Calls)
		if err != nil {
			return nil, st, err
		}
		var brefs []Ref
		var lbh, rbh []uint64
		for i, p := range diffParts[pi:end] {
			for b := range s.Branches() {
				if lb[i][b] != rb[i][b] {
					brefs = append(brefs, Ref{p, b})
					lbh, rbh = append(lbh, lb[i][b]), append(rbh, rb[i][b])
				}
			}
		}
		st.BranchesDiff += len(brefs)
		d, err := compareBranches(ctx, s, local, remote, brefs, lbh, rbh, lim, len(diffs), &st)
		if err != nil {
			return nil, st, err
		}
		diffs = append(diffs, d...)
	}
	if len(diffs) >= lim.MaxDiffs {
		st.Truncated = true
	}
	return diffs, st, nil
}

// compareBranches descends from differing branches to their differing
// leaves and keys.
func compareBranches(ctx context.Context, s Shape, local, remote Replica, brefs []Ref, lh, rh []uint64, lim Limits, have int, st *Stats) ([]Diff, error) {
	per := s.LeavesPerBranch()
	var diffs []Diff
	for bi := 0; bi < len(brefs) && have+len(diffs) < lim.MaxDiffs; bi += lim.LeavesPerCall {
		end := min(bi+lim.LeavesPerCall, len(brefs))
		ll, err := level(ctx, local.Leaves, brefs[bi:end], lh[bi:end], per, nil)
		if err != nil {
			return nil, err
		}
		rl, err := level(ctx, remote.Leaves, brefs[bi:end], rh[bi:end], per, &st.Calls)
		if err != nil {
			return nil, err
		}
		var lrefs []Ref
		var llh, rlh []uint64
		for i, b := range brefs[bi:end] {
			for j := range per {
				if ll[i][j] != rl[i][j] {
					lrefs = append(lrefs, Ref{b.P, b.I*per + j})
					llh, rlh = append(llh, ll[i][j]), append(rlh, rl[i][j])
				}
			}
		}
		st.LeavesDiff += len(lrefs)
		for ki := 0; ki < len(lrefs) && have+len(diffs) < lim.MaxDiffs; ki += lim.KeysPerCall {
			kend := min(ki+lim.KeysPerCall, len(lrefs))
			lk, err := keys(ctx, local, lrefs[ki:kend], llh[ki:kend], nil)
			if err != nil {
				return nil, err
			}
			rk, err := keys(ctx, remote, lrefs[ki:kend], rlh[ki:kend], &st.Calls)
			if err != nil {
				return nil, err
			}
			var brefs []BucketRef
			for i, l := range lrefs[ki:kend] {
				if lk[i].Buckets == nil && rk[i].Buckets == nil {
					diffs = diffKeys(diffs, l.P, lk[i].Keys, rk[i].Keys)
					continue
				}
				// A big leaf: compare buckets, then list the keys of
				// those that differ.
				lb, rb := lk[i].buckets(), rk[i].buckets()
				for b := range LeafBuckets {
					if lb[b] != rb[b] {
						brefs = append(brefs, BucketRef{Ref: l, B: b})
					}
				}
			}
			d, err := compareBuckets(ctx, local, remote, brefs, lim, have+len(diffs), st)
			if err != nil {
				return nil, err
			}
			diffs = append(diffs, d...)
		}
	}
	return diffs, nil
}

// level asks fetch for the children of the items whose hash is not 0 and
// answers all-zero children for the others, without asking. calls, if not
// nil, counts the calls made.
func level[T any](ctx context.Context, fetch func(context.Context, []T) ([][]uint64, error), items []T, hashes []uint64, width int, calls *int) ([][]uint64, error) {
	out := make([][]uint64, len(items))
	var ask []T
	var at []int
	for i := range items {
		if hashes[i] == 0 {
			out[i] = make([]uint64, width)
			continue
		}
		ask = append(ask, items[i])
		at = append(at, i)
	}
	if len(ask) == 0 {
		return out, nil
	}
	got, err := fetch(ctx, ask)
	if calls != nil {
		*calls++
	}
	if err != nil {
		return nil, err
	}
	if len(got) != len(ask) {
		return nil, fmt.Errorf("antientropy: %d answers for %d items", len(got), len(ask))
	}
	for k, i := range at {
		if len(got[k]) != width {
			return nil, fmt.Errorf("antientropy: %d hashes in an answer, want %d", len(got[k]), width)
		}
		out[i] = got[k]
	}
	return out, nil
}

// compareBuckets lists the keys of the differing buckets of big leaves on
// both sides and returns those that differ.
func compareBuckets(ctx context.Context, local, remote Replica, brefs []BucketRef, lim Limits, have int, st *Stats) ([]Diff, error) {
	var diffs []Diff
	for bi := 0; bi < len(brefs) && have+len(diffs) < lim.MaxDiffs; bi += lim.KeysPerCall {
		chunk := brefs[bi:min(bi+lim.KeysPerCall, len(brefs))]
		lk, err := local.BucketKeys(ctx, chunk)
		if err != nil {
			return nil, err
		}
		rk, err := remote.BucketKeys(ctx, chunk)
		st.Calls++
		if err != nil {
			return nil, err
		}
		if len(lk) != len(chunk) || len(rk) != len(chunk) {
			return nil, fmt.Errorf("antientropy: keys of %d buckets for %d asked", min(len(lk), len(rk)), len(chunk))
		}
		st.BucketsDiff += len(chunk)
		for i, b := range chunk {
			diffs = diffKeys(diffs, b.P, lk[i], rk[i])
		}
	}
	return diffs, nil
}

// keys asks r for the keys of the leaves whose hash is not 0.
func keys(ctx context.Context, r Replica, leaves []Ref, hashes []uint64, calls *int) ([]LeafKeys, error) {
	out := make([]LeafKeys, len(leaves))
	var ask []Ref
	var at []int
	for i := range leaves {
		if hashes[i] != 0 {
			ask = append(ask, leaves[i])
			at = append(at, i)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	got, err := r.Keys(ctx, ask)
	if calls != nil {
		*calls++
	}
	if err != nil {
		return nil, err
	}
	if len(got) != len(ask) {
		return nil, fmt.Errorf("antientropy: keys of %d leaves for %d asked", len(got), len(ask))
	}
	for k, i := range at {
		out[i] = got[k]
	}
	return out, nil
}

// diffKeys appends the keys of one leaf whose contributions differ.
func diffKeys(diffs []Diff, p int, local, remote []KeyHash) []Diff {
	rm := make(map[string]uint64, len(remote))
	for _, k := range remote {
		rm[string(k.Key)] = k.Hash
	}
	for _, k := range local {
		r, ok := rm[string(k.Key)]
		if !ok || r != k.Hash {
			diffs = append(diffs, Diff{P: p, Key: k.Key, Local: k.Hash, Remote: r})
		}
		delete(rm, string(k.Key))
	}
	for _, k := range remote {
		if r, ok := rm[string(k.Key)]; ok {
			diffs = append(diffs, Diff{P: p, Key: k.Key, Remote: r})
		}
	}
	return diffs
}

// chunks splits xs into pieces of at most n.
func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > 0 {
		k := min(n, len(xs))
		out = append(out, xs[:k])
		xs = xs[k:]
	}
	return out
}
