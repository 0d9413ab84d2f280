package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
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

	// Logger receives the store's warnings (a failed write) and its
	// recovery (nil: discarded).
	Logger *slog.Logger

	// Faults, for tests, injects disk faults below goleveldb (nil: none).
	Faults *DiskFaults

	// StrictJournal makes opening fail (ErrJournalDamaged) when a journal
	// is damaged, instead of dropping what cannot be read of it, as
	// goleveldb does by default (noting it only in its LOG file).
	StrictJournal bool

	// ReadOnly opens the database without writing anything to it (a
	// damaged journal is then read as far as it can be, in memory only).
	ReadOnly bool
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
	if o.StrictJournal {
		lo.Strict = opt.DefaultStrict | opt.StrictJournal
	}
	return lo
}

// LevelDB is a Store kept on disk by goleveldb. Create one with OpenLevelDB.
// Its methods are safe for concurrent use. Iterate reads a consistent
// snapshot taken when it starts (renewed, after the last key it visited,
// when the database is reopened under it): writes made during the
// iteration, including by its callback, are not visible to it.
//
// A write that fails (a full disk, an I/O error) leaves goleveldb refusing
// every later write: its journal writer keeps the first write error until
// the journal is replaced, which only a reopen does. The store therefore
// treats a failed write as a failed state: every Apply fails at once with
// the first error while a background loop checks every ldbRecoverEvery
// whether the disk takes writes again (a probe file written and fsynced)
// and then reopens the database (goleveldb replays the journal, the torn
// tail of the failed write included, and starts a new one). Reads go on
// meanwhile, and pause only for the reopen itself.
type LevelDB struct {
	db   atomic.Pointer[leveldb.DB] // nil only after a reopen that failed
	stor storage.Storage            // db's storage, owned; replaced by reopen
	dir  string
	opts LevelDBOptions
	wo   *opt.WriteOptions
	log  *slog.Logger

	// state counts the calls in flight in its low bits, has ldbClosedBit
	// set once Close has begun and ldbPausedBit while a reopen waits for
	// the calls in flight to finish and swaps the database. A call
	// registers itself (enter) and refuses to run when either bit is set
	// (waiting out a pause); Close and reopen set their bit and wait on
	// drained for the count to reach zero: goleveldb must not be closed
	// under a live iterator.
	state   atomic.Int64
	drained chan struct{}
	pauseMu sync.Mutex
	resumed chan struct{} // closed when the current pause ends

	reopenMu  sync.Mutex    // serialises reopen and Close
	stop      chan struct{} // closed by Close: ends the recovery loop
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error // the first Close's result

	isFailed   atomic.Bool // failed != nil: Apply's lock-free check
	failMu     sync.Mutex
	failed     error     // the write error goleveldb is stuck on; nil when writes work
	failedAt   time.Time // when it happened
	recoveries atomic.Int64
}

var _ Store = (*LevelDB)(nil)

const (
	ldbClosedBit = 1 << 62
	ldbPausedBit = 1 << 61
	ldbCountMask = ldbPausedBit - 1
)

// ldbRecoverEvery is how often a LevelDB whose writes failed checks whether
// the disk takes writes again; ldbProbeSize, how much it writes to check.
// ldbDrainWait bounds a reopen's wait for the calls in flight.
var (
	ldbRecoverEvery = 500 * time.Millisecond
	ldbProbeSize    = 1 << 20
	ldbDrainWait    = 5 * time.Second
)

// ldbBatches recycles write batches across Apply calls.
var ldbBatches = sync.Pool{New: func() any { return new(leveldb.Batch) }}

