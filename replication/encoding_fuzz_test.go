package replication

import (
	"bytes"
	"testing"
)

// FuzzDecodeObject: no input panics, and whatever decodes re-encodes to the
// same bytes (the encoding is canonical) and merges with itself unchanged.
func FuzzDecodeObject(f *testing.F) {
	h := newHistory(1, 3, 10)
	h.run(30)
	for _, o := range h.states[:min(10, len(h.states))] {
		f.Add(AppendObject(nil, o))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0})
	// A counter: a contribution, then a SET that observed it, then another.
	var c *Object
	c = c.Apply(Dot{Actor: 5, Counter: 1}, 1, Write{Increment: []byte("3")}, 0)
	c = c.Apply(Dot{Actor: 6, Counter: 2}, 2, Write{Context: c.Context(), Value: []byte("10")}, 0)
	c = c.Apply(Dot{Actor: 5, Counter: 3}, 3, Write{Increment: []byte("1.5")}, 0)
	f.Add(AppendObject(nil, c))
	// A set's head beside a string, then a collection's delete.
	var hd *Object
	hd = hd.Apply(Dot{Actor: 7, Counter: 1}, 1, Write{Type: 's', ExpireAt: 9}, 0)
	hd = hd.Apply(Dot{Actor: 8, Counter: 2}, 2, Write{Value: []byte("v")}, 0)
	f.Add(AppendObject(nil, hd))
	f.Add(AppendObject(nil, hd.Apply(Dot{Actor: 7, Counter: 3}, 3, Write{Context: hd.Context(), Tombstone: true, Type: 's'}, 0)))
	f.Fuzz(func(t *testing.T, buf []byte) {
		o, err := DecodeObject(buf)
		if err != nil {
			return
		}
		if !bytes.Equal(AppendObject(nil, o), buf) {
			t.Fatalf("decoded object re-encodes differently")
		}
		if !o.Merge(o).Equal(o) {
			t.Fatalf("decoded object not idempotent under merge")
		}
		_ = o.Newest(0)
	})
}

// FuzzDecodeContext: no token panics, and a decoded context re-encodes to a
// token that decodes to the same clock.
func FuzzDecodeContext(f *testing.F) {
	f.Add(EncodeContext(NewClock(Entry{Actor: 1, Counter: 1})))
	f.Add("")
	f.Add("notbase64!!")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := DecodeContext(tok)
		if err != nil {
			return
		}
		back, err := DecodeContext(EncodeContext(c))
		if err != nil || !back.Equal(c) {
			t.Fatalf("context %q does not round trip: %v", tok, err)
		}
	})
}
