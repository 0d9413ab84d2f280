package ring

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkBalance asserts the balance guarantees: every member is primary of
// floor or ceil of Q*w/sum(w) partitions, and holds within
// max(5%, N slots) of its (capped) ideal replica load (25% when a node is
// heavy).
func checkBalance(t testing.TB, r *Ring, ms []Member) {
	t.Helper()
	tol := 0.05
	if hasHeavy(r, ms) {
		tol = 0.25 // best effort: see doc.go
	}
	checkBalanceTol(t, r, ms, tol)
}

// hasHeavy reports whether some member's ideal replica load is Q while
// there are more members than replicas (it must hold every partition).
func hasHeavy(r *Ring, ms []Member) bool {
	np := min(r.N(), len(ms))
	if len(ms) <= np {
		return false
	}
	for _, v := range idealReplicas(r.Q(), np, ms) {
		if v >= float64(r.Q())-1e-9 {
			return true
		}
	}
	return false
}

// checkBalanceTol is checkBalance with a replica tolerance of tol (a
// fraction of the ideal) instead of 5%.
func checkBalanceTol(t testing.TB, r *Ring, ms []Member, tol float64) {
	t.Helper()
	np := min(r.N(), len(ms))
	ideal := idealReplicas(r.Q(), np, ms)
	prims := map[string]int{}
	reps := map[string]int{}
	for p := range r.Q() {
		prims[r.Owner(p)]++
		for _, id := range r.Replicas(p) {
			reps[id]++
		}
	}
	for _, m := range ms {
		ip := idealPrimary(r.Q(), ms, m.Weight)
		if got := float64(prims[m.ID]); got < math.Floor(ip) || got > math.Ceil(ip) {
			t.Fatalf("%s (weight %d) is primary of %v partitions, ideal %.3f", m.ID, m.Weight, got, ip)
		}
		ir := ideal[m.ID]
		if got := float64(reps[m.ID]); math.Abs(got-ir) > math.Max(tol*ir, float64(np))+1e-9 {
			t.Fatalf("%s (weight %d) holds %v partitions, ideal %.3f", m.ID, m.Weight, got, ir)
		}
		if prim, rep := r.Load(m.ID); prim != prims[m.ID] || rep != reps[m.ID] {
			t.Fatalf("Load(%s) = %d, %d; counted %d, %d", m.ID, prim, rep, prims[m.ID], reps[m.ID])
		}
	}
}

// checkPreferences asserts the preference list properties for every
// partition: the first min(N,S) entries are the replicas, primary first; no
// node appears twice; every member appears; At, All and AppendTo agree.
func checkPreferences(t testing.TB, r *Ring, ms []Member) {
	t.Helper()
	np := min(r.N(), len(ms))
	all := make([]string, 0, len(ms))
	for _, m := range ms {
		all = append(all, m.ID)
	}
	slices.Sort(all)
	var buf []string
	for p := range r.Q() {
		pl := r.PreferenceList(p)
		buf = pl.AppendTo(buf[:0])
		if len(buf) != len(ms) || pl.Len() != len(ms) {
			t.Fatalf("partition %d: list of %d, Len %d, want %d", p, len(buf), pl.Len(), len(ms))
		}
		if !slices.Equal(buf[:np], r.Replicas(p)) || !slices.Equal(pl.Replicas(), r.Replicas(p)) || buf[0] != r.Owner(p) {
			t.Fatalf("partition %d: list %v does not start with replicas %v", p, buf, r.Replicas(p))
		}
		for i, id := range buf {
			if pl.At(i) != id {
				t.Fatalf("partition %d: At(%d) = %s, All has %s", p, i, pl.At(i), id)
			}
			if r.Holds(id, p) != (i < np) {
				t.Fatalf("partition %d: Holds(%s) = %v at position %d", p, id, r.Holds(id, p), i)
			}
		}
		sorted := slices.Clone(buf)
		slices.Sort(sorted)
		if !slices.Equal(sorted, all) {
			t.Fatalf("partition %d: list %v is not a permutation of the members", p, buf)
		}
	}
}

// TestBalanceProperties checks balance and preference lists after every
// event of random histories: joins (some concurrent), removals, weights
// 1..4 (and some uneven 1..50, where heavy nodes make the replica balance
// best effort), Q from 64 to 16384 with Q >= 4·S, N from 1 to 5.
func TestBalanceProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	iters := 60
	if testing.Short() || raceEnabled {
		iters = 20
	}
	for range iters {
		q := 64 << rng.IntN(9)
		steps := 1 + rng.IntN(min(40, q/4))
		n := 1 + rng.IntN(5)
		maxW := []int{1, 4, 4, 50}[rng.IntN(4)]
		recs := randomHistory(rng, steps, 1, maxW, 0.25)
		if len(recs) > q/4 {
			continue
		}
		t.Run(fmt.Sprintf("records=%d/Q=%d/N=%d/w<=%d", len(recs), q, n, maxW), func(t *testing.T) {
			steps, rings := historyRings(t, q, n, recs)
			for i, st := range steps {
				r := rings[i]
				if maxW > 4 {
					// Very uneven weights make nodes heavy (capped at
					// Q), and the others' balance is best effort.
					checkBalanceTol(t, r, current(st.recs), 0.25)
				} else {
					checkBalance(t, r, current(st.recs))
				}
				if i == len(recs)-1 && q*len(recs) <= 1<<16 {
					checkPreferences(t, r, current(st.recs))
				}
			}
		})
	}
}

