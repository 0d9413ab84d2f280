// Package collcheck is the checker the collection workloads share (node's
// in-process cluster test, the e2e tests and the fault checker): clients
// that add and remove the members of sets or the fields of hashes through
// random nodes, a history of what they sent and were answered, and what
// that history requires of the members (and values) a collection
// converged to.
//
// Two kinds of member are checked. An owned member is written and removed
// by one client only, in order. One whose last acknowledged write no
// remove followed must be there, with that write's value when no write of
// it failed (a failed write may still apply, later, as a newer version).
// One written exactly once, acknowledged, then removed by a remove that
// replied 1 must not be: that remove read a live version, and there was
// only one. (After several writes, a remove through a coordinator that
// held only an older one leaves the newer, as Dynamo allows: no session
// guarantees.) A remove answered 0 removed nothing (its coordinator did
// not hold the write yet; it reads its own copy) and leaves the member as
// it was; one that failed leaves it unknown.
//
// A shared member is written and removed by any client. Which writes a
// remove observed cannot be seen from outside, so the history asks only
// what real time proves: a write acknowledged and sent after every remove
// of the member had been answered (none failed, none still running)
// cannot have been seen by any of them, so its member must be there.
// Under add-wins this holds whatever the write's coordinator held: an SADD
// is an add of its own, also of a member already there.
package collcheck

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// state is what the history knows of an owned member.
type state int

const (
	unknown state = iota // an update failed: it may or may not have applied
	present              // must be there
	absent               // must not be
)

// op is one update of a shared member, with its invocation and answer
// times (the client's clock).
type op struct {
	add       bool
	inv, resp time.Time
	ok        bool
}

type member struct {
	owned  bool
	state  state
	writes int    // writes sent (owned members)
	value  string // the last acknowledged write's value
	exact  bool   // no write failed: value is what a read answers
	ops    []op
}

// Stats counts a history's updates.
type Stats struct {
	Adds, AddsAcked       int // writes (SADD, HSET) sent and acknowledged
	Removes, RemovesAcked int // removes (SREM, HDEL) sent and answered
	Removed               int // removes that removed their member (replied 1)
	// MissedRemoves counts removes of an owned member whose write had
	// been acknowledged that answered 0: their coordinator did not hold
	// the write yet (it reads its own copy), so they removed nothing.
	MissedRemoves int
}

// History records the updates of the collections' members. It is safe
// for concurrent use.
type History struct {
	mu      sync.Mutex
	members map[string]map[string]*member // key -> member -> history
	stats   Stats
}

// New returns an empty history.
func New() *History { return &History{members: map[string]map[string]*member{}} }

func (h *History) get(key, m string, owned bool) *member {
	ms := h.members[key]
	if ms == nil {
		ms = map[string]*member{}
		h.members[key] = ms
	}
	st := ms[m]
	if st == nil {
		st = &member{owned: owned, exact: true}
		ms[m] = st
	}
	return st
}

// Add records a write of member m of key with value v (sets: "") sent at
// inv and acknowledged (err == nil) or failed now. owned says whether m is
// an owned member.
func (h *History) Add(key, m, v string, owned bool, inv time.Time, err error) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Adds++
	st := h.get(key, m, owned)
	if err == nil {
		h.stats.AddsAcked++
	}
	if !owned {
		st.ops = append(st.ops, op{add: true, inv: inv, resp: now, ok: err == nil})
		return
	}
	st.writes++
	switch {
	case err == nil:
		st.state, st.value = present, v
	case st.state != present: // a failed write never removes
		st.state = unknown
	}
	if err != nil {
		st.exact = false
	}
}

// Remove records a remove of member m of key sent at inv that replied n,
// or failed with err.
func (h *History) Remove(key, m string, owned bool, inv time.Time, n int64, err error) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Removes++
	st := h.get(key, m, owned)
	if err == nil {
		h.stats.RemovesAcked++
		if n > 0 {
			h.stats.Removed++
		}
	}
	if !owned {
		st.ops = append(st.ops, op{inv: inv, resp: now, ok: err == nil})
		return
	}
	switch {
	case err != nil:
		if st.state != absent { // a failed remove never adds
			st.state = unknown
		}
	case n > 0 && st.writes == 1 && st.state == present:
		st.state = absent
	case n > 0:
		st.state = unknown // it may have missed a newer write
	case st.state == present:
		h.stats.MissedRemoves++
	}
}

// Present reports whether owned member m of key must be there now, so
// its owner may write or remove it again.
func (h *History) Present(key, m string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.members[key][m]
	return st != nil && st.owned && st.state == present
}

// Keys returns the keys updated, sorted.
func (h *History) Keys() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.members))
}

// Members returns every member of key an update was sent for, sorted.
func (h *History) Members(key string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.members[key]))
}

// Stats returns the counts so far.
func (h *History) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// Checked counts what Check verified of one collection.
type Checked struct {
	MustHave, MustLack, Unknown int
	Values                      int // values compared
}

// Add adds o's counts to c.
func (c *Checked) Add(o Checked) {
	c.MustHave += o.MustHave
	c.MustLack += o.MustLack
	c.Unknown += o.Unknown
	c.Values += o.Values
}

// Check compares what key converged to (got: member -> value, "" for a
// set's) with the history and returns each violation in words: a member
// that must be there missing or with another value, one that must not be
// there, a member no update was sent for.
func (h *History) Check(key string, got map[string]string) ([]string, Checked) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var bad []string
	var c Checked
	for _, m := range slices.Sorted(maps.Keys(got)) {
		if h.members[key][m] == nil {
			bad = append(bad, fmt.Sprintf("%s holds %q, which no write added", key, m))
		}
	}
	for _, m := range slices.Sorted(maps.Keys(h.members[key])) {
		st := h.members[key][m]
		want := st.state
		if !st.owned {
			want = sharedState(st.ops)
		}
		v, have := got[m]
		switch {
		case want == present:
			c.MustHave++
			if !have {
				bad = append(bad, fmt.Sprintf("%s lacks %q: acknowledged write, no remove that could have seen it", key, m))
			} else if st.owned && st.exact && st.value != "" { // a set's members carry none
				c.Values++
				if v != st.value {
					bad = append(bad, fmt.Sprintf("%s holds %q = %q, want the last acknowledged write's %q", key, m, v, st.value))
				}
			}
		case want == absent:
			c.MustLack++
			if have {
				bad = append(bad, fmt.Sprintf("%s holds %q: written once, then removed by its owner (replied 1)", key, m))
			}
		default:
			c.Unknown++
		}
	}
	return bad, c
}

// sharedState is present when some acknowledged write was sent after
// every remove had been answered successfully; else unknown.
func sharedState(ops []op) state {
	var lastRemove time.Time
	for _, o := range ops {
		if o.add {
			continue
		}
		if !o.ok {
			return unknown // it may still be running, or have run, at any time
		}
		if o.resp.After(lastRemove) {
			lastRemove = o.resp
		}
	}
	for _, o := range ops {
		if o.add && o.ok && o.inv.After(lastRemove) {
			return present
		}
	}
	return unknown
}
