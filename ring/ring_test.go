package ring

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// mem is a member record that joined at generation g.
func mem(id string, w int, g uint64) Member { return Member{ID: id, Weight: w, Joined: g} }

// gone is a tombstone: joined at g, removed at r.
func gone(id string, w int, g, r uint64) Member {
	return Member{ID: id, Weight: w, Joined: g, Removed: r}
}

func TestNewErrors(t *testing.T) {
	ok := []Member{mem("a", 1, 1), mem("b", 1, 2)}
	for _, tc := range []struct {
		name    string
		q, n    int
		members []Member
		want    error
	}{
		{"no members", 1024, 3, nil, ErrNoMembers},
		{"empty members", 1024, 3, []Member{}, ErrNoMembers},
		{"all removed", 1024, 3, []Member{gone("a", 1, 1, 2)}, ErrNoMembers},
		{"duplicate id", 1024, 3, []Member{mem("a", 1, 1), mem("b", 2, 1), mem("a", 1, 3)}, ErrDuplicateID},
		{"rejoin under a removed id", 1024, 3, []Member{gone("a", 1, 1, 2), mem("a", 1, 3)}, ErrDuplicateID},
		{"empty id", 1024, 3, []Member{mem("", 1, 1)}, ErrEmptyID},
		{"zero weight", 1024, 3, []Member{mem("a", 0, 1)}, ErrBadWeight},
		{"negative weight", 1024, 3, []Member{mem("a", 1, 1), mem("b", -2, 1)}, ErrBadWeight},
		{"huge weight", 1024, 3, []Member{mem("a", MaxWeight+1, 1)}, ErrBadWeight},
		{"zero generation", 1024, 3, []Member{mem("a", 1, 0)}, ErrBadGeneration},
		{"removed before joined", 1024, 3, []Member{mem("a", 1, 1), gone("b", 1, 5, 4)}, ErrBadGeneration},
		{"removed when joined", 1024, 3, []Member{mem("a", 1, 1), gone("b", 1, 5, 5)}, ErrBadGeneration},
		{"q not a power of two", 1000, 3, ok, ErrBadPartitions},
		{"q zero", 0, 3, ok, ErrBadPartitions},
		{"q too big", 1 << 25, 3, ok, ErrBadPartitions},
		{"n zero", 1024, 0, ok, ErrBadReplicas},
		{"n too big", 1024, MaxReplicas + 1, ok, ErrBadReplicas},
		{"too large", 1 << 24, 3, randomMembers(rand.New(rand.NewPCG(1, 1)), 17, 1), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.q, tc.n, tc.members)
			if !errors.Is(err, tc.want) || r != nil {
				t.Fatalf("New = %v, %v; want error %v", r, err, tc.want)
			}
		})
	}
	_, err := New(1024, 3, []Member{mem("10.0.0.1:6379", 1, 1), mem("10.0.0.1:6379", 2, 2)})
	if want := `ring: duplicate member id: "10.0.0.1:6379"`; err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestSingleMember(t *testing.T) {
	r := mustNew(t, 1024, 3, []Member{mem("127.0.0.1:6379", 1, 1)})
	for p := range r.Q() {
		if got := r.Replicas(p); len(got) != 1 || got[0] != "127.0.0.1:6379" || r.Owner(p) != got[0] {
			t.Fatalf("partition %d: replicas %v", p, got)
		}
	}
	if got := len(r.Partitions("127.0.0.1:6379")); got != 1024 {
		t.Fatalf("owns %d partitions", got)
	}
	pl := r.KeyPreferenceList([]byte("k"))
	if pl.Len() != 1 || pl.At(0) != "127.0.0.1:6379" {
		t.Fatalf("preference list %v", pl.AppendTo(nil))
	}
}

// With N > S every node holds every partition, and primaries stay balanced.
func TestReplicasClampedToMembers(t *testing.T) {
	ms := []Member{mem("a", 1, 1), mem("b", 2, 2), mem("c", 1, 2), gone("d", 3, 1, 3)}
	r := mustNew(t, 1024, 5, ms)
	if r.N() != 5 {
		t.Fatalf("N = %d", r.N())
	}
	for p := range r.Q() {
		got := slices.Clone(r.Replicas(p))
		slices.Sort(got)
		if !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Fatalf("partition %d: replicas %v", p, got)
		}
	}
	checkBalance(t, r, current(ms))
}

