package node

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynakv/dynakv/node/store"
)

// countingHandler counts the records logged at Warn or above.
type countingHandler struct {
	slog.Handler
	warns *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warns.Add(1)
	}
	return nil
}

// TestSyncLoopEverySecond: fsync=everysec syncs the store once a second (on
// synctest's clock), a failing sync is logged and the loop goes on, and Close
// of the loop's done channel stops it.
func TestSyncLoopEverySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := store.NewFaulty(store.NewMem())
		var warns atomic.Int64
		n := &Node{store: f, log: slog.New(countingHandler{slog.DiscardHandler, &warns}), done: make(chan struct{})}
		n.goTracked(n.syncLoop)
		defer n.wg.Wait()
		defer close(n.done)

		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		if got := f.Calls(store.OpSync); got != 3 {
			t.Fatalf("%d syncs in 3s, want 3", got)
		}
		f.Fail(store.OpSync, nil)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := warns.Load(); got != 2 {
			t.Fatalf("%d warnings for 2 failed syncs", got)
		}
		f.Heal()
		time.Sleep(time.Second)
		synctest.Wait()
		if got := f.Calls(store.OpSync); got != 6 {
			t.Fatalf("%d syncs after 6s, want 6 (the loop must go on after a failure)", got)
		}
	})
}
