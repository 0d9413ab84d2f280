package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"
)

// A LevelDB whose write failed (a full disk, an I/O error) stays failed in
// goleveldb; this file brings it back without a restart (probe the disk,
// reopen), and rebuilds a damaged database from what is readable of it.

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
