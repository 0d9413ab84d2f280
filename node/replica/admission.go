package replica

// Admission control of background work, after the Dynamo paper (section
// 6.5): background tasks (anti-entropy repair, tree rebuilds, hint
// delivery) run in slices and, after each slice, rest in proportion to the
// work they just did: not at all while the foreground is idle, so an idle
// node repairs at full speed; at a 10% duty cycle while it is busy, 2%
// once its p99 passes the target. (Measured with
// BenchmarkForegroundUnderAntiEntropy: unpaced repair cost a saturated
// foreground 24% of its throughput and doubled its p99; paced, under 1%.) The
// foreground is this node's own storage operations for clients and peers
// (LocalReplica reads and writes, including the wait for the key's lock),
// the resource background work competes for.

import (
	"context"
	"math/bits"
	"sync/atomic"
	"time"
)

const (
	// latencyBuckets are powers of two of microseconds: bucket i counts
	// operations that took [2^(i-1), 2^i) µs; the last one, everything
	// longer.
	latencyBuckets = 24
	// admissionWindow is how much foreground history decides a rest.
	admissionWindow = time.Second
	// admissionMinOps: fewer foreground operations than this in a window
	// is an idle foreground, which background work does not wait for.
	admissionMinOps = 50
	// Duty cycles: the share of the time background work may run while the
	// foreground is busy but fast, and while its p99 is over the target.
	// At 0.5 and 0.1, repair still cost a saturated foreground about a
	// quarter of its throughput, as unpaced repair did.
	dutyBusy = 0.1
	dutySlow = 0.02
	// maxRest bounds one rest, so a background task always progresses.
	maxRest = time.Second
)

// DefaultLatencyTarget is the foreground p99 above which background work
// slows to dutySlow. A node's storage operations take tens of
// microseconds; milliseconds mean queueing for the disk, a lock or a CPU.
const DefaultLatencyTarget = 2 * time.Millisecond

// Admission watches foreground latency and paces background work. Observe
// is lock-free; every method is safe for concurrent use, and a nil
// *Admission observes nothing and never rests.
type Admission struct {
	target  time.Duration
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	buckets [latencyBuckets]atomic.Int64 // cumulative counts

	// The window: counts at its start, and when it started. Advanced by
	// pace; snapshot and windowStart are guarded by the atomic swap of win.
	win atomic.Pointer[admissionWindowState]

	rested  atomic.Int64 // nanoseconds background work rested
	slowed  atomic.Int64 // rests taken at the slow duty cycle
	lastP99 atomic.Int64 // nanoseconds, the p99 of the last full window
}

type admissionWindowState struct {
	start  time.Time
	counts [latencyBuckets]int64
	p99    time.Duration // of the window before this one
	ops    int64
}

// NewAdmission returns an admission that slows background work further once
// the foreground's p99 passes target; now is the node's clock, which
// delimits the measurement windows.
func NewAdmission(target time.Duration, now func() time.Time) *Admission {
	a := &Admission{target: target, now: now, sleep: sleepCtx}
	a.win.Store(&admissionWindowState{start: a.now()})
	return a
}

// Observe records one foreground operation that took d. A nil admission
// records nothing.
func (a *Admission) Observe(d time.Duration) {
	if a == nil {
		return
	}
	us := d.Microseconds()
	i := 0
	if us > 0 {
		i = min(bits.Len64(uint64(us)), latencyBuckets-1)
	}
	a.buckets[i].Add(1)
}

// since observes the time since start.
func (a *Admission) since(start time.Time) {
	if a != nil {
		a.Observe(time.Since(start))
	}
}

// state returns the foreground's p99 and operation count over the last
// complete window, starting a new window when the current one is over.
func (a *Admission) state() (time.Duration, int64) {
	w := a.win.Load()
	now := a.now()
	if now.Sub(w.start) < admissionWindow {
		return w.p99, w.ops
	}
	next := &admissionWindowState{start: now}
	var total int64
	var delta [latencyBuckets]int64
	for i := range a.buckets {
		next.counts[i] = a.buckets[i].Load()
		delta[i] = next.counts[i] - w.counts[i]
		total += delta[i]
	}
	next.ops = total
	if total > 0 {
		// the upper bound of the bucket holding the 99th percentile
		rank, seen := total-total/100, int64(0)
		for i, n := range delta {
			seen += n
			if seen >= rank {
				next.p99 = time.Duration(uint64(1)<<i) * time.Microsecond
				break
			}
		}
	}
	if a.win.CompareAndSwap(w, next) {
		a.lastP99.Store(int64(next.p99))
		return next.p99, next.ops
	}
	w = a.win.Load()
	return w.p99, w.ops
}

// rest returns how long background work should rest after a slice of
// work that took worked.
func (a *Admission) rest(worked time.Duration) time.Duration {
	p99, ops := a.state()
	if ops < admissionMinOps {
		return 0
	}
	duty := dutyBusy
	if p99 > a.target {
		duty = dutySlow
		a.slowed.Add(1)
	}
	return min(time.Duration(float64(worked)*(1/duty-1)), maxRest)
}

// Pace rests after a slice of background work that took worked, as the
// foreground allows; it returns early with ctx's error.
func (a *Admission) Pace(ctx context.Context, worked time.Duration) error {
	if a == nil {
		return ctx.Err()
	}
	d := a.rest(worked)
	if d <= 0 {
		return ctx.Err()
	}
	a.rested.Add(int64(d))
	return a.sleep(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the p99 of the last full window of foreground operations,
// how long background work rested in all, and how many rests were taken at
// the slow duty cycle. A nil admission returns zeros.
func (a *Admission) Stats() (p99, rested time.Duration, slowed int64) {
	if a == nil {
		return 0, 0, 0
	}
	return time.Duration(a.lastP99.Load()), time.Duration(a.rested.Load()), a.slowed.Load()
}
