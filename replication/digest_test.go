package replication

import (
	"bytes"
	"testing"
)

// TestDigestFollowsEqual: over random histories, two states have the same
// digest exactly when they are Equal, merging in any order gives one
// digest, and the key is part of it.
func TestDigestFollowsEqual(t *testing.T) {
	for seed := range uint64(20) {
		h := newHistory(seed, 3, 10)
		h.run(200)
		for i, a := range h.states {
			for _, b := range h.states[i:] {
				if eq, same := a.Equal(b), Digest([]byte("k"), a) == Digest([]byte("k"), b); eq != same {
					t.Fatalf("seed %d: Equal = %v but equal digests = %v\n%v\n%v", seed, eq, same, a, b)
				}
			}
		}
		all := h.mergedAll()
		var rev *Object
		for i := len(h.replicas) - 1; i >= 0; i-- {
			rev = rev.Merge(h.replicas[i])
		}
		if Digest([]byte("k"), all) != Digest([]byte("k"), rev) {
			t.Fatalf("seed %d: merge order changed the digest", seed)
		}
		if all.Len() > 0 && Digest([]byte("k"), all) == Digest([]byte("k2"), all) {
			t.Fatalf("seed %d: the key is not in the digest", seed)
		}
	}
}

// TestDigestIgnoresClockTimes: clock entry times are not compared by
// Equal, so they are not in the digest either; sibling times are.
func TestDigestIgnoresClockTimes(t *testing.T) {
	var o *Object
	o = o.Apply(Dot{Actor: 1, Counter: 1}, 100, Write{Value: []byte("v")}, 10)
	p := &Object{Clock: NewClock(Entry{Actor: 1, Counter: 1, Time: 999999}), Siblings: o.Siblings}
	if !o.Equal(p) || Digest(nil, o) != Digest(nil, p) {
		t.Fatalf("states differing only in clock times: Equal %v, digests %x %x", o.Equal(p), Digest(nil, o), Digest(nil, p))
	}
	q := &Object{Clock: o.Clock, Siblings: []Sibling{o.Siblings[0]}}
	q.Siblings[0].Time++
	if Digest(nil, o) == Digest(nil, q) {
		t.Fatal("a sibling's write time is not in the digest")
	}
}

// TestDigestAbsentAndLongValues: nil and empty states are 0 (absent), any
// other state is not, and a value longer than the pooled buffer hashes as
// if it had been copied.
func TestDigestAbsentAndLongValues(t *testing.T) {
	if Digest([]byte("k"), nil) != 0 || Digest([]byte("k"), &Object{}) != 0 {
		t.Fatal("absent or empty state: digest not 0")
	}
	long := bytes.Repeat([]byte("x"), 100<<10)
	var a, b *Object
	a = a.Apply(Dot{Actor: 1, Counter: 1}, 1, Write{Value: long}, 10)
	b = b.Apply(Dot{Actor: 1, Counter: 1}, 1, Write{Value: bytes.Clone(long)}, 10)
	b = b.Apply(Dot{Actor: 2, Counter: 1}, 2, Write{Value: []byte("short")}, 10)
	a = a.Apply(Dot{Actor: 2, Counter: 1}, 2, Write{Value: []byte("short")}, 10)
	if Digest(nil, a) == 0 || Digest(nil, a) != Digest(nil, b) {
		t.Fatalf("equal states with a long value: %x %x", Digest(nil, a), Digest(nil, b))
	}
	c := b.Apply(Dot{Actor: 3, Counter: 1}, 3, Write{Context: b.Context(), Tombstone: true}, 10)
	if Digest(nil, c) == 0 || Digest(nil, c) == Digest(nil, b) {
		t.Fatal("a tombstone state must have a digest of its own")
	}
}

// BenchmarkDigest: the cost anti-entropy adds to every write (twice: the
// old state and the new), for a one-sibling state with a 100-byte value.
func BenchmarkDigest(b *testing.B) {
	var o *Object
	o = o.Apply(Dot{Actor: 1, Counter: 1}, 1, Write{Value: bytes.Repeat([]byte("v"), 100)}, 10)
	key := []byte("key:000012345")
	b.ReportAllocs()
	for b.Loop() {
		Digest(key, o)
	}
}
