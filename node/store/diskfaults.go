package store

import (
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/syndtr/goleveldb/leveldb/storage"
)

// DiskFaults wraps goleveldb's file storage and makes every write to a file
// fail with ENOSPC while the disk is "full", as a real full disk does: the
// twin of a full disk below a real goleveldb (in the spirit of pebble's
// errorfs), so tests can see goleveldb's own reaction to it (its journal
// writer keeps the first write error for good) and the store's recovery
// from it. Give one to LevelDBOptions.Faults. Safe for concurrent use.
type DiskFaults struct {
	full   atomic.Bool
	failed atomic.Int64 // writes refused
}

// SetFull makes every later file write and sync fail with ENOSPC (full) or
// work again (!full).
func (d *DiskFaults) SetFull(full bool) { d.full.Store(full) }

// Refused returns how many writes and syncs were refused.
func (d *DiskFaults) Refused() int64 { return d.failed.Load() }

func (d *DiskFaults) check(op, name string) error {
	if !d.full.Load() {
		return nil
	}
	d.failed.Add(1)
	return fmt.Errorf("%s %s: %w", op, name, syscall.ENOSPC)
}

// wrap returns s with the faults applied to the writers it creates.
func (d *DiskFaults) wrap(s storage.Storage) storage.Storage {
	if d == nil {
		return s
	}
	return &faultyStorage{Storage: s, d: d}
}

type faultyStorage struct {
	storage.Storage
	d *DiskFaults
}

func (s *faultyStorage) Create(fd storage.FileDesc) (storage.Writer, error) {
	if err := s.d.check("create", fd.String()); err != nil {
		return nil, err
	}
	w, err := s.Storage.Create(fd)
	if err != nil {
		return nil, err
	}
	return &faultyWriter{Writer: w, d: s.d, name: fd.String()}, nil
}

func (s *faultyStorage) SetMeta(fd storage.FileDesc) error {
	if err := s.d.check("set meta", fd.String()); err != nil {
		return err
	}
	return s.Storage.SetMeta(fd)
}

type faultyWriter struct {
	storage.Writer
	d    *DiskFaults
	name string
}

func (w *faultyWriter) Write(p []byte) (int, error) {
	if err := w.d.check("write", w.name); err != nil {
		return 0, err
	}
	return w.Writer.Write(p)
}

func (w *faultyWriter) Sync() error {
	if err := w.d.check("sync", w.name); err != nil {
		return err
	}
	return w.Writer.Sync()
}
