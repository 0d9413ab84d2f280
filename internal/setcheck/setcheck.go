// Package setcheck is the checker the set workloads share (node's
// in-process cluster test, the e2e tests and the fault checker): a history
// of the SADDs and SREMs clients sent, and what it requires of the members
// a set converged to.
//
// Two kinds of member are checked. An owned member is added and removed by
// one client only, in order: an SADD acknowledged and not followed by an
// SREM that removed it (replied 1) must be in the set; one that such an
// SREM followed must not be (the member is added once, so the remove read
// the one version there is and covered it). An SREM answered 0 removed
// nothing (its coordinator did not hold the add yet) and leaves the member
// as it was; one that failed leaves it unknown.
//
// A shared member is added and removed by any client. Which adds a remove
// observed cannot be seen from outside, so the history asks only what
// real time proves: an SADD acknowledged and sent after every SREM of the
// member had been answered (none failed, none still running) cannot have
// been seen by any of them, so its member must be in the set. Under
// add-wins this holds whatever the SADD's coordinator held: the SADD is an
// add of its own, also of a member already there.
package setcheck

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
	present              // must be in the set
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
	owned bool
	state state
	ops   []op
}

// Stats counts a history's updates.
type Stats struct {
	Adds, AddsAcked       int // SADDs sent and acknowledged
	Removes, RemovesAcked int // SREMs sent and answered
	Removed               int // SREMs that removed their member (replied 1)
	// MissedRemoves counts SREMs of an owned member whose SADD had been
	// acknowledged that answered 0: their coordinator did not hold the add
	// yet (it reads its own copy), so they removed nothing.
	MissedRemoves int
}

// History records the updates of the sets' members. It is safe for
// concurrent use.
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
		st = &member{owned: owned}
		ms[m] = st
	}
	return st
}

// Add records an SADD of member m of key sent at inv and answered (err ==
// nil) or failed now. owned says whether m is an owned member.
func (h *History) Add(key, m string, owned bool, inv time.Time, err error) {
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
	switch {
	case err == nil:
		st.state = present
	case st.state != present: // a failed add never removes
		st.state = unknown
	}
}

// Remove records an SREM of member m of key sent at inv that replied n, or
// failed with err.
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
	case n > 0:
		st.state = absent
	case st.state == present:
		h.stats.MissedRemoves++
	}
}

// Present reports whether owned member m of key must be in the set now,
// so its owner may remove it.
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

// Checked counts what Check verified of one set.
type Checked struct {
	MustHave, MustLack, Unknown int
}

// Check compares the members key converged to (got) with the history and
// returns each violation in words: an owned member acknowledged and not
// removed that is missing, one removed that is there, a shared member
// whose last acknowledged SADD came after every SREM of it that is
// missing, a member no update was sent for.
func (h *History) Check(key string, got []string) ([]string, Checked) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var bad []string
	var c Checked
	have := map[string]bool{}
	for _, m := range got {
		have[m] = true
		if h.members[key][m] == nil {
			bad = append(bad, fmt.Sprintf("%s holds %q, which no SADD added", key, m))
		}
	}
	for _, m := range slices.Sorted(maps.Keys(h.members[key])) {
		st := h.members[key][m]
		want := st.state
		if !st.owned {
			want = sharedState(st.ops)
		}
		switch {
		case want == present:
			c.MustHave++
			if !have[m] {
				bad = append(bad, fmt.Sprintf("%s lacks %q: acknowledged SADD, no remove that could have seen it", key, m))
			}
		case want == absent:
			c.MustLack++
			if have[m] {
				bad = append(bad, fmt.Sprintf("%s holds %q: its owner's SREM removed it (replied 1) and it was never added again", key, m))
			}
		default:
			c.Unknown++
		}
	}
	return bad, c
}

// sharedState is present when some acknowledged SADD was sent after every
// SREM had been answered successfully; else unknown.
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
