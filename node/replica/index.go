package replica

// The score index of sorted sets: for each sorted-set element whose state
// here holds a live version, one store key
//
//	IndexPrefix | position (8) | ring.ElementPrefix('z', key) | SortKey(score, member)
//
// with an empty value, where score is replication.ScoreOf the element's
// state. It is this replica's own, derived data: not a data key, so not
// replicated, not in the hash trees, not transferred and not counted; two
// replicas holding the same versions hold the same entries (the score rule
// is deterministic), which is what lets a coordinator compare their
// answers.
//
// Every write of a data key (Mutate, Merge, MergeBatch, tombstone
// collection, a partition's drop) puts the element's new entry and deletes
// its old one in the same store batch as the data, so a crash never leaves
// them apart: the data key and its index keys share a position, hence a
// store shard. A store whose index format marker is absent or another
// (written before the index, or by another format) has its index rebuilt
// from the data when the replica opens.

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// metaIndex is the meta entry holding the index's format; indexFormat is
// the format this code keeps.
const (
	metaIndex   = "zindex"
	indexFormat = "v1"
)

// indexBase returns the prefix of the index keys of the sorted set whose
// elements start with prefix, at position pos.
func indexBase(pos uint64, prefix []byte) []byte {
	b := make([]byte, 0, 1+8+len(prefix)+8+16)
	b = append(b, store.IndexPrefix)
	b = binary.BigEndian.AppendUint64(b, pos)
	return append(b, prefix...)
}

// zsetElement returns the prefix and member of key when it is a sorted-set
// element.
func zsetElement(key []byte) (prefix, member []byte, ok bool) {
	typ, _, m, ok := ring.ParseElementKey(key)
	if !ok || typ != replication.ZSetType {
		return nil, nil, false
	}
	_, n, _ := ring.ElementHash(key)
	return key[:n], m, true
}

// indexOps returns the index writes that go with key (at position pos)
// going from old to new: the old entry deleted when the score moved, the
// new one put (its value, the state's digest, changed), nothing when key
// is no sorted-set element or holds no score before or after. With lost
// (old was unreadable), the entries of the member are looked up instead.
func (l *Local) indexOps(dst []store.Op, pos uint64, key []byte, old, new *replication.Object, lost bool) ([]store.Op, error) {
	prefix, member, ok := zsetElement(key)
	if !ok {
		return dst, nil
	}
	was, hadOld := replication.ScoreOf(old)
	is, hasNew := replication.ScoreOf(new)
	if !lost && !hadOld && !hasNew {
		return dst, nil
	}
	moved := !hasNew || replication.SortableScore(was) != replication.SortableScore(is)
	base := indexBase(pos, prefix)
	switch {
	case lost:
		stale, err := l.memberEntries(base, member)
		if err != nil {
			return dst, err
		}
		for _, k := range stale {
			dst = append(dst, store.Op{Key: k, Delete: true})
		}
	case hadOld && moved:
		dst = append(dst, store.Op{Key: append(base, replication.SortKey(was, member)...), Delete: true})
	}
	if hasNew {
		// The entry's value is the digest of the element's state (see
		// replication.IndexDigest): rewritten whenever the state changes,
		// also when the score did not move.
		dst = append(dst, store.Op{Key: append(bytes.Clone(base), replication.SortKey(is, member)...),
			Value: binary.BigEndian.AppendUint64(nil, replication.Digest(key, new))})
	}
	return dst, nil
}

// memberEntries returns the index keys of member under base, whatever
// their score: what a write over an unreadable state (whose score is
// unknown) must delete. It walks the sorted set's index, which only
// damaged storage makes necessary.
func (l *Local) memberEntries(base, member []byte) ([][]byte, error) {
	var out [][]byte
	err := l.store.Iterate(base, ring.PrefixEnd(base), func(k, _ []byte) bool {
		if rest := k[len(base):]; len(rest) >= 8 && bytes.Equal(rest[8:], member) {
			out = append(out, bytes.Clone(k))
		}
		return true
	})
	return out, err
}

// partitionIndexOps returns the deletes of every index key at positions
// [start, end) of a partition's data range (what DropPartition drops).
func (l *Local) partitionIndexOps(dst []store.Op, dataStart, dataEnd []byte) ([]store.Op, error) {
	start := append([]byte{store.IndexPrefix}, dataStart[1:]...)
	end := []byte{store.IndexPrefix + 1}
	if len(dataEnd) == store.DataKeyHeader {
		end = append([]byte{store.IndexPrefix}, dataEnd[1:]...)
	}
	err := l.store.Iterate(start, end, func(k, _ []byte) bool {
		dst = append(dst, store.Op{Key: bytes.Clone(k), Delete: true})
		return true
	})
	return dst, err
}

// ensureIndex rebuilds the index from the data when the store's format
// marker is not this code's, and returns the entries it wrote (0 when the
// index was there). It runs before the replica serves.
func (l *Local) ensureIndex() (int, error) {
	v, err := l.store.Get(store.MetaKey(metaIndex))
	if err == nil && string(v) == indexFormat {
		return 0, nil
	}
	return l.RebuildIndex()
}

// RebuildIndex drops the index and writes it anew from the data, then
// marks the store with the index's format. It must not run while the
// replica takes writes (Open calls it before). It returns the entries
// written.
func (l *Local) RebuildIndex() (int, error) {
	var ops []store.Op
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		err := l.store.Apply(ops...)
		ops = ops[:0]
		return err
	}
	var applyErr error
	err := l.store.Iterate([]byte{store.IndexPrefix}, []byte{store.IndexPrefix + 1}, func(k, _ []byte) bool {
		ops = append(ops, store.Op{Key: bytes.Clone(k), Delete: true})
		if len(ops) >= 4096 {
			applyErr = flush()
		}
		return applyErr == nil
	})
	if err == nil {
		err = applyErr
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, fmt.Errorf("replica: dropping the score index: %w", err)
	}
	n := 0
	start, end := store.DataRange(0)
	err = store.IterateReadable(l.store, start, end, func(k, v []byte) bool {
		pos, key, ok := store.ParseDataKey(k)
		if !ok {
			return true
		}
		if _, _, ok := zsetElement(key); !ok {
			return true
		}
		o, err := replication.DecodeObject(v)
		if err != nil {
			return true // unreadable: no entry (its partition's repair rewrites it)
		}
		ops, applyErr = l.indexOps(ops, pos, bytes.Clone(key), nil, o, false)
		if _, has := replication.ScoreOf(o); has {
			n++
		}
		if applyErr == nil && len(ops) >= 4096 {
			applyErr = flush()
		}
		return applyErr == nil
	})
	if err == nil {
		err = applyErr
	}
	if err == nil {
		err = flush()
	}
	if err == nil {
		// The entries are durable before the marker that vouches for
		// them (a sharded store's shards sync apart).
		err = l.store.Sync()
	}
	if err != nil {
		return 0, fmt.Errorf("replica: rebuilding the score index: %w", err)
	}
	if err := l.store.Apply(store.Op{Key: store.MetaKey(metaIndex), Value: []byte(indexFormat)}); err != nil {
		return 0, fmt.Errorf("replica: marking the score index: %w", err)
	}
	return n, l.store.Sync()
}
