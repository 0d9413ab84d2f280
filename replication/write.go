package replication

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Update is the write path. It calls fn with the current state of key on
// the node that coordinates the write; if fn returns a Write, that node
// mints a new dot for it, stores the result, replicates it to the key's
// other replicas and returns it once W replicas stored it. If fn returns a
// nil Write, nothing is written and Update returns nil and fn's error.
//
// Who coordinates: this node when it is one of the key's first N replicas
// (or opt.NoForward is set). Otherwise the write is forwarded to the first
// live home replica that answers: this node reads that replica's state,
// calls fn with it, and asks the replica to coordinate the write if its
// state is still the one fn saw (retrying with the fresh state when it is
// not). When no home replica can be reached, this node coordinates as a
// stand-in, under a fresh single-use actor id (it keeps no copy of the
// key, so it could not mint safely under its own).
//
// A plain Redis write passes cur.Context() as the write's context, so it
// replaces everything the coordinator knows of the key; a VSET passes the
// client's context. fn may be called more than once.
func (c *Coordinator) Update(ctx context.Context, key []byte, fn func(cur *Object) (*Write, error), opt WriteOptions) (*Object, error) {
	if c.closed() {
		return nil, ErrClosed
	}
	prefs, n := c.prefs(key)
	w := quorum(opt.W, c.cfg.W, n)
	local := Replica(c.cfg.Local)
	home := false
	for _, r := range prefs[:n] {
		home = home || r == local
	}
	if home || opt.NoForward {
		return c.coordinate(ctx, key, fn, prefs, n, w)
	}
	fctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var errs []error
	for _, r := range prefs[:n] {
		cr, ok := r.(Coordinating)
		if !ok || !c.alive(r) {
			continue
		}
		obj, err := c.forward(fctx, cr, key, fn, opt)
		if err == nil || !errors.Is(err, ErrReplicaDown) {
			return obj, err
		}
		errs = append(errs, fmt.Errorf("forward to %s: %w", r.Name(), err))
		if fctx.Err() != nil {
			return nil, unavailable(errs, "write forwarding")
		}
	}
	if len(errs) > 0 {
		c.log.Debug("no home replica reachable, coordinating as a stand-in", "err", errors.Join(errs...))
	}
	return c.standIn(fctx, key, fn, prefs, n, w)
}

// forwardAttempts is how often a forwarded write is retried when the
// coordinator's state changed between the read and the write; the last
// attempt writes regardless (the write then lands beside the concurrent
// one as a sibling, as any concurrent write does).
const forwardAttempts = 4

// forward has the home replica r coordinate the write.
func (c *Coordinator) forward(ctx context.Context, r Coordinating, key []byte, fn func(cur *Object) (*Write, error), opt WriteOptions) (*Object, error) {
	opt.NoForward = true
	for attempt := 1; ; attempt++ {
		// A home that does not answer the read promptly (paused, or
		// partitioned away while the failure detector still trusts it)
		// leaves time for the next one.
		rctx, cancel := context.WithTimeout(ctx, c.cfg.SloppyAfter)
		cur, err := r.ReadForWrite(rctx, key)
		cancel()
		if err != nil {
			if !errors.Is(err, ErrReplicaDown) {
				// Nothing was written: the next home may take it.
				err = fmt.Errorf("%w: %w", ErrReplicaDown, err)
			}
			return nil, err
		}
		wr, err := fn(cur)
		if wr == nil || err != nil {
			return nil, err
		}
		obj, err := r.Coordinate(ctx, key, wr, cur.Context(), attempt < forwardAttempts, opt)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err == nil {
			c.forwards.Add(1)
		}
		return obj, err
	}
}

