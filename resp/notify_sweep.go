package resp

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// The background "expired" events. dynakv has no expiry sweep of its own
// (an expired value reads as absent until a write replaces it), so with the
// x notification class on, a node remembers the expiry of each key it wrote
// through updateAny with one (SET EX, EXPIRE, SETEX, GETEX EX, ...), and a
// sweeper deletes the key when that time has passed, if the coordinator
// still finds it expired then, and notifies "expired" (reapExpired), as
// Redis's active expiry does. Only the node that wrote the expiry tracks
// it, so a key's expiry is notified by one node, not by each replica; a key
// whose expiry was written before a restart, or through a node that is
// gone, or by COPY, RENAME or RESTORE, is notified when it is next read or
// written. At most maxSweepKeys expiries are remembered (the ones past that
// are left to access). A write that changed the key since (a new value,
// PERSIST, a later expiry through another node) makes the sweeper's check
// find nothing to delete.

const (
	// maxSweepKeys bounds the expiries a node remembers.
	maxSweepKeys = 1 << 20
	// sweepBatch bounds the keys one sweep deletes.
	sweepBatch = 1000
	// defaultSweepInterval is Redis's 10 active expiry cycles a second.
	defaultSweepInterval = 100 * time.Millisecond
)

// sweepEntry is a key to look at once its expiry (Unix ms) has passed.
type sweepEntry struct {
	at  int64
	key string
}

// sweepHeap is a min-heap of entries by time.
type sweepHeap []sweepEntry

func (h sweepHeap) Len() int           { return len(h) }
func (h sweepHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h sweepHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sweepHeap) Push(x any)        { *h = append(*h, x.(sweepEntry)) }
func (h *sweepHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// expirySweep is a server's remembered expiries and its sweeper.
type expirySweep struct {
	mu      sync.Mutex
	h       sweepHeap
	started bool
	stop    chan struct{} // closed by Server.Close
}

// trackExpiry remembers that key expires at expireAt (Unix ms), starting
// the sweeper on first use. Called by updateNotified with class x on.
func (s *Server) trackExpiry(key []byte, expireAt int64) {
	if s.cfg.ExpireSweep < 0 {
		return
	}
	sw := &s.sweep
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if len(sw.h) >= maxSweepKeys {
		return
	}
	heap.Push(&sw.h, sweepEntry{at: expireAt, key: string(key)})
	if sw.started {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	sw.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.sweepLoop()
	}()
}

// sweepLoop deletes and notifies the remembered keys as they expire, until
// the server closes.
func (s *Server) sweepLoop() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	every := s.cfg.ExpireSweep
	if every == 0 {
		every = defaultSweepInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	c := &Conn{client: &client{srv: s, ctx: ctx}}
	for {
		select {
		case <-s.sweep.stop:
			return
		case <-t.C:
		}
		now := s.cfg.Backend.Now().UnixMilli()
		for _, key := range s.sweep.due(now) {
			if !c.notifying(notifyExpired) {
				break // turned off: what is left waits for an access
			}
			c.cmdTime = now
			c.reapExpired([]byte(key))
		}
	}
}

// due removes and returns up to sweepBatch keys whose time has passed.
func (sw *expirySweep) due(now int64) []string {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	var out []string
	for len(sw.h) > 0 && sw.h[0].at <= now && len(out) < sweepBatch {
		out = append(out, heap.Pop(&sw.h).(sweepEntry).key)
	}
	return out
}
