package resp

import "testing"

// naiveGlob is a direct recursive transcription of Redis's stringmatchlen,
// the reference the iterative globMatch is checked against.
func naiveGlob(p, s []byte, nocase bool) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if naiveGlob(p[1:], s[i:], nocase) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
			p = p[1:]
			continue
		case '[':
			if len(s) == 0 {
				return false
			}
			n, ok := matchClass(p, s[0], nocase)
			if !ok {
				return false
			}
			p, s = p[n:], s[1:]
			continue
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
		}
		if len(s) == 0 || !eqByte(p[0], s[0], nocase) {
			return false
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"user:*", "user:1", true},
		{"user:*", "users:1", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h*llo", "heeeello", true},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true},
		{"h\\*llo", "h*llo", true},
		{"h\\*llo", "hello", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*a", "bbba", true},
		{"[abc", "a", true},
		{"", "", true},
		{"", "a", false},
	} {
		if got := globMatch([]byte(tc.p), []byte(tc.s), false); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
		if got := naiveGlob([]byte(tc.p), []byte(tc.s), false); got != tc.want {
			t.Errorf("naiveGlob(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
	if !globMatch([]byte("MAXCLIENTS"), []byte("maxclients"), true) {
		t.Error("nocase match failed")
	}
}

// FuzzGlob checks the iterative matcher against the recursive reference.
func FuzzGlob(f *testing.F) {
	f.Add([]byte("a*b?[c-d]\\e"), []byte("aXXbYde"))
	f.Add([]byte("*[^a]*"), []byte("bab"))
	f.Fuzz(func(t *testing.T, p, s []byte) {
		if len(p) > 12 || len(s) > 24 {
			return // the reference is exponential in stars
		}
		if got, want := globMatch(p, s, false), naiveGlob(p, s, false); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, reference says %v", p, s, got, want)
		}
	})
}
