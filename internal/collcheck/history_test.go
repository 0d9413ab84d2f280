package collcheck

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCheckRules: what the history requires of a converged collection,
// member by member, and that it says so when the collection breaks it.
func TestCheckRules(t *testing.T) {
	h := New()
	fail := errors.New("timeout")
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Owned members.
	h.Add("k", "kept", "1", true, at(0), nil)     // must stay, with "1"
	h.Add("k", "gone", "", true, at(0), nil)      // written once, removed by its owner: must go
	h.Remove("k", "gone", true, at(1), 1, nil)    //
	h.Add("k", "missed", "", true, at(0), nil)    // a remove that answered 0 removed nothing
	h.Remove("k", "missed", true, at(1), 0, nil)  //
	h.Add("k", "lost-add", "", true, at(0), fail) // unknown
	h.Add("k", "lost-rem", "", true, at(0), nil)  // unknown after a failed remove
	h.Remove("k", "lost-rem", true, at(1), 0, fail)
	h.Add("k", "failed-rewrite", "a", true, at(0), nil) // present, its value unknown
	h.Add("k", "failed-rewrite", "b", true, at(1), fail)
	h.Add("k", "rewritten", "a", true, at(0), nil) // present with "b"
	h.Add("k", "rewritten", "b", true, at(1), nil)
	h.Add("k", "rewritten-gone", "a", true, at(0), nil) // two versions: a remove may leave one
	h.Add("k", "rewritten-gone", "b", true, at(1), nil)
	h.Remove("k", "rewritten-gone", true, at(2), 1, nil)
	// Shared members: Add and Remove take their answer time as now, so
	// these removes were answered before a write sent at later.
	h.Remove("k", "x-after", false, at(0), 0, nil)
	later := time.Now().Add(time.Millisecond)
	h.Add("k", "x-after", "", false, later, nil) // sent after every remove was answered: must stay
	h.Add("k", "x-overlap", "", false, at(0), nil)
	h.Remove("k", "x-overlap", false, at(0), 1, nil) // answered after the write was sent: unknown
	h.Remove("k", "x-failed", false, at(0), 0, fail)
	h.Add("k", "x-failed", "", false, later, nil) // a remove that failed may still run: unknown

	if !h.Present("k", "kept") || h.Present("k", "gone") || !h.Present("k", "missed") || h.Present("k", "rewritten-gone") {
		t.Fatal("Present disagrees with the owned members' states")
	}
	if st := h.Stats(); st.MissedRemoves != 1 || st.Removed != 3 || st.AddsAcked != 12 {
		t.Errorf("stats %+v", st)
	}
	good := map[string]string{"kept": "1", "missed": "", "failed-rewrite": "z", "rewritten": "b", "rewritten-gone": "b", "x-after": "", "lost-add": ""}
	bad, c := h.Check("k", good)
	if len(bad) != 0 || c.MustHave != 5 || c.MustLack != 1 || c.Unknown != 5 || c.Values != 2 {
		t.Errorf("a correct collection: %v %+v", bad, c)
	}
	bad, _ = h.Check("k", map[string]string{"kept": "2", "gone": "", "phantom": "", "missed": ""})
	want := []string{`"kept" = "2"`, `lacks "failed-rewrite"`, `holds "gone"`, `lacks "rewritten"`, `holds "phantom"`, `lacks "x-after"`}
	if len(bad) != len(want) {
		t.Errorf("a broken collection: %q, want one violation each for %q", bad, want)
	}
	for _, w := range want {
		found := false
		for _, b := range bad {
			found = found || strings.Contains(b, w)
		}
		if !found {
			t.Errorf("no violation for %s in %q", w, bad)
		}
	}
}
