package replication

import (
	"bytes"
	"context"
	"fmt"
)

// ReverseKeyReader is a KeyReader that can also list its keys at one
// position greatest first: a list's last items (RPOP, LINDEX -1, the
// place of an RPUSH) are then one short read, whatever the list's length.
type ReverseKeyReader interface {
	// ReadKeysReverse is ReadKeys in decreasing key order: up to limit of
	// the replica's own keys at position pos within [start, end) (a nil
	// end: no bound), greatest first; more reports that keys may remain
	// before the last one returned.
	ReadKeysReverse(ctx context.Context, pos uint64, start, end []byte, limit int) (keys []KeyState, more bool, err error)
}

// ScanKeysReverse is ScanKeys in decreasing key order: it walks the keys
// at position pos within [start, end) greatest first, calling fn with each
// key's state merged from up to R live home replicas of routeKey, until fn
// returns false or the keys run out, batch keys at a time.
func (c *Coordinator) ScanKeysReverse(ctx context.Context, routeKey []byte, pos uint64, start, end []byte, batch int, fn func(key []byte, o *Object) bool) error {
	if c.closed() {
		return ErrClosed
	}
	prefs, n := c.prefs(routeKey)
	readers, spares := liveHomes[ReverseKeyReader](c, prefs, n)
	if len(readers) == 0 {
		return fmt.Errorf("%w: no live replica to read the elements from", ErrUnavailable)
	}
	batch = max(1, min(batch, MaxKeysBatch))
	to := end
	for {
		batches := make([][]KeyState, 0, len(readers))
		var cut []byte // the least key every reader has answered down to; nil: all of them
		for i := 0; i < len(readers); i++ {
			r := readers[i]
			rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			keys, more, err := r.ReadKeysReverse(rctx, pos, start, to, batch)
			cancel()
			if err != nil && len(spares) > 0 && ctx.Err() == nil {
				// As ScanKeys: a failing home hands its place to the next
				// live one, which reads from where the walk is.
				c.log.Debug("element read failed, asking another home", "replica", r.(Replica).Name(), "err", err)
				readers[i], spares = spares[0], spares[1:]
				i--
				continue
			}
			if err != nil {
				return fmt.Errorf("read elements from %s: %w", r.(Replica).Name(), err)
			}
			batches = append(batches, keys)
			if more && len(keys) > 0 {
				if last := keys[len(keys)-1].Key; cut == nil || bytes.Compare(last, cut) > 0 {
					cut = last
				}
			}
		}
		for _, ks := range mergeKeysReverse(batches, cut) {
			if !fn(ks.Key, ks.Obj) {
				return nil
			}
		}
		if cut == nil {
			return nil
		}
		to = bytes.Clone(cut) // just before it: end is exclusive
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// mergeKeysReverse merges batches sorted greatest first into one such
// list, keeping the keys down to cut (all of them when cut is nil) and
// merging the states of a key several batches hold.
func mergeKeysReverse(batches [][]KeyState, cut []byte) []KeyState {
	return mergeKeysIn(batches, cut, -1)
}
