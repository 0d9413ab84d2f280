package antientropy

import (
	"bytes"
	"context"
)

// LeafScanner calls fn for every key a replica holds at positions first
// to last (inclusive), with the key's contribution (replication.Digest of
// its state). key is valid only during the call. It stops at fn's first
// error and returns it.
type LeafScanner func(ctx context.Context, first, last uint64, fn func(key []byte, hash uint64) error) error

// Local is a replica's own side of an exchange: its Trees, and its store
// through a LeafScanner for the keys of a leaf. It answers the requests of
// the other side of an exchange, too. Safe for concurrent use if Scan is.
type Local struct {
	Trees *Trees
	Scan  LeafScanner
}

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

// Keys implements Replica by scanning each leaf's range of positions.
func (l *Local) Keys(ctx context.Context, leaves []Ref) ([][]KeyHash, error) {
	s := l.Trees.Shape()
	out := make([][]KeyHash, len(leaves))
	for i, lf := range leaves {
		first, last := s.LeafRange(lf.P, lf.I)
		err := l.Scan(ctx, first, last, func(key []byte, h uint64) error {
			if h != 0 {
				out[i] = append(out[i], KeyHash{Key: bytes.Clone(key), Hash: h})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
