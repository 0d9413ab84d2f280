package replication

import (
	"bytes"
	"errors"
	"testing"
)

func TestObjectRoundTrip(t *testing.T) {
	for seed := range uint64(100) {
		h := newHistory(seed, 4, 10)
		h.run(40)
		for _, o := range h.states {
			buf := AppendObject(nil, o)
			back, err := DecodeObject(buf)
			if err != nil {
				t.Fatalf("seed %d: decode: %v", seed, err)
			}
			if !back.Equal(o) {
				t.Fatalf("seed %d: round trip changed the object", seed)
			}
			for i, e := range back.Clock.entries {
				if e.Time != o.Clock.entries[i].Time {
					t.Fatalf("seed %d: entry time lost", seed)
				}
			}
			if !bytes.Equal(AppendObject(nil, back), buf) {
				t.Fatalf("seed %d: encoding not canonical", seed)
			}
		}
	}
	if o, err := DecodeObject(AppendObject(nil, nil)); err != nil || o.Len() != 0 {
		t.Fatalf("nil object: %v %v", o, err)
	}
}

func TestDecodeObjectRejectsCorruption(t *testing.T) {
	var o *Object
	o = o.Apply(Dot{5, 1}, 1e9, Write{Value: []byte("hello"), ExpireAt: 99}, 10)
	o = o.Apply(Dot{9, 4}, 2e9, Write{Value: []byte("world")}, 10)
	good := AppendObject(nil, o)
	cases := map[string][]byte{
		"empty":        {},
		"version":      append([]byte{2}, good[1:]...),
		"truncated":    good[:len(good)-1],
		"trailing":     append(append([]byte{}, good...), 0),
		"huge count":   {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"zero counter": {1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0},
	}
	for name, buf := range cases {
		if _, err := DecodeObject(buf); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestContextToken(t *testing.T) {
	c := NewClock(Entry{Actor: 3, Counter: 7, Time: 5}, Entry{Actor: 1, Counter: 2})
	tok := EncodeContext(c)
	back, err := DecodeContext(tok)
	if err != nil || !back.Equal(c) {
		t.Fatalf("round trip: %v %v", back, err)
	}
	if EncodeContext(Clock{}) != "" {
		t.Fatal("empty clock should encode as the empty token")
	}
	if z, err := DecodeContext(""); err != nil || !z.IsZero() {
		t.Fatal("empty token should be the empty context")
	}
	for _, bad := range []string{"!!!", "notbase64!!", "AQ", "AgA", "AQEAAAAAAAAAAQA", tok + "A"} {
		if _, err := DecodeContext(bad); !errors.Is(err, ErrInvalidContext) {
			t.Errorf("DecodeContext(%q) = %v, want ErrInvalidContext", bad, err)
		}
	}
}

func TestHeadRoundTrip(t *testing.T) {
	var o *Object
	o = o.Apply(Dot{5, 1}, 1e9, Write{Type: 's', Value: []byte("ignored"), ExpireAt: 99}, 10)
	o = o.Apply(Dot{9, 4}, 2e9, Write{Value: []byte("plain")}, 10)
	if o.Siblings[0].Type != 's' || o.Siblings[0].Value != nil {
		t.Fatalf("head sibling %+v", o.Siblings[0])
	}
	buf := AppendObject(nil, o)
	back, err := DecodeObject(buf)
	if err != nil || !back.Equal(o) || back.Siblings[0].Type != 's' {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	other := o.Apply(Dot{5, 2}, 3e9, Write{Context: o.Context(), Type: 'h'}, 10)
	if Digest([]byte("k"), other) == Digest([]byte("k"), o) || back.Equal(other) {
		t.Fatal("a head's type is not part of its state")
	}
	// A head that is also a counter does not decode.
	bad := AppendObject(nil, o)
	i := bytes.IndexByte(bad, flagHead|flagExpire)
	bad[i] |= flagCounter
	if _, err := DecodeObject(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("head and counter: %v", err)
	}
	// A collection's delete keeps its type.
	del := other.Apply(Dot{5, 3}, 4e9, Write{Context: other.Context(), Tombstone: true, Type: 'h'}, 10)
	if back, err := DecodeObject(AppendObject(nil, del)); err != nil || !back.Equal(del) || back.Siblings[0].Type != 'h' || !back.Siblings[0].Tombstone {
		t.Fatalf("collection delete round trip: %v %+v", err, back)
	}
}
