package replica

import (
	"bytes"
	"context"
	"errors"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// Walks of the keyspace in ring order: SCAN and DBSIZE through the
// coordinator, range reads for a peer, the live-key count. They list keys,
// not the elements of collections (ReadKeys reads those).

// Scan calls fn for every stored key whose hash position is at least from,
// in position order, until fn returns false. Keys that share the stopping
// key's position are still visited (fn's answer for them is ignored) so
// that resuming from the returned position misses nothing. It returns that
// position, or 0 when it reached the end. fn may call the replica.
func (l *Local) Scan(ctx context.Context, from uint64, fn func(key []byte, o *replication.Object) bool) (uint64, error) {
	start, end := store.DataRange(from)
	var (
		stopped bool
		stopAt  uint64
		next    uint64
	)
	err := l.eachKey(ctx, start, end, func(hi uint64, key, v []byte) (bool, error) {
		if stopped && hi != stopAt {
			next = hi
			return false, nil
		}
		o, ok := l.decodeOrSkip(hi, key, v)
		if !ok {
			return true, nil
		}
		if !fn(key, o) && !stopped {
			stopped, stopAt = true, hi
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	return next, nil
}

// ReadRange returns up to about limit of the node's own keys with positions
// in [from, to], in storage order (position, then key), never splitting the
// keys of one position between calls. It implements
// replication.RangeReader.
func (l *Local) ReadRange(ctx context.Context, from, to uint64, limit int) ([]replication.KeyState, uint64, bool, error) {
	start, end := positionSpan(from, to)
	var (
		out     []replication.KeyState
		next    uint64
		more    bool
		lastPos uint64
	)
	err := l.eachKey(ctx, start, end, func(pos uint64, key, v []byte) (bool, error) {
		if len(out) >= limit && pos != lastPos {
			next, more = pos, true
			return false, nil
		}
		o, ok := l.decodeOrSkip(pos, key, bytes.Clone(v)) // v is valid during this call only
		if !ok {
			return true, nil
		}
		out = append(out, replication.KeyState{Pos: pos, Key: bytes.Clone(key), Obj: o})
		lastPos = pos
		return true, nil
	})
	if err != nil {
		return nil, 0, false, err
	}
	return out, next, !more, nil
}

// ReadLiveRange is ReadRange for a reader that wants only live keys: it
// may leave out keys whose states hold no value (tombstones), and skips the
// partitions that hold none without reading them, so a walk over a store
// of tombstones (after a FLUSHDB, for tombstone_grace) costs what its live
// keys cost. A coordinator that merges several replicas' ranges must not
// use it: a tombstone here may be what hides another replica's stale value.
// It implements replication.LiveRangeReader.
func (l *Local) ReadLiveRange(ctx context.Context, from, to uint64, limit int) ([]replication.KeyState, uint64, bool, error) {
	for {
		a, b, after, ok := l.holdingSpan(from, to)
		if !ok {
			return l.ReadRange(ctx, from, to, limit)
		}
		if a > b { // no partition from here to to holds a value
			return nil, 0, true, nil
		}
		keys, next, done, err := l.ReadRange(ctx, a, b, limit)
		switch {
		case err != nil:
			return nil, 0, false, err
		case !done: // more in this run of partitions
			return keys, next, false, nil
		case after == 0 || after > to: // the run ended the range
			return keys, 0, true, nil
		case len(keys) > 0: // what lies before after is all returned
			return keys, after, false, nil
		}
		from = after
	}
}

// holdingSpan returns the first run of partitions from position from on
// (up to to) that hold a value, as positions a..b, and the position after
// it (0 at the end of the ring). a > b when none from here to to does. ok
// is false when the counts are not known (the trees are not ready).
func (l *Local) holdingSpan(from, to uint64) (a, b, next uint64, ok bool) {
	if !l.TreesReady() {
		return 0, 0, 0, false
	}
	s := l.trees.Shape()
	first, last := s.Partition(from), s.Partition(to)
	p := first
	for p <= last && l.holding[p].Load() == 0 {
		p++
	}
	if p > last {
		return 1, 0, 0, true
	}
	q := p
	for q < last && l.holding[q+1].Load() > 0 {
		q++
	}
	a, _ = s.LeafRange(p, 0)
	_, b = s.LeafRange(q, s.Leaves()-1)
	a, b = max(a, from), min(b, to)
	if b < ^uint64(0) {
		next = b + 1
	}
	return a, b, next, true
}

// LiveKeys counts the keys of the node's own copy with a live value at
// nowMs (Unix milliseconds), walking only the partitions that hold values.
// Collections' elements are not keys.
func (l *Local) LiveKeys(ctx context.Context, nowMs int64) (int64, error) {
	var n int64
	for from := uint64(0); ; {
		keys, next, done, err := l.ReadLiveRange(ctx, from, ^uint64(0), 4096)
		if err != nil {
			return n, err
		}
		for _, ks := range keys {
			if !ring.IsElementKey(ks.Key) && ks.Obj.Newest(nowMs) != nil {
				n++
			}
		}
		if done {
			return n, nil
		}
		from = next
	}
}

// eachKey is eachData over the keys only: the elements of collections
// (ring.ElementKey), which sort after the other keys of their position
// and before the escaped user keys (0xFF 0xFF ...), are skipped with one
// seek per position, so a walk of the keyspace costs what its keys cost,
// not what its collections hold.
func (l *Local) eachKey(ctx context.Context, start, end []byte, fn func(pos uint64, key, v []byte) (bool, error)) error {
	for {
		var resume []byte
		err := l.eachData(ctx, start, end, func(pos uint64, key, v []byte) (bool, error) {
			if ring.IsElementKey(key) {
				resume = store.AppendDataKey(nil, ring.Hash{Hi: pos}, []byte{0xFF, 0xFF})
				return false, nil
			}
			return fn(pos, key, v)
		})
		if err != nil || resume == nil {
			return err
		}
		if start = resume; end != nil && bytes.Compare(start, end) >= 0 {
			return nil
		}
	}
}

// eachData calls fn for every data key in [start, end) with its position,
// user key and stored value (both valid during the call only), in order,
// until fn returns false or an error. The walk also stops when ctx ends.
// It returns the first error of fn, ctx or the store.
//
// Where the store cannot read on (store.ErrCorrupt: a damaged table), the
// partition is marked damaged and walked over what is readable; the walk
// goes on with the next partition.
func (l *Local) eachData(ctx context.Context, start, end []byte, fn func(pos uint64, key, v []byte) (bool, error)) error {
	var (
		err     error
		stopped bool
		// resume is where a walk that cannot read on continues: just
		// after the last key visited (moved, set), or else the start of
		// the range or of the partition after the last one walked over
		// what is readable.
		resume = start
		moved  bool
		last   []byte // the last store key visited
	)
	visit := func(k, v []byte) bool {
		pos, key, ok := store.ParseDataKey(k)
		if !ok {
			return true
		}
		if err = ctx.Err(); err != nil {
			return false
		}
		last, moved = append(last[:0], k...), true
		var more bool
		more, err = fn(pos, key, v)
		stopped = !more
		return more && err == nil
	}
	iterErr := l.store.Iterate(start, end, visit)
	for errors.Is(iterErr, store.ErrCorrupt) && err == nil && !stopped && l.trees != nil {
		from := resume
		if moved {
			from = append(bytes.Clone(last), 0) // just after it
		}
		pos, _, ok := store.ParseDataKey(from)
		if !ok {
			break
		}
		q := l.trees.Shape().Partitions()
		p := l.trees.Shape().Partition(pos)
		l.MarkDamaged(p)
		_, pend := store.PartitionRange(p, q)
		final := end == nil || bytes.Compare(pend, end) >= 0
		if final {
			pend = end
		}
		iterErr = store.IterateReadable(l.store, from, pend, visit)
		if iterErr != nil || err != nil || stopped || final {
			break
		}
		resume, moved = pend, false
		iterErr = l.store.Iterate(pend, end, visit)
	}
	if iterErr != nil {
		return iterErr
	}
	return err
}

// decodeOrSkip decodes the stored state of the key at pos; when it does not
// decode, the key is noted unreadable (its partition damaged) and ok is
// false: walks skip it.
func (l *Local) decodeOrSkip(pos uint64, key, v []byte) (o *replication.Object, ok bool) {
	o, err := replication.DecodeObject(v)
	if err != nil {
		l.unreadable(pos, key, err)
		return nil, false
	}
	return o, true
}

// positionSpan returns the store range of the data keys at positions
// first..last (inclusive).
func positionSpan(first, last uint64) (start, end []byte) {
	start, end = store.DataBound(first), []byte{store.DataPrefix + 1}
	if last != ^uint64(0) {
		end = store.DataBound(last + 1)
	}
	return start, end
}

// ReadKeys returns up to limit of the node's own keys at position pos
// within [start, end) (a nil end: to the position's last key), in key
// order: the elements of one collection. more reports that keys may remain.
// It implements replication.KeyReader.
func (l *Local) ReadKeys(ctx context.Context, pos uint64, start, end []byte, limit int) ([]replication.KeyState, bool, error) {
	lo := store.AppendDataKey(nil, ring.Hash{Hi: pos}, start)
	var hi []byte
	if end != nil {
		hi = store.AppendDataKey(nil, ring.Hash{Hi: pos}, end)
	} else {
		_, hi = positionSpan(pos, pos)
	}
	var (
		out  []replication.KeyState
		more bool
	)
	err := l.eachData(ctx, lo, hi, func(p uint64, key, v []byte) (bool, error) {
		if len(out) >= limit {
			more = true
			return false, nil
		}
		o, ok := l.decodeOrSkip(p, key, bytes.Clone(v)) // v is valid during this call only
		if ok {
			out = append(out, replication.KeyState{Pos: p, Key: bytes.Clone(key), Obj: o})
		}
		return true, nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}
