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
	// Read repair outlives the call: own the key, which the caller may
	// reuse once Get returned.
	key = bytes.Clone(key)
	p := c.makePlan(prefs, n, nil)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	type answer struct {
		s   slot
		obj *Object
		err error
	}
	answers := make(chan answer, len(prefs))
	inflight := 0
	local := Replica(c.cfg.Local)
	start := func(s slot) {
		inflight++
		if s.rep == local {
			o, err := s.rep.Read(ctx, key)
			answers <- answer{s, o, err}
			return
		}
		c.read(ctx, s.rep, key, func(o *Object, err error) {
			answers <- answer{s, o, err} // buffered for every start
		})
	}
	// Ask R replicas, this node first when it is one; the others of the N
	// are held in reserve for a failure or a slow answer. A share
	// ReadRepairChance of reads asks all N, so that read repair also
	// reaches replicas the quorum did not need.
	slots := p.slots
	if i := slices.IndexFunc(slots, func(s slot) bool { return s.rep == local }); i > 0 {
		slots = slices.Clone(slots)
		slots[0], slots[i] = slots[i], slots[0]
	}
	var reserve []slot
	if len(slots) > r && c.float64() >= c.cfg.ReadRepairChance {
		slots, reserve = slots[:r], slots[r:]
	}
	var late <-chan time.Time
	if len(reserve) > 0 {
		t := time.NewTimer(c.cfg.SloppyAfter)
		defer t.Stop()
		late = t.C
	}
	for _, s := range slots {
		start(s)
	}
	// An answer without the key does not count towards R while replicas
	// of the N are left to ask (Riak's notfound_ok=false): a replica that
	// has not received the key yet (a new home after a join, one that was
	// down) must not hide an acknowledged write the others hold. Each empty
	// answer asks one more of the N; the read ends when R replicas had a
	// state, or all N answered.
	var (
		merged *Object
		got    []answer
		errs   []error
		full   int // answers with a state
	)
	for full < r {
		if inflight == 0 && len(reserve) > 0 {
			start(reserve[0])
			reserve = reserve[1:]
		}
		if inflight == 0 {
			if len(got) >= r {
				break // every replica asked: fewer than R hold the key
			}
			return nil, fmt.Errorf("%w: read needs R=%d, %d of %d replicas answered: %w",
				ErrUnavailable, r, len(got), n, errors.Join(errs...))
		}
		select {
		case a := <-answers:
			inflight--
			if a.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", a.s.rep.Name(), a.err))
				if len(reserve) > 0 {
					start(reserve[0])
					reserve = reserve[1:]
				} else if sp := p.nextSpare(); sp != nil {
					start(slot{rep: sp, owner: a.s.home()})
				}
				continue
			}
			got = append(got, a)
			merged = merged.Merge(a.obj)
			if a.obj.Len() > 0 || !a.obj.Context().IsZero() {
				full++
			} else if len(reserve) > 0 {
				start(reserve[0])
				reserve = reserve[1:]
			}
		case <-late:
			for _, s := range reserve {
				start(s)
			}
			reserve = nil
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: read needs R=%d, got %d before the deadline: %w",
				ErrUnavailable, r, len(got), ctx.Err())
		case <-c.done:
			return nil, ErrClosed
		}
	}
	// Read repair: send the merged state to every replica that answered
	// with less, and to the stragglers once they answer.
	if inflight == 0 && !slices.ContainsFunc(got, func(a answer) bool { return !a.obj.Equal(merged) }) {
		return merged, nil
	}
	c.goTracked(func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		final := merged
		for ; inflight > 0; inflight-- {
			select {
			case a := <-answers:
				if a.err == nil {
					got = append(got, a)
					final = final.Merge(a.obj)
				}
			case <-rctx.Done():
				inflight = 1 // stop waiting; repair what answered
			case <-c.done:
				return
			}
		}
		for _, a := range got {
			if a.obj.Equal(final) {
				continue
			}
			var err error
			if a.s.owner == nil {
				err = a.s.rep.Merge(rctx, key, final)
			} else {
				err = a.s.rep.Hint(rctx, a.s.owner.Name(), key, final)
			}
			if err != nil {
				c.log.Debug("read repair failed", "replica", a.s.rep.Name(), "err", err)
			} else {
				c.repairs.Add(1)
			}
		}
	})
	return merged, nil
}
