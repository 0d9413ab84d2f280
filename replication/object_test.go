package replication

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// history simulates replicas of one key taking writes with random (often
// stale) contexts and syncing in random order. It records every write and
// every state that ever existed, for the property tests.
type history struct {
	rng      *rand.Rand
	replicas []*Object
	counters []uint64
	pruneAt  int
	now      int64
	writes   []histWrite
	states   []*Object
	contexts []Clock // contexts clients have read, to reuse as stale ones
}

type histWrite struct {
	dot Dot
	ctx Clock // the write's effective context: what it replaced
}

func newHistory(seed uint64, replicas, pruneAt int) *history {
	h := &history{
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		replicas: make([]*Object, replicas),
		counters: make([]uint64, replicas),
		pruneAt:  pruneAt,
		contexts: []Clock{{}},
	}
	return h
}

// write applies one write at replica i with a context chosen at random: a
// plain write (everything the replica knows), the empty context, or a
// context some client read earlier.
func (h *history) write(i int) {
	cur := h.replicas[i]
	var ctx Clock
	switch h.rng.IntN(3) {
	case 0:
		ctx = cur.Context()
	case 1:
		ctx = Clock{}
	default:
		ctx = h.contexts[h.rng.IntN(len(h.contexts))]
	}
	h.counters[i]++
	h.now += int64(h.rng.IntN(3)) * 1e6
	d := Dot{Actor: ActorID(i + 1), Counter: h.counters[i]}
	w := Write{Context: ctx, Value: fmt.Appendf(nil, "v%d.%d", i+1, h.counters[i])}
	if h.rng.IntN(8) == 0 {
		w.Tombstone, w.Value = true, nil
	}
	h.replicas[i] = cur.Apply(d, h.now, w, h.pruneAt)
	h.writes = append(h.writes, histWrite{dot: d, ctx: ctx})
	h.states = append(h.states, h.replicas[i])
}

func (h *history) read(i int) {
	h.contexts = append(h.contexts, h.replicas[i].Context())
}

func (h *history) sync(i, j int) {
	h.replicas[j] = h.replicas[j].Merge(h.replicas[i])
	h.states = append(h.states, h.replicas[j])
}

func (h *history) run(steps int) {
	n := len(h.replicas)
	for range steps {
		switch h.rng.IntN(4) {
		case 0, 1:
			h.write(h.rng.IntN(n))
		case 2:
			h.read(h.rng.IntN(n))
		default:
			h.sync(h.rng.IntN(n), h.rng.IntN(n))
		}
	}
}

func (h *history) mergedAll() *Object {
	var out *Object
	for _, r := range h.replicas {
		out = out.Merge(r)
	}
	return out
}

func dotsOf(o *Object) []Dot {
	var out []Dot
	for _, s := range o.Siblings {
		out = append(out, s.Dot)
	}
	return out
}

func TestMergeLaws(t *testing.T) {
	for seed := range uint64(200) {
		h := newHistory(seed, 3, 0)
		h.run(60)
		st := h.states
		for k := 0; k < 50 && len(st) > 0; k++ {
			a, b, c := st[h.rng.IntN(len(st))], st[h.rng.IntN(len(st))], st[h.rng.IntN(len(st))]
			if !a.Merge(b).Equal(b.Merge(a)) {
				t.Fatalf("seed %d: merge not commutative:\n a=%v\n b=%v", seed, a, b)
			}
			if !a.Merge(b).Merge(c).Equal(a.Merge(b.Merge(c))) {
				t.Fatalf("seed %d: merge not associative", seed)
			}
			if !a.Merge(a).Equal(a) {
				t.Fatalf("seed %d: merge not idempotent: %v", seed, a)
			}
			if !a.Merge(nil).Equal(a) || !(*Object)(nil).Merge(a).Equal(a) {
				t.Fatalf("seed %d: nil is not the identity", seed)
			}
		}
	}
}

// TestNoConcurrentWriteDropped checks the central promise: once replicas have
// exchanged their states, the siblings are exactly the writes that no other
// write's context covered. Nothing concurrent is lost, nothing replaced
// comes back.
func TestNoConcurrentWriteDropped(t *testing.T) {
	for seed := range uint64(300) {
		h := newHistory(seed, 3, 0)
		h.run(80)
		final := h.mergedAll()
		var want []Dot
		for _, w := range h.writes {
			covered := false
			for _, y := range h.writes {
				if y.dot != w.dot && y.ctx.Covers(w.dot) {
					covered = true
					break
				}
			}
			if !covered {
				want = append(want, w.dot)
			}
		}
		slices.SortFunc(want, compareDots)
		if got := dotsOf(final); !slices.Equal(got, want) {
			t.Fatalf("seed %d: siblings %v, want the uncovered writes %v", seed, got, want)
		}
		// Every replica converges to the same state after a full exchange.
		for i := range h.replicas {
			if r := h.replicas[i].Merge(final); !r.Equal(final) {
				t.Fatalf("seed %d: replica %d does not converge", seed, i)
			}
		}
	}
}

