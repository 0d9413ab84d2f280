package replication

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Get reads key from R of the first N live replicas of its preference list
// (this node first; all N for a share ReadRepairChance of reads), waits for
// R answers, and returns the merge of their states (nil when none
// has the key). A replica that fails is replaced by the next live node of
// the list. Replicas seen to be stale are repaired in the background,
// without delaying the reply: home replicas get the merged state, stand-ins
// get it as a hint for the home they stand in for.
func (c *Coordinator) Get(ctx context.Context, key []byte, opt ReadOptions) (*Object, error) {
	if c.closed() {
		return nil, ErrClosed
	}
	prefs, n := c.prefs(key)
	r := quorum(opt.R, c.cfg.R, n)
	if n == 1 && prefs[0] == Replica(c.cfg.Local) {
		return c.cfg.Local.Read(ctx, key)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	f := &fanIn{
		c: c,
		// Read repair outlives the call: own the key, which the caller
		// may reuse once Get returned.
		key:     bytes.Clone(key),
		ctx:     ctx,
		plan:    c.makePlan(prefs, n, nil),
		r:       r,
		n:       n,
		answers: make(chan answer, len(prefs)), // a read per node at most
	}
	return f.run()
}

// repairWait bounds a read's repair: waiting for the replicas that had not
// answered by the reply, and sending the merged state to the stale ones.
const repairWait = 5 * time.Second

// fanIn is one read's collection, the read side of fanOut: the reads it
// sent, the answers they brought, the replicas of the N it holds in
// reserve, and the stand-ins it took. Unlike a write's, a read's state
// has one owner at a time, so it needs no lock: the caller's goroutine
// until the reply (it must wait for R answers anyway, and reads the local
// replica in place), then the read repair's. Answers reach the owner
// through a channel.
type fanIn struct {
	c       *Coordinator
	key     []byte
	ctx     context.Context // the reads': Timeout from the start, ended when Get returns
	plan    plan
	r, n    int
	answers chan answer // buffered for every read sent
	reserve []slot      // replicas of the N not asked yet

	inflight int      // reads sent and not answered
	got      []answer // the answers that did not fail (nil states included)
	errs     []error  // the failures
	merged   *Object  // the merge of got
	full     int      // answers in got that hold the key
}

// answer is one replica's outcome of a read.
type answer struct {
	s   slot
	obj *Object
	err error
}

// run asks the replicas, waits for R states, starts the read repair if
// any replica is seen or may be stale, and returns the merged state.
func (f *fanIn) run() (*Object, error) {
	first := f.pick()
	var late <-chan time.Time
	if len(f.reserve) > 0 {
		t := time.NewTimer(f.c.cfg.SloppyAfter)
		defer t.Stop()
		late = t.C
	}
	for _, s := range first {
		f.send(s)
	}
	merged, err := f.collect(late)
	if err != nil {
		return nil, err
	}
	if f.inflight > 0 || slices.ContainsFunc(f.got, func(a answer) bool { return !a.obj.Equal(merged) }) {
		f.c.goTracked(f.repair)
	}
	return merged, nil
}

// pick returns the replicas to ask first: R of the plan's, this node
// first when it is one, or all of them for a share ReadRepairChance of
// reads, so that read repair also reaches replicas the quorum did not
// need. The rest of the N go to the reserve, for a failure, an empty or a
// slow answer.
func (f *fanIn) pick() []slot {
	slots := f.plan.slots
	local := Replica(f.c.cfg.Local)
	if i := slices.IndexFunc(slots, func(s slot) bool { return s.rep == local }); i > 0 {
		slots = slices.Clone(slots)
		slots[0], slots[i] = slots[i], slots[0]
	}
	if len(slots) > f.r && f.c.float64() >= f.c.cfg.ReadRepairChance {
		slots, f.reserve = slots[:f.r], slots[f.r:]
	}
	return slots
}

// send starts reading the key from s.rep; the answer arrives on
// f.answers. The local replica is read in place.
func (f *fanIn) send(s slot) {
	f.inflight++
	if s.rep == Replica(f.c.cfg.Local) {
		o, err := s.rep.Read(f.ctx, f.key)
		f.answers <- answer{s, o, err}
		return
	}
	f.c.read(f.ctx, s.rep, f.key, func(o *Object, err error) {
		f.answers <- answer{s, o, err} // buffered for every send
	})
}

// askReserve asks the next replica of the reserve, if any is left.
func (f *fanIn) askReserve() bool {
	if len(f.reserve) == 0 {
		return false
	}
	s := f.reserve[0]
	f.reserve = f.reserve[1:]
	f.send(s)
	return true
}

// collect takes answers until R of them hold the key, or every replica of
// the N was asked and at least R answered, and returns their merge.
//
// An answer without the key does not count towards R while replicas of the
// N are left to ask (Riak's notfound_ok=false): a replica that has not
// received the key yet (a new home after a join, one that was down) must
// not hide an acknowledged write the others hold. Each empty answer asks
// one more of the N.
func (f *fanIn) collect(late <-chan time.Time) (*Object, error) {
	for f.full < f.r {
		if f.inflight == 0 {
			f.askReserve()
		}
		if f.inflight == 0 {
			if len(f.got) >= f.r {
				break // every replica asked: fewer than R hold the key
			}
			return nil, unavailable(f.errs, "read needs R=%d, %d of %d replicas answered", f.r, len(f.got), f.n)
		}
		select {
		case a := <-f.answers:
			f.take(a)
		case <-late:
			for f.askReserve() {
			}
		case <-f.ctx.Done():
			return nil, fmt.Errorf("%w: read needs R=%d, got %d before the deadline: %w",
				ErrUnavailable, f.r, len(f.got), f.ctx.Err())
		case <-f.c.done:
			return nil, ErrClosed
		}
	}
	return f.merged, nil
}

// take counts one answer. A failure hands its home to a stand-in: the next
// replica of the reserve, or else the next spare of the plan (sloppy
// quorum). A state is merged; if it does not hold the key, one more
// replica of the reserve is asked.
func (f *fanIn) take(a answer) {
	f.inflight--
	if a.err != nil {
		f.errs = append(f.errs, fmt.Errorf("%s: %w", a.s.rep.Name(), a.err))
		if !f.askReserve() {
			if sp := f.plan.nextSpare(); sp != nil {
				f.send(slot{rep: sp, owner: a.s.home()})
			}
		}
		return
	}
	f.got = append(f.got, a)
	f.merged = f.merged.Merge(a.obj)
	if a.obj.Len() > 0 || !a.obj.Context().IsZero() {
		f.full++
	} else {
		f.askReserve()
	}
}

// repair is the read repair, run in the background once Get replied: it
// waits up to repairWait for the reads still running, then sends the
// merge of every state seen to each replica that answered with less: home
// replicas merge it, stand-ins store it as a hint for the home they stand
// in for. It gives up when the coordinator closes while it waits.
func (f *fanIn) repair() {
	ctx, cancel := context.WithTimeout(context.Background(), repairWait)
	defer cancel()
	final := f.merged
	for ; f.inflight > 0; f.inflight-- {
		select {
		case a := <-f.answers:
			if a.err == nil {
				f.got = append(f.got, a)
				final = final.Merge(a.obj)
			}
		case <-ctx.Done():
			f.inflight = 1 // stop waiting; repair what answered
		case <-f.c.done:
			return
		}
	}
	for _, a := range f.got {
		if a.obj.Equal(final) {
			continue
		}
		var err error
		if a.s.owner == nil {
			err = a.s.rep.Merge(ctx, f.key, final)
		} else {
			err = a.s.rep.Hint(ctx, a.s.owner.Name(), f.key, final)
		}
		if err != nil {
			f.c.log.Debug("read repair failed", "replica", a.s.rep.Name(), "err", err)
		} else {
			f.c.repairs.Add(1)
		}
	}
}

// unavailable returns an error wrapping ErrUnavailable that says what the
// request lacked (format and args) and why: the replicas' failures, each
// named, or, when none failed, that no other replica was alive to ask (the
// failure detector holds the rest down, so they were never sent anything).
func unavailable(errs []error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if len(errs) == 0 {
		return fmt.Errorf("%w: %s; no other replica is alive to ask", ErrUnavailable, what)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, errors.Join(errs...))
}