// coordinate runs the write on this node, a home replica of key: mint the
// version under the key's lock in the local store, then replicate.
func (c *Coordinator) coordinate(ctx context.Context, key []byte, fn func(cur *Object) (*Write, error), prefs []Replica, n, w int) (*Object, error) {
	obj, err := c.cfg.Local.Mutate(ctx, key, func(cur *Object) (*Object, error) {
		wr, err := fn(cur)
		if wr == nil || err != nil {
			return nil, err
		}
		ctr, err := c.cfg.Local.NextCounter()
		if err != nil {
			return nil, err
		}
		actor := c.actor()
		if seen := cur.Context().Get(actor); ctr <= seen {
			// Cannot happen with a durable sequence; stay safe anyway.
			ctr = seen + 1
		}
		return cur.Apply(Dot{Actor: actor, Counter: ctr}, c.cfg.Now().UnixNano(), *wr, c.cfg.PruneThreshold), nil
	})
	if obj == nil || err != nil {
		return nil, err
	}
	if w <= 1 && n == 1 {
		return obj, nil
	}
	// Sends may outlive the call (they finish after the quorum): own the
	// key, which the caller may reuse once Update returned.
	key = bytes.Clone(key)
	local := Replica(c.cfg.Local)
	p := c.makePlan(prefs, n, local)
	if w <= 1 && len(p.slots) == 0 && len(p.orphans) == 0 {
		return obj, nil
	}
	return obj, c.replicate(ctx, key, obj, p, local, w)
}

// standIn coordinates a write no home replica could take: the version is
// minted under a fresh random actor id used for this one write and is
// stored only as hints on the first live nodes of the list.
func (c *Coordinator) standIn(ctx context.Context, key []byte, fn func(cur *Object) (*Write, error), prefs []Replica, n, w int) (*Object, error) {
	cur, err := c.cfg.Local.Read(ctx, key)
	if err != nil {
		return nil, err
	}
	wr, err := fn(cur)
	if wr == nil || err != nil {
		return nil, err
	}
	// crypto/rand, not Config.Rand: the id must differ from every actor
	// id in the cluster, also between nodes whose sources were seeded
	// alike.
	var b [8]byte
	var actor ActorID
	for actor == 0 || actor == c.actor() {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		actor = ActorID(binary.BigEndian.Uint64(b[:]))
	}
	obj := cur.Apply(Dot{Actor: actor, Counter: 1}, c.cfg.Now().UnixNano(), *wr, c.cfg.PruneThreshold)
	key = bytes.Clone(key) // see coordinate
	c.standIns.Add(1)
	return obj, c.replicate(ctx, key, obj, c.makePlan(prefs, n, nil), nil, w)
}

// replicate sends obj to the plan's slots (merges to home replicas, hints
// to stand-ins) and returns once w distinct nodes stored it, counting
// stored (the local replica, which already has it) when non-nil. A slot
// that fails, or has not answered after SloppyAfter, gets a stand-in from
// the spares; a home with no stand-in left gets a hint on this node, which
// does not count towards w (this node already counts once). Sends still
// running when the quorum is reached finish in the background, with their
// own deadline: their results are handled by whichever goroutine delivers
// them, so a write costs no goroutine of its own.
func (c *Coordinator) replicate(ctx context.Context, key []byte, obj *Object, p plan, stored Replica, w int) error {
	f := &fanOut{c: c, key: key, obj: obj, plan: p, stored: stored, w: w, acked: map[string]bool{}, done: make(chan struct{})}
	f.mu.Lock()
	f.start()
	f.mu.Unlock()
	select {
	case <-f.done:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.err
	case <-ctx.Done():
		f.mu.Lock()
		defer f.mu.Unlock()
		return fmt.Errorf("%w: write needs W=%d, got %d before the deadline: %w",
			ErrUnavailable, f.w, len(f.acked), ctx.Err())
	case <-c.done:
		return ErrClosed
	}
}

// fanOut is one write's replication: its sends, their results, and the
// stand-ins it took. Its state is guarded by mu and advanced by whoever
// holds it: the caller starting the sends, the sends' completions, and
// the SloppyAfter and Timeout timers.
type fanOut struct {
	c      *Coordinator
	key    []byte
	obj    *Object
	plan   plan
	stored Replica
	w      int
	done   chan struct{} // closed once the outcome is reported

	ctx       context.Context // the sends' context: Timeout from the start
	cancel    context.CancelFunc
	stopTimer func() bool // unregisters the Timeout report
	late      *time.Timer // SloppyAfter: give unanswered slots a stand-in

	mu       sync.Mutex
	slots    []fanSlot
	acked    map[string]bool
	hinted   map[string]bool
	errs     []error
	inflight int
	reported bool
	err      error
}

type fanSlot struct {
	slot
	count    bool // success counts towards w
	answered bool
	replaced bool
}

