package replication

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// A model of a counter key on several replicas: increments, SETs and DELs
// made at random replicas, merged between them in random order. Each
// replica tracks which events (increments and writes) it has seen. A write
// survives unless a later write saw it; the value is then the newest
// surviving SET's, plus exactly the increments it had not seen (with no
// surviving SET, the increments the newest surviving DEL had not seen).
type counterModel struct {
	objs    []*Object
	seen    []map[int]bool // per replica: events it has seen
	deltas  map[int]int64  // increment events
	writes  []modelWrite
	events  int
	now     int64
	counter uint64
}

type modelWrite struct {
	id    int
	value int64
	del   bool
	seen  map[int]bool
	time  int64
}

func (m *counterModel) increment(rng *rand.Rand, r int, actor ActorID) {
	d := rng.Int64N(21) - 5
	m.counter++
	m.now++
	m.objs[r] = m.objs[r].Apply(Dot{Actor: actor, Counter: m.counter}, m.now, Write{Increment: strconv.AppendInt(nil, d, 10)}, 0)
	m.events++
	m.seen[r][m.events] = true
	m.deltas[m.events] = d
}

func (m *counterModel) set(rng *rand.Rand, r int, actor ActorID) {
	v := rng.Int64N(1000)
	del := rng.IntN(4) == 0
	if del {
		v = 0
	}
	m.counter++
	m.now++
	m.objs[r] = m.objs[r].Apply(Dot{Actor: actor, Counter: m.counter}, m.now, Write{Context: m.objs[r].Context(), Value: strconv.AppendInt(nil, v, 10), Tombstone: del}, 0)
	seen := map[int]bool{}
	for i := range m.seen[r] {
		seen[i] = true
	}
	m.events++
	m.seen[r][m.events] = true
	m.writes = append(m.writes, modelWrite{id: m.events, value: v, del: del, seen: seen, time: m.now})
}

func (m *counterModel) merge(from, to int) {
	m.objs[to] = m.objs[to].Merge(m.objs[from])
	for i := range m.seen[from] {
		m.seen[to][i] = true
	}
}

// want returns the expected value, "" for no key.
func (m *counterModel) want() string {
	var base, del *modelWrite
	for i := range m.writes {
		w := &m.writes[i]
		covered := false
		for _, o := range m.writes {
			covered = covered || o.seen[w.id]
		}
		switch {
		case covered:
		case !w.del && (base == nil || w.time > base.time):
			base = w
		case w.del && (del == nil || w.time > del.time):
			del = w
		}
	}
	anchor := base
	if anchor == nil {
		anchor = del
	}
	var sum int64
	any := false
	for i, d := range m.deltas {
		if anchor == nil || !anchor.seen[i] {
			sum += d
			any = true
		}
	}
	if base != nil {
		return fmt.Sprint(base.value + sum)
	}
	if !any {
		return ""
	}
	return fmt.Sprint(sum)
}

// TestCounterConverges: whatever the order of merges, every replica ends
// with the same state, and its value is the newest SET (or 0 after a DEL)
// plus exactly the increments it had not seen (all of them when there is
// no SET).
// Each actor's increments live in one sibling.
func TestCounterConverges(t *testing.T) {
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 99))
		replicas := 2 + rng.IntN(3)
		// An actor is one node: it mints at its own replica, which has
		// seen all its earlier dots.
		actors := []ActorID{11, 22, 33, 44}[:replicas]
		m := &counterModel{deltas: map[int]int64{}}
		for range replicas {
			m.objs = append(m.objs, nil)
			m.seen = append(m.seen, map[int]bool{})
		}
		sets := seed%3 != 0 // a third of the runs: increments only
		for range 20 + rng.IntN(60) {
			r := rng.IntN(replicas)
			a := actors[r]
			switch x := rng.IntN(10); {
			case x < 6:
				m.increment(rng, r, a)
			case x < 7 && sets:
				m.set(rng, r, a)
			default:
				m.merge(rng.IntN(replicas), r)
			}
		}
		// Full exchange in a random order, twice.
		for range 2 {
			for _, i := range rng.Perm(replicas) {
				for _, j := range rng.Perm(replicas) {
					m.merge(i, j)
				}
			}
		}
		for r := 1; r < replicas; r++ {
			if !m.objs[r].Equal(m.objs[0]) {
				t.Fatalf("seed %d: replicas %d and 0 differ after a full exchange", seed, r)
			}
		}
		got := ""
		if s := m.objs[0].Newest(m.now); s != nil {
			got = string(s.Value)
		}
		if want := m.want(); got != want {
			t.Fatalf("seed %d: value %q, want %q (%d increments, %d writes)", seed, got, want, len(m.deltas), len(m.writes))
		}
		counters := 0
		for _, s := range m.objs[0].Siblings {
			if s.Counter {
				counters++
			}
		}
		if counters > len(actors) {
			t.Fatalf("seed %d: %d contributions for %d actors", seed, counters, len(actors))
		}
	}
}
