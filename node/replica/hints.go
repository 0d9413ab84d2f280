package replica

// Hinted handoff storage.
//
// A hint is a version of a key that this node stored on behalf of one of the
// key's home replicas (the owner) while the owner could not be reached: the
// sloppy quorum's stand-in copy. Hints live in their own key range, apart
// from the node's own data, one record per (owner, key):
//
//	'h' | uvarint(len(owner)) | owner | hash.Hi (8 bytes) | user key  →  encoded Object
//
// so that one owner's hints are a single range scan for delivery. A hint is
// merged (never overwritten) when a later version for the same owner
// arrives, and deleted only after the owner acknowledged a delivery of
// exactly the stored bytes.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// hintIndex counts the hints stored per owner, so that reads skip the hint
// range entirely when there are none (the normal case) and RING STATUS can
// report them without a scan.
type hintIndex struct {
	total atomic.Int64
	mu    sync.Mutex
	per   map[string]int64
}

func (h *hintIndex) add(owner string, d int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.per == nil {
		h.per = map[string]int64{}
	}
	h.per[owner] += d
	if h.per[owner] <= 0 {
		delete(h.per, owner)
	}
	h.total.Add(d)
}

// owners returns the owners with hints pending, sorted.
func (h *hintIndex) owners() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.per))
}

// counts returns a copy of the per-owner counts.
func (h *hintIndex) counts() map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.per)
}

// hintPrefix returns the key prefix of owner's hints.
func hintPrefix(owner string) []byte {
	p := binary.AppendUvarint([]byte{store.HintPrefix}, uint64(len(owner)))
	return append(p, owner...)
}

// hintKey returns the storage key of owner's hint for user key key.
func hintKey(owner string, h ring.Hash, key []byte) []byte {
	p := binary.BigEndian.AppendUint64(hintPrefix(owner), h.Hi)
	return append(p, key...)
}

// parseHintKey splits a hint key into owner and user key.
func parseHintKey(k []byte) (owner string, key []byte, ok bool) {
	if len(k) < 2 || k[0] != store.HintPrefix {
		return "", nil, false
	}
	n, w := binary.Uvarint(k[1:])
	if w <= 0 || n > uint64(len(k)) || 1+w+int(n)+8 > len(k) {
		return "", nil, false
	}
	o := 1 + w
	return string(k[o : o+int(n)]), k[o+int(n)+8:], true
}

// loadHints counts the stored hints at start.
func (l *Local) loadHints() error {
	return l.store.Iterate([]byte{store.HintPrefix}, []byte{store.HintPrefix + 1}, func(k, _ []byte) bool {
		if owner, _, ok := parseHintKey(k); ok {
			l.hints.add(owner, 1)
		}
		return true
	})
}

// Hint stores o as a hint of key for owner, merged into any hint already
// held for the pair. It implements replication.Replica.
func (l *Local) Hint(ctx context.Context, owner string, key []byte, o *replication.Object) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if owner == "" {
		return errors.New("replica: hint without an owner")
	}
	h := ring.HashKey(key)
	hk := hintKey(owner, h, key)
	mu := &l.locks[h.Lo%lockStripes]
	mu.Lock()
	defer mu.Unlock()
	cur, err := l.read(hk)
	if err != nil {
		return err
	}
	m := cur.Merge(o)
	if cur != nil && m.Equal(cur) {
		return nil
	}
	if err := l.store.Apply(store.Op{Key: hk, Value: replication.AppendObject(nil, m)}); err != nil {
		return err
	}
	if cur == nil {
		l.hints.add(owner, 1)
	}
	return nil
}

// HintedState merges into o every hint held for key, whatever its owner.
func (l *Local) HintedState(key []byte, o *replication.Object) (*replication.Object, error) {
	if l.hints.total.Load() == 0 {
		return o, nil
	}
	h := ring.HashKey(key)
	now := l.nowNs()
	for _, owner := range l.hints.owners() {
		hv, err := l.read(hintKey(owner, h, key))
		if err != nil {
			return nil, err
		}
		if l.HintExpired(hv, now) {
			continue
		}
		o = o.Merge(hv)
	}
	return o, nil
}

// HintExpired reports whether hint state o is older than the grace period
// (its newest version was written before it): past it, the tombstones
// that cover it may have been collected, so it is neither read nor
// delivered, only dropped.
func (l *Local) HintExpired(o *replication.Object, nowNs int64) bool {
	if o == nil || l.grace <= 0 {
		return false
	}
	var newest int64
	for i := range o.Siblings {
		newest = max(newest, o.Siblings[i].Time)
	}
	return newest < nowNs-int64(l.grace)
}

// HintsPending returns how many hints this node holds, per owner.
func (l *Local) HintsPending() map[string]int64 { return l.hints.counts() }

// HintsTotal returns how many hints this node holds.
func (l *Local) HintsTotal() int64 { return l.hints.total.Load() }

// HintOwners returns the nodes this node holds hints for.
func (l *Local) HintOwners() []string { return l.hints.owners() }

// Hinted is one stored hint, as read for delivery.
type Hinted struct {
	Key []byte
	Obj *replication.Object
	raw []byte // the stored encoding, to delete only what was delivered
}

// HintBatch returns up to limit of owner's hints (stopping early past
// maxBytes of encoded state), starting after the user key after (nil: from
// the first), in storage order.
func (l *Local) HintBatch(owner string, after []byte, limit, maxBytes int) ([]Hinted, error) {
	prefix := hintPrefix(owner)
	start := prefix
	if after != nil {
		start = append(hintKey(owner, ring.HashKey(after), after), 0)
	}
	end := append(slices.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	var (
		out  []Hinted
		size int
		dErr error
	)
	err := l.store.Iterate(start, end, func(k, v []byte) bool {
		o, key, ok := parseHintKey(k)
		if !ok || o != owner {
			return true
		}
		raw := bytes.Clone(v) // v is the store's, valid during this call only
		obj, err := replication.DecodeObject(raw)
		if err != nil {
			dErr = fmt.Errorf("replica: hint of %q for %s: %w", key, owner, err)
			return false
		}
		out = append(out, Hinted{Key: bytes.Clone(key), Obj: obj, raw: raw})
		size += len(v)
		return len(out) < limit && size < maxBytes
	})
	if err == nil {
		err = dErr
	}
	return out, err
}

// DropHint deletes owner's hint of h.Key if it is still exactly what was
// read (a version that arrived since stays for the next delivery).
func (l *Local) DropHint(owner string, h Hinted) error {
	hs := ring.HashKey(h.Key)
	hk := hintKey(owner, hs, h.Key)
	mu := &l.locks[hs.Lo%lockStripes]
	mu.Lock()
	defer mu.Unlock()
	raw, err := l.store.Get(hk)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(raw, h.raw) {
		return nil
	}
	if err := l.store.Apply(store.Op{Key: hk, Delete: true}); err != nil {
		return err
	}
	l.hints.add(owner, -1)
	return nil
}
