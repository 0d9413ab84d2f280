package replication

import (
	"bytes"
	"slices"
)

// Sibling is one version of a key's value: what one write stored. Deletes
// and expiry are versions too, so they travel through merge, handoff and
// repair like any value and cannot be undone by an older replica.
type Sibling struct {
	// Dot identifies the write that made this version.
	Dot Dot
	// Time is the coordinator's wall clock at the write, in Unix
	// nanoseconds. It orders siblings for a plain GET, nothing else.
	Time int64
	// ExpireAt is when the version stops being live, in Unix milliseconds;
	// 0 means never.
	ExpireAt int64
	// Tombstone marks a delete.
	Tombstone bool
	// Counter marks a counter contribution: Value is the decimal sum of
	// every increment its actor made (see Write.Increment and
	// Object.Newest).
	Counter bool
	// HLL marks a HyperLogLog sketch: Value is a crdt.HLL encoding. The
	// key's sketch is the union of its live HLL siblings.
	HLL bool
	// Type, when not 0, makes the version a collection's head: the key
	// holds a collection of that type (a byte the front end defines),
	// whose elements live under element keys of their own (see
	// ring.ElementKey). Value is empty. On a tombstone, it marks the
	// delete of such a collection.
	Type byte
	// Observed, on a version that is no counter contribution, is what the
	// write that made it replaced of each actor's contributions: per
	// actor, the newest contribution it covered (also through the versions
	// it replaced). A contribution that actor mints later without having
	// seen this version still counts the observed value, so Newest takes
	// it off; one it mints having seen it continues from it.
	Observed []Contribution
	// Value is the stored bytes; empty for tombstones. Never modified once
	// the sibling is built.
	Value []byte
}

// Live reports whether s is a value (not a tombstone) that has not expired
// at nowMs (Unix milliseconds).
func (s *Sibling) Live(nowMs int64) bool {
	return !s.Tombstone && (s.ExpireAt == 0 || s.ExpireAt > nowMs)
}

// newer reports whether s sorts after o for a plain GET: later write time,
// ties broken by actor (the writer's identity), then counter.
func (s *Sibling) newer(o *Sibling) bool {
	if s.Time != o.Time {
		return s.Time > o.Time
	}
	if s.Dot.Actor != o.Dot.Actor {
		return s.Dot.Actor > o.Dot.Actor
	}
	return s.Dot.Counter > o.Dot.Counter
}

// Object is one replica's state of a key: a dotted causal container of
// sibling versions (each with its own dot) and the causal context of every
// dot the replica has seen. A sibling is kept exactly while no write that
// saw it has replaced it, so concurrent writes all survive, including two
// writes through the same coordinator with the same stale context (the case
// plain per-node vector clocks get wrong).
//
// An Object is immutable once built: Apply and Merge return new objects and
// never modify their inputs, so objects may be shared between goroutines. A
// nil *Object is a key with no versions at all.
type Object struct {
	// Clock is the causal context: every dot this state has seen.
	Clock Clock
	// Siblings are the versions no seen write has replaced, sorted by dot.
	Siblings []Sibling
}

// Write describes a new version for Object.Apply.
type Write struct {
	// Context is what the writer had seen; the siblings it covers are
	// replaced by the new version, the others stay beside it.
	Context Clock
	// Value is the new value; ignored for tombstones. The new version keeps
	// the slice: the caller must not modify it afterwards.
	Value []byte
	// Tombstone makes the version a delete.
	Tombstone bool
	// ExpireAt is the version's expiry in Unix milliseconds, 0 for none.
	ExpireAt int64
	// Increment, when not nil, makes the write a counter increment by this
	// decimal number (INCRBY, INCRBYFLOAT): the new version is a counter
	// contribution that replaces only its minting actor's previous one,
	// raised by Increment, whatever Context, Value and Tombstone say. So
	// increments through different coordinators are all kept, each
	// actor's in one sibling, and the key's value is their sum on top of
	// its newest plain value (Object.Newest). A write with a context that
	// covers them (a SET after a read) replaces them.
	Increment []byte
	// HLL makes the version a HyperLogLog sketch (Value is its encoding).
	HLL bool
	// Type makes the version a collection head, or with Tombstone a
	// collection's delete (see Sibling.Type); Value is ignored.
	Type byte
}

