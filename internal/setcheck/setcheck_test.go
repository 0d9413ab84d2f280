package setcheck

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCheckRules: what the history requires of a converged set, member by
// member, and that it says so when the set breaks it.
func TestCheckRules(t *testing.T) {
	h := New()
	fail := errors.New("timeout")
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Owned members.
	h.Add("k", "kept", true, at(0), nil)                 // must stay
	h.Add("k", "gone", true, at(0), nil)                 // removed by its owner: must go
	h.Remove("k", "gone", true, at(1), 1, nil)           //
	h.Add("k", "missed", true, at(0), nil)               // an SREM that answered 0 removed nothing
	h.Remove("k", "missed", true, at(1), 0, nil)         //
	h.Add("k", "lost-add", true, at(0), fail)            // unknown
	h.Add("k", "lost-rem", true, at(0), nil)             // unknown after a failed SREM
	h.Remove("k", "lost-rem", true, at(1), 0, fail)      //
	h.Add("k", "failed-readd", true, at(0), nil)         // a failed SADD of a present member keeps it
	h.Add("k", "failed-readd", true, at(1), fail)        //
	h.Remove("k", "gone-then-fail", true, at(0), 1, nil) // a failed SREM after a remove keeps it gone
	h.Remove("k", "gone-then-fail", true, at(1), 0, fail)
	// Shared members: the times are of the calls; Add and Remove take the
	// answer time as now, so these removes were answered before the adds
	// below were sent only when the adds' invocation comes after now.
	h.Remove("k", "x-after", false, at(0), 0, nil)
	later := time.Now().Add(time.Millisecond)
	h.Add("k", "x-after", false, later, nil) // sent after every remove was answered: must stay
	h.Add("k", "x-overlap", false, at(0), nil)
	h.Remove("k", "x-overlap", false, at(0), 1, nil) // answered after the add was sent: unknown
	h.Remove("k", "x-failed", false, at(0), 0, fail)
	h.Add("k", "x-failed", false, later, nil) // a remove that failed may still run: unknown

	if !h.Present("k", "kept") || h.Present("k", "gone") || !h.Present("k", "missed") {
		t.Fatal("Present disagrees with the owned members' states")
	}
	st := h.Stats()
	if st.MissedRemoves != 1 || st.Removed != 3 || st.AddsAcked != 8 {
		t.Errorf("stats %+v", st)
	}
	good := []string{"kept", "missed", "failed-readd", "x-after", "lost-add"}
	bad, c := h.Check("k", good)
	if len(bad) != 0 || c.MustHave != 4 || c.MustLack != 2 || c.Unknown != 4 {
		t.Errorf("a correct set: %v %+v", bad, c)
	}
	bad, _ = h.Check("k", []string{"kept", "gone", "phantom"})
	want := []string{`lacks "failed-readd"`, `holds "gone"`, `lacks "missed"`, `holds "phantom"`, `lacks "x-after"`}
	if len(bad) != len(want) || !slices.ContainsFunc(bad, func(b string) bool { return strings.Contains(b, want[0]) }) {
		t.Fatalf("a broken set: %q, want one violation each for %q", bad, want)
	}
	for _, w := range want {
		if !slices.ContainsFunc(bad, func(b string) bool { return strings.Contains(b, w) }) {
			t.Errorf("no violation for %s in %q", w, bad)
		}
	}
}
