package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// ShardedStore spreads one keyspace over several stores by hash position:
// shard i holds the data keys (and the score index keys, which carry the
// position of the data key they index) whose hash.Hi falls in the i-th of
// len(shards) equal ranges, and shard 0 also holds every other key
// (metadata, hints). Each shard is a separate goleveldb with its own write lock,
// journal and compactions, so writes to different shards proceed in
// parallel: goleveldb serialises every write of one database through one
// lock that also does the memtable insert.
//
// Because data keys sort by hash position, each shard's data keys are one
// contiguous range of the combined keyspace, and Iterate walks the shards in
// order. Apply is atomic when all its ops fall in one shard (always true for
// the ops of one key); ops spanning shards are applied shard by shard.
// Safe for concurrent use.
type Sharded struct {
	shards []Store
	shift  uint      // hash.Hi >> shift is the shard of a data key
	segs   []segment // the keyspace's runs by shard (segments), computed once
}

var _ Store = (*Sharded)(nil)

// NewShardedStore combines shards (a power of two of them, at least one)
// into one Store. It owns them from then on: Close closes them all.
func NewSharded(shards ...Store) (*Sharded, error) {
	n := len(shards)
	if n == 0 || n&(n-1) != 0 {
		return nil, fmt.Errorf("store: %d store shards, need a power of two", n)
	}
	s := &Sharded{shards: shards, shift: uint(64 - bits.TrailingZeros(uint(n)))}
	s.segs = s.segments()
	return s, nil
}

// shardOf returns the shard holding key.
func (s *Sharded) shardOf(key []byte) int {
	if len(s.shards) == 1 || len(key) < DataKeyHeader || (key[0] != DataPrefix && key[0] != IndexPrefix) {
		return 0
	}
	return int(binary.BigEndian.Uint64(key[1:DataKeyHeader]) >> s.shift)
}

// Get implements Store.
func (s *Sharded) Get(key []byte) ([]byte, error) {
	return s.shards[s.shardOf(key)].Get(key)
}

// Apply implements Store: atomic within one shard, shard by shard (in
// shard order) otherwise. Meta entries (MetaPrefix) are written to shard 0
// and then, as mirrors, to every other shard: the node's metadata (its
// identity, member set, actor) survives the loss of shard 0 (RestoreMeta).
// Reads use shard 0's.
func (s *Sharded) Apply(ops ...Op) error {
	if len(ops) == 0 {
		return s.shards[0].Apply() // ErrClosed after Close, else nil
	}
	first := s.shardOf(ops[0].Key)
	same := true
	for i := 1; i < len(ops) && same; i++ {
		same = s.shardOf(ops[i].Key) == first
	}
	if same && first != 0 {
		return s.shards[first].Apply(ops...)
	}
	if same {
		if err := s.shards[0].Apply(ops...); err != nil {
			return err
		}
		return s.mirrorMeta(ops)
	}
	for i := range s.shards {
		var part []Op
		for _, op := range ops {
			if s.shardOf(op.Key) == i {
				part = append(part, op)
			}
		}
		if len(part) > 0 {
			if err := s.shards[i].Apply(part...); err != nil {
				return err
			}
		}
	}
	return s.mirrorMeta(ops)
}

// mirrorMeta writes the meta entries among ops to shards 1..n-1.
func (s *Sharded) mirrorMeta(ops []Op) error {
	if len(s.shards) == 1 {
		return nil
	}
	var meta []Op
	for _, op := range ops {
		if len(op.Key) > 0 && op.Key[0] == MetaPrefix {
			meta = append(meta, op)
		}
	}
	if len(meta) == 0 {
		return nil
	}
	for _, sh := range s.shards[1:] {
		if err := sh.Apply(meta...); err != nil {
			return err
		}
	}
	return nil
}

