package replica

// Tombstone collection. A delete is a version (a tombstone) so that it
// travels through merge, handoff and anti-entropy and covers the value it
// deleted on every replica. Kept forever, tombstones fill the store; dropped
// too early, a replica that still holds the old value brings it back. A
// home replica therefore collects a key whose state is only tombstones
// when both hold:
//
//   - its newest tombstone is older than tombstone_grace, and
//   - every other home replica of the key, asked at that moment, holds the
//     same state or nothing (a home that collected it already).
//
// So no home replica still holds a version the tombstones cover. Versions
// elsewhere are hints on stand-ins, and a hint older than the grace period
// is neither delivered nor read (hints.go); a removed node sends nothing
// (cluster.isRemoved). Anti-entropy, for its part, neither pulls nor
// pushes a collectable tombstone to a replica that lacks the key, so one
// home's collection is not undone by another's exchange.

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// tombIndex remembers the keys whose state is only tombstones, with the
// time of the newest one, so collection does not scan the store.
type tombIndex struct {
	mu sync.Mutex
	m  map[string]int64 // key -> newest tombstone, Unix ns
	n  atomic.Int64     // len(m), so a write of a value skips the lock when there are none
}

// deadSince reports whether o is only tombstones, and the newest one's
// write time (Unix ns).
func deadSince(o *replication.Object) (int64, bool) {
	if o == nil || len(o.Siblings) == 0 {
		return 0, false
	}
	var newest int64
	for i := range o.Siblings {
		if !o.Siblings[i].Tombstone {
			return 0, false
		}
		newest = max(newest, o.Siblings[i].Time)
	}
	return newest, true
}

// note records key's new state o.
func (t *tombIndex) note(key []byte, o *replication.Object) {
	at, dead := deadSince(o)
	if !dead && t.n.Load() == 0 {
		return // the common case: a value written, no tombstones indexed
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !dead {
		delete(t.m, string(key))
	} else {
		if t.m == nil {
			t.m = make(map[string]int64)
		}
		t.m[string(key)] = at
	}
	t.n.Store(int64(len(t.m)))
}

// older returns up to limit keys whose newest tombstone is before cutoff
// (Unix ns).
func (t *tombIndex) older(cutoff int64, limit int) [][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out [][]byte
	for k, at := range t.m {
		if len(out) == limit {
			break
		}
		if at < cutoff {
			out = append(out, []byte(k))
		}
	}
	return out
}

func (t *tombIndex) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Collectable reports whether o is a state a replica may collect at nowNs
// with grace: only tombstones, the newest older than grace.
func Collectable(o *replication.Object, nowNs int64, grace time.Duration) bool {
	at, dead := deadSince(o)
	return dead && grace > 0 && at < nowNs-int64(grace)
}

// Tombstones returns how many keys this replica holds only tombstones of.
func (l *Local) Tombstones() int { return l.tombs.len() }

// CollectTombstone deletes key from the store if its state is still
// exactly expect (a write since keeps it). It reports whether it did.
func (l *Local) CollectTombstone(ctx context.Context, key []byte, expect *replication.Object) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	h := ring.HashKey(key)
	dk := store.AppendDataKey(nil, h, key)
	mu := &l.locks[h.Lo%lockStripes]
	mu.Lock()
	defer mu.Unlock()
	cur, _, err := l.current(h, key, dk)
	if err != nil {
		return false, err
	}
	if cur == nil || !cur.Equal(expect) {
		return false, nil
	}
	if live, err := l.outlivedBy(ctx, h.Hi, key, cur); live || err != nil {
		return false, err
	}
	ops, err := l.indexOps([]store.Op{{Key: dk, Delete: true}}, h.Hi, key, cur, nil, false)
	if err != nil {
		return false, err
	}
	if err := l.store.Apply(ops...); err != nil {
		return false, err
	}
	l.cache.put(h.Lo, key, nil)
	l.treeUpdate(h.Hi, key, cur, nil)
	l.tombs.note(key, nil)
	return true, nil
}

// outlivedBy reports whether the collection deletes among cur, the state
// of key at position pos, have elements that outlived them here (an add
// concurrent with the delete): then the delete stays, since it is what
// tells readers to look for them (see resp/collections.go).
func (l *Local) outlivedBy(ctx context.Context, pos uint64, key []byte, cur *replication.Object) (bool, error) {
	user, ok := ring.UserKey(key)
	if !ok {
		return false, nil
	}
	for i := range cur.Siblings {
		t := cur.Siblings[i].Type
		if t == 0 {
			continue
		}
		prefix := ring.ElementPrefix(t, user)
		for from := prefix; ; {
			keys, more, err := l.ReadKeys(ctx, pos, from, ring.PrefixEnd(prefix), 256)
			if err != nil {
				return false, err
			}
			for _, ks := range keys {
				if holdsValue(ks.Obj) == 1 {
					return true, nil
				}
			}
			if !more || len(keys) == 0 {
				break
			}
			from = append(keys[len(keys)-1].Key, 0)
		}
	}
	return false, nil
}

// nowNs is the replica's clock for grace periods, in Unix ns.
func (l *Local) nowNs() int64 {
	return l.now().UnixNano()
}

// TombstonesOlder returns up to limit keys stored as tombstones only whose
// newest tombstone is older than cutoff (Unix ns).
func (l *Local) TombstonesOlder(cutoff int64, limit int) [][]byte {
	return l.tombs.older(cutoff, limit)
}
