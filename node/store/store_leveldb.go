package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// LevelDBOptions tunes a LevelDB store. A zero numeric field means
// goleveldb's own default (see package opt), not the tuned value; start from
// DefaultLevelDBOptions and change what you need.
type LevelDBOptions struct {
	// SyncWrites fsyncs the journal before every Apply returns, making each
	// acknowledged write durable against power loss (at the cost of one
	// fsync per batch; concurrent batches are merged and share it). When
	// false, acknowledged writes still survive a crash of the process, and
	// Sync makes them durable against power loss on demand.
	SyncWrites bool

	// WriteBuffer is the size of the in-memory table (memdb) that is flushed
	// to a level-0 table when full. Up to two exist at once (one being
	// flushed), so it costs up to twice this in memory.
	WriteBuffer int

	// BlockCacheCapacity is the size of the LRU cache of uncompressed table
	// blocks.
	BlockCacheCapacity int

	// CompactionTableSize is the target size of the tables compaction writes.
	CompactionTableSize int

	// CompactionTotalSize sets the level size limits: level n >= 1 may hold
	// CompactionTotalSize * 10^n bytes (so level 1 holds 10 times this).
	CompactionTotalSize int

	// CompactionL0Trigger is the number of level-0 tables that starts a
	// level-0 compaction.
	CompactionL0Trigger int

	// WriteL0SlowdownTrigger is the number of level-0 tables at which each
	// write is delayed by 1 ms to let compaction catch up.
	WriteL0SlowdownTrigger int

	// WriteL0PauseTrigger is the number of level-0 tables at which writes
	// stop until compaction brings the count back below it.
	WriteL0PauseTrigger int

	// BloomFilterBits is the number of bloom filter bits per key stored in
	// each table, so a Get of an absent key rarely reads a block; 0 means no
	// filter.
	BloomFilterBits int

	// OpenFilesCacheCapacity is the number of table files kept open.
	OpenFilesCacheCapacity int

	// DisableSeeksCompaction turns off compactions triggered by reads that
	// had to look at several tables, so reads never cause write
	// amplification that competes with the write path.
	DisableSeeksCompaction bool
}

// DefaultLevelDBOptions returns the options tuned for a dynakv node: a
// sustained stream of small writes (replicated puts, read repair, hinted
// handoff) mixed with point reads and partition range scans.
//
// goleveldb's defaults (4 MiB write buffer, compaction at 4 level-0 tables,
// a 1 ms delay per write from 8 and a full stop at 12) produce many small
// level-0 tables; under a sustained write stream level 0 reaches the
// slowdown and pause triggers and writers wait for compaction. Measured with
// BenchmarkLevelDBSustainedWrites (20M single writes, 2 vCPUs): 43k
// writes/s, p99.9 1.8 ms, worst 1.9 s. With these defaults: 140-215k
// writes/s, p99.9 45-130 µs, and goleveldb never throttled (level 0 stayed
// at <= 8 tables). The remaining rare 0.1-0.9 s outliers were the journal
// write(2) blocking in the kernel while compaction fsynced a table (and the
// writer waiting for a CPU); NoSync would remove those fsyncs but give up
// power-loss safety, so it is not used. The reason for each value is next to
// it.
func DefaultLevelDBOptions() LevelDBOptions {
	return LevelDBOptions{
		// Durability against kill -9 comes from the journal write(2) on every
		// Apply; fsync is per call to Sync, or per write when a caller opts in.
		SyncWrites: false,
		// 32 MiB (goleveldb: 4 MiB): 8x fewer flushes and level-0 tables for
		// the same write volume, so level-0 fills 8x more slowly; bigger
		// buffers make each flush (which briefly holds up the write that
		// rotates the memdb) and each level-0 compaction longer.
		WriteBuffer: 32 * opt.MiB,
		// 64 MiB (goleveldb: 8 MiB): keeps index and hot data blocks of a
		// node with a few GiB of data in memory.
		BlockCacheCapacity: 64 * opt.MiB,
		// 8 MiB (goleveldb: 2 MiB): 4x fewer files per level, so fewer open
		// files and less per-table bookkeeping in every compaction.
		CompactionTableSize: 8 * opt.MiB,
		// 10 MiB, goleveldb's default (level 1 = 100 MiB, level 2 = 1 GiB,
		// ...). Keys are spread uniformly by hash, so every level-0 table
		// overlaps all of level 1 and each level-0 compaction rewrites level
		// 1 whole: a bigger level 1 makes level-0 compactions slower than
		// the memdb flushes that feed them. Measured (30M writes): 128 MiB
		// gave 156k writes/s, a level 0 of up to 16 tables and 100-250 ms
		// stalls (1.26 s in a 20M-write run); 32 MiB, 183k/s and stalls up
		// to 200 ms; 10 MiB, 140-215k/s, level 0 at <= 8 tables and no
		// throttling by goleveldb.
		CompactionTotalSize: 10 * opt.MiB,
		// 8 (goleveldb: 4): compact level 0 in bigger, rarer batches; each
		// level-0 compaction rewrites the overlapping part of level 1, so
		// batching more tables per compaction cuts write amplification.
		// Point reads may check up to this many level-0 tables, which the
		// bloom filter makes cheap. (Measured: 4 did as well on latency but
		// ran at 168k writes/s against 205k in the same conditions.)
		CompactionL0Trigger: 8,
		// 24 (goleveldb: 8): leave 16 tables (512 MiB of writes at 32 MiB)
		// between "compaction starts" and "writers are slowed" ...
		WriteL0SlowdownTrigger: 24,
		// 48 (goleveldb: 12): ... and 24 more before writers stop, so a
		// long level-0 compaction is absorbed instead of stalling writes.
		WriteL0PauseTrigger: 48,
		// 10 bits per key: about a 1% false-positive rate, the usual choice.
		BloomFilterBits: 10,
		// 0: goleveldb's default (500 open tables; 200 on macOS).
		OpenFilesCacheCapacity: 0,
		// Seek-triggered compactions only help read-mostly workloads.
		DisableSeeksCompaction: true,
	}
}