// Contribution is one actor's counter contribution as a version observed
// it: its dot and cumulative value.
type Contribution struct {
	Dot   Dot
	Value []byte
}

// observedOf returns the contribution of actor a that s observed, if any.
func (s *Sibling) observedOf(a ActorID) (Contribution, bool) {
	for _, c := range s.Observed {
		if c.Dot.Actor == a {
			return c, true
		}
	}
	return Contribution{}, false
}

// counterBit marks the actor of counter contributions: an actor's
// contributions carry its id with this bit flipped, so that a context that
// covers its previous contribution does not also cover the plain versions
// the same actor wrote (an actor's dots are downward closed in a clock).
const counterBit ActorID = 1 << 63

// CounterActor returns the actor under which actor a mints its counter
// contributions.
func CounterActor(a ActorID) ActorID { return a ^ counterBit }

// Apply returns the object after the write w, minted as dot d at time
// nowNanos. Siblings covered by w.Context are dropped; the rest stay. The
// new clock is the old one joined with w.Context and d, pruned to at most
// pruneAt entries (oldest first, never an actor that still has a sibling);
// pruneAt < 1 disables pruning. o may be nil.
func (o *Object) Apply(d Dot, nowNanos int64, w Write, pruneAt int) *Object {
	nowMs := nowNanos / 1e6
	var cur Object
	if o != nil {
		cur = *o
	}
	counter := w.Increment != nil
	var observed []Contribution
	if counter {
		d.Actor = CounterActor(d.Actor)
		// The actor's cumulative sum continues from the newest of its
		// contributions this state knows: its own, or one a version
		// observed (a version replaced it; others may have observed older
		// ones of the same actor).
		sum, own := w.Increment, Clock{}
		var newest Dot
		for i := range cur.Siblings {
			s := &cur.Siblings[i]
			if s.Counter && s.Dot.Actor == d.Actor {
				own = NewClock(Entry{Actor: d.Actor, Counter: s.Dot.Counter, Time: nowMs})
				if s.Dot.Counter > newest.Counter {
					newest, sum = s.Dot, AddDecimal(s.Value, w.Increment)
				}
			}
			if c, ok := s.observedOf(d.Actor); ok && c.Dot.Counter > newest.Counter {
				newest, sum = c.Dot, AddDecimal(c.Value, w.Increment)
			}
		}
		w = Write{Context: own, Value: sum, ExpireAt: w.ExpireAt}
	} else {
		observed = observedBy(cur.Siblings, w.Context)
	}
	out := &Object{
		Clock:    cur.Clock.Merge(w.Context).Add(d, nowMs),
		Siblings: make([]Sibling, 0, len(cur.Siblings)+1),
	}
	for _, s := range cur.Siblings {
		if !w.Context.Covers(s.Dot) {
			out.Siblings = append(out.Siblings, s)
		}
	}
	ns := Sibling{Dot: d, Time: nowNanos, ExpireAt: w.ExpireAt, Tombstone: w.Tombstone, Counter: counter, HLL: w.HLL && !counter && !w.Tombstone, Observed: observed}
	switch {
	case w.Type != 0 && !counter:
		ns.Type, ns.HLL = w.Type, false
	case !w.Tombstone:
		ns.Value = w.Value
	}
	out.Siblings = append(out.Siblings, ns)
	slices.SortFunc(out.Siblings, func(a, b Sibling) int { return compareDots(a.Dot, b.Dot) })
	if pruneAt > 0 {
		out.Clock, _ = out.Clock.Prune(pruneAt, out.hasSiblingOf)
	}
	return out
}

