package replica

import (
	"bytes"
	"context"
	"fmt"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
)

// Walks of the keyspace in ring order: SCAN and DBSIZE through the
// coordinator, range reads for a peer, the live-key count.

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
	err := l.eachData(ctx, start, end, func(hi uint64, key, v []byte) (bool, error) {
		if stopped && hi != stopAt {
			next = hi
			return false, nil
		}
		o, err := decodeStored(key, v)
		if err != nil {
			return false, err
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
	err := l.eachData(ctx, start, end, func(pos uint64, key, v []byte) (bool, error) {
		if len(out) >= limit && pos != lastPos {
			next, more = pos, true
			return false, nil
		}
		o, err := decodeStored(key, bytes.Clone(v)) // v is valid during this call only
		if err != nil {
			return false, err
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

// LiveKeys counts the keys of the node's own copy with a live value at
// nowMs (Unix milliseconds), by scanning the store.
func (l *Local) LiveKeys(ctx context.Context, nowMs int64) (int64, error) {
	var n int64
	_, err := l.Scan(ctx, 0, func(_ []byte, o *replication.Object) bool {
		if o.Newest(nowMs) != nil {
			n++
		}
		return true
	})
	return n, err
}

// eachData calls fn for every data key in [start, end) with its position,
// user key and stored value (both valid during the call only), in order,
// until fn returns false or an error. The walk also stops when ctx ends.
// It returns the first error of fn, ctx or the store.
func (l *Local) eachData(ctx context.Context, start, end []byte, fn func(pos uint64, key, v []byte) (bool, error)) error {
	var err error
	iterErr := l.store.Iterate(start, end, func(k, v []byte) bool {
		pos, key, ok := store.ParseDataKey(k)
		if !ok {
			return true
		}
		if err = ctx.Err(); err != nil {
			return false
		}
		var more bool
		more, err = fn(pos, key, v)
		return more && err == nil
	})
	if iterErr != nil {
		return iterErr
	}
	return err
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

// decodeStored decodes the stored state of key.
func decodeStored(key, v []byte) (*replication.Object, error) {
	o, err := replication.DecodeObject(v)
	if err != nil {
		return nil, fmt.Errorf("replica: key %q: %w", key, err)
	}
	return o, nil
}