// start sends to every slot and orphan. f.mu is held.
func (f *fanOut) start() {
	p := f.plan
	f.ctx, f.cancel = context.WithTimeout(context.Background(), f.c.cfg.Timeout)
	f.stopTimer = context.AfterFunc(f.ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.report(fmt.Errorf("%w: write needs W=%d, got %d before the deadline: %w",
			ErrUnavailable, f.w, len(f.acked), f.ctx.Err()))
	})
	f.late = time.AfterFunc(f.c.cfg.SloppyAfter, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.inflight == 0 || f.ctx.Err() != nil {
			return
		}
		for id := range f.slots {
			if s := f.slots[id]; s.count && !s.answered {
				f.replace(id)
			}
		}
	})
	if f.stored != nil {
		f.acked[f.stored.Name()] = true
	}
	for _, s := range p.slots {
		f.send(s, true)
	}
	local := Replica(f.c.cfg.Local)
	for _, o := range p.orphans {
		f.hintLocally(o, local)
	}
	if len(f.acked) >= f.w {
		f.report(nil)
	}
	f.settled()
}

// send starts storing the write on s.rep: a merge, or a hint for s.owner.
// f.mu is held; the result arrives through result.
func (f *fanOut) send(s slot, count bool) {
	id := len(f.slots)
	f.slots = append(f.slots, fanSlot{slot: s, count: count})
	f.inflight++
	f.c.store(f.ctx, s, f.key, f.obj, func(err error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.result(id, err)
	})
}

// result handles the outcome of send id. f.mu is held.
func (f *fanOut) result(id int, err error) {
	f.inflight--
	s := &f.slots[id]
	s.answered = true
	switch {
	case err != nil:
		f.errs = append(f.errs, fmt.Errorf("%s: %w", s.rep.Name(), err))
		f.c.log.Debug("replica write failed", "replica", s.rep.Name(), "err", err)
		if s.count && f.ctx.Err() == nil && !f.c.closed() {
			f.replace(id)
		}
	case s.count:
		if s.owner != nil {
			f.c.sloppy.Add(1)
		}
		f.acked[s.rep.Name()] = true
		if len(f.acked) >= f.w {
			f.report(nil)
		}
	}
	f.settled()
}

// settled reports failure and releases the timers once no send is left
// running. f.mu is held.
func (f *fanOut) settled() {
	if f.inflight > 0 {
		return
	}
	f.report(unavailable(f.errs, "write needs W=%d, %d nodes stored it", f.w, len(f.acked)))
	f.late.Stop()
	f.stopTimer()
	f.cancel()
}

// hintLocally stores a hint for home on this node, when this node holds
// the version itself (a home replica coordinating) and has not yet.
func (f *fanOut) hintLocally(home, local Replica) {
	if f.stored != local || home == local || f.hinted[home.Name()] {
		return
	}
	if f.hinted == nil {
		f.hinted = map[string]bool{}
	}
	f.hinted[home.Name()] = true
	f.send(slot{rep: local, owner: home}, false)
}

// replace gives the home of slot id a stand-in: the next spare, or a hint
// on this node when none is left.
func (f *fanOut) replace(id int) {
	if f.slots[id].replaced {
		return
	}
	f.slots[id].replaced = true
	home := f.slots[id].home()
	if sp := f.plan.nextSpare(); sp != nil {
		f.send(slot{rep: sp, owner: home}, true)
		return
	}
	f.hintLocally(home, Replica(f.c.cfg.Local))
}

// report records the write's outcome, the first time only.
func (f *fanOut) report(err error) {
	if !f.reported {
		f.reported, f.err = true, err
		close(f.done)
	}
}

// ActorSource is a Local that chooses the actor id its node mints under,
// and may change it (after losing dots it minted, see node.LocalReplica).
// The coordinator asks it under the key's lock, at every mint; without it,
// Config.Actor is used.
type ActorSource interface {
	Actor() ActorID
}

// actor returns the actor id to mint under now.
func (c *Coordinator) actor() ActorID {
	if as, ok := c.cfg.Local.(ActorSource); ok {
		if a := as.Actor(); a != 0 {
			return a
		}
	}
	return c.cfg.Actor
}
