package replication

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// KeyState is one key and its state, as a range read returns it.
type KeyState struct {
	Pos uint64 // the key's hash position (ring.Hash.Hi)
	Key []byte
	Obj *Object
}

// RangeReader is a replica that can list its keys by hash position.
type RangeReader interface {
	// ReadRange returns up to about limit keys whose positions are in
	// [from, to], ordered by (position, key), with their states (its own
	// copies, not hints). Keys sharing a position are never split between
	// calls: if the range was not exhausted, next is the position to resume
	// from and every key before it was returned; otherwise next is 0 and
	// done is true.
	ReadRange(ctx context.Context, from, to uint64, limit int) (keys []KeyState, next uint64, done bool, err error)
}

// LiveRangeReader is a RangeReader that can serve a walk of live keys more
// cheaply: ReadLiveRange is ReadRange except that it may leave out keys
// whose states hold no value (tombstones only) and skip, unread, what holds
// none. Scan uses it when it reads a range from one replica only: with
// several, a tombstone one of them holds may be what hides another's stale
// value.
type LiveRangeReader interface {
	ReadLiveRange(ctx context.Context, from, to uint64, limit int) (keys []KeyState, next uint64, done bool, err error)
}

// RangeRouter is a Router that also maps hash positions to their replicas.
type RangeRouter interface {
	Router
	// RangePreferenceList returns the last position of the run of positions
	// starting at pos that share one preference list, and that list.
	RangePreferenceList(pos uint64) (end uint64, prefs []Replica)
}

// scanBatch is how many keys Scan asks of each replica at a time.
const scanBatch = 512

// Scan walks the keys in hash-position order from position from, calling fn
// with each key's state (the merge of up to R replicas' copies), until fn
// returns false. It returns the position to resume from, or 0 at the end.
// Keys sharing the stopping key's position are still visited (fn's answer
// for them ignored), so resuming never skips a key.
//
// In a cluster each range of positions is read from up to R of its live
// home replicas, this node first when it is one; on a single node it reads
// the local store.
func (c *Coordinator) Scan(ctx context.Context, from uint64, fn func(key []byte, o *Object) bool) (uint64, error) {
	if c.closed() {
		return 0, ErrClosed
	}
	rr, ok := c.cfg.Router.(RangeRouter)
	if !ok {
		return c.cfg.Local.Scan(ctx, from, fn)
	}
	var (
		stopped bool
		stopAt  uint64
	)
	pos := from
	for {
		end, prefs := rr.RangePreferenceList(pos)
		readers, err := c.rangeReaders(prefs)
		if err != nil {
			return pos, err
		}
		batches := make([][]KeyState, 0, len(readers))
		cut, exhausted := end, true
		for _, r := range readers {
			read := r.ReadRange
			if lr, ok := r.(LiveRangeReader); ok && len(readers) == 1 {
				read = lr.ReadLiveRange
			}
			keys, next, done, err := read(ctx, pos, end, scanBatch)
			if err != nil {
				return pos, fmt.Errorf("scan %s: %w", r.(Replica).Name(), err)
			}
			batches = append(batches, keys)
			if !done && (exhausted || next-1 < cut) {
				cut, exhausted = next-1, false
			}
		}
		for _, ks := range mergeRanges(batches, cut) {
			if stopped && ks.Pos != stopAt {
				return ks.Pos, nil
			}
			if !fn(ks.Key, ks.Obj) && !stopped {
				stopped, stopAt = true, ks.Pos
			}
		}
		if cut == math.MaxUint64 {
			return 0, nil
		}
		pos = cut + 1
		if stopped {
			return pos, nil
		}
		if err := ctx.Err(); err != nil {
			return pos, err
		}
	}
}

// rangeReaders picks up to R live home replicas from prefs, the local one
// first when it is a home.
func (c *Coordinator) rangeReaders(prefs []Replica) ([]RangeReader, error) {
	out, _ := liveHomes[RangeReader](c, prefs, min(c.cfg.N, len(prefs)))
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no live replica for a range of keys", ErrUnavailable)
	}
	return out, nil
}

// mergeRanges merges sorted batches into one list sorted by (position,
// key), keeping keys at positions <= cut and merging the states of a key
// several batches hold.
func mergeRanges(batches [][]KeyState, cut uint64) []KeyState {
	var all []KeyState
	for _, b := range batches {
		for _, ks := range b {
			if ks.Pos <= cut {
				all = append(all, ks)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b KeyState) int {
		return cmp.Or(cmp.Compare(a.Pos, b.Pos), bytes.Compare(a.Key, b.Key))
	})
	out := all[:0]
	for _, ks := range all {
		if len(out) > 0 && out[len(out)-1].Pos == ks.Pos && bytes.Equal(out[len(out)-1].Key, ks.Key) {
			out[len(out)-1].Obj = out[len(out)-1].Obj.Merge(ks.Obj)
			continue
		}
		out = append(out, ks)
	}
	return out
}
