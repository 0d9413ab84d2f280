package ring

import (
	"fmt"
	"math"
	"testing"
)

// FuzzNew replays arbitrary histories (joins, concurrent joins, removals,
// weights and generations drawn from the input, Q and N small) and checks
// that New never panics, that it matches the naive replay, that every ring
// it returns keeps the preference list properties and, inside the
// envelope (Q >= 4·S at every step), the balance guarantees (primaries
// only when a weight exceeds 4: heavy nodes make the replica balance best
// effort).
func FuzzNew(f *testing.F) {
	f.Add([]byte{3, 4, 1, 1, 1, 1, 2, 3})
	f.Add([]byte{0, 1, 50, 1, 1, 1, 1})
	f.Add([]byte{8, 2, 1, 200, 7, 7, 7, 7, 7, 7, 1, 1})
	f.Add([]byte{6, 5, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{9, 2, 1, 1, 2, 1, 3, 4, 4, 1, 0x81, 0, 5, 2, 6, 3, 0x82, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		q := 1 << (data[0] % 11)
		n := int(data[1]%6) + 1
		data = data[2:]
		// Each pair of bytes is an event: a join of weight b&15 (0 is an
		// invalid weight), or with the top bit set a removal of the
		// (b&63)-th record; the second byte adds 0..3 to the generation.
		var recs []Member
		gen := uint64(1)
		for len(data) >= 2 && len(recs) < 24 {
			a, b := data[0], data[1]
			data = data[2:]
			gen += uint64(b % 4)
			if a&0x80 != 0 {
				if len(recs) > 0 {
					i := int(a&63) % len(recs)
					if recs[i].Removed == 0 {
						recs[i].Removed = gen
					}
				}
				continue
			}
			recs = append(recs, Member{ID: fmt.Sprintf("n%d", len(recs)), Weight: int(a & 15), Joined: gen})
		}
		r, err := New(q, n, recs)
		if err != nil {
			return // bad weights, bad generations, no members
		}
		cur := current(recs)
		checkPreferences(t, r, cur)
		compareNaive(t, "fuzz", q, n, recs)
		if q >= 4*len(recs) {
			maxW := 0
			for _, m := range recs {
				maxW = max(maxW, m.Weight)
			}
			if maxW <= 4 {
				checkBalance(t, r, cur)
			} else {
				// Heavy nodes: the replica balance is best effort; the
				// primaries stay exact.
				checkBalanceTol(t, r, cur, math.Inf(1))
			}
		}
	})
}
