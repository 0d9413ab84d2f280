package ring

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomMembers returns s members with random ids and weights in 1..maxW.
func randomMembers(rng *rand.Rand, s, maxW int) []Member {
	ms := make([]Member, s)
	for i := range ms {
		ms[i] = Member{ID: fmt.Sprintf("10.%d.%d.%d:%d", rng.IntN(256), rng.IntN(256), rng.IntN(256), 6379+rng.IntN(1000)), Weight: 1 + rng.IntN(maxW)}
	}
	// Make ids unique.
	for i := range ms {
		ms[i].ID = fmt.Sprintf("%s#%d", ms[i].ID, i)
	}
	return ms
}

func mustNew(t testing.TB, q, n int, ms []Member) *Ring {
	t.Helper()
	r, err := New(q, n, ms)
	if err != nil {
		t.Fatalf("New(%d, %d, %d members): %v", q, n, len(ms), err)
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
}

// diff compares a to b; fresh is the set of ids in b but not in a (joiners)
// or, for removals, the removed ids (then "ToNew" counts moves from them).
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
		for _, id := range rb {
			if !slices.Contains(ra, id) {
				if fresh[id] {
					m.repToNew++
				} else {
					// Gained by an old node: on a removal, it is taking over
					// a removed node's responsibility if p lost a removed node.
					lostFresh := false
					for _, x := range ra {
						if fresh[x] && !slices.Contains(rb, x) {
							lostFresh = true
						}
					}
					if lostFresh {
						m.repToNew++ // counted as the removal's own movement
					} else {
						m.repOldOld++
					}
				}
			}
		}
		for _, id := range ra {
			if !slices.Contains(rb, id) {
				m.repLost++
			}
		}
	}
	return m
}
