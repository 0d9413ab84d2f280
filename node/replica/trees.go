package replica

// The replica's anti-entropy hash trees (package antientropy): kept up to
// date by every write of a data key, rebuilt from the store at start.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// ErrTreesNotReady answers an exchange while the trees are being rebuilt.
var ErrTreesNotReady = errors.New("replica: anti-entropy trees are being rebuilt")

// EnableTrees makes the replica keep anti-entropy hash trees of shape s,
// updated by every write from now on. It must be called before the
// replica takes writes; the trees hold nothing of the existing data until
// RebuildTrees.
func (l *Local) EnableTrees(s antientropy.Shape) {
	l.trees = antientropy.NewTrees(s)
	l.holding = make([]atomic.Int64, s.Partitions())
}

// Trees returns the replica's hash trees, or nil if they are not kept.
func (l *Local) Trees() *antientropy.Trees { return l.trees }

// TreesReady reports whether the trees cover the whole store (RebuildTrees
// finished).
func (l *Local) TreesReady() bool { return l.trees != nil && l.treesReady.Load() }

// treeUpdate records in the trees that key, at position pos, went from old
// to new. It is called under the key's lock, after the store write.
func (l *Local) treeUpdate(pos uint64, key []byte, old, new *replication.Object) {
	if l.trees != nil {
		l.trees.UpdateKey(pos, key, replication.Digest(key, old), replication.Digest(key, new))
		if d := holdsValue(new) - holdsValue(old); d != 0 {
			l.holding[l.trees.Shape().Partition(pos)].Add(d)
		}
	}
}

// holdsValue is 1 if o has a sibling that is no tombstone (expired or not),
// else 0.
func holdsValue(o *replication.Object) int64 {
	if o != nil {
		for i := range o.Siblings {
			if !o.Siblings[i].Tombstone {
				return 1
			}
		}
	}
	return 0
}

// RebuildTrees builds every partition's tree anew from the store, one
// partition at a time. While it scans a partition it holds every key lock,
// so no write is half-way (stored, but not yet in the tree); writers wait
// for the scan of one partition at most. It returns the keys it found.
func (l *Local) RebuildTrees(ctx context.Context) (int64, error) {
	if l.trees == nil {
		return 0, errors.New("replica: trees not enabled")
	}
	s := l.trees.Shape()
	var total int64
	for p := range s.Partitions() {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		start := time.Now()
		n, err := l.rebuildPartition(ctx, s, p)
		if err != nil {
			return total, fmt.Errorf("replica: rebuilding the tree of partition %d: %w", p, err)
		}
		total += n
		// Writers waited for the scan: give the foreground its share.
		if err := l.adm.Pace(ctx, time.Since(start)); err != nil {
			return total, err
		}
	}
	l.treesReady.Store(true)
	return total, nil
}

func (l *Local) rebuildPartition(ctx context.Context, s antientropy.Shape, p int) (int64, error) {
	defer l.lockAll()()
	t := antientropy.NewTree(s)
	first, _ := s.LeafRange(p, 0)
	_, last := s.LeafRange(p, s.Leaves()-1)
	var holding int64
	err := l.scanPositions(ctx, first, last, func(pos uint64, key []byte, o *replication.Object, h uint64) error {
		t.Add(s, s.Leaf(pos), h)
		l.tombs.note(key, o)
		holding += holdsValue(o)
		return nil
	})
	if err != nil {
		return 0, err
	}
	l.trees.Replace(p, t)
	l.holding[p].Store(holding)
	// The tree counts what is readable now, under every key lock.
	l.damage.mu.Lock()
	delete(l.damage.stale, p)
	l.damage.mu.Unlock()
	return t.Keys(), nil
}

