package store

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/dynakv/dynakv/ring"
)

// inRange reports whether start <= k < end (bytewise).
func inRange(k, start, end []byte) bool {
	return bytes.Compare(start, k) <= 0 && bytes.Compare(k, end) < 0
}

func TestPartitionRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, q := range []int{1, 2, 1024, 65536} {
		ranges := make([][2][]byte, q)
		for p := range q {
			s, e := PartitionRange(p, q)
			ranges[p] = [2][]byte{s, e}
			if bytes.Compare(s, e) >= 0 {
				t.Fatalf("q=%d p=%d: empty range [%x, %x)", q, p, s, e)
			}
		}
		// Ordered and contiguous, from the start of the hash space to the
		// end of the data kind.
		if want := append([]byte{DataPrefix}, make([]byte, 8)...); !bytes.Equal(ranges[0][0], want) {
			t.Fatalf("q=%d: first start %x, want %x", q, ranges[0][0], want)
		}
		for p := 1; p < q; p++ {
			if !bytes.Equal(ranges[p-1][1], ranges[p][0]) {
				t.Fatalf("q=%d: end of %d %x != start of %d %x", q, p-1, ranges[p-1][1], p, ranges[p][0])
			}
		}
		if last := ranges[q-1][1]; !bytes.Equal(last, []byte{DataPrefix + 1}) {
			t.Fatalf("q=%d: last end %x", q, last)
		}

		keys := make([][]byte, 0, 2000)
		for i := 0; i < 2000; i++ {
			k := make([]byte, rng.IntN(20))
			for j := range k {
				k[j] = byte(rng.Uint32())
			}
			keys = append(keys, k)
		}
		// Edge positions: the first and last hash of some partitions.
		edges := []ring.Hash{{Hi: 0}, {Hi: ^uint64(0), Lo: ^uint64(0)}}
		for _, p := range []int{0, q / 2, q - 1} {
			start := ring.PartitionStart(p, q)
			edges = append(edges, ring.Hash{Hi: start}, ring.Hash{Hi: start - 1, Lo: ^uint64(0)})
		}
		check := func(h ring.Hash, key []byte) {
			dk := DataKey(h, key)
			p := h.Partition(q)
			if !inRange(dk, ranges[p][0], ranges[p][1]) {
				t.Fatalf("q=%d: key %x (partition %d) not in its range [%x, %x)", q, dk, p, ranges[p][0], ranges[p][1])
			}
			// In no other: the neighbours are enough given contiguity, but
			// check all of them for small q.
			others := []int{p - 1, p + 1}
			if q <= 1024 {
				others = others[:0]
				for o := range q {
					others = append(others, o)
				}
			}
			for _, o := range others {
				if o < 0 || o >= q || o == p {
					continue
				}
				if inRange(dk, ranges[o][0], ranges[o][1]) {
					t.Fatalf("q=%d: key %x of partition %d also in range of %d", q, dk, p, o)
				}
			}
			if s, e := DataRange(ring.PartitionStart(p, q)); !inRange(dk, s, e) {
				t.Fatalf("q=%d: key %x not in DataRange of its partition start", q, dk)
			}
			if p+1 < q {
				if s, e := DataRange(ring.PartitionStart(p+1, q)); inRange(dk, s, e) {
					t.Fatalf("q=%d: key %x in DataRange of the next partition", q, dk)
				}
			}
		}
		for _, k := range keys {
			check(ring.HashKey(k), k)
		}
		for _, h := range edges {
			check(h, []byte("edge"))
			check(h, nil)
		}
	}
}

func TestPartitionRangePanics(t *testing.T) {
	for _, c := range [][2]int{{0, 0}, {0, 3}, {-1, 4}, {4, 4}, {0, 1 << 25}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PartitionRange(%d, %d) did not panic", c[0], c[1])
				}
			}()
			PartitionRange(c[0], c[1])
		}()
	}
}

func TestDataKeysSortByHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		a, b := ring.Hash{Hi: rng.Uint64()}, ring.Hash{Hi: rng.Uint64()}
		if i%10 == 0 {
			b.Hi = a.Hi
		}
		ka, kb := []byte{byte(rng.Uint32())}, []byte{byte(rng.Uint32()), 0}
		c := bytes.Compare(DataKey(a, ka), DataKey(b, kb))
		switch {
		case a.Hi < b.Hi && c >= 0, a.Hi > b.Hi && c <= 0:
			t.Fatalf("order of %x/%x and %x/%x: %d", a.Hi, ka, b.Hi, kb, c)
		}
	}
	// Data keys stay inside [DataPrefix, DataPrefix+1) and so never mix
	// with the other kinds.
	for _, h := range []ring.Hash{{}, {Hi: ^uint64(0)}} {
		dk := DataKey(h, bytes.Repeat([]byte{0xff}, 10))
		if !inRange(dk, []byte{DataPrefix}, []byte{DataPrefix + 1}) {
			t.Fatalf("data key %x outside the data kind", dk)
		}
	}
	if mk := MetaKey("x"); !bytes.Equal(mk, []byte("mx")) {
		t.Fatalf("MetaKey = %q", mk)
	}
}

func TestParseDataKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 1000; i++ {
		key := make([]byte, rng.IntN(40))
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		h := ring.HashKey(key)
		dk := DataKey(h, key)
		hi, uk, ok := ParseDataKey(dk)
		if !ok || hi != h.Hi || !bytes.Equal(uk, key) {
			t.Fatalf("round trip of %x: %x %x %v", key, hi, uk, ok)
		}
		// Appending to the user key must not write into dk.
		before := bytes.Clone(dk)
		_ = append(uk, 'X')
		if !bytes.Equal(dk, before) {
			t.Fatal("appending to the parsed user key changed the data key")
		}
		// AppendDataKey extends dst and matches DataKey.
		prefix := []byte("pre")
		if got := AppendDataKey(prefix, h, key); !bytes.Equal(got, append([]byte("pre"), dk...)) {
			t.Fatalf("AppendDataKey = %x", got)
		}
	}
	for _, bad := range [][]byte{nil, {}, {DataPrefix}, []byte("d1234567"), append([]byte{MetaPrefix}, make([]byte, 12)...), MetaKey("abcdefghijk"), {HintPrefix, 1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		if hi, uk, ok := ParseDataKey(bad); ok || hi != 0 || uk != nil {
			t.Errorf("ParseDataKey(%x) = %x, %x, %v; want rejected", bad, hi, uk, ok)
		}
	}
	// The shortest data key: empty user key.
	if hi, uk, ok := ParseDataKey(DataKey(ring.Hash{Hi: 42}, nil)); !ok || hi != 42 || len(uk) != 0 {
		t.Fatalf("empty user key: %d %q %v", hi, uk, ok)
	}
}

func TestAppendDataKeyAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	h := ring.HashKey([]byte("user"))
	if n := testing.AllocsPerRun(100, func() { buf = AppendDataKey(buf[:0], h, []byte("user")) }); n != 0 {
		t.Fatalf("AppendDataKey allocates %v times", n)
	}
}

func FuzzParseDataKey(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("d"))
	f.Add(DataKey(ring.HashKey([]byte("k")), []byte("k")))
	f.Add(MetaKey("name"))
	f.Fuzz(func(t *testing.T, k []byte) {
		hi, uk, ok := ParseDataKey(k)
		if !ok {
			if len(k) >= DataKeyHeader && k[0] == DataPrefix {
				t.Fatalf("rejected a well-formed data key %x", k)
			}
			return
		}
		if hi != binary.BigEndian.Uint64(k[1:9]) {
			t.Fatalf("hash %x from %x", hi, k)
		}
		// Re-encoding gives back the same key.
		if got := AppendDataKey(nil, ring.Hash{Hi: hi}, uk); !bytes.Equal(got, k) {
			t.Fatalf("re-encoded %x as %x", k, got)
		}
	})
}