// observedBy returns what a write with context ctx observes of the counter
// contributions among sibs: per actor, the newest of the contributions it
// covers and of those the versions it covers observed.
func observedBy(sibs []Sibling, ctx Clock) []Contribution {
	var out []Contribution
	note := func(c Contribution) {
		for i := range out {
			if out[i].Dot.Actor == c.Dot.Actor {
				if out[i].Dot.Counter < c.Dot.Counter {
					out[i] = c
				}
				return
			}
		}
		out = append(out, c)
	}
	for i := range sibs {
		s := &sibs[i]
		if !ctx.Covers(s.Dot) {
			continue
		}
		if s.Counter {
			note(Contribution{Dot: s.Dot, Value: s.Value})
			continue
		}
		for _, c := range s.Observed {
			note(c)
		}
	}
	slices.SortFunc(out, func(a, b Contribution) int { return compareDots(a.Dot, b.Dot) })
	return out
}

// anchor returns the newest version that is no counter contribution, live
// or not (a delete or an expired value): when no value is live, its
// Observed is what the contributions must not count again. nil when there
// is none.
func (o *Object) anchor() *Sibling {
	var a *Sibling
	for i := range o.Siblings {
		if s := &o.Siblings[i]; !s.Counter && (a == nil || s.newer(a)) {
			a = s
		}
	}
	return a
}

// Merge returns the join of two replicas' states of the same key: siblings
// both hold, plus each side's siblings the other has not seen; the clocks
// joined. Merge is commutative, associative and idempotent, and never drops
// a version that neither side's context covers. Either may be nil.
func (o *Object) Merge(p *Object) *Object {
	switch {
	case o == nil:
		return p
	case p == nil:
		return o
	}
	out := &Object{
		Clock:    o.Clock.Merge(p.Clock),
		Siblings: make([]Sibling, 0, max(len(o.Siblings), len(p.Siblings))),
	}
	i, j := 0, 0
	for i < len(o.Siblings) || j < len(p.Siblings) {
		switch {
		case j == len(p.Siblings) || (i < len(o.Siblings) && o.Siblings[i].Dot.Less(p.Siblings[j].Dot)):
			if s := o.Siblings[i]; !p.Clock.Covers(s.Dot) {
				out.Siblings = append(out.Siblings, s)
			}
			i++
		case i == len(o.Siblings) || p.Siblings[j].Dot.Less(o.Siblings[i].Dot):
			if s := p.Siblings[j]; !o.Clock.Covers(s.Dot) {
				out.Siblings = append(out.Siblings, s)
			}
			j++
		default:
			// The same dot is the same write: dots are unique.
			out.Siblings = append(out.Siblings, o.Siblings[i])
			i++
			j++
		}
	}
	return out
}

// Equal reports whether o and p hold the same clock counters and the same
// siblings. Read repair uses it to find stale replicas.
func (o *Object) Equal(p *Object) bool {
	if o == nil || p == nil {
		return o.Len() == 0 && p.Len() == 0 && o.clock().IsZero() && p.clock().IsZero()
	}
	if !o.Clock.Equal(p.Clock) || len(o.Siblings) != len(p.Siblings) {
		return false
	}
	for i := range o.Siblings {
		a, b := &o.Siblings[i], &p.Siblings[i]
		if a.Dot != b.Dot || a.Time != b.Time || a.ExpireAt != b.ExpireAt ||
			a.Tombstone != b.Tombstone || a.Counter != b.Counter || a.HLL != b.HLL || a.Type != b.Type || !bytes.Equal(a.Value, b.Value) ||
			len(a.Observed) != len(b.Observed) {
			return false
		}
		for k := range a.Observed {
			if a.Observed[k].Dot != b.Observed[k].Dot || !bytes.Equal(a.Observed[k].Value, b.Observed[k].Value) {
				return false
			}
		}
	}
	return true
}

// Len returns the number of siblings, tombstones and expired ones included.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.Siblings)
}

// Context returns the causal context a client must send back to replace
// what it read. It is empty for a nil object.
func (o *Object) Context() Clock {
	return o.clock()
}