// goleveldb converts o to goleveldb's options.
func (o LevelDBOptions) goleveldb() *opt.Options {
	lo := &opt.Options{
		WriteBuffer:            o.WriteBuffer,
		BlockCacheCapacity:     o.BlockCacheCapacity,
		CompactionTableSize:    o.CompactionTableSize,
		CompactionTotalSize:    o.CompactionTotalSize,
		CompactionL0Trigger:    o.CompactionL0Trigger,
		WriteL0SlowdownTrigger: o.WriteL0SlowdownTrigger,
		WriteL0PauseTrigger:    o.WriteL0PauseTrigger,
		OpenFilesCacheCapacity: o.OpenFilesCacheCapacity,
		DisableSeeksCompaction: o.DisableSeeksCompaction,
		// NoSync stays false even without SyncWrites: goleveldb's NoSync
		// also ignores WriteOptions.Sync (which Sync relies on) and skips
		// the fsyncs of new tables and the manifest, which would let a
		// power loss lose data that was already flushed out of the journal.
		// Those fsyncs happen in background compaction, off the write path.
	}
	if o.BloomFilterBits > 0 {
		lo.Filter = filter.NewBloomFilter(o.BloomFilterBits)
	}
	return lo
}

// LevelDB is a Store kept on disk by goleveldb. Create one with OpenLevelDB.
// Its methods are safe for concurrent use. Iterate reads a consistent
// snapshot taken when it starts: writes made during the iteration, including
// by its callback, are not visible to it.
type LevelDB struct {
	db  *leveldb.DB
	dir string
	wo  *opt.WriteOptions

	// state counts the calls in flight in its low bits and has
	// ldbClosedBit set once Close has begun. A call registers itself
	// (enter) and refuses to run when the bit is set; Close sets the bit
	// and waits on drained for the count to reach zero before closing
	// goleveldb, which must not be closed under a live iterator.
	state     atomic.Int64
	drained   chan struct{}
	closeOnce sync.Once
	closeErr  error // the first Close's result
}

var _ Store = (*LevelDB)(nil)

const ldbClosedBit = 1 << 62

// ldbBatches recycles write batches across Apply calls.
var ldbBatches = sync.Pool{New: func() any { return new(leveldb.Batch) }}

