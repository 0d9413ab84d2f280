package replication

import (
	"bytes"
	"context"
	"fmt"
	"slices"
)

// KeyReader is a replica that can list its keys at one hash position in key
// order: the elements of one collection (see ring.ElementKey), which share
// their collection's position.
type KeyReader interface {
	// ReadKeys returns up to limit of the replica's own keys (not hints)
	// at position pos within [start, end) (a nil end: no bound), in key
	// order, with their states; more reports that keys may remain after
	// the last one returned.
	ReadKeys(ctx context.Context, pos uint64, start, end []byte, limit int) (keys []KeyState, more bool, err error)
}

// MaxKeysBatch bounds how many keys ScanKeys asks of each replica at a
// time.
const MaxKeysBatch = 1024

// ScanKeys walks the keys at position pos within [start, end) (a nil end:
// no bound) in key order, calling fn with each key's state merged from up
// to R live home replicas of routeKey (a key at pos; this node first when
// it is one), until fn returns false or the keys run out. It reads batch
// keys (at most MaxKeysBatch) at a time, so a walk holds one batch whatever
// the range holds.
// As with Scan, a key only one reader holds as a hint is not seen.
func (c *Coordinator) ScanKeys(ctx context.Context, routeKey []byte, pos uint64, start, end []byte, batch int, fn func(key []byte, o *Object) bool) error {
	if c.closed() {
		return ErrClosed
	}
	prefs, n := c.prefs(routeKey)
	readers, spares := c.keyReaders(prefs, n)
	if len(readers) == 0 {
		return fmt.Errorf("%w: no live replica to read the elements from", ErrUnavailable)
	}
	batch = max(1, min(batch, MaxKeysBatch))
	from := start
	for {
		batches := make([][]KeyState, 0, len(readers))
		var cut []byte // the last key every reader has answered for; nil: all of them
		for i := 0; i < len(readers); i++ {
			r := readers[i]
			keys, more, err := c.readKeys(ctx, r, pos, from, end, batch)
			if err != nil && len(spares) > 0 && ctx.Err() == nil {
				// A home that fails, or does not answer within the
				// request timeout (paused, or partitioned away while
				// the failure detector still trusts it), hands its place
				// to the next live home, as a read's does; the new one
				// reads from where the walk is.
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
				if last := keys[len(keys)-1].Key; cut == nil || bytes.Compare(last, cut) < 0 {
					cut = last
				}
			}
		}
		for _, ks := range mergeKeys(batches, cut) {
			if !fn(ks.Key, ks.Obj) {
				return nil
			}
		}
		if cut == nil {
			return nil
		}
		from = append(bytes.Clone(cut), 0) // just after it
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// keyReaders picks up to R live home replicas of a key that can list keys,
// the local one first when it is a home, and returns the other live ones
// as spares.
func (c *Coordinator) keyReaders(prefs []Replica, n int) (readers, spares []KeyReader) {
	return liveHomes[KeyReader](c, prefs, n)
}

// liveHomes returns up to R of the first n replicas of prefs that are live
// and implement T, the local one first when it is among them, and the
// other live ones that implement T as spares.
func liveHomes[T any](c *Coordinator, prefs []Replica, n int) (readers, spares []T) {
	r := max(1, min(c.cfg.R, n))
	homes := slices.Clone(prefs[:n])
	if i := slices.Index(homes, Replica(c.cfg.Local)); i > 0 {
		homes[0], homes[i] = homes[i], homes[0]
	}
	for _, h := range homes {
		t, ok := h.(T)
		switch {
		case !ok || !c.alive(h):
		case len(readers) < r:
			readers = append(readers, t)
		default:
			spares = append(spares, t)
		}
	}
	return readers, spares
}

// readKeys reads one batch from r within the request timeout: the caller's
// context may have no deadline of its own.
func (c *Coordinator) readKeys(ctx context.Context, r KeyReader, pos uint64, from, end []byte, batch int) ([]KeyState, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return r.ReadKeys(ctx, pos, from, end, batch)
}

// mergeKeys merges key-sorted batches into one key-sorted list, keeping the
// keys up to cut (all of them when cut is nil) and merging the states of a
// key several batches hold.
func mergeKeys(batches [][]KeyState, cut []byte) []KeyState {
	return mergeKeysIn(batches, cut, 1)
}

// mergeKeysIn is mergeKeys for batches sorted in direction dir: 1 for
// ascending keys (kept up to cut), -1 for descending (kept down to cut).
func mergeKeysIn(batches [][]KeyState, cut []byte, dir int) []KeyState {
	var all []KeyState
	for _, b := range batches {
		for _, ks := range b {
			if cut == nil || dir*bytes.Compare(ks.Key, cut) <= 0 {
				all = append(all, ks)
			}
		}
	}
	if len(batches) > 1 {
		slices.SortStableFunc(all, func(a, b KeyState) int { return dir * bytes.Compare(a.Key, b.Key) })
	}
	out := all[:0]
	for _, ks := range all {
		if len(out) > 0 && bytes.Equal(out[len(out)-1].Key, ks.Key) {
			out[len(out)-1].Obj = out[len(out)-1].Obj.Merge(ks.Obj)
			continue
		}
		out = append(out, ks)
	}
	return out
}
