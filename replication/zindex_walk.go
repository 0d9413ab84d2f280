package replication

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
)

// The coordinator's reads of a sorted set's score index: a range read from
// up to R home replicas (spares as ScanKeys takes them), merged and
// settled.
//
// Each replica answers from its own index, which orders its own versions.
// The coordinator merges the states the replicas return per element; for
// an element that not every reader returned, or whose states differ, it
// reads the element's own state from the readers that did not return it
// (the merge is then what a read of the element from these R replicas
// gives, and the stale ones are repaired) before its score is taken. Entries are then ordered by their settled position
// (SortKey of the settled score), and a page is handed out only up to the
// last position every reader has answered for (the cut), as ScanKeys does:
// an element whose settled position lies past the cut waits for the pages
// that reach it.
//
// Skips (the offset of a rank range, a count) are done by the replicas:
// each passes over Skip entries, counting them and folding their positions
// into a digest. When every reader passed over as many entries with the
// same digest, they agree on what lies before the offset; otherwise the
// walk starts over from the beginning of the range and the coordinator
// skips settled entries itself.

// IndexWalk describes a walk of one sorted set's index.
type IndexWalk struct {
	// RouteKey is the sorted set's internal key (its preference list is
	// the elements'); Pos its ring position; Prefix its elements' prefix.
	RouteKey []byte
	Pos      uint64
	Prefix   []byte
	// Start and End bound the positions walked, [Start, End), nil open.
	Start, End []byte
	// Reverse walks from End down to Start.
	Reverse bool
	// Skip entries are passed over before fn is called.
	Skip int64
	// Batch is how many entries each replica returns at a time (at most
	// MaxKeysBatch).
	Batch int
}

// WalkIndex calls fn with each element of the range, after the first Skip,
// in the walk's direction, with its settled position, key and state, until
// fn returns false or the range runs out. It returns how many elements it
// passed over (fewer than Skip when the range holds fewer).
func (c *Coordinator) WalkIndex(ctx context.Context, w IndexWalk, fn func(sort, key []byte, o *Object) bool) (int64, error) {
	if c.closed() {
		return 0, ErrClosed
	}
	w.Batch = max(1, min(w.Batch, MaxKeysBatch))
	skipped, agreed, err := c.walkIndex(ctx, w, fn)
	if err != nil || agreed {
		return skipped, err
	}
	// The readers disagree on what lies before the offset: walk from the
	// start and skip settled entries here.
	skip := w.Skip
	w.Skip = 0
	skipped = 0
	_, _, err = c.walkIndex(ctx, w, func(sort, key []byte, o *Object) bool {
		if skipped < skip {
			skipped++
			return true
		}
		return fn(sort, key, o)
	})
	return skipped, err
}

// CountIndex returns how many elements the range holds: the count every
// reader's index agrees on, or else the settled elements counted one by
// one.
func (c *Coordinator) CountIndex(ctx context.Context, w IndexWalk) (int64, error) {
	w.Skip, w.Batch = math.MaxInt64, MaxKeysBatch
	n, err := c.WalkIndex(ctx, w, func([]byte, []byte, *Object) bool { return false })
	return n, err
}

// indexPending is an element whose settled position the walk has not
// reached yet.
type indexPending struct {
	sort, key []byte
	obj       *Object
}

// walkIndex is WalkIndex's walk; agreed is false (and nothing was handed to
// fn) when w.Skip > 0 and the readers did not pass over the same entries.
func (c *Coordinator) walkIndex(ctx context.Context, w IndexWalk, fn func(sort, key []byte, o *Object) bool) (skipped int64, agreed bool, err error) {
	prefs, n := c.prefs(w.RouteKey)
	readers, spares := liveHomes[IndexReader](c, prefs, n)
	if len(readers) == 0 {
		return 0, false, fmt.Errorf("%w: no live replica to read the score index from", ErrUnavailable)
	}
	// before reports whether position a comes before b in the walk's
	// direction.
	before := func(a, b []byte) bool {
		if w.Reverse {
			return bytes.Compare(a, b) > 0
		}
		return bytes.Compare(a, b) < 0
	}
	lo, hi := w.Start, w.End
	inRange := func(p []byte) bool {
		return (lo == nil || bytes.Compare(p, lo) >= 0) && (hi == nil || bytes.Compare(p, hi) < 0)
	}
	var pending []indexPending
	emitted := map[string]bool{}
	q := IndexQuery{Pos: w.Pos, Prefix: w.Prefix, Reverse: w.Reverse, Skip: w.Skip, Limit: w.Batch}
	for first := true; ; first = false {
		q.Start, q.End = lo, hi
		results := make([]IndexResult, 0, len(readers))
		for i := 0; i < len(readers); i++ {
			res, err := c.readIndex(ctx, readers[i], q)
			if err != nil && len(spares) > 0 && ctx.Err() == nil {
				c.log.Debug("index read failed, asking another home", "replica", readers[i].(Replica).Name(), "err", err)
				readers[i], spares = spares[0], spares[1:]
				i--
				continue
			}
			if err != nil {
				return 0, false, fmt.Errorf("read the score index from %s: %w", readers[i].(Replica).Name(), err)
			}
			results = append(results, res)
		}
		if first && w.Skip > 0 {
			for _, r := range results[1:] {
				if r.Skipped != results[0].Skipped || r.Digest != results[0].Digest {
					return 0, false, nil
				}
			}
			skipped = results[0].Skipped
			if last := results[0].Last; last != nil {
				// The window starts past the last entry passed over.
				if w.Reverse {
					hi = last
				} else {
					lo = append(bytes.Clone(last), 0)
				}
			}
			q.Skip = 0
		}
		// The cut: the last position every reader has answered for.
		var cut []byte
		for _, r := range results {
			if r.More && len(r.Entries) > 0 {
				if last := r.Entries[len(r.Entries)-1].Sort; cut == nil || before(last, cut) {
					cut = last
				}
			}
		}
		inWindow := func(p []byte) bool {
			if !inRange(p) {
				return false
			}
			return cut == nil || !before(cut, p)
		}
		page, err := c.settleIndex(ctx, readers, results, cut, before)
		if err != nil {
			return skipped, false, err
		}
		// Elements settled past the window wait for it; those it reached
		// join the page.
		var out, later []indexPending
		for _, e := range append(pending, page...) {
			switch {
			case emitted[string(e.key)]:
			case inWindow(e.sort):
				out = append(out, e)
			case inRange(e.sort) && cut != nil && before(cut, e.sort):
				later = append(later, e)
			}
		}
		pending = later
		slices.SortFunc(out, func(a, b indexPending) int {
			if w.Reverse {
				return bytes.Compare(b.sort, a.sort)
			}
			return bytes.Compare(a.sort, b.sort)
		})
		for i, e := range out {
			if i > 0 && bytes.Equal(out[i-1].key, e.key) {
				continue
			}
			emitted[string(e.key)] = true
			if !fn(e.sort, e.key, e.obj) {
				return skipped, true, nil
			}
		}
		if cut == nil {
			return skipped, true, nil
		}
		if w.Reverse {
			hi = cut
		} else {
			lo = append(bytes.Clone(cut), 0)
		}
		if err := ctx.Err(); err != nil {
			return skipped, true, err
		}
	}
}