// OpenLevelDB opens, creating it if needed, the LevelDB store in directory
// dir. Only one process may have dir open at a time. A corrupted database is
// not repaired: the error says so, names dir and wraps goleveldb's error
// (and ErrCorrupt).
func OpenLevelDB(dir string, opts LevelDBOptions) (*LevelDB, error) {
	s := &LevelDB{
		dir:     dir,
		opts:    opts,
		wo:      &opt.WriteOptions{Sync: opts.SyncWrites},
		log:     opts.Logger,
		drained: make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	db, stor, err := s.open(opts.ReadOnly, opts.StrictJournal)
	if err != nil {
		return nil, err
	}
	s.db.Store(db)
	s.stor = stor
	return s, nil
}

// open opens the database in s.dir through the storage the options ask for.
// A reopen after a failed write is never strict about the journal: the
// failed write may have left a torn record at its end.
func (s *LevelDB) open(readOnly, strictJournal bool) (*leveldb.DB, storage.Storage, error) {
	fs, err := storage.OpenFile(s.dir, readOnly)
	if err != nil {
		return nil, nil, fmt.Errorf("store: open leveldb %s: %w", s.dir, err)
	}
	stor := s.opts.Faults.wrap(fs)
	so := s.opts
	so.StrictJournal = strictJournal
	o := so.goleveldb()
	o.ReadOnly = readOnly
	db, err := leveldb.Open(stor, o)
	if err != nil {
		fs.Close()
		var ce *lerrors.ErrCorrupted
		if errors.As(err, &ce) && ce.Fd.Type == storage.TypeJournal {
			return nil, nil, fmt.Errorf("store: open leveldb %s: %w: journal %s: %w", s.dir, ErrJournalDamaged, ce.Fd, corrupt(err))
		}
		if lerrors.IsCorrupted(err) {
			return nil, nil, fmt.Errorf("store: open leveldb %s: database is corrupted (not repaired automatically): %w", s.dir, corrupt(err))
		}
		return nil, nil, fmt.Errorf("store: open leveldb %s: %w", s.dir, err)
	}
	return db, fs, nil
}

// RebuildLevelDB rewrites the database in dir with only what can be read
// of it: every key IterateReadable visits is copied into a new database,
// which then takes dir's place; the damaged one is kept beside it as
// dir.damaged-<unix time> for the operator. The keys of unreadable blocks
// are lost (an older version of such a key, in another table, may show
// through). For an operator who accepts the loss (repair_storage yes).
//
// goleveldb's own leveldb.Recover was tried first: the table it rebuilt
// from a damaged one made later reads panic ("internal key ... invalid
// length") here.
func RebuildLevelDB(dir string, opts LevelDBOptions) (kept int, damaged string, err error) {
	src, err := OpenLevelDB(dir, opts)
	if err != nil {
		return 0, "", err
	}
	defer src.Close()
	tmp := dir + ".rebuild"
	if err := os.RemoveAll(tmp); err != nil {
		return 0, "", err
	}
	dst, err := OpenLevelDB(tmp, opts)
	if err != nil {
		return 0, "", err
	}
	var batch []Op
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.Apply(batch...)
		batch, size = batch[:0], 0
		return err
	}
	var werr error
	err = src.IterateReadable(nil, nil, func(k, v []byte) bool {
		batch = append(batch, Op{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		kept++
		if size += len(k) + len(v); size >= 4<<20 {
			werr = flush()
		}
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	src.Close()
	if err != nil {
		return 0, "", fmt.Errorf("store: rebuilding leveldb %s from what is readable: %w", dir, err)
	}
	damaged = fmt.Sprintf("%s.damaged-%d", dir, time.Now().Unix())
	if err := os.Rename(dir, damaged); err != nil {
		return 0, "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return 0, "", err
	}
	return kept, damaged, nil
}

// ErrJournalDamaged is the error of OpenLevelDB with StrictJournal when a
// journal cannot be read to its end: the writes after the damage are lost
// once the database is opened without StrictJournal.
var ErrJournalDamaged = errors.New("journal damaged")

// Dir returns the directory the store was opened in.
func (s *LevelDB) Dir() string { return s.dir }

// enter registers a call in flight and returns the database to use, or
// ErrClosed. During a reopen it waits for the new database.
func (s *LevelDB) enter() (*leveldb.DB, error) {
	for {
		st := s.state.Add(1)
		if st&ldbClosedBit != 0 {
			s.exit()
			return nil, ErrClosed
		}
		if st&ldbPausedBit == 0 {
			if db := s.db.Load(); db != nil {
				return db, nil
			}
			s.exit()
			return nil, s.unavailable()
		}
		s.exit()
		s.pauseMu.Lock()
		resumed := s.resumed
		s.pauseMu.Unlock()
		if resumed != nil {
			<-resumed
		}
	}
}

// exit unregisters a call and wakes Close or reopen when it was the last
// one.
func (s *LevelDB) exit() {
	if st := s.state.Add(-1); st&ldbCountMask == 0 && st&(ldbClosedBit|ldbPausedBit) != 0 {
		select {
		case s.drained <- struct{}{}:
		default:
		}
	}
}

// clearDrained drops a wake-up left from an earlier drain. The caller holds
// reopenMu, and neither bit is set.
func (s *LevelDB) clearDrained() {
	select {
	case <-s.drained:
	default:
	}
}

// unavailable is the error of every call while a reopen left no database.
func (s *LevelDB) unavailable() error {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	return fmt.Errorf("store: leveldb %s: not open (reopening after a failed write failed; retrying): %w", s.dir, s.failed)
}

// wrap turns a goleveldb error into the store's.
func (s *LevelDB) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, leveldb.ErrClosed):
		return ErrClosed
	case lerrors.IsCorrupted(err):
		err = corrupt(err)
	}
	return fmt.Errorf("store: leveldb %s: %s: %w", s.dir, op, err)
}

// corrupt marks a goleveldb corruption error as ErrCorrupt, keeping it.
func corrupt(err error) error { return fmt.Errorf("%w: %w", ErrCorrupt, err) }

// panicked turns a panic of goleveldb reading damaged data (it panics on
// some malformed keys, see RebuildLevelDB) into an ErrCorrupt error in
// *err. Deferred by the read paths.
func (s *LevelDB) panicked(op string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("store: leveldb %s: %s: %w: goleveldb panicked: %v", s.dir, op, ErrCorrupt, r)
	}
}

