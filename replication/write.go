package replication

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
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
			return nil, fmt.Errorf("%w: write forwarding: %w", ErrUnavailable, errors.Join(errs...))
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
		if seen := cur.Context().Get(c.cfg.Actor); ctr <= seen {
			// Cannot happen with a durable sequence; stay safe anyway.
			ctr = seen + 1
		}
		return cur.Apply(Dot{Actor: c.cfg.Actor, Counter: ctr}, c.cfg.Now().UnixNano(), *wr, c.cfg.PruneThreshold), nil
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
	var b [8]byte
	var actor ActorID
	for actor == 0 || actor == c.cfg.Actor {
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
// own deadline.
func (c *Coordinator) replicate(ctx context.Context, key []byte, obj *Object, p plan, stored Replica, w int) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	progress := make(chan error, 1)
	c.goTracked(func() { c.fanOut(key, obj, p, stored, w, progress) })
	select {
	case err := <-progress:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: write needs W=%d, not enough acknowledgements before the deadline: %w",
			ErrUnavailable, w, ctx.Err())
	case <-c.done:
		return ErrClosed
	}
}

// fanOut does replicate's sends and reports once on progress: nil when w
// nodes stored obj, an error when that became impossible. It returns when
// every send finished.
func (c *Coordinator) fanOut(key []byte, obj *Object, p plan, stored Replica, w int, progress chan<- error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	local := Replica(c.cfg.Local)
	type result struct {
		id  int
		err error
	}
	var (
		slots    []slot
		answered []bool
		replaced []bool
		counts   []bool // whether the slot's success counts towards w
		acked    = map[string]bool{}
		errs     []error
		inflight int
		reported bool
	)
	// Every slot, spare and orphan starts at most one send, and each home
	// at most one hint on this node.
	maxSends := 2*(len(p.slots)+len(p.orphans)) + len(p.spares) + 1
	results := make(chan result, maxSends)
	late := make(chan int, maxSends)
	var timers []*time.Timer
	defer func() {
		for _, t := range timers {
			t.Stop()
		}
	}()
	report := func(err error) {
		if !reported {
			reported = true
			progress <- err
		}
	}
	if stored != nil {
		acked[stored.Name()] = true
	}
	start := func(s slot, count bool) {
		id := len(slots)
		slots = append(slots, s)
		answered = append(answered, false)
		replaced = append(replaced, false)
		counts = append(counts, count)
		inflight++
		c.goTracked(func() {
			var err error
			if s.owner == nil {
				err = s.rep.Merge(ctx, key, obj)
			} else {
				err = s.rep.Hint(ctx, s.owner.Name(), key, obj)
			}
			results <- result{id, err}
		})
		if count {
			t := time.AfterFunc(c.cfg.SloppyAfter, func() {
				select {
				case late <- id:
				default:
				}
			})
			timers = append(timers, t)
		}
	}
	hinted := map[string]bool{}
	// replace gives the home of slot id a stand-in: the next spare, or a
	// hint on this node when none is left.
	replace := func(id int) {
		if replaced[id] {
			return
		}
		replaced[id] = true
		home := slots[id].home()
		if sp := p.nextSpare(); sp != nil {
			start(slot{rep: sp, owner: home}, true)
			return
		}
		if home != local && !hinted[home.Name()] && stored == local {
			hinted[home.Name()] = true
			start(slot{rep: local, owner: home}, false)
		}
	}
	for _, s := range p.slots {
		start(s, true)
	}
	for _, o := range p.orphans {
		if stored == local && o != local && !hinted[o.Name()] {
			hinted[o.Name()] = true
			start(slot{rep: local, owner: o}, false)
		}
	}
	if len(acked) >= w {
		report(nil)
	}
	for inflight > 0 {
		select {
		case r := <-results:
			inflight--
			answered[r.id] = true
			s := slots[r.id]
			if r.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.rep.Name(), r.err))
				c.log.Debug("replica write failed", "replica", s.rep.Name(), "err", r.err)
				if counts[r.id] {
					replace(r.id)
				}
			} else if counts[r.id] {
				if s.owner != nil {
					c.sloppy.Add(1)
				}
				acked[s.rep.Name()] = true
				if len(acked) >= w {
					report(nil)
				}
			}
		case id := <-late:
			if !answered[id] {
				replace(id)
			}
		case <-ctx.Done():
			report(fmt.Errorf("%w: write needs W=%d, got %d before the deadline: %w",
				ErrUnavailable, w, len(acked), ctx.Err()))
			return
		case <-c.done:
			report(ErrClosed)
			return
		}
	}
	report(fmt.Errorf("%w: write needs W=%d, %d nodes stored it: %w",
		ErrUnavailable, w, len(acked), errors.Join(errs...)))
}
