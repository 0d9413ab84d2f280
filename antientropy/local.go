package antientropy

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"

	"github.com/dynakv/dynakv/ring"
)

// LeafScanner calls fn for every key a replica holds at positions first
// to last (inclusive), with the key's contribution (replication.Digest of
// its state). key is valid only during the call. It stops at fn's first
// error and returns it. It should read one snapshot of the store, taken
// when it is called: a big leaf's bucket hashes computed by a scan are kept
// only if they agree with the changes made since (see BeginLeafScan).
type LeafScanner func(ctx context.Context, first, last uint64, fn func(key []byte, hash uint64) error) error

// Local is a replica's own side of an exchange: its Trees, and its store
// through a LeafScanner for the keys of a leaf. It answers the requests of
// the other side of an exchange, too. Safe for concurrent use if Scan is.
type Local struct {
	Trees *Trees
	Scan  LeafScanner
	// Filter, when set, is Scan for the keys want accepts only, computing
	// no contribution for the others (a big leaf's buckets).
	Filter FilteredScanner
}

// FilteredScanner is a LeafScanner that first asks want of each key and
// calls fn only for those it accepts. For a key it refuses, want may name
// skip, a greater key at the same position: the scan then goes on from the
// first key at that position not less than skip, passing over those
// between unseen.
type FilteredScanner func(ctx context.Context, first, last uint64, want func(key []byte) (ok bool, skip []byte), fn func(key []byte, hash uint64) error) error

var _ Replica = (*Local)(nil)

// Roots implements Replica.
func (l *Local) Roots(_ context.Context, parts []int) ([]uint64, error) {
	out := make([]uint64, len(parts))
	for i, p := range parts {
		out[i] = l.Trees.Root(p)
	}
	return out, nil
}

// Branches implements Replica.
func (l *Local) Branches(_ context.Context, parts []int) ([][]uint64, error) {
	out := make([][]uint64, len(parts))
	for i, p := range parts {
		out[i] = l.Trees.Branches(p)
	}
	return out, nil
}

// Leaves implements Replica.
func (l *Local) Leaves(_ context.Context, branches []Ref) ([][]uint64, error) {
	out := make([][]uint64, len(branches))
	for i, b := range branches {
		out[i] = l.Trees.Leaves(b.P, b.I)
	}
	return out, nil
}

// Keys implements Replica by scanning each leaf's range of positions. A
// leaf with more than BigLeaf keys is answered with its bucket hashes.
func (l *Local) Keys(ctx context.Context, leaves []Ref) ([]LeafKeys, error) {
	s := l.Trees.Shape()
	out := make([]LeafKeys, len(leaves))
	for i, lf := range leaves {
		if hs, ok := l.Trees.LeafBucketHashes(lf.P, lf.I); ok {
			out[i].Buckets = hs // a big leaf's, kept up to date: no scan
			continue
		}
		first, last := s.LeafRange(lf.P, lf.I)
		lk := &out[i]
		sc := l.Trees.BeginLeafScan(lf.P, lf.I)
		err := l.Scan(ctx, first, last, func(key []byte, h uint64) error {
			switch {
			case h == 0:
			case lk.Buckets != nil:
				lk.Buckets[KeyBucket(key)] ^= h
			case len(lk.Keys) == BigLeaf:
				lk.Buckets = LeafKeys{Keys: lk.Keys}.buckets()
				lk.Buckets[KeyBucket(key)] ^= h
				lk.Keys = nil
			default:
				lk.Keys = append(lk.Keys, KeyHash{Key: bytes.Clone(key), Hash: h})
			}
			return nil
		})
		if err != nil || lk.Buckets == nil {
			l.Trees.EndLeafScan(sc)
		}
		if err != nil {
			return nil, err
		}
		if lk.Buckets != nil {
			l.Trees.KeepLeafBuckets(sc, lk.Buckets)
		}
	}
	return out, nil
}

// BucketKeys implements Replica: each leaf asked about is scanned once,
// whatever number of its buckets are asked, and only the keys of those
// buckets have their contributions computed (Filter, when set). A
// collection's elements are read bucket by bucket (their buckets are
// ranges of their keys, KeyBucket), so asking for a few buckets of a
// million-member set reads a few thousandths of it.
func (l *Local) BucketKeys(ctx context.Context, buckets []BucketRef) ([][]KeyHash, error) {
	s := l.Trees.Shape()
	out := make([][]KeyHash, len(buckets))
	byLeaf := map[Ref]map[int][]int{} // leaf -> bucket -> indexes in buckets
	var leaves []Ref
	for i, b := range buckets {
		if byLeaf[b.Ref] == nil {
			byLeaf[b.Ref] = map[int][]int{}
			leaves = append(leaves, b.Ref)
		}
		byLeaf[b.Ref][b.B] = append(byLeaf[b.Ref][b.B], i)
	}
	for _, lf := range leaves {
		want := byLeaf[lf]
		first, last := s.LeafRange(lf.P, lf.I)
		scan := func(key []byte, h uint64) error {
			if h == 0 {
				return nil
			}
			for _, i := range want[KeyBucket(key)] {
				out[i] = append(out[i], KeyHash{Key: bytes.Clone(key), Hash: h})
			}
			return nil
		}
		var err error
		if l.Filter != nil {
			err = l.Filter(ctx, first, last, bucketFilter(want), scan)
		} else {
			err = l.Scan(ctx, first, last, scan)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bucketFilter returns the FilteredScanner want function that accepts the
// keys of buckets want, and skips from an element key of a bucket not
// wanted to the next wanted bucket of its collection, or past the
// collection.
func bucketFilter(want map[int][]int) func(key []byte) (bool, []byte) {
	bs := make([]int, 0, len(want))
	for b := range want {
		bs = append(bs, b)
	}
	slices.Sort(bs)
	return func(key []byte) (bool, []byte) {
		h, prefix, ok := ring.ElementHash(key)
		if !ok {
			return want[KeyBucket(key)] != nil, nil
		}
		b := int(h >> (64 - leafBucketBits))
		if want[b] != nil {
			return true, nil
		}
		i, _ := slices.BinarySearch(bs, b)
		if i == len(bs) {
			return false, ring.PrefixEnd(key[:prefix])
		}
		next := uint64(bs[i]) << (64 - leafBucketBits)
		return false, binary.BigEndian.AppendUint64(slices.Clip(key[:prefix]), next)
	}
}
