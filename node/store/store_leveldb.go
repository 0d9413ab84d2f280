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
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

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

// Iterate implements Store. It reads a snapshot taken when it starts and
// does not fill the block cache, so scans (anti-entropy, handoff) do not
// evict the blocks that point reads use.
func (s *LevelDB) Iterate(start, end []byte, fn func(k, v []byte) bool) error {
	return s.iterate(start, end, false, &opt.ReadOptions{DontFillCache: true}, fn)
}

// IterateReverse implements Store, as Iterate does, greatest key first.
func (s *LevelDB) IterateReverse(start, end []byte, fn func(k, v []byte) bool) error {
	return s.iterate(start, end, true, &opt.ReadOptions{DontFillCache: true}, fn)
}

// IterateReadable is Iterate, except that it skips the blocks of tables it
// cannot read (a checksum mismatch) instead of failing with ErrCorrupt;
// the keys it visits are checked and intact. (A damaged table's index
// still fails it.) An older version of a key whose newest version is in a
// skipped block may show through.
func (s *LevelDB) IterateReadable(start, end []byte, fn func(k, v []byte) bool) error {
	// StrictOverride without StrictReader: skip corrupted blocks; the
	// checksums are still verified (StrictBlockChecksum is the database's).
	return s.iterate(start, end, false, &opt.ReadOptions{DontFillCache: true, Strict: opt.StrictOverride}, fn)
}

func (s *LevelDB) iterate(start, end []byte, reverse bool, ro *opt.ReadOptions, fn func(k, v []byte) bool) error {
	for {
		resume, err := s.iterateOnce(start, end, reverse, ro, fn)
		if resume == nil {
			return err
		}
		// A reverse walk resumes below the key it stopped at: that key,
		// not yet visited, is the new exclusive end.
		if reverse {
			end = resume
		} else {
			start = resume
		}
	}
}

// iterateOnce iterates on the current database; when a reopen waits for it
// it stops and returns the key to resume from (not yet visited).
func (s *LevelDB) iterateOnce(start, end []byte, reverse bool, ro *opt.ReadOptions, fn func(k, v []byte) bool) (resume []byte, err error) {
	db, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer s.exit()
	defer s.panicked("iterate", &err)
	it := db.NewIterator(&util.Range{Start: start, Limit: end}, ro)
	defer it.Release()
	step, first := it.Next, it.Next
	if reverse {
		step, first = it.Prev, it.Last
	}
	for ok := first(); ok; ok = step() {
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
