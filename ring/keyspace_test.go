package ring

import (
	"bytes"
	"testing"
)

func TestInternalKeyRoundTrip(t *testing.T) {
	for _, k := range [][]byte{nil, {}, []byte("a"), {0xFF}, {0xFF, 0xFF}, {0xFF, 's', 1, 'k'}, {0xFE, 0xFF}} {
		in := InternalKey(k)
		if IsElementKey(in) {
			t.Fatalf("user key %q maps to element key %q", k, in)
		}
		back, ok := UserKey(in)
		if !ok || !bytes.Equal(back, k) {
			t.Fatalf("UserKey(InternalKey(%q)) = %q, %v", k, back, ok)
		}
		if HashKey(in) != md5Hash(k) {
			t.Fatalf("HashKey(InternalKey(%q)) is not the user key's MD5", k)
		}
	}
}

func TestElementKeys(t *testing.T) {
	for _, coll := range [][]byte{{}, []byte("cart"), {0xFF, 0xFF}, bytes.Repeat([]byte{'x'}, 300)} {
		for _, m := range [][]byte{{}, []byte("m"), {0xFF}} {
			k := ElementKey('s', coll, m)
			typ, c, mm, ok := ParseElementKey(k)
			if !ok || typ != 's' || !bytes.Equal(c, coll) || !bytes.Equal(mm, m) {
				t.Fatalf("ParseElementKey(ElementKey(s, %q, %q)) = %c %q %q %v", coll, m, typ, c, mm, ok)
			}
			if !IsElementKey(k) {
				t.Fatalf("%q is not an element key", k)
			}
			if _, ok := UserKey(k); ok {
				t.Fatalf("element key %q has a user key", k)
			}
			if HashKey(k).Hi != HashKey(InternalKey(coll)).Hi {
				t.Fatalf("element of %q hashes elsewhere than its collection", coll)
			}
			if !bytes.HasPrefix(k, ElementPrefix('s', coll)) || bytes.HasPrefix(k, ElementPrefix('h', coll)) {
				t.Fatalf("prefixes of %q", k)
			}
			if end := PrefixEnd(ElementPrefix('s', coll)); bytes.Compare(k, end) >= 0 {
				t.Fatalf("%q sorts after its prefix's end %q", k, end)
			}
		}
	}
	// A collection's prefix never covers another collection's elements.
	if bytes.HasPrefix(ElementKey('s', []byte("ab"), nil), ElementPrefix('s', []byte("a"))) {
		t.Fatal("prefix of a covers ab's elements")
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ p, want []byte }{
		{[]byte("ab"), []byte("ac")},
		{[]byte{'a', 0xFF}, []byte("b")},
		{[]byte{0xFF, 0xFF}, nil},
	} {
		if got := PrefixEnd(c.p); !bytes.Equal(got, c.want) {
			t.Fatalf("PrefixEnd(%q) = %q, want %q", c.p, got, c.want)
		}
	}
}

// FuzzParseElementKey checks that parsing never panics and that what parses
// is exactly one element key's encoding.
func FuzzParseElementKey(f *testing.F) {
	f.Add([]byte{0xFF, 's', 1, 'k', 'm'})
	f.Add([]byte{0xFF, 'h', 0x80, 0x00})
	f.Add([]byte{0xFF, 0xFF, 'x'})
	f.Fuzz(func(t *testing.T, k []byte) {
		typ, coll, m, ok := ParseElementKey(k)
		_ = HashKey(k)
		user, isUser := UserKey(k)
		if ok && isUser {
			t.Fatalf("%q is both an element and a user key", k)
		}
		if isUser && !bytes.Equal(InternalKey(user), k) {
			t.Fatalf("%q: user key %q maps back to %q", k, user, InternalKey(user))
		}
		if ok && !bytes.Equal(ElementKey(typ, coll, m), k) {
			t.Fatalf("%q parses to (%c, %q, %q), which encodes differently", k, typ, coll, m)
		}
	})
}

// TestOrderedElementKeys: a list's item keys carry the id as it is (no
// member hash), sort by id, parse back, and have no member hash for
// anti-entropy's buckets.
func TestOrderedElementKeys(t *testing.T) {
	coll := []byte("mylist")
	ids := [][]byte{[]byte("\x00\x00\x00\x00\x00\x00\x00\x01a"), []byte("\x00\x00\x00\x00\x00\x00\x00\x02"), []byte("\x80\x00\x00\x00\x00\x00\x00\x00zz")}
	var prev []byte
	for _, id := range ids {
		k := ElementKey(TypeList, coll, id)
		if !bytes.Equal(k, append(ElementPrefix(TypeList, coll), id...)) {
			t.Fatalf("ElementKey(l, %q) = %q", id, k)
		}
		typ, c, m, ok := ParseElementKey(k)
		if !ok || typ != TypeList || !bytes.Equal(c, coll) || !bytes.Equal(m, id) {
			t.Fatalf("ParseElementKey(%q) = %c %q %q %v", k, typ, c, m, ok)
		}
		if _, _, ok := ElementHash(k); ok {
			t.Fatalf("ElementHash(%q): a list item has no member hash", k)
		}
		if HashKey(k).Hi != HashKey(coll).Hi {
			t.Fatalf("item %q is not at its list's position", k)
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			t.Fatalf("item keys out of id order")
		}
		prev = k
		if MemberOffset(TypeList, len(ElementPrefix(TypeList, coll))) != len(ElementPrefix(TypeList, coll)) {
			t.Fatal("MemberOffset of an ordered type")
		}
	}
}