// A weight-2 node is primary of twice the partitions of a weight-1 node
// (within rounding), and holds twice the replicas.
func TestWeightTwoOwnsTwice(t *testing.T) {
	ms := []Member{mem("a", 1, 1), mem("b", 2, 2), mem("c", 1, 3), mem("d", 2, 4), mem("e", 1, 5), mem("f", 1, 5)}
	r := mustNew(t, 8192, 3, ms)
	checkBalance(t, r, ms)
	// Total weight 8: a weight-1 node's share is exactly 1024, weight 2: 2048.
	for _, m := range ms {
		prim, rep := r.Load(m.ID)
		if prim != 1024*m.Weight {
			t.Errorf("%s (weight %d): %d primaries, want %d", m.ID, m.Weight, prim, 1024*m.Weight)
		}
		if want := 3072 * m.Weight; math.Abs(float64(rep-want)) > 0.05*float64(want) {
			t.Errorf("%s (weight %d): %d replicas, want %d±5%%", m.ID, m.Weight, rep, want)
		}
	}
}

// A node whose weighted replica share would exceed Q holds every partition,
// and the excess is spread over the others by weight, whether the heavy
// node joined first or last.
func TestHeavyNodeCapped(t *testing.T) {
	for _, bigGen := range []uint64{1, 5} {
		ms := []Member{mem("big", 10, bigGen), mem("a", 1, 2), mem("b", 1, 3), mem("c", 2, 4)}
		r := mustNew(t, 4096, 3, ms)
		checkBalance(t, r, ms)
		if _, rep := r.Load("big"); rep != 4096 {
			t.Fatalf("heavy node (joined at %d) holds %d partitions, want all 4096", bigGen, rep)
		}
		// The two other replicas of each partition: 8192 responsibilities
		// over weights 1, 1, 2.
		for id, want := range map[string]int{"a": 2048, "b": 2048, "c": 4096} {
			if _, rep := r.Load(id); math.Abs(float64(rep-want)) > 0.05*float64(want) {
				t.Errorf("%s holds %d, want %d±5%%", id, rep, want)
			}
		}
	}
}

// The ring is a function of the record set: shuffling the records gives
// the identical ring, and so do two nodes that learnt the same records in
// different orders (each building a ring at every record it learnt).
func TestDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 10 {
		recs := randomHistory(rng, 2+rng.IntN(30), 1, 4, 0.2)
		ref := mustNew(t, 1024, 3, recs)
		for range 3 {
			perm := slices.Clone(recs)
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			// A node that learns the records in this order, building a
			// ring whenever it knows at least one live member.
			var seen []Member
			for _, m := range perm {
				seen = append(seen, m)
				if len(current(seen)) > 0 {
					mustNew(t, 1024, 3, seen)
				}
			}
			got := mustNew(t, 1024, 3, seen)
			if got.Version() != ref.Version() || got.Size() != ref.Size() {
				t.Fatal("versions differ")
			}
			if !slices.Equal(got.Members(), ref.Members()) {
				t.Fatal("members differ")
			}
			for p := range ref.Q() {
				if !slices.Equal(got.PreferenceList(p).AppendTo(nil), ref.PreferenceList(p).AppendTo(nil)) {
					t.Fatalf("partition %d differs after a shuffled history", p)
				}
			}
			for _, m := range ref.Members() {
				if !slices.Equal(got.Partitions(m.ID), ref.Partitions(m.ID)) {
					t.Fatalf("Partitions(%s) differ", m.ID)
				}
			}
		}
	}
}

func TestPreferenceListAllocationFree(t *testing.T) {
	ms := randomMembers(rand.New(rand.NewPCG(1, 1)), 10, 1)
	r := mustNew(t, 1024, 3, ms)
	key := []byte("some:key")
	var sink int
	allocs := testing.AllocsPerRun(1000, func() {
		pl := r.KeyPreferenceList(key)
		sink += len(pl.Replicas()) + len(pl.At(5)) + len(r.Owner(pl.Partition()))
		for _, id := range pl.All() {
			sink += len(id)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per lookup", allocs)
	}
	_ = sink
}
