package membership

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/node/store/storetest"
)

func randomRecord(rng *rand.Rand) MemberRecord {
	id := fmt.Sprintf("127.0.0.1:%d", 7000+rng.IntN(6))
	j := uint64(1 + rng.IntN(5))
	r := MemberRecord{ID: id, Addr: id, PeerAddr: fmt.Sprint("p", rng.IntN(3)), Weight: 1 + rng.IntN(3), Joined: j}
	if rng.IntN(4) == 0 {
		r.Removed = j + 1 + uint64(rng.IntN(3))
	}
	return r
}

func randomSet(rng *rand.Rand) MemberSet {
	recs := make([]MemberRecord, rng.IntN(5))
	for i := range recs {
		recs[i] = randomRecord(rng)
	}
	return NewMemberSet(recs...)
}

func TestMemberSetMergeLaws(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		a, b, c := randomSet(rng), randomSet(rng), randomSet(rng)
		if !a.Merge(b).Equal(b.Merge(a)) {
			t.Fatal("merge not commutative")
		}
		if !a.Merge(b).Merge(c).Equal(a.Merge(b.Merge(c))) {
			t.Fatal("merge not associative")
		}
		if !a.Merge(a).Equal(a) || !a.Merge(MemberSet{}).Equal(a) {
			t.Fatal("merge not idempotent")
		}
	}
}

// TestMemberSetRemovalSticks: once any replica of the set has a removal, no
// merge brings the member back, and the ring no longer lists it.
func TestMemberSetRemovalSticks(t *testing.T) {
	a := NewMemberSet(
		MemberRecord{ID: "n1", Weight: 1, Joined: 1},
		MemberRecord{ID: "n2", Weight: 1, Joined: 2},
	)
	removed := a.Merge(NewMemberSet(MemberRecord{ID: "n2", Weight: 1, Joined: 2, Removed: a.NextGeneration()}))
	if got := len(removed.Merge(a).Members()); got != 1 {
		t.Fatalf("%d members after removal merged with the old set, want 1", got)
	}
	r, err := removed.Ring(64, 3)
	if err != nil {
		t.Fatal(err)
	}
	if ms := r.Members(); len(ms) != 1 || ms[0].ID != "n1" {
		t.Fatalf("ring members %v", ms)
	}
	if g := removed.NextGeneration(); g != 4 {
		t.Fatalf("NextGeneration = %d, want 4", g)
	}
}

func TestMemberSetPersistAndRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	storetest.Each(t, func(t *testing.T, st store.Store) {
		if s, err := LoadMemberSet(st); err != nil || s.Len() != 0 {
			t.Fatalf("empty store: %v %v", s, err)
		}
		for range 50 {
			s := randomSet(rng)
			if err := SaveMemberSet(st, s); err != nil {
				t.Fatal(err)
			}
			back, err := LoadMemberSet(st)
			if err != nil || !back.Equal(s) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

// FuzzDecodeMemberSet: no input panics; what decodes re-encodes to the same
// bytes and merges with itself unchanged.
func FuzzDecodeMemberSet(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 8 {
		f.Add(AppendMemberSet(nil, randomSet(rng)))
	}
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, buf []byte) {
		s, err := DecodeMemberSet(buf)
		if err != nil {
			return
		}
		if !bytes.Equal(AppendMemberSet(nil, s), buf) {
			t.Fatal("decoded set re-encodes differently")
		}
		if !s.Merge(s).Equal(s) {
			t.Fatal("decoded set not idempotent under merge")
		}
	})
}
