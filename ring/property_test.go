package ring

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkBalance asserts the balance guarantees: every member is primary of
// floor or ceil of Q*w/sum(w) partitions, and holds within max(5%, 1) of
// its (capped) ideal replica load.
func checkBalance(t testing.TB, r *Ring, ms []Member) {
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
		if got := float64(reps[m.ID]); math.Abs(got-ir) > math.Max(0.05*ir, 1)+1e-9 {
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

// TestBalanceProperties checks balance and preference lists over many random
// member sets: S from 1 to 200, weights 1..4 (and some uneven 1..50), Q
// from 1 to 16384.
func TestBalanceProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	iters := 150
	if testing.Short() {
		iters = 40
	}
	for it := range iters {
		s := 1 + rng.IntN(40)
		if it%10 == 0 {
			s = 1 + rng.IntN(200)
		}
		q := 1 << rng.IntN(15)
		n := 1 + rng.IntN(5)
		maxW := []int{1, 4, 4, 50}[rng.IntN(4)]
		ms := randomMembers(rng, s, maxW)
		t.Run(fmt.Sprintf("S=%d/Q=%d/N=%d/w<=%d", s, q, n, maxW), func(t *testing.T) {
			r := mustNew(t, q, n, ms)
			checkBalance(t, r, ms)
			if q*s <= 1<<16 {
				checkPreferences(t, r, ms)
			}
		})
	}
}

// A weight-2 node is primary of twice the partitions of a weight-1 node
// (within rounding), and holds twice the replicas.
func TestWeightTwoOwnsTwice(t *testing.T) {
	ms := []Member{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 2}, {"e", 1}, {"f", 1}}
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
// and the excess is spread over the others by weight.
func TestHeavyNodeCapped(t *testing.T) {
	ms := []Member{{"big", 10}, {"a", 1}, {"b", 1}, {"c", 2}}
	r := mustNew(t, 4096, 3, ms)
	checkBalance(t, r, ms)
	if _, rep := r.Load("big"); rep != 4096 {
		t.Fatalf("heavy node holds %d partitions, want all 4096", rep)
	}
	// The two other replicas of each partition: 8192 responsibilities over
	// weights 1, 1, 2.
	for id, want := range map[string]int{"a": 2048, "b": 2048, "c": 4096} {
		if _, rep := r.Load(id); math.Abs(float64(rep-want)) > 0.05*float64(want) {
			t.Errorf("%s holds %d, want %d±5%%", id, rep, want)
		}
	}
}

// The ring is a function of the member set: shuffling the members, or
// reaching the same set through different sequences of joins and
// removals, gives the identical ring.
func TestDeterminismUnderShuffles(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 10 {
		s := 2 + rng.IntN(30)
		ms := randomMembers(rng, s, 4)
		ref := mustNew(t, 1024, 3, ms)
		for range 5 {
			// A random history: start from a random subset, join the rest
			// one at a time in random order (each step a ring of its own),
			// with a detour through a member that joins and leaves.
			perm := rng.Perm(s)
			cur := []Member{ms[perm[0]]}
			for _, i := range perm[1:] {
				cur = append(cur, ms[i])
				if rng.IntN(4) == 0 {
					mustNew(t, 1024, 3, append(slices.Clone(cur), Member{"transient", 2}))
				}
				mustNew(t, 1024, 3, cur)
			}
			got := mustNew(t, 1024, 3, cur)
			if got.Version() != ref.Version() {
				t.Fatal("versions differ")
			}
			for p := range ref.Q() {
				if !slices.Equal(got.PreferenceList(p).AppendTo(nil), ref.PreferenceList(p).AppendTo(nil)) {
					t.Fatalf("partition %d differs after a shuffled history", p)
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
