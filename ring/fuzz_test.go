package ring

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// FuzzNew builds rings from arbitrary member sets (ids and weights drawn
// from the input, Q and N small) and checks that New never panics and that
// every ring it returns keeps the balance and preference list guarantees
// and matches the naive implementation.
func FuzzNew(f *testing.F) {
	f.Add([]byte{3, 4, 1, 1, 1, 1, 2, 3})
	f.Add([]byte{0, 1, 50, 1, 1, 1, 1})
	f.Add([]byte{8, 2, 1, 200, 7, 7, 7, 7, 7, 7, 1, 1})
	f.Add([]byte{6, 5, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		q := 1 << (data[0] % 11)
		n := int(data[1]%6) + 1
		data = data[2:]
		var ms []Member
		for len(data) >= 2 && len(ms) < 40 {
			id := fmt.Sprintf("n%d", data[0]%64)
			w := int(data[1])
			if data[1] == 255 && len(data) >= 4 {
				w = int(binary.BigEndian.Uint16(data[2:4]))
				data = data[2:]
			}
			ms = append(ms, Member{id, w})
			data = data[2:]
		}
		r, err := New(q, n, ms)
		if err != nil {
			return // duplicate ids and bad weights are rejected
		}
		checkBalance(t, r, ms)
		checkPreferences(t, r, ms)
		want := naiveNew(q, n, ms)
		for p := range q {
			got := r.PreferenceList(p).AppendTo(nil)
			for i := range got {
				if got[i] != want.pref[p][i] {
					t.Fatalf("partition %d: %v, naive %v", p, got, want.pref[p])
				}
			}
		}
	})
}