// RebuildDamaged rebuilds, over what is readable, the trees of the damaged
// partitions whose trees may count unreadable keys, so that an exchange
// finds those keys missing here. It returns the partitions rebuilt.
func (l *Local) RebuildDamaged(ctx context.Context) ([]int, error) {
	if l.trees == nil {
		return nil, nil
	}
	parts := l.staleDamaged()
	for _, p := range parts {
		start := time.Now()
		if _, err := l.rebuildPartition(ctx, l.trees.Shape(), p); err != nil {
			return nil, fmt.Errorf("replica: rebuilding the tree of damaged partition %d: %w", p, err)
		}
		if err := l.adm.Pace(ctx, time.Since(start)); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// ScanLeaf is the replica's antientropy.LeafScanner: its own keys at
// positions first..last with their digests.
func (l *Local) ScanLeaf(ctx context.Context, first, last uint64, fn func(key []byte, h uint64) error) error {
	return l.scanPositions(ctx, first, last, func(_ uint64, key []byte, _ *replication.Object, h uint64) error { return fn(key, h) })
}

// ScanLeafKeys is ScanLeaf for the keys want accepts: the others are not
// decoded, and where want names a key to skip to, the walk seeks there
// (antientropy.FilteredScanner).
func (l *Local) ScanLeafKeys(ctx context.Context, first, last uint64, want func(key []byte) (bool, []byte), fn func(key []byte, h uint64) error) error {
	start, end := positionSpan(first, last)
	for {
		var resume []byte
		err := l.eachData(ctx, start, end, func(pos uint64, key, v []byte) (bool, error) {
			ok, skip := want(key)
			if !ok {
				if bytes.Compare(skip, key) <= 0 {
					return true, nil // no skip (or none forward)
				}
				resume = store.AppendDataKey(nil, ring.Hash{Hi: pos}, skip)
				return false, nil
			}
			o, ok := l.decodeOrSkip(pos, key, v)
			if !ok {
				return true, nil
			}
			return true, fn(key, replication.Digest(key, o))
		})
		if err != nil || resume == nil {
			return err
		}
		if start = resume; bytes.Compare(start, end) >= 0 {
			return nil
		}
	}
}

// scanPositions calls fn for every data key at positions first..last
// (inclusive) with its position, state and digest.
func (l *Local) scanPositions(ctx context.Context, first, last uint64, fn func(pos uint64, key []byte, o *replication.Object, h uint64) error) error {
	start, end := positionSpan(first, last)
	return l.eachData(ctx, start, end, func(pos uint64, key, v []byte) (bool, error) {
		o, ok := l.decodeOrSkip(pos, key, v)
		if !ok {
			return true, nil
		}
		return true, fn(pos, key, o, replication.Digest(key, o))
	})
}

// ReadMany returns the replica's own states of keys (nil for the absent
// ones and for those it cannot read: the asking replica then sends its
// own), in order.
func (l *Local) ReadMany(ctx context.Context, keys [][]byte) ([]*replication.Object, error) {
	out := make([]*replication.Object, len(keys))
	for i, k := range keys {
		o, err := l.ReadQuiet(ctx, k)
		if isUnreadable(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

// DropPartition deletes this replica's own copy of every key of partition
// p (out of the trees' Q), for a partition it no longer replicates once
// its homes hold everything it had. It holds every key lock meanwhile, so
// no write of p is half-way. It returns the keys deleted.
func (l *Local) DropPartition(ctx context.Context, p int) (int, error) {
	if l.trees == nil {
		return 0, errors.New("replica: trees not enabled")
	}
	s := l.trees.Shape()
	defer l.lockAll()()
	// Dots this node minted for the dropped keys stay on the other
	// replicas: minting again under the same actor without them would
	// claim to cover them. Write as a new actor from here on.
	if err := l.newActor(); err != nil {
		return 0, fmt.Errorf("replica: a new actor id before dropping partition %d: %w", p, err)
	}
	start, end := store.PartitionRange(p, s.Partitions())
	var ops []store.Op
	var keys [][]byte
	err := l.eachData(ctx, start, end, func(pos uint64, key, _ []byte) (bool, error) {
		ops = append(ops, store.Op{Key: store.DataKey(ring.Hash{Hi: pos}, key), Delete: true})
		keys = append(keys, append([]byte(nil), key...))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	// The partition's score index goes with its data. When the deletes
	// take several batches, a key's data and its index entries may land in
	// different ones: the index's format marker is dropped until the last
	// has landed, so a crash or a failed batch on the way makes the next
	// Open rebuild the index.
	if ops, err = l.partitionIndexOps(ops, start, end); err != nil {
		return 0, err
	}
	split := len(ops) > 4096
	if split {
		err = l.store.Apply(store.Op{Key: store.MetaKey(metaIndex), Delete: true})
	}
	for len(ops) > 0 && err == nil {
		n := min(len(ops), 4096)
		err = l.store.Apply(ops[:n]...)
		ops = ops[n:]
	}
	if split && err == nil {
		err = l.store.Apply(store.Op{Key: store.MetaKey(metaIndex), Value: []byte(indexFormat)})
	}
	for _, k := range keys {
		l.cache.drop(ring.HashKey(k).Lo, k)
		l.tombs.note(k, nil)
	}
	if err != nil {
		l.treesReady.Store(false) // some are gone: rebuild
		return 0, err
	}
	l.trees.Replace(p, antientropy.NewTree(s))
	l.holding[p].Store(0)
	return len(keys), nil
}

// lockAll takes every key lock, in stripe order, and returns the function
// that releases them: for the operations no write of a partition may be
// half-way through (a tree rebuild, a partition drop).
func (l *Local) lockAll() (unlock func()) {
	for i := range l.locks {
		l.locks[i].Lock()
	}
	return func() {
		for i := range l.locks {
			l.locks[i].Unlock()
		}
	}
}