// Get implements Store.
func (s *LevelDB) Get(key []byte) (_ []byte, err error) {
	db, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer s.exit()
	defer s.panicked("get", &err)
	v, err := db.Get(key, nil) // goleveldb returns its own copy
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	return v, s.wrap("get", err)
}

// Apply implements Store. The batch is written to the journal with write(2)
// before Apply returns, so it survives a crash of the process; with
// SyncWrites it is also fsynced. After a failed write it fails at once
// until the store has recovered (see LevelDB).
func (s *LevelDB) Apply(ops ...Op) error {
	db, err := s.enter()
	if err != nil {
		return err
	}
	defer s.exit()
	if len(ops) == 0 {
		return nil
	}
	if err := s.failure(); err != nil {
		return err
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
	err = db.Write(b, s.wo)
	if len(b.Dump()) <= 1<<20 { // don't pin huge buffers in the pool
		ldbBatches.Put(b)
	}
	if err != nil && !errors.Is(err, leveldb.ErrClosed) {
		s.writeFailed(err)
	}
	return s.wrap("apply", err)
}

// failure returns the error Apply fails with while writes are failing.
func (s *LevelDB) failure() error {
	if !s.isFailed.Load() {
		return nil
	}
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if s.failed == nil {
		return nil
	}
	return fmt.Errorf("store: leveldb %s: apply: writes are failing since %s (retrying in the background): %w",
		s.dir, s.failedAt.UTC().Format(time.RFC3339), s.failed)
}

// writeFailed records a failed write and starts the recovery loop.
func (s *LevelDB) writeFailed(err error) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if s.failed != nil {
		return
	}
	s.failed, s.failedAt = err, time.Now()
	s.isFailed.Store(true)
	s.log.Debug("store: a write failed; writes are refused until the disk takes them again (checked in the background)",
		"dir", s.dir, "err", err)
	s.wg.Add(1)
	go s.recoverLoop()
}

// recoverLoop waits until the disk takes writes again, then reopens the
// database, until it succeeds or the store is closed.
func (s *LevelDB) recoverLoop() {
	defer s.wg.Done()
	t := time.NewTicker(ldbRecoverEvery)
	defer t.Stop()
	for attempt := 1; ; attempt++ {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if err := s.probe(); err != nil {
			continue
		}
		err := s.reopen()
		if errors.Is(err, ErrClosed) {
			return
		}
		if err != nil {
			s.log.Warn("store: reopening after a failed write failed; retrying", "dir", s.dir, "attempt", attempt, "err", err)
			continue
		}
		s.failMu.Lock()
		since := s.failedAt
		s.failed = nil
		s.isFailed.Store(false)
		s.failMu.Unlock()
		s.recoveries.Add(1)
		s.log.Info("store: writes work again (database reopened)", "dir", s.dir, "failed_for", time.Since(since).Round(time.Millisecond))
		return
	}
}