// OpenLevelDB opens, creating it if needed, the LevelDB store in directory
// dir. Only one process may have dir open at a time. A corrupted database is
// not repaired: the error says so, names dir and wraps goleveldb's error.
func OpenLevelDB(dir string, opts LevelDBOptions) (*LevelDB, error) {
	db, err := leveldb.OpenFile(dir, opts.goleveldb())
	if err != nil {
		if lerrors.IsCorrupted(err) {
			return nil, fmt.Errorf("store: open leveldb %s: database is corrupted (not repaired automatically): %w", dir, err)
		}
		return nil, fmt.Errorf("store: open leveldb %s: %w", dir, err)
	}
	return &LevelDB{
		db:      db,
		dir:     dir,
		wo:      &opt.WriteOptions{Sync: opts.SyncWrites},
		drained: make(chan struct{}, 1),
	}, nil
}

// Dir returns the directory the store was opened in.
func (s *LevelDB) Dir() string { return s.dir }

// enter registers a call in flight, or returns ErrClosed.
func (s *LevelDB) enter() error {
	if s.state.Add(1)&ldbClosedBit != 0 {
		s.exit()
		return ErrClosed
	}
	return nil
}

// exit unregisters a call and wakes Close when it was the last one.
func (s *LevelDB) exit() {
	if s.state.Add(-1) == ldbClosedBit {
		select {
		case s.drained <- struct{}{}:
		default:
		}
	}
}

// wrap turns a goleveldb error into the store's.
func (s *LevelDB) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, leveldb.ErrClosed):
		return ErrClosed
	}
	return fmt.Errorf("store: leveldb %s: %s: %w", s.dir, op, err)
}

// Get implements Store.
func (s *LevelDB) Get(key []byte) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	v, err := s.db.Get(key, nil) // goleveldb returns its own copy
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	return v, s.wrap("get", err)
}

// Apply implements Store. The batch is written to the journal with write(2)
// before Apply returns, so it survives a crash of the process; with
// SyncWrites it is also fsynced.
func (s *LevelDB) Apply(ops ...Op) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if len(ops) == 0 {
		return nil
	}
	b := ldbBatches.Get().(*leveldb.Batch)
	b.Reset()
	for i := range ops {
		if ops[i].Delete {
			b.Delete(ops[i].Key)
		} else {
			b.Put(ops[i].Key, ops[i].Value)
		}
	}
	err := s.db.Write(b, s.wo)
	if len(b.Dump()) <= 1<<20 { // don't pin huge buffers in the pool
		ldbBatches.Put(b)
	}
	return s.wrap("apply", err)
}

// Iterate implements Store. It reads a snapshot taken when it starts and
// does not fill the block cache, so scans (anti-entropy, handoff) do not
// evict the blocks that point reads use.
func (s *LevelDB) Iterate(start, end []byte, fn func(k, v []byte) bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	it := s.db.NewIterator(&util.Range{Start: start, Limit: end}, &opt.ReadOptions{DontFillCache: true})
	defer it.Release()
	for it.Next() {
		if s.state.Load()&ldbClosedBit != 0 {
			return ErrClosed
		}
		if !fn(it.Key(), it.Value()) {
			return nil
		}
	}
	return s.wrap("iterate", it.Error())
}

// Sync implements Store. It fsyncs every journal file still on disk and the
// directory, through file descriptors of its own: every Apply has already
// written its batch to the current journal with write(2), and a memdb
// rotation closes the previous journal without fsync, so until that memdb
// has been flushed into (fsynced) tables its batches are only in that file.
// A journal that is gone by then has been flushed and needs nothing.
//
// It deliberately does not write a batch with WriteOptions.Sync: goleveldb
// holds its write lock through that fsync, so every writer would wait for
// the disk once a second (fsync everysec), which showed up as the p99 of
// SET.
func (s *LevelDB) Sync() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if s.wo.Sync {
		return nil // every Apply was fsynced into its journal already
	}
	return s.wrap("sync", ldbSyncJournals(s.dir))
}

func ldbSyncJournals(dir string) error {
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return err
	}
	for _, name := range logs {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // flushed and removed meanwhile
		} else if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close implements Store. It waits for calls in flight, then closes the
// database; buffered writes are already in the journal, so Close does not
// need to flush anything to keep them.
func (s *LevelDB) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		if s.state.Or(ldbClosedBit) != 0 {
			<-s.drained
		}
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store: leveldb %s: close: %w", s.dir, err)
		}
	})
	if first {
		return s.closeErr
	}
	return nil
}
