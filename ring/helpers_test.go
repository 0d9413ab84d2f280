package ring

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomMembers returns s members with random ids and weights in 1..maxW
// that joined one after the other (generations 1..s).
func randomMembers(rng *rand.Rand, s, maxW int) []Member {
	ms := make([]Member, s)
	for i := range ms {
		ms[i] = Member{ID: randomID(rng, i), Weight: 1 + rng.IntN(maxW), Joined: uint64(i + 1)}
	}
	return ms
}

func randomID(rng *rand.Rand, i int) string {
	return fmt.Sprintf("10.%d.%d.%d:%d#%d", rng.IntN(256), rng.IntN(256), rng.IntN(256), 6379+rng.IntN(1000), i)
}

// randomHistory returns the records of a random history of joins
// (sometimes concurrent: two nodes picking the same generation) and
// explicit removals, ending with at least minLive members. pRemove is the
// chance that a step removes a random member.
func randomHistory(rng *rand.Rand, steps, minLive, maxW int, pRemove float64) []Member {
	var recs []Member
	var live []int
	gen := uint64(0)
	for step := 0; step < steps || len(live) < minLive; step++ {
		if len(live) > minLive && rng.Float64() < pRemove {
			j := rng.IntN(len(live))
			gen++
			recs[live[j]].Removed = gen
			live = slices.Delete(live, j, j+1)
			continue
		}
		if rng.IntN(8) != 0 || gen == 0 {
			gen++
		}
		live = append(live, len(recs))
		recs = append(recs, Member{ID: randomID(rng, len(recs)), Weight: 1 + rng.IntN(maxW), Joined: gen})
	}
	return recs
}

// current returns the records that are not removed.
func current(recs []Member) []Member {
	return slices.DeleteFunc(slices.Clone(recs), func(m Member) bool { return m.Removed != 0 })
}

// step is one event of a history and the records known after it.
type step struct {
	id     string
	remove bool
	recs   []Member // the history up to and including this event
}

// replaySteps splits a history into its events, in replay order, each with
// the records as of that event.
func replaySteps(recs []Member) []step {
	var out []step
	known := map[string]Member{}
	for _, ev := range events(recs) {
		m := recs[ev.node]
		if ev.remove {
			known[m.ID] = m
		} else {
			m.Removed = 0
			known[m.ID] = m
		}
		var now []Member
		for _, r := range known {
			now = append(now, r)
		}
		out = append(out, step{m.ID, ev.remove, now})
	}
	return out
}

func mustNew(t testing.TB, q, n int, ms []Member) *Ring {
	t.Helper()
	r, err := New(q, n, ms)
	if err != nil {
		t.Fatalf("New(%d, %d, %d records): %v", q, n, len(ms), err)
	}
	return r
}

func totalWeight(ms []Member) int {
	w := 0
	for _, m := range ms {
		w += m.Weight
	}
	return w
}

// idealPrimary is a member's weighted ideal primary share Q*w/sum(w).
func idealPrimary(q int, ms []Member, w int) float64 {
	return float64(q) * float64(w) / float64(totalWeight(ms))
}

// idealReplicas returns every member's ideal replica load: np*Q*w/sum(w),
// capped at Q with the excess spread over the others by weight.
func idealReplicas(q, np int, ms []Member) map[string]float64 {
	out := map[string]float64{}
	capped := map[string]bool{}
	for {
		rest := float64(np * q)
		wrest := 0.0
		for _, m := range ms {
			if capped[m.ID] {
				rest -= float64(q)
			} else {
				wrest += float64(m.Weight)
			}
		}
		changed := false
		for _, m := range ms {
			if !capped[m.ID] && rest*float64(m.Weight)/wrest >= float64(q) {
				capped[m.ID], changed = true, true
			}
		}
		if !changed {
			for _, m := range ms {
				if capped[m.ID] {
					out[m.ID] = float64(q)
				} else {
					out[m.ID] = rest * float64(m.Weight) / wrest
				}
			}
			return out
		}
	}
}

// movement counts what changed between two rings.
type movement struct {
	primToNew, primOldOld int // partitions whose primary changed
	repToNew, repOldOld   int // responsibilities (p, node) gained
	repLost               int // responsibilities lost
	lostByOld             int // responsibilities lost by a node not in fresh
}

// diff compares a to b; fresh is the set of ids that joined (in b, not in
// a) or were removed (in a, not in b). A responsibility gained counts as
// "to new" if it goes to a joiner or replaces a removed node in the same
// partition, as old-to-old otherwise; a primary change counts as "to new"
// if either side is fresh.
func diff(a, b *Ring, fresh map[string]bool) movement {
	var m movement
	for p := range a.Q() {
		oa, ob := a.Owner(p), b.Owner(p)
		if oa != ob {
			if fresh[ob] || fresh[oa] {
				m.primToNew++
			} else {
				m.primOldOld++
			}
		}
		ra, rb := a.Replicas(p), b.Replicas(p)
		lostFresh := 0
		for _, x := range ra {
			if !slices.Contains(rb, x) {
				m.repLost++
				if fresh[x] {
					lostFresh++
				} else {
					m.lostByOld++
				}
			}
		}
		for _, id := range rb {
			if slices.Contains(ra, id) {
				continue
			}
			switch {
			case fresh[id]:
				m.repToNew++
			case lostFresh > 0:
				lostFresh--
				m.repToNew++
			default:
				m.repOldOld++
			}
		}
	}
	return m
}

// historyRings replays a history once and returns the ring after each of
// its events (as New would build from the records known then; see
// TestHistoryRingsMatchNew), with the events.
func historyRings(t testing.TB, q, n int, recs []Member) ([]step, []*Ring) {
	t.Helper()
	steps := replaySteps(recs)
	sorted, err := canonicalMembers(recs)
	if err != nil {
		t.Fatal(err)
	}
	byHash := slices.Clone(sorted)
	slices.SortFunc(byHash, func(a, b Member) int {
		if c := cmp.Compare(HashKey([]byte(a.ID)).Hi, HashKey([]byte(b.ID)).Hi); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	peak := 0
	for _, s := range steps {
		peak = max(peak, len(current(s.recs)))
	}
	st := newReplay(q, min(n, peak), byHash)
	var rings []*Ring
	for i, ev := range events(byHash) {
		st.apply(ev)
		known := slices.Clone(steps[i].recs)
		slices.SortFunc(known, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
		if len(st.live) == 0 {
			rings = append(rings, nil)
			continue
		}
		rings = append(rings, st.ring(n, known, byHash))
	}
	return steps, rings
}