// probe checks that the disk under the store takes writes: it writes and
// fsyncs ldbProbeSize bytes to a file of its own, and removes it.
func (s *LevelDB) probe() error {
	if d := s.opts.Faults; d != nil {
		if err := d.check("write", "probe"); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(s.dir, "dynakv-probe-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, ldbProbeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// reopen closes the database and opens it again, once the calls in flight
// have finished (new calls wait meanwhile; a running Iterate continues on
// the new database from where it was). When the database cannot be opened
// for writing it is opened read-only, so reads go on.
func (s *LevelDB) reopen() error {
	s.reopenMu.Lock()
	defer s.reopenMu.Unlock()
	s.pauseMu.Lock()
	s.resumed = make(chan struct{})
	s.pauseMu.Unlock()
	s.clearDrained()
	st := s.state.Or(ldbPausedBit)
	defer func() {
		s.state.And(^int64(ldbPausedBit))
		s.pauseMu.Lock()
		close(s.resumed)
		s.resumed = nil
		s.pauseMu.Unlock()
	}()
	if st&ldbClosedBit != 0 {
		return ErrClosed
	}
	timeout := time.After(ldbDrainWait)
	for s.state.Load()&ldbCountMask != 0 {
		select {
		case <-s.drained:
		case <-timeout:
			return fmt.Errorf("store: leveldb %s: reopen: calls in flight did not finish within %v", s.dir, ldbDrainWait)
		}
	}
	if old := s.db.Swap(nil); old != nil {
		old.Close() // the error is the one we are recovering from
		s.stor.Close()
	}
	db, stor, err := s.open(false, false)
	if err != nil {
		if rdb, rstor, rerr := s.open(true, false); rerr == nil {
			db, stor = rdb, rstor
		}
	}
	if db != nil {
		s.db.Store(db)
		s.stor = stor
	}
	return err
}

// Recoveries returns how often the store recovered from failed writes.
func (s *LevelDB) Recoveries() int64 { return s.recoveries.Load() }

// Iterate implements Store. It reads a snapshot taken when it starts and
// does not fill the block cache, so scans (anti-entropy, handoff) do not
// evict the blocks that point reads use.
func (s *LevelDB) Iterate(start, end []byte, fn func(k, v []byte) bool) error {
	return s.iterate(start, end, &opt.ReadOptions{DontFillCache: true}, fn)
}

// IterateReadable is Iterate, except that it skips the blocks of tables it
// cannot read (a checksum mismatch) instead of failing with ErrCorrupt;
// the keys it visits are checked and intact. (A damaged table's index
// still fails it.) An older version of a key whose newest version is in a
// skipped block may show through.
func (s *LevelDB) IterateReadable(start, end []byte, fn func(k, v []byte) bool) error {
	// StrictOverride without StrictReader: skip corrupted blocks; the
	// checksums are still verified (StrictBlockChecksum is the database's).
	return s.iterate(start, end, &opt.ReadOptions{DontFillCache: true, Strict: opt.StrictOverride}, fn)
}

func (s *LevelDB) iterate(start, end []byte, ro *opt.ReadOptions, fn func(k, v []byte) bool) error {
	for {
		resume, err := s.iterateOnce(start, end, ro, fn)
		if resume == nil {
			return err
		}
		start = resume
	}
}

// iterateOnce iterates on the current database; when a reopen waits for it
// it stops and returns the key to resume from.
func (s *LevelDB) iterateOnce(start, end []byte, ro *opt.ReadOptions, fn func(k, v []byte) bool) (resume []byte, err error) {
	db, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer s.exit()
	defer s.panicked("iterate", &err)
	it := db.NewIterator(&util.Range{Start: start, Limit: end}, ro)
	defer it.Release()
	for it.Next() {
		if st := s.state.Load(); st&ldbClosedBit != 0 {
			return nil, ErrClosed
		} else if st&ldbPausedBit != 0 {
			// A reopen waits for us: continue on the new database
			// from this key on.
			return bytes.Clone(it.Key()), nil
		}
		if !fn(it.Key(), it.Value()) {
			return nil, nil
		}
	}
	return nil, s.wrap("iterate", it.Error())
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
	if _, err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if d := s.opts.Faults; d != nil {
		if err := d.check("sync", "journals"); err != nil {
			return s.wrap("sync", err)
		}
	}
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

// Close implements Store. It waits for calls in flight (and a reopen under
// way), stops the recovery loop, then closes the database; buffered writes
// are already in the journal, so Close does not need to flush anything to
// keep them.
func (s *LevelDB) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		close(s.stop)
		s.reopenMu.Lock()
		defer s.reopenMu.Unlock()
		s.clearDrained()
		s.state.Or(ldbClosedBit)
		for s.state.Load()&ldbCountMask != 0 {
			<-s.drained
		}
		s.wg.Wait()
		if db := s.db.Load(); db != nil {
			err := db.Close()
			if serr := s.stor.Close(); err == nil {
				err = serr
			}
			if err != nil {
				s.closeErr = fmt.Errorf("store: leveldb %s: close: %w", s.dir, err)
			}
		}
	})
	if first {
		return s.closeErr
	}
	return nil
}
