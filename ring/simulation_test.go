package ring

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSimulation prints the placement's figures for a range of cluster
// sizes and weight mixes. It runs only when asked for by name:
//
//	go test ./ring -run Simulation -v          (add -short to skip S=1000)
func TestSimulation(t *testing.T) {
	if f := flag.Lookup("test.run"); f == nil || !strings.Contains(f.Value.String(), "Simulation") {
		t.Skip("run with -run Simulation")
	}
	type config struct {
		s, q int
		mix  string
	}
	var configs []config
	for _, mix := range []string{"uniform 1", "random 1-4"} {
		for _, c := range []struct{ s, q int }{{3, 1024}, {5, 1024}, {10, 1024}, {100, 4096}, {1000, 65536}} {
			configs = append(configs, config{c.s, c.q, mix})
		}
	}
	var rows []string
	rows = append(rows,
		"| S | Q | weights | primaries min..max / ideal | replicas min..max / ideal | join: replicas moved / ideal (old→old) | join: primaries moved / ideal (old→old) | removal: replicas moved / ideal (old→old) | keys max/mean | lookup ns | build | metadata B | tables B |",
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	const n = 3
	for _, c := range configs {
		if c.s >= 1000 && testing.Short() {
			continue
		}
		rng := rand.New(rand.NewPCG(uint64(c.s), uint64(c.q)))
		maxW := 1
		if c.mix != "uniform 1" {
			maxW = 4
		}
		ms := randomMembers(rng, c.s, maxW)
		start := time.Now()
		r := mustNew(t, c.q, n, ms)
		build := time.Since(start)
		checkBalance(t, r, ms)
		np := min(n, c.s)

		// Balance relative to the weighted ideals.
		ideal := idealReplicas(c.q, np, ms)
		pmin, pmax, rmin, rmax := math.Inf(1), 0.0, math.Inf(1), 0.0
		for _, m := range ms {
			prim, rep := r.Load(m.ID)
			pr := float64(prim) / idealPrimary(c.q, ms, m.Weight)
			rr := float64(rep) / ideal[m.ID]
			pmin, pmax = math.Min(pmin, pr), math.Max(pmax, pr)
			rmin, rmax = math.Min(rmin, rr), math.Max(rmax, rr)
		}

		// A join.
		x := Member{ID: "joiner", Weight: 1 + rng.IntN(maxW), Joined: uint64(c.s + 1)}
		joined := append(slices.Clone(ms), x)
		rj := mustNew(t, c.q, n, joined)
		mj := diff(r, rj, map[string]bool{"joiner": true})
		jIdeal := idealReplicas(c.q, np, joined)["joiner"]
		jRep := float64(mj.repToNew+mj.repOldOld) / jIdeal
		jOO := float64(mj.repOldOld) / jIdeal
		jPrim := float64(mj.primToNew+mj.primOldOld) / idealPrimary(c.q, joined, x.Weight)
		jPrimOO := mj.primOldOld

		// A removal of an existing member.
		gone := ms[rng.IntN(len(ms))]
		left := slices.Clone(ms)
		for i := range left {
			if left[i].ID == gone.ID {
				left[i].Removed = uint64(c.s + 1)
			}
		}
		rRem := "n/a (S-1 < N)"
		if len(ms)-1 >= n {
			rl := mustNew(t, c.q, n, left)
			ml := diff(r, rl, map[string]bool{gone.ID: true})
			rRem = fmt.Sprintf("%.3f (%d)", float64(ml.repToNew+ml.repOldOld)/ideal[gone.ID], ml.repOldOld)
		}

		// Replica key load over 1M random keys, per unit of ideal.
		keys := make(map[string]int, len(ms))
		key := make([]byte, 16)
		krng := rand.New(rand.NewPCG(5, 6))
		const nkeys = 1 << 20
		for range nkeys {
			for j := range key {
				key[j] = byte(krng.Uint32())
			}
			for _, id := range r.KeyPreferenceList(key).Replicas() {
				keys[id]++
			}
		}
		kmax := 0.0
		for _, m := range ms {
			expected := float64(nkeys) * ideal[m.ID] / float64(c.q)
			kmax = math.Max(kmax, float64(keys[m.ID])/expected)
		}

		res := testing.Benchmark(func(b *testing.B) { benchLookup(b, r) })
		rows = append(rows, fmt.Sprintf("| %d | %d | %s | %.3f..%.3f | %.3f..%.3f | %.3f (%.0f) | %.3f (%d) | %s | %.3f | %.0f | %v | %d | %d |",
			c.s, c.q, c.mix, pmin, pmax, rmin, rmax, jRep, jOO*jIdeal, jPrim, jPrimOO, rRem, kmax,
			float64(res.T.Nanoseconds())/float64(res.N), build.Round(time.Millisecond/10), r.Size(), r.TableSize()))
	}
	t.Log("N = 3; ideal shares are weighted (replica shares capped at Q); " +
		"moved counts responsibilities (partition, node) gained, old→old those gained by a node other than the joiner or in a partition the removed node did not hold (primaries: roles that changed between two old nodes); build is New from the records (a replay of S joins); keys max/mean is the most loaded node's replica key count over its weighted expectation\n" +
		strings.Join(rows, "\n"))
}
