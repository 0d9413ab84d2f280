package membership

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/dynakv/dynakv/node/store"
)

func TestHubJoinLivenessRemove(t *testing.T) {
	h := NewHub(MemberRecord{ID: "a", PeerAddr: "pa", Weight: 1, Joined: 1})
	var changes [2]atomic.Int32
	sa, sb := store.NewMem(), store.NewMem()
	a, err := h.Join(Config{Self: MemberRecord{ID: "a", PeerAddr: "ignored"}, Store: sa, OnChange: func() { changes[0].Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.Self(); r.Joined != 1 || r.PeerAddr != "pa" {
		t.Fatalf("a restarted under its record: got %+v", r)
	}
	b, err := h.Join(Config{Self: MemberRecord{ID: "b", Addr: "cb", PeerAddr: "pb", Weight: 1}, Store: sb, OnChange: func() { changes[1].Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.Self(); r.Joined != 2 {
		t.Fatalf("b joined at generation %d, want 2", r.Joined)
	}
	if changes[0].Load() == 0 {
		t.Fatal("a was not told of b's join")
	}
	for _, m := range []*Member{a, b} {
		if m.Set().Len() != 2 {
			t.Fatalf("%s sees %d members", m.Self().ID, m.Set().Len())
		}
	}
	if c, p, ok := a.Addrs("b"); !ok || c != "cb" || p != "pb" {
		t.Fatalf("Addrs(b) = %q %q %v", c, p, ok)
	}
	// both stores hold the set, as gossip persists it
	for _, st := range []store.Store{sa, sb} {
		if s, err := LoadMemberSet(st); err != nil || s.Len() != 2 {
			t.Fatalf("stored set: %v %v", s, err)
		}
	}

	before := changes[0].Load()
	h.SetAlive("b", false)
	if a.Liveness("b") != LiveDead || b.Liveness("b") != LiveAlive || changes[0].Load() == before {
		t.Fatalf("after SetAlive(b, false): a sees %v, b sees itself %v", a.Liveness("b"), b.Liveness("b"))
	}
	if al, su, de := a.Counts(); al != 1 || su != 0 || de != 1 {
		t.Fatalf("Counts = %d %d %d", al, su, de)
	}
	h.SetAlive("b", true)
	if a.Liveness("b") != LiveAlive || a.Liveness("nobody") != LiveDead {
		t.Fatal("liveness after revival")
	}

	if err := a.Remove("a"); !errors.Is(err, ErrRemoveSelf) {
		t.Fatalf("Remove(self) = %v", err)
	}
	if err := a.Remove("zz"); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("Remove(unknown) = %v", err)
	}
	if err := a.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if !b.Removed() || a.Removed() {
		t.Fatal("b should know it was removed, a not")
	}
	if err := a.Remove("b"); !errors.Is(err, ErrAlreadyRemoved) {
		t.Fatalf("second Remove = %v", err)
	}
	if n := len(a.Set().Members()); n != 1 {
		t.Fatalf("%d current members after the removal", n)
	}

	// a closed member hears nothing more
	b.Close()
	before = changes[1].Load()
	h.SetAlive("a", true)
	if changes[1].Load() != before {
		t.Fatal("a closed member's OnChange was called")
	}
}