// settleIndex merges the readers' entries up to cut (all when cut is nil)
// per element and settles those the readers disagree on (an element not
// every reader returned, or returned with different states): each reader
// that did not return it, or returned another state, is asked for its own
// state of the element, and the merge is the element's state, as a read
// of the element from these R replicas would give it; the readers found
// stale are repaired in the background. It returns each element's settled
// position and state, dead ones left out.
func (c *Coordinator) settleIndex(ctx context.Context, readers []IndexReader, results []IndexResult, cut []byte, before func(a, b []byte) bool) ([]indexPending, error) {
	type merged struct {
		key    []byte
		member []byte
		obj    *Object
		states []*Object // per reader, nil when it did not return it
		has    []bool
		differ bool
	}
	if len(results) == 1 {
		// One reader (N or R of 1): its states are the read; nothing to
		// settle.
		out := make([]indexPending, 0, len(results[0].Entries))
		for _, e := range results[0].Entries {
			if cut != nil && before(cut, e.Sort) {
				break
			}
			if score, ok := ScoreOf(e.Obj); ok {
				_, member, _ := SplitSortKey(e.Sort)
				out = append(out, indexPending{sort: SortKey(score, member), key: e.Key, obj: e.Obj})
			}
		}
		return out, nil
	}
	byKey := map[string]*merged{}
	var order []*merged
	for i, r := range results {
		for _, e := range r.Entries {
			if cut != nil && before(cut, e.Sort) {
				break
			}
			m := byKey[string(e.Key)]
			if m == nil {
				_, member, _ := SplitSortKey(e.Sort)
				m = &merged{key: e.Key, member: member, obj: e.Obj, states: make([]*Object, len(results)), has: make([]bool, len(results))}
				byKey[string(e.Key)] = m
				order = append(order, m)
			} else {
				m.differ = m.differ || !m.obj.Equal(e.Obj)
				m.obj = m.obj.Merge(e.Obj)
			}
			m.states[i], m.has[i] = e.Obj, true
		}
	}
	// The reads of the elements the readers disagree on, side by side.
	type ask struct {
		m *merged
		i int
	}
	var asks []ask
	for _, m := range order {
		for i := range results {
			if !m.has[i] || m.differ {
				asks = append(asks, ask{m, i})
			}
		}
	}
	if len(asks) > 0 {
		got := make([]*Object, len(asks))
		errs := make([]error, len(asks))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for j, a := range asks {
			if a.m.has[a.i] {
				got[j] = a.m.states[a.i]
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
				defer cancel()
				got[j], errs[j] = readers[a.i].(Replica).Read(rctx, a.m.key)
			}()
		}
		wg.Wait()
		for j, a := range asks {
			if errs[j] != nil {
				return nil, fmt.Errorf("settle an element with %s: %w", readers[a.i].(Replica).Name(), errs[j])
			}
			a.m.states[a.i] = got[j]
			a.m.obj = a.m.obj.Merge(got[j])
		}
		// Read repair: the readers whose state lacks what the others
		// hold get the merge.
		for _, a := range asks {
			if st := a.m.states[a.i]; !st.Merge(a.m.obj).Equal(st) {
				rep, key, obj := readers[a.i].(Replica), a.m.key, a.m.obj
				c.goTracked(func() {
					rctx, cancel := context.WithTimeout(context.Background(), repairWait)
					defer cancel()
					if err := rep.Merge(rctx, key, obj); err != nil {
						c.log.Debug("index read repair failed", "replica", rep.Name(), "err", err)
					} else {
						c.repairs.Add(1)
					}
				})
			}
		}
	}
	out := make([]indexPending, 0, len(order))
	for _, m := range order {
		score, ok := ScoreOf(m.obj)
		if !ok {
			continue
		}
		out = append(out, indexPending{sort: SortKey(score, m.member), key: m.key, obj: m.obj})
	}
	return out, nil
}

// readIndex reads one query from r within the request timeout.
func (c *Coordinator) readIndex(ctx context.Context, r IndexReader, q IndexQuery) (IndexResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return r.ReadIndex(ctx, q)
}
