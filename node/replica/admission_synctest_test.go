package replica

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestAdmissionPaceSleeps runs Pace with its real timer on synctest's fake
// clock: after a window of busy, fast foreground a slice of background work
// rests exactly nine times its length, a cancelled context ends the rest at
// once, and an idle foreground lets the next slice run without a rest.
func TestAdmissionPaceSleeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := NewAdmission(2*time.Millisecond, time.Now)
		for range 1000 {
			a.Observe(30 * time.Microsecond)
		}
		time.Sleep(admissionWindow)

		start := time.Now()
		if err := a.Pace(context.Background(), 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 90*time.Millisecond {
			t.Fatalf("rested %v, want 90ms", got)
		}
		if _, rested, _ := a.Stats(); rested != 90*time.Millisecond {
			t.Fatalf("Stats rested %v, want 90ms", rested)
		}

		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(5 * time.Millisecond)
			cancel()
		}()
		start = time.Now()
		if err := a.Pace(ctx, 10*time.Millisecond); err != context.Canceled {
			t.Fatalf("Pace with a cancelled context: %v", err)
		}
		if got := time.Since(start); got != 5*time.Millisecond {
			t.Fatalf("a cancelled rest took %v, want 5ms", got)
		}

		// a window with no foreground at all: no rest
		time.Sleep(admissionWindow)
		start = time.Now()
		if err := a.Pace(context.Background(), 10*time.Millisecond); err != nil || time.Since(start) != 0 {
			t.Fatalf("idle foreground: Pace = %v after %v, want at once", err, time.Since(start))
		}
	})
}
