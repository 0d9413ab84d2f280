package store

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Health wraps the node's store and keeps the outcome of its writes and
// fsyncs, for INFO persistence (Redis's aof_last_write_status): it logs the
// first failure of a run of failed writes at error level with the error,
// and the first write that works again at info level with how long writes
// failed. While writes fail it writes a small meta entry every
// healthProbeEvery itself, so the recovery shows (and is logged) within
// about a second even when no client writes. Safe for concurrent use;
// Close stops the probe and closes the wrapped store.
type Health struct {
	Store
	log *slog.Logger

	probing   bool          // the probe loop runs (guarded by mu)
	stop      chan struct{} // closed by Close
	probeDone sync.WaitGroup
	closeOnce sync.Once

	failing      atomic.Bool // writeErr != nil: the fast path of a write that worked
	mu           sync.Mutex
	writeErr     error     // the last write's error; nil when it worked
	failingSince time.Time // the first failure of the current run
	writeErrors  int64     // failed writes in all
	lastWriteErr error     // the last failure ever, kept after recovery
	syncErr      error     // the last fsync's error
	recovered    int64     // runs of failures that ended
}

// HealthStatus is what Health shows.
type HealthStatus struct {
	// WriteOK is false while the last write failed.
	WriteOK bool
	// FailingSince is when the current run of failed writes began (zero
	// when writes work).
	FailingSince time.Time
	// WriteErrors counts failed writes; LastWriteError is the last one's
	// error ("" if none ever failed).
	WriteErrors    int64
	LastWriteError string
	// SyncOK is false while the last fsync failed.
	SyncOK bool
	// Recoveries counts the runs of failed writes that ended with a write
	// that worked.
	Recoveries int64
}

var _ Store = (*Health)(nil)

// healthProbeEvery is how often a Health whose writes fail tries one.
var healthProbeEvery = 500 * time.Millisecond

// metaWriteProbe is the meta entry the probe writes: the time of the probe.
const metaWriteProbe = "write-probe"

// NewHealth wraps s; log receives the failures and recoveries.
func NewHealth(s Store, log *slog.Logger) *Health {
	if log == nil {
		log = slog.Default()
	}
	return &Health{Store: s, log: log, stop: make(chan struct{})}
}

// Close implements Store: it stops the probe, then closes the wrapped
// store.
func (h *Health) Close() error {
	h.closeOnce.Do(func() { close(h.stop) })
	h.probeDone.Wait()
	return h.Store.Close()
}

// probeLoop writes the probe entry every healthProbeEvery while writes
// fail, until one works or Close.
func (h *Health) probeLoop() {
	defer h.probeDone.Done()
	t := time.NewTicker(healthProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		failing := h.writeErr != nil
		if !failing {
			h.probing = false
		}
		h.mu.Unlock()
		if !failing {
			return
		}
		h.Apply(Op{Key: MetaKey(metaWriteProbe), Value: time.Now().AppendFormat(nil, time.RFC3339Nano)})
	}
}

// Apply implements Store, noting the outcome.
func (h *Health) Apply(ops ...Op) error {
	err := h.Store.Apply(ops...)
	if len(ops) > 0 {
		h.noteWrite(err)
	}
	return err
}

// Sync implements Store, noting the outcome.
func (h *Health) Sync() error {
	err := h.Store.Sync()
	if errors.Is(err, ErrClosed) {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil && h.syncErr == nil {
		h.log.Error("store: fsync failed", "err", err)
	} else if err == nil && h.syncErr != nil {
		h.log.Info("store: fsync works again")
	}
	h.syncErr = err
	return err
}

func (h *Health) noteWrite(err error) {
	if (err == nil && !h.failing.Load()) || errors.Is(err, ErrClosed) {
		return // writes work: no lock on the write path
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		h.writeErrors++
		h.lastWriteErr = err
		if h.writeErr == nil {
			h.failingSince = time.Now()
			h.log.Error("store: writes are failing; the node refuses writes until the disk takes them again, and keeps serving reads", "err", err)
		}
		if !h.probing {
			select {
			case <-h.stop:
			default:
				h.probing = true
				h.probeDone.Add(1)
				go h.probeLoop()
			}
		}
		h.writeErr = err
		h.failing.Store(true)
	case h.writeErr != nil:
		h.log.Info("store: writes work again", "failed_for", time.Since(h.failingSince).Round(time.Millisecond),
			"failed_writes", h.writeErrors)
		h.writeErr, h.failingSince = nil, time.Time{}
		h.failing.Store(false)
		h.recovered++
	}
}

// IterateReadable passes store.IterateReadable through.
func (h *Health) IterateReadable(start, end []byte, fn func(k, v []byte) bool) error {
	return IterateReadable(h.Store, start, end, fn)
}

// Unwrap returns the wrapped store.
func (h *Health) Unwrap() Store { return h.Store }

// Status returns the store's write and fsync status.
func (h *Health) Status() HealthStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := HealthStatus{
		WriteOK:      h.writeErr == nil,
		FailingSince: h.failingSince,
		WriteErrors:  h.writeErrors,
		SyncOK:       h.syncErr == nil,
		Recoveries:   h.recovered,
	}
	if h.lastWriteErr != nil {
		st.LastWriteError = h.lastWriteErr.Error()
	}
	return st
}
