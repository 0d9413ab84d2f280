package replication

import (
	"slices"
	"sort"
)

// ActorID names the writer of a version: one node's incarnation. A node draws
// a random ActorID when its data directory is created, so a node whose data
// was wiped never reuses the dots of its former self.
type ActorID uint64

// Dot is one event: the Counter-th version minted by Actor. Dots are unique:
// an actor never mints the same counter twice (see Sequence).
type Dot struct {
	Actor   ActorID
	Counter uint64
}

// Less orders dots by actor, then counter.
func (d Dot) Less(o Dot) bool {
	if d.Actor != o.Actor {
		return d.Actor < o.Actor
	}
	return d.Counter < o.Counter
}

// Entry is one actor's row of a Clock: the actor's events up to Counter have
// been seen. Time is the wall-clock time (Unix milliseconds) at which the
// entry last advanced; pruning removes the oldest entries first.
type Entry struct {
	Actor   ActorID
	Counter uint64
	Time    int64
}

// Clock is a version vector: the causal context of a key, the set of every
// dot that a replica or a client has seen. An actor's dots for one key are
// minted by that actor in increasing order from a replica that had seen all
// its earlier ones, so the set is downward closed and an entry's counter
// covers every dot of that actor up to it.
//
// A Clock is a value: its methods never modify the receiver in place, and
// the zero Clock is the empty context ("I have seen nothing"). Entries are
// kept sorted by actor.
type Clock struct {
	entries []Entry
}

// NewClock returns a clock holding the given entries. Entries for the same
// actor are merged (largest counter and time win).
func NewClock(entries ...Entry) Clock {
	var c Clock
	for _, e := range entries {
		c = c.with(e)
	}
	return c
}

// Entries returns a copy of the clock's entries, sorted by actor.
func (c Clock) Entries() []Entry {
	return slices.Clone(c.entries)
}

// Len returns the number of actors in the clock.
func (c Clock) Len() int { return len(c.entries) }

// IsZero reports whether the clock is empty.
func (c Clock) IsZero() bool { return len(c.entries) == 0 }

// Get returns the counter of actor a, or 0 when a is absent.
func (c Clock) Get(a ActorID) uint64 {
	i, ok := c.find(a)
	if !ok {
		return 0
	}
	return c.entries[i].Counter
}

// Covers reports whether the dot d is in the causal context c.
func (c Clock) Covers(d Dot) bool {
	return d.Counter != 0 && d.Counter <= c.Get(d.Actor)
}

// Descends reports whether c has seen everything o has seen.
func (c Clock) Descends(o Clock) bool {
	for _, e := range o.entries {
		if c.Get(e.Actor) < e.Counter {
			return false
		}
	}
	return true
}

// Equal reports whether the two clocks hold the same counters (times are
// not compared).
func (c Clock) Equal(o Clock) bool {
	if len(c.entries) != len(o.entries) {
		return false
	}
	for i, e := range c.entries {
		if o.entries[i].Actor != e.Actor || o.entries[i].Counter != e.Counter {
			return false
		}
	}
	return true
}

// Merge returns the least upper bound of c and o: for every actor, the larger
// counter, and with it the later time. Merge is commutative, associative and
// idempotent.
func (c Clock) Merge(o Clock) Clock {
	if len(o.entries) == 0 {
		return c
	}
	if len(c.entries) == 0 {
		return o
	}
	out := make([]Entry, 0, len(c.entries)+len(o.entries))
	i, j := 0, 0
	for i < len(c.entries) && j < len(o.entries) {
		a, b := c.entries[i], o.entries[j]
		switch {
		case a.Actor < b.Actor:
			out = append(out, a)
			i++
		case a.Actor > b.Actor:
			out = append(out, b)
			j++
		default:
			out = append(out, maxEntry(a, b))
			i++
			j++
		}
	}
	out = append(out, c.entries[i:]...)
	out = append(out, o.entries[j:]...)
	return Clock{entries: out}
}

// Add returns c with the dot d included, stamped with time t (Unix ms).
func (c Clock) Add(d Dot, t int64) Clock {
	return c.with(Entry{Actor: d.Actor, Counter: d.Counter, Time: t})
}

// Prune returns c without its oldest entries (by Time, ties by actor) until
// at most max remain, never removing an actor listed in keep. The second
// result reports whether anything was removed. Pruning loses causal
// information: a version that a pruned entry covered may come back as a
// sibling (a false conflict), never the other way round.
func (c Clock) Prune(max int, keep func(ActorID) bool) (Clock, bool) {
	if max < 1 || len(c.entries) <= max {
		return c, false
	}
	order := make([]int, len(c.entries))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		a, b := c.entries[order[x]], c.entries[order[y]]
		if a.Time != b.Time {
			return a.Time < b.Time
		}
		return a.Actor < b.Actor
	})
	drop := make(map[int]bool)
	excess := len(c.entries) - max
	for _, i := range order {
		if excess == 0 {
			break
		}
		if keep != nil && keep(c.entries[i].Actor) {
			continue
		}
		drop[i] = true
		excess--
	}
	if len(drop) == 0 {
		return c, false
	}
	out := make([]Entry, 0, len(c.entries)-len(drop))
	for i, e := range c.entries {
		if !drop[i] {
			out = append(out, e)
		}
	}
	return Clock{entries: out}, true
}

func (c Clock) find(a ActorID) (int, bool) {
	// Clocks are small (pruned to about ten entries): a linear scan beats a
	// binary search.
	for i, e := range c.entries {
		if e.Actor == a {
			return i, true
		}
		if e.Actor > a {
			return i, false
		}
	}
	return len(c.entries), false
}

func (c Clock) with(e Entry) Clock {
	i, ok := c.find(e.Actor)
	out := make([]Entry, 0, len(c.entries)+1)
	out = append(out, c.entries[:i]...)
	if ok {
		out = append(out, maxEntry(c.entries[i], e))
		out = append(out, c.entries[i+1:]...)
	} else {
		out = append(out, e)
		out = append(out, c.entries[i:]...)
	}
	return Clock{entries: out}
}

func maxEntry(a, b Entry) Entry {
	out := a
	if b.Counter > out.Counter {
		out.Counter = b.Counter
	}
	if b.Time > out.Time {
		out.Time = b.Time
	}
	return out
}
