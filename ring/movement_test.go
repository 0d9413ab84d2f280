package ring

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMinimalMovement replays random histories (joins, some concurrent,
// and removals; weights 1..4) and compares the rings before and after each
// event: a join gives replica responsibilities only to the joiner, and at
// most 1.1x its ideal share N·Q·w/W when Q·w/W >= 10; a removal moves only
// the removed node's responsibilities, each to a node that did not hold the
// partition. No primary role changes hands between two old nodes either
// (the primary fix-up could do it, moving no data; these histories never
// need it).
func TestMinimalMovement(t *testing.T) {
	type config struct{ s, q, n, maxW int }
	configs := []config{
		{3, 64, 3, 1}, {8, 64, 3, 4}, {16, 64, 3, 4}, {5, 1024, 1, 4}, {12, 1024, 2, 4},
		{10, 1024, 3, 1}, {10, 1024, 3, 4}, {40, 1024, 5, 4}, {100, 4096, 3, 4}, {64, 16384, 3, 4},
	}
	switch {
	case testing.Short():
	case raceEnabled:
		configs = append(configs, config{200, 4096, 3, 4})
	default:
		configs = append(configs, config{300, 4096, 3, 4}, config{250, 65536, 3, 4})
	}
	for _, c := range configs {
		t.Run(fmt.Sprintf("S=%d/Q=%d/N=%d/w<=%d", c.s, c.q, c.n, c.maxW), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.s), uint64(c.q*c.maxW+c.n)))
			recs := randomHistory(rng, c.s+c.s/4, c.s/2, c.maxW, 0.2)
			var prev *Ring
			worst, primOO, events := 0.0, 0, 0
			steps, rings := historyRings(t, c.q, c.n, recs)
			for i, st := range steps {
				r := rings[i]
				if prev == nil {
					prev = r
					continue
				}
				events++
				m := diff(prev, r, map[string]bool{st.id: true})
				primOO += m.primOldOld
				if m.repOldOld != 0 || m.lostByOld != 0 && st.remove {
					t.Fatalf("%s of %s: %d responsibilities moved between old nodes, %d lost by old nodes", kind(st.remove), st.id, m.repOldOld, m.lostByOld)
				}
				if st.remove {
					if r.np < prev.np { // full replication: x's slot closes up
						if m.repToNew != 0 || m.repLost != c.q {
							t.Fatalf("removal of %s from a fully replicated ring: %+v", st.id, m)
						}
					} else if m.repToNew != m.repLost {
						t.Fatalf("removal of %s: %d responsibilities gained, %d lost", st.id, m.repToNew, m.repLost)
					}
					prev = r
					continue
				}
				_, rep := r.Load(st.id)
				if m.repToNew != rep || (r.np == prev.np && m.repLost != rep) {
					t.Fatalf("join of %s: %d moved to it, %d lost, it holds %d", st.id, m.repToNew, m.repLost, rep)
				}
				cur := current(st.recs)
				np := min(c.n, len(cur))
				ideal := idealReplicas(c.q, np, cur)[st.id]
				var w int
				for _, x := range cur {
					if x.ID == st.id {
						w = x.Weight
					}
				}
				if len(cur) > np && math.Abs(float64(m.repToNew)-ideal) > 1+1e-9 {
					t.Fatalf("join of %s (S=%d): moved %d, ideal %.2f", st.id, len(cur), m.repToNew, ideal)
				}
				ratio := float64(m.repToNew) / ideal
				if idealPrimary(c.q, cur, w) >= 10 && ratio > 1.1 {
					t.Fatalf("join of %s (S=%d): moved %d, %.3fx its ideal %.1f", st.id, len(cur), m.repToNew, ratio, ideal)
				}
				if len(cur) > np { // full replication moves exactly Q
					worst = max(worst, ratio)
				}
				prev = r
			}
			t.Logf("%d events; worst join moved %.3fx the ideal; %d primary roles moved between old nodes", events, worst, primOO)
			if primOO != 0 {
				t.Errorf("%d primary roles moved between old nodes", primOO)
			}
		})
	}
}

func kind(remove bool) string {
	if remove {
		return "removal"
	}
	return "join"
}

// With N >= S every node holds every partition: a join only adds the
// joiner everywhere, exactly the minimal movement.
func TestMovementFullReplication(t *testing.T) {
	ms := []Member{mem("a", 1, 1), mem("b", 3, 2)}
	a := mustNew(t, 1024, 3, ms)
	b := mustNew(t, 1024, 3, append(ms, mem("c", 2, 3)))
	m := diff(a, b, map[string]bool{"c": true})
	if m.repToNew != 1024 || m.repOldOld != 0 || m.repLost != 0 {
		t.Fatalf("movement %+v", m)
	}
}

// The ring after each event of a history, as the replay's snapshots used
// by the tests, equals the ring New builds from the records known then.
func TestHistoryRingsMatchNew(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 5 {
		recs := randomHistory(rng, 20, 3, 4, 0.3)
		steps, rings := historyRings(t, 512, 3, recs)
		for i, st := range steps {
			if rings[i] == nil {
				continue
			}
			r := mustNew(t, 512, 3, st.recs)
			if r.Version() != rings[i].Version() {
				t.Fatalf("step %d: versions differ", i)
			}
			for p := range r.Q() {
				if !slices.Equal(r.PreferenceList(p).AppendTo(nil), rings[i].PreferenceList(p).AppendTo(nil)) {
					t.Fatalf("step %d: partition %d differs", i, p)
				}
			}
		}
	}
}
