package ring

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// joinCase is a family of joins: a random member set of s nodes with
// weights 1..maxW, then one more node; bound is the largest accepted ratio
// of replica responsibilities moved to the joiner's ideal replica load.
type joinCase struct {
	s, q, maxW int
	bound      float64
}

// The envelopes where the placement meets the 1.1x movement bound (see the
// package documentation), and the looser bounds it meets elsewhere; the
// figures come from the same measurements as the simulation's table.
var joinCases = []joinCase{
	// 1.1x: uniform weights with Q >= 256*S.
	{3, 1024, 1, 1.1}, {4, 1024, 1, 1.1},
	{12, 4096, 1, 1.1}, {16, 4096, 1, 1.1},
	{32, 16384, 1, 1.1}, {64, 16384, 1, 1.1},
	// 1.2x: uniform weights with Q >= 100*S; weights 1..4 with S >= 10
	// and Q >= 1024*S.
	{8, 1024, 1, 1.2}, {10, 16384, 4, 1.2}, {16, 16384, 4, 1.2},
	// Outside: small clusters of uneven weights, and Q < 100*S.
	{4, 1024, 4, 1.6}, {5, 4096, 4, 1.6}, {6, 16384, 4, 1.6},
	{10, 1024, 1, 1.25}, {10, 1024, 4, 1.3}, {24, 1024, 1, 1.4},
	{64, 1024, 1, 2.5}, {64, 1024, 4, 3}, {100, 4096, 1, 2},
}

// TestMovementOnJoinAndRemoval builds rings before and after a join (and, as
// the same pair read backwards, a removal) and checks what moved: the
// joiner receives its share, the responsibilities that change hands are at
// most bound times the joiner's ideal replica load, and on removal nothing
// moves but the removed node's share and the same bounded reshuffle.
func TestMovementOnJoinAndRemoval(t *testing.T) {
	trials := 4
	if testing.Short() {
		trials = 1
	}
	for _, c := range joinCases {
		t.Run(fmt.Sprintf("S=%d/Q=%d/w<=%d", c.s, c.q, c.maxW), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.s), uint64(c.q*c.maxW)))
			worst := 0.0
			for range trials {
				ms := randomMembers(rng, c.s, c.maxW)
				x := Member{"joiner", 1 + rng.IntN(c.maxW)}
				after := append(slices.Clone(ms), x)
				a, b := mustNew(t, c.q, 3, ms), mustNew(t, c.q, 3, after)
				ideal := idealReplicas(c.q, 3, after)["joiner"]
				fresh := map[string]bool{"joiner": true}
				join := diff(a, b, fresh)
				moved := float64(join.repToNew + join.repOldOld)
				if _, rep := b.Load("joiner"); join.repToNew != rep {
					t.Fatalf("joiner holds %d, but %d responsibilities moved to it", rep, join.repToNew)
				}
				if moved > c.bound*ideal {
					t.Fatalf("join moved %v responsibilities (%d to the joiner), %.3fx the ideal %.1f", moved, join.repToNew, moved/ideal, ideal)
				}
				// The removal is the same pair of rings read backwards: the
				// survivors gain the leaver's responsibilities plus the
				// same reshuffle among themselves.
				leave := diff(b, a, fresh)
				if _, rep := b.Load("joiner"); leave.repToNew+leave.repOldOld != rep+join.repOldOld {
					t.Fatalf("removal moved %d responsibilities; the leaver held %d and the join reshuffled %d", leave.repToNew+leave.repOldOld, rep, join.repOldOld)
				}
				worst = max(worst, moved/ideal)
			}
			t.Logf("worst join moved %.3fx the ideal", worst)
		})
	}
}

// With N >= S every node holds every partition: a join only adds the
// joiner everywhere, exactly the minimal movement.
func TestMovementFullReplication(t *testing.T) {
	ms := []Member{{"a", 1}, {"b", 3}}
	a := mustNew(t, 1024, 3, ms)
	b := mustNew(t, 1024, 3, append(ms, Member{"c", 2}))
	m := diff(a, b, map[string]bool{"c": true})
	if m.repToNew != 1024 || m.repOldOld != 0 || m.repLost != 0 {
		t.Fatalf("movement %+v", m)
	}
}