// RestoreMeta makes to's meta entries those of from (the shard-layout
// marker, each shard's own, excepted), durably: mirrors that lag after a
// crash between shards are brought up to shard 0, and a lost shard 0 gets
// back the node's metadata from a mirror. It returns the entries copied.
func RestoreMeta(to, from Store) (int, error) {
	keep := func(k []byte) bool { return string(k) != string(MetaKey(metaShardLayout)) }
	var ops []Op
	lo, hi := []byte{MetaPrefix}, []byte{MetaPrefix + 1}
	err := to.Iterate(lo, hi, func(k, _ []byte) bool {
		if keep(k) {
			ops = append(ops, Op{Key: bytes.Clone(k), Delete: true})
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	n := 0
	err = from.Iterate(lo, hi, func(k, v []byte) bool {
		if keep(k) {
			ops = append(ops, Op{Key: bytes.Clone(k), Value: bytes.Clone(v)})
			n++
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if err := to.Apply(ops...); err != nil {
		return 0, err
	}
	return n, to.Sync()
}

// segment is a key range [lo, hi) served by one shard; nil bounds are open.
type segment struct {
	shard  int
	lo, hi []byte
}

// segments lists the combined keyspace in order: for each positioned kind
// (data, then the score index), shard 0 up to the second shard's first key
// of the kind, each further shard's range of it; shard 0 again between the
// kinds and after the last.
func (s *Sharded) segments() []segment {
	n := len(s.shards)
	if n == 1 {
		return []segment{{0, nil, nil}}
	}
	out := make([]segment, 0, 2*n+1)
	var lo []byte // where shard 0's current run starts (nil: the beginning)
	for _, kind := range []byte{DataPrefix, IndexPrefix} {
		bound := func(i int) []byte { return positionBound(kind, uint64(i)<<s.shift) }
		out = append(out, segment{0, lo, bound(1)})
		for i := 1; i < n-1; i++ {
			out = append(out, segment{i, bound(i), bound(i + 1)})
		}
		lo = []byte{kind + 1}
		out = append(out, segment{n - 1, bound(n - 1), lo})
	}
	return append(out, segment{0, lo, nil})
}

// positionBound returns the smallest key of a positioned kind whose
// position is hi.
func positionBound(kind byte, hi uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{kind}, hi)
}

// Iterate implements Store, walking the shards' ranges in key order.
func (s *Sharded) Iterate(start, end []byte, fn func(k, v []byte) bool) error {
	return s.iterate(start, end, Store.Iterate, fn)
}

// IterateReverse implements Store, walking the shards' ranges in reverse
// key order.
func (s *Sharded) IterateReverse(start, end []byte, fn func(k, v []byte) bool) error {
	for i := len(s.segs) - 1; i >= 0; i-- {
		seg := s.segs[i]
		lo, hi, ok := clip(seg, start, end)
		if !ok {
			continue
		}
		stopped := false
		err := s.shards[seg.shard].IterateReverse(lo, hi, func(k, v []byte) bool {
			if !fn(k, v) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil || stopped {
			return err
		}
	}
	return nil
}

// clip returns the part of seg within [start, end) (nil bounds open); ok is
// false when it is empty.
func clip(seg segment, start, end []byte) (lo, hi []byte, ok bool) {
	lo, hi = seg.lo, seg.hi
	if start != nil && (lo == nil || bytes.Compare(start, lo) > 0) {
		lo = start
	}
	if end != nil && (hi == nil || bytes.Compare(end, hi) < 0) {
		hi = end
	}
	return lo, hi, lo == nil || hi == nil || bytes.Compare(lo, hi) < 0
}

// IterateReadable is IterateReadable over every shard.
func (s *Sharded) IterateReadable(start, end []byte, fn func(k, v []byte) bool) error {
	return s.iterate(start, end, IterateReadable, fn)
}

// ShardOf returns the index of the shard holding key.
func (s *Sharded) ShardOf(key []byte) int { return s.shardOf(key) }

// Shards returns the shards, in order.
func (s *Sharded) Shards() []Store { return s.shards }

func (s *Sharded) iterate(start, end []byte, iter func(Store, []byte, []byte, func(k, v []byte) bool) error, fn func(k, v []byte) bool) error {
	for _, seg := range s.segs {
		lo, hi, ok := clip(seg, start, end)
		if !ok {
			continue
		}
		stopped := false
		err := iter(s.shards[seg.shard], lo, hi, func(k, v []byte) bool {
			if !fn(k, v) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil || stopped {
			return err
		}
	}
	return nil
}

// Sync implements Store.
func (s *Sharded) Sync() error {
	var errs []error
	for _, sh := range s.shards {
		errs = append(errs, sh.Sync())
	}
	return errors.Join(errs...)
}

// Close implements Store: it closes every shard.
func (s *Sharded) Close() error {
	var errs []error
	for _, sh := range s.shards {
		errs = append(errs, sh.Close())
	}
	return errors.Join(errs...)
}
