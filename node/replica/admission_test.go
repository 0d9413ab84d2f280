package replica

import (
	"context"
	"testing"
	"time"
)

// TestAdmissionRests: background work does not wait for an idle
// foreground, rests nine times as long as it worked while the foreground
// is busy but fast (a 10% duty cycle), 49 times once the foreground's p99
// passes the target (2%), and never more than maxRest; each decision uses
// the last full window.
func TestAdmissionRests(t *testing.T) {
	now := time.Unix(1000, 0)
	a := NewAdmission(2*time.Millisecond, time.Now)
	a.now = func() time.Time { return now }
	a.win.Store(&admissionWindowState{start: now})
	var slept []time.Duration
	a.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	next := func() { now = now.Add(admissionWindow) }
	ctx := context.Background()
	work := 10 * time.Millisecond

	if d := a.rest(work); d != 0 {
		t.Fatalf("no foreground at all: rest %v, want 0", d)
	}
	for range admissionMinOps - 1 {
		a.Observe(30 * time.Microsecond)
	}
	next()
	if d := a.rest(work); d != 0 {
		t.Fatalf("a nearly idle foreground: rest %v, want 0", d)
	}
	for range 1000 {
		a.Observe(30 * time.Microsecond)
	}
	if d := a.rest(work); d != 0 {
		t.Fatalf("the window with the load is not over yet: rest %v, want the last window's 0", d)
	}
	next()
	if d := a.rest(work); d != 9*work {
		t.Fatalf("busy, fast foreground: rest %v, want %v", d, 9*work)
	}
	for range 1000 {
		a.Observe(30 * time.Microsecond)
	}
	for range 20 { // 2% of the operations are slow: the p99 is
		a.Observe(5 * time.Millisecond)
	}
	next()
	if d := a.rest(work); d != 49*work {
		t.Fatalf("slow foreground: rest %v, want %v", d, 49*work)
	}
	if p := time.Duration(a.lastP99.Load()); p < 4*time.Millisecond || p > 8192*time.Microsecond {
		t.Fatalf("p99 %v, want the upper bound of the 4.1-8.2 ms bucket", p)
	}
	if d := a.rest(time.Second); d != maxRest {
		t.Fatalf("long slice: rest %v, want maxRest", d)
	}
	if err := a.Pace(ctx, work); err != nil || len(slept) != 1 || slept[0] != 49*work {
		t.Fatalf("pace slept %v, %v", slept, err)
	}
	var nilAdm *Admission
	nilAdm.Observe(time.Second)
	if err := nilAdm.Pace(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
}