// The fast replay matches the naive one on small random histories.
func TestMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	iters := 300
	if testing.Short() {
		iters = 60
	}
	for it := range iters {
		steps := 1 + rng.IntN(12)
		q := 1 << rng.IntN(9)
		n := 1 + rng.IntN(5)
		maxW := []int{1, 2, 4, 50}[rng.IntN(4)]
		recs := randomHistory(rng, steps, 1, maxW, 0.3)
		name := fmt.Sprintf("it%d/records=%d/Q=%d/N=%d/w<=%d", it, len(recs), q, n, maxW)
		compareNaive(t, name, q, n, recs)
	}
}

func compareNaive(t *testing.T, name string, q, n int, recs []Member) {
	t.Helper()
	r := mustNew(t, q, n, recs)
	want := naiveNew(q, n, recs)
	for p := range q {
		got := r.PreferenceList(p).AppendTo(nil)
		if !slices.Equal(got, want.pref[p]) {
			t.Fatalf("%s: partition %d: preference list %v, naive %v", name, p, got, want.pref[p])
		}
	}
}

func TestAccessors(t *testing.T) {
	ms := []Member{mem("c", 1, 1), mem("a", 3, 2), mem("b", 2, 2), gone("z", 4, 1, 3)}
	r := mustNew(t, 64, 2, ms)
	if r.Q() != 64 || r.N() != 2 || r.Len() != 3 {
		t.Fatalf("Q, N, Len = %d, %d, %d", r.Q(), r.N(), r.Len())
	}
	if got := r.Members(); !slices.Equal(got, []Member{mem("a", 3, 2), mem("b", 2, 2), mem("c", 1, 1)}) {
		t.Fatalf("Members = %v", got)
	}
	total := 0
	for _, m := range current(ms) {
		ps := r.Partitions(m.ID)
		if !slices.IsSorted(ps) {
			t.Fatalf("Partitions(%s) not sorted: %v", m.ID, ps)
		}
		for _, p := range ps {
			if r.Owner(p) != m.ID || !r.Holds(m.ID, p) {
				t.Fatalf("Partitions(%s) lists %d, owned by %s", m.ID, p, r.Owner(p))
			}
		}
		prim, _ := r.Load(m.ID)
		if prim != len(ps) {
			t.Fatalf("Load(%s) = %d primaries, Partitions has %d", m.ID, prim, len(ps))
		}
		total += len(ps)
	}
	if total != 64 {
		t.Fatalf("primaries sum to %d", total)
	}
	if r.Partitions("zz") != nil || r.Partitions("z") != nil || r.Holds("z", 0) || r.Holds("a", -1) || r.Holds("a", 64) {
		t.Fatal("unknown or removed node or partition reported as held")
	}
	key := []byte("user:42")
	pl := r.KeyPreferenceList(key)
	if pl.Partition() != r.PartitionOf(key) || pl.Partition() != HashKey(key).Partition(64) {
		t.Fatalf("KeyPreferenceList partition %d, PartitionOf %d", pl.Partition(), r.PartitionOf(key))
	}
	r2 := mustNew(t, 64, 2, []Member{gone("z", 4, 1, 3), mem("a", 3, 2), mem("b", 2, 2), mem("c", 1, 1)})
	if r.Version() != r2.Version() || r.Size() != r2.Size() {
		t.Fatal("equal rings have different versions or sizes")
	}
	for name, other := range map[string]*Ring{
		"Q":             mustNew(t, 128, 2, ms),
		"N":             mustNew(t, 64, 3, ms),
		"weight":        mustNew(t, 64, 2, []Member{mem("c", 2, 1), mem("a", 3, 2), mem("b", 2, 2), gone("z", 4, 1, 3)}),
		"member":        mustNew(t, 64, 2, []Member{mem("c", 1, 1), mem("a", 3, 2), gone("z", 4, 1, 3)}),
		"joined":        mustNew(t, 64, 2, []Member{mem("c", 1, 1), mem("a", 3, 2), mem("b", 2, 4), gone("z", 4, 1, 3)}),
		"removed":       mustNew(t, 64, 2, []Member{mem("c", 1, 1), mem("a", 3, 2), mem("b", 2, 2), gone("z", 4, 1, 4)}),
		"no tombstone":  mustNew(t, 64, 2, []Member{mem("c", 1, 1), mem("a", 3, 2), mem("b", 2, 2)}),
		"tombstone gen": mustNew(t, 64, 2, []Member{mem("c", 1, 1), mem("a", 3, 2), mem("b", 2, 2), gone("z", 4, 2, 3)}),
	} {
		if other.Version() == r.Version() {
			t.Fatalf("rings differing in %s share a version", name)
		}
	}
	if r.Size() <= len("abcz") || r.TableSize() <= 0 {
		t.Fatalf("Size %d, TableSize %d", r.Size(), r.TableSize())
	}
}
