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
		err     error
	)
	iterErr := l.store.Iterate(start, end, func(k, v []byte) bool {
		hi, key, ok := store.ParseDataKey(k)
		if !ok {
			return true
		}
		if stopped && hi != stopAt {
			next = hi
			return false
		}
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
			return false
		}
		o, derr := replication.DecodeObject(v)
		if derr != nil {
			err = fmt.Errorf("replica: key %q: %w", key, derr)
			return false
		}
		if !fn(key, o) && !stopped {
			stopped, stopAt = true, hi
		}
		return true
	})
	if iterErr != nil {
		return 0, iterErr
	}
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
	start := store.DataBound(from)
	end := []byte{store.DataPrefix + 1}
	if to != ^uint64(0) {
		end = store.DataBound(to + 1)
	}
	var (
		out     []replication.KeyState
		next    uint64
		more    bool
		lastPos uint64
		err     error
	)
	iterErr := l.store.Iterate(start, end, func(k, v []byte) bool {
		pos, key, ok := store.ParseDataKey(k)
		if !ok {
			return true
		}
		if len(out) >= limit && pos != lastPos {
			next, more = pos, true
			return false
		}
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
			return false
		}
		o, derr := replication.DecodeObject(bytes.Clone(v)) // v is valid during this call only
		if derr != nil {
			err = fmt.Errorf("replica: key %q: %w", key, derr)
			return false
		}
		out = append(out, replication.KeyState{Pos: pos, Key: bytes.Clone(key), Obj: o})
		lastPos = pos
		return true
	})
	if iterErr != nil {
		return nil, 0, false, iterErr
	}
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
