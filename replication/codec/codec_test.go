package codec

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

var errTest = errors.New("test: corrupt")

func TestRoundTrip(t *testing.T) {
	var buf []byte
	buf = append(buf, 7)
	buf = AppendU64(buf, 0x0102030405060708)
	uvs := []uint64{0, 1, 127, 128, 300, 1 << 32, math.MaxUint64}
	for _, v := range uvs {
		buf = AppendUvarint(buf, v)
	}
	vs := []int64{0, -1, 1, -64, 64, math.MinInt64, math.MaxInt64}
	for _, v := range vs {
		buf = AppendVarint(buf, v)
	}
	buf = AppendBytes(buf, []byte("hello"))
	buf = AppendString(buf, "world")
	buf = AppendBytes(buf, nil)

	r := NewReader(buf, errTest)
	if b := r.Byte(); b != 7 {
		t.Fatalf("Byte = %d", b)
	}
	if v := r.U64(); v != 0x0102030405060708 {
		t.Fatalf("U64 = %#x", v)
	}
	for _, want := range uvs {
		if v := r.Uvarint(); v != want {
			t.Fatalf("Uvarint = %d, want %d", v, want)
		}
	}
	for _, want := range vs {
		if v := r.Varint(); v != want {
			t.Fatalf("Varint = %d, want %d", v, want)
		}
	}
	b := r.Bytes(5)
	if string(b) != "hello" || cap(b) != len(b) {
		t.Fatalf("Bytes = %q (cap %d)", b, cap(b))
	}
	if s := r.String(5); s != "world" {
		t.Fatalf("String = %q", s)
	}
	if b := r.Bytes(0); len(b) != 0 {
		t.Fatalf("empty Bytes = %q", b)
	}
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
}

func TestU64IsBigEndian(t *testing.T) {
	got := AppendU64(nil, 0x0102030405060708)
	if !bytes.Equal(got, []byte{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("AppendU64 = %v", got)
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		buf  []byte
		read func(r *Reader)
		what string
	}{
		{"byte of nothing", nil, func(r *Reader) { r.Byte() }, "truncated"},
		{"short u64", []byte{1, 2, 3}, func(r *Reader) { r.U64() }, "truncated"},
		{"truncated varint", []byte{0x80}, func(r *Reader) { r.Uvarint() }, "bad varint"},
		{"overlong varint", []byte{0x81, 0x00}, func(r *Reader) { r.Uvarint() }, "bad varint"},
		{"overlong zero", []byte{0x80, 0x00}, func(r *Reader) { r.Varint() }, "bad varint"},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), func(r *Reader) { r.Uvarint() }, "bad varint"},
		{"count too large", []byte{3, 0, 0, 0, 0, 0}, func(r *Reader) { r.Count(3) }, "count exceeds the data"},
		{"bytes past the end", []byte{4, 'a', 'b'}, func(r *Reader) { r.Bytes(10) }, "truncated"},
		{"bytes over the limit", []byte{2, 'a', 'b'}, func(r *Reader) { r.Bytes(1) }, "too long"},
		{"trailing", []byte{1, 2}, func(r *Reader) { r.Byte() }, "trailing bytes"},
		{"caller's check", []byte{1}, func(r *Reader) { r.Fail("unknown flags") }, "unknown flags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.buf, errTest)
			tc.read(&r)
			err := r.Done()
			if !errors.Is(err, errTest) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want it to wrap errTest and ErrMalformed", err)
			}
			if want := "test: corrupt: " + tc.what; err.Error() != want {
				t.Fatalf("err = %q, want %q", err, want)
			}
		})
	}
}

func TestCountAllowsWhatFits(t *testing.T) {
	r := NewReader([]byte{2, 0, 0, 0, 0}, errTest)
	if n := r.Count(2); n != 2 || r.Err() != nil {
		t.Fatalf("Count = %d, %v", n, r.Err())
	}
	r = NewReader([]byte{4, 0, 0, 0, 0}, errTest)
	if n := r.Count(0); n != 4 || r.Err() != nil { // minSize 0 counts as 1
		t.Fatalf("Count(0) = %d, %v", n, r.Err())
	}
}

// TestFirstErrorSticks: after a failure every read returns the zero value,
// the reader is empty, and the first error is the one reported.
func TestFirstErrorSticks(t *testing.T) {
	r := NewReader(AppendBytes([]byte{0x80, 0x00}, []byte("after")), nil)
	r.Uvarint()
	first := r.Err()
	if first == nil || r.Len() != 0 {
		t.Fatalf("err %v, %d bytes left", first, r.Len())
	}
	r.Fail("second")
	if r.Byte() != 0 || r.U64() != 0 || r.Uvarint() != 0 || r.Varint() != 0 ||
		r.Count(1) != 0 || r.Bytes(10) != nil || r.String(10) != "" {
		t.Fatal("a failed reader returned a value")
	}
	if r.Err() != first || r.Done() != first {
		t.Fatalf("err = %v, want the first failure %v", r.Err(), first)
	}
	if !errors.Is(first, ErrMalformed) || first.Error() != "codec: malformed input: bad varint" {
		t.Fatalf("nil base: err = %v", first)
	}
}

func TestBytesAliasesWithoutCapacity(t *testing.T) {
	buf := AppendBytes(nil, []byte("ab"))
	buf = append(buf, 'z')
	r := NewReader(buf, errTest)
	b := r.Bytes(2)
	_ = append(b, 'x') // must not overwrite the 'z' after it
	if buf[len(buf)-1] != 'z' {
		t.Fatal("appending to a returned slice overwrote the buffer")
	}
	b[0] = 'A'
	if buf[1] != 'A' {
		t.Fatal("Bytes copied; it should alias the buffer")
	}
}

func BenchmarkReader(b *testing.B) {
	var buf []byte
	for i := range 64 {
		buf = AppendU64(buf, uint64(i)*0x9e3779b97f4a7c15)
		buf = AppendUvarint(buf, uint64(i)<<(i%50))
		buf = AppendVarint(buf, -int64(i)<<(i%40))
		buf = AppendBytes(buf, []byte("value"))
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(buf, errTest)
		for range 64 {
			r.U64()
			r.Uvarint()
			r.Varint()
			r.Bytes(16)
		}
		if err := r.Done(); err != nil {
			b.Fatal(err)
		}
	}
}