// Live returns the siblings that are live at nowMs (Unix milliseconds),
// oldest write first.
func (o *Object) Live(nowMs int64) []Sibling {
	if o == nil {
		return nil
	}
	var out []Sibling
	for i := range o.Siblings {
		if o.Siblings[i].Live(nowMs) {
			out = append(out, o.Siblings[i])
		}
	}
	slices.SortFunc(out, func(a, b Sibling) int {
		if a.newer(&b) {
			return 1
		}
		if b.newer(&a) {
			return -1
		}
		return 0
	})
	return out
}

// Newest returns the live version a plain GET answers with: the live plain
// sibling with the latest write time, ties broken by writer. When live
// counter contributions are there too, it is a version built for the
// answer: its value is the sum of theirs on top of that sibling's (or on
// top of 0 when there is none), its expiry that sibling's (else the newest
// contribution's); a plain value that is no number ignores them (the
// contributions stay, and VGET shows them). It returns nil when nothing is
// live.
func (o *Object) Newest(nowMs int64) *Sibling {
	if o == nil {
		return nil
	}
	var best, newestCounter *Sibling
	counted := false // some version observed a contribution
	for i := range o.Siblings {
		s := &o.Siblings[i]
		counted = counted || len(s.Observed) > 0
		switch {
		case !s.Live(nowMs):
		case s.Counter:
			if newestCounter == nil || s.newer(newestCounter) {
				newestCounter = s
			}
		case best == nil || s.newer(best):
			best = s
		}
	}
	if (newestCounter == nil && !counted) || (best != nil && !IsDecimal(best.Value)) {
		return best
	}
	// Per actor, its newest cumulative sum this state knows (a live
	// contribution, or one a version observed), less what the anchor
	// observed of it: what the actor added that the anchor did not see.
	// The anchor is the version whose value is the base (best), else the
	// newest delete or expired value.
	anchor := best
	if anchor == nil {
		anchor = o.anchor()
	}
	type known struct {
		dot Dot
		val []byte
	}
	latest := map[ActorID]known{}
	note := func(d Dot, v []byte) {
		if k, ok := latest[d.Actor]; !ok || k.dot.Counter < d.Counter {
			latest[d.Actor] = known{d, v}
		}
	}
	for i := range o.Siblings {
		s := &o.Siblings[i]
		if s.Counter {
			if s.Live(nowMs) {
				note(s.Dot, s.Value)
			}
			continue
		}
		for _, c := range s.Observed {
			note(c.Dot, c.Value)
		}
	}
	sum, added := []byte("0"), false
	actors := make([]ActorID, 0, len(latest))
	for a := range latest {
		actors = append(actors, a)
	}
	slices.Sort(actors) // floats add in one order on every replica
	for _, a := range actors {
		k := latest[a]
		seen := Contribution{}
		if anchor != nil {
			seen, _ = anchor.observedOf(a)
		}
		if seen.Dot == k.dot {
			continue
		}
		added = true
		sum = AddDecimal(sum, k.val)
		if seen.Value != nil {
			sum = SubDecimal(sum, seen.Value)
		}
	}
	if newestCounter == nil && !added {
		return best
	}
	var total Sibling
	switch {
	case newestCounter != nil:
		total = *newestCounter
	case best != nil:
		total = *best
	default: // only increments a delete did not see: take the anchor's time
		total = *anchor
		total.Tombstone, total.ExpireAt = false, 0
	}
	total.Counter, total.Observed = false, nil
	if best != nil {
		sum = AddDecimal(best.Value, sum)
		if newestCounter == nil || best.newer(newestCounter) {
			total.Dot, total.Time = best.Dot, best.Time
		}
		total.ExpireAt = best.ExpireAt
	}
	total.Value = sum
	return &total
}

func (o *Object) clock() Clock {
	if o == nil {
		return Clock{}
	}
	return o.Clock
}

func (o *Object) hasSiblingOf(a ActorID) bool {
	for i := range o.Siblings {
		if o.Siblings[i].Dot.Actor == a {
			return true
		}
	}
	return false
}

func compareDots(a, b Dot) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}
