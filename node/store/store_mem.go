package store

import (
	"sync"
	"sync/atomic"

	"github.com/syndtr/goleveldb/leveldb/comparer"
	"github.com/syndtr/goleveldb/leveldb/memdb"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// MemStore is a Store kept in memory, for tests and ephemeral nodes: a
// goleveldb memdb (skiplist) behind a read-write mutex, with the same
// ordering and semantics as LevelDB except durability (Sync is a no-op and
// nothing survives the process) and Iterate's consistency (below). Create
// one with NewMemStore.
//
// Iterate copies entries out in chunks under the read lock and calls its
// callback with no lock held, so the callback may call Get and Apply on the
// same store. Each chunk is a consistent view, but the iteration as a whole
// is not a snapshot: writes made during it (by the callback or others) to
// keys it has not reached yet are visible to it.
type Mem struct {
	mu     sync.RWMutex
	db     *memdb.DB // nil once closed
	closed atomic.Bool
	// garbage counts the bytes of dead keys and values in db's append-only
	// arena (overwritten or deleted); Apply rebuilds db when garbage
	// outgrows the live data, so overwrites do not leak memory.
	garbage int
}

var _ Store = (*Mem)(nil)

const (
	// memIterChunkEntries and memIterChunkBytes bound how much Iterate
	// copies under one read lock.
	memIterChunkEntries = 256
	memIterChunkBytes   = 64 << 10
	// memMinGarbage is the dead-byte count below which Apply never rebuilds.
	memMinGarbage = 4 << 20
)

// NewMemStore returns an empty in-memory store.
func NewMem() *Mem {
	return &Mem{db: memdb.New(comparer.DefaultComparer, 0)}
}

// Get implements Store.
func (s *Mem) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	v, err := s.db.Get(key)
	if err != nil {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

// Apply implements Store. It holds the write lock for the whole batch, which
// makes the batch atomic to readers.
func (s *Mem) Apply(ops ...Op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	for i := range ops {
		k := ops[i].Key
		if old, err := s.db.Get(k); err == nil {
			s.garbage += len(k) + len(old)
		}
		if ops[i].Delete {
			_ = s.db.Delete(k) // ErrNotFound only
		} else {
			_ = s.db.Put(k, ops[i].Value) // never fails
		}
	}
	if s.garbage > memMinGarbage && s.garbage > s.db.Size() {
		s.rebuild()
	}
	return nil
}

// rebuild copies the live entries into a fresh memdb. It runs with the write
// lock held; its cost is linear in the live data, which is less than the
// garbage it frees, so it adds O(1) amortized work per byte written.
func (s *Mem) rebuild() {
	db := memdb.New(comparer.DefaultComparer, s.db.Size())
	it := s.db.NewIterator(nil)
	for it.Next() {
		_ = db.Put(it.Key(), it.Value())
	}
	it.Release()
	s.db, s.garbage = db, 0
}

// Iterate implements Store; see MemStore for its consistency.
func (s *Mem) Iterate(start, end []byte, fn func(k, v []byte) bool) error {
	return s.iterate(start, end, false, fn)
}

// IterateReverse implements Store, as Iterate does, greatest key first.
func (s *Mem) IterateReverse(start, end []byte, fn func(k, v []byte) bool) error {
	return s.iterate(start, end, true, fn)
}

func (s *Mem) iterate(start, end []byte, reverse bool, fn func(k, v []byte) bool) error {
	var (
		buf  []byte
		ents []int // per entry: key end, value end offsets in buf
	)
	for {
		var full bool
		buf, ents = buf[:0], ents[:0]
		s.mu.RLock()
		if s.db == nil {
			s.mu.RUnlock()
			return ErrClosed
		}
		it := s.db.NewIterator(&util.Range{Start: start, Limit: end})
		step, first := it.Next, it.First
		if reverse {
			step, first = it.Prev, it.Last
		}
		for ok := first(); ok; ok = step() {
			buf = append(buf, it.Key()...)
			kEnd := len(buf)
			buf = append(buf, it.Value()...)
			ents = append(ents, kEnd, len(buf))
			if len(ents) == 2*memIterChunkEntries || len(buf) >= memIterChunkBytes {
				full = true
				break
			}
		}
		it.Release()
		s.mu.RUnlock()

		off := 0
		for i := 0; i < len(ents); i += 2 {
			if s.closed.Load() {
				return ErrClosed
			}
			k := buf[off:ents[i]:ents[i]]
			v := buf[ents[i]:ents[i+1]:ents[i+1]]
			off = ents[i+1]
			if !fn(k, v) {
				return nil
			}
		}
		if !full {
			return nil
		}
		// Resume just past the last key: forward, at its immediate
		// successor (the key followed by a zero byte); in reverse, below
		// it (it becomes the exclusive end). A new slice, since buf is
		// reused.
		last := len(ents) - 2
		lastStart := 0
		if last > 0 {
			lastStart = ents[last-1]
		}
		k := append(make([]byte, 0, ents[last]-lastStart+1), buf[lastStart:ents[last]]...)
		if reverse {
			end = k
		} else {
			start = append(k, 0)
		}
	}
}

// Sync implements Store; a MemStore has nothing to make durable.
func (s *Mem) Sync() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close implements Store: it drops the data. Later calls return nil.
func (s *Mem) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed.Store(true)
	s.db = nil
	return nil
}