// TestPruningNeverDropsAWrite: with aggressive pruning, a replaced write may
// come back as a false sibling, but no uncovered write is ever lost.
func TestPruningNeverDropsAWrite(t *testing.T) {
	for seed := range uint64(200) {
		h := newHistory(seed, 6, 2)
		h.run(80)
		final := h.mergedAll()
		got := dotsOf(final)
		for _, w := range h.writes {
			covered := false
			for _, y := range h.writes {
				if y.dot != w.dot && y.ctx.Covers(w.dot) {
					covered = true
					break
				}
			}
			if !covered && !slices.Contains(got, w.dot) {
				t.Fatalf("seed %d: write %v lost under pruning", seed, w.dot)
			}
		}
	}
}

func TestSameStaleContextSameNodeKeepsBoth(t *testing.T) {
	a := ActorID(7)
	var o *Object
	o = o.Apply(Dot{a, 1}, 1e9, Write{Value: []byte("first")}, 10)
	stale := o.Context()
	o = o.Apply(Dot{a, 2}, 2e9, Write{Context: stale, Value: []byte("x")}, 10)
	o = o.Apply(Dot{a, 3}, 3e9, Write{Context: stale, Value: []byte("y")}, 10)
	live := o.Live(4000)
	if len(live) != 2 || string(live[0].Value) != "x" || string(live[1].Value) != "y" {
		t.Fatalf("live siblings = %v, want x and y", live)
	}
	if n := o.Newest(4000); string(n.Value) != "y" {
		t.Fatalf("newest = %q, want y", n.Value)
	}
	// A write with the context of that read replaces both.
	o = o.Apply(Dot{a, 4}, 5e9, Write{Context: o.Context(), Value: []byte("xy")}, 10)
	if live := o.Live(6000); len(live) != 1 || string(live[0].Value) != "xy" {
		t.Fatalf("after merge write: %v", live)
	}
}

func TestTombstoneAndExpiry(t *testing.T) {
	a := ActorID(1)
	var o *Object
	o = o.Apply(Dot{a, 1}, 1e9, Write{Value: []byte("v"), ExpireAt: 2000}, 10)
	if o.Newest(1500) == nil || o.Newest(2000) != nil {
		t.Fatal("expiry not honoured")
	}
	o = o.Apply(Dot{a, 2}, 3e9, Write{Context: o.Context(), Tombstone: true}, 10)
	if o.Len() != 1 || !o.Siblings[0].Tombstone || o.Newest(3000) != nil {
		t.Fatalf("tombstone: %+v", o.Siblings)
	}
	// An older replica that still has the value cannot resurrect it.
	old := (*Object)(nil).Apply(Dot{a, 1}, 1e9, Write{Value: []byte("v")}, 10)
	if m := o.Merge(old); m.Newest(3000) != nil {
		t.Fatal("merge resurrected a deleted value")
	}
}

func TestPruneOldestFirst(t *testing.T) {
	var o *Object
	for i := 1; i <= 15; i++ {
		// Each actor writes with a context covering everything, so only
		// the last actor keeps a sibling.
		o = o.Apply(Dot{ActorID(i), 1}, int64(i)*1e9, Write{Context: o.Context(), Value: []byte("v")}, 10)
	}
	if o.Clock.Len() != 10 {
		t.Fatalf("clock has %d entries, want 10", o.Clock.Len())
	}
	for i := 1; i <= 5; i++ {
		if o.Clock.Get(ActorID(i)) != 0 {
			t.Fatalf("actor %d should have been pruned (oldest)", i)
		}
	}
	if o.Clock.Get(15) != 1 {
		t.Fatal("newest actor pruned")
	}
	// An actor with a live sibling is never pruned, even when old.
	var p *Object
	p = p.Apply(Dot{100, 1}, 1e9, Write{Value: []byte("keep")}, 3)
	for i := 1; i <= 5; i++ {
		p = p.Apply(Dot{ActorID(i), 1}, int64(i+1)*1e9, Write{Context: Clock{}, Value: []byte("c")}, 3)
	}
	if p.Clock.Get(100) != 1 {
		t.Fatal("pruned an actor that has a sibling")
	}
}
