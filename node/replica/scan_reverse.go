package replica

import (
	"bytes"
	"context"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// ReadKeysReverse is ReadKeys greatest key first: up to limit of the
// node's own keys at position pos within [start, end) (a nil end: to the
// position's last key), in decreasing key order. It implements
// replication.ReverseKeyReader, for a list's last items. A corrupt block
// fails the read (ReadKeys walks around one; a reverse read is one list's
// tail, retried at another home by the coordinator).
func (l *Local) ReadKeysReverse(ctx context.Context, pos uint64, start, end []byte, limit int) ([]replication.KeyState, bool, error) {
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
		err  error
	)
	iterErr := l.store.IterateReverse(lo, hi, func(k, v []byte) bool {
		p, key, ok := store.ParseDataKey(k)
		if !ok {
			return true
		}
		if err = ctx.Err(); err != nil {
			return false
		}
		if len(out) >= limit {
			more = true
			return false
		}
		if o, ok := l.decodeOrSkip(p, key, bytes.Clone(v)); ok { // v is valid during this call only
			out = append(out, replication.KeyState{Pos: p, Key: bytes.Clone(key), Obj: o})
		}
		return true
	})
	if err == nil {
		err = iterErr
	}
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}
