package codec

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// naiveUvarint is the canonical unsigned varint decoded the long way, a
// byte at a time, as the naive twin of Reader.Uvarint: ok is false for a
// truncated, overflowing or overlong (non-shortest) encoding.
func naiveUvarint(b []byte) (v uint64, n int, ok bool) {
	for i := 0; i < len(b) && i < binary.MaxVarintLen64; i++ {
		c := b[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			return 0, 0, false // more than 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i > 0 && c == 0 {
				return 0, 0, false // a shorter form exists
			}
			return v, i + 1, true
		}
	}
	return 0, 0, false
}

func naiveZigZag(u uint64) int64 {
	if u&1 == 0 {
		return int64(u / 2)
	}
	return -int64(u/2) - 1
}

// FuzzReader runs a program of reads (ops) over buf, and checks every step
// against a naive twin that tracks the position by hand: the same values,
// the same bytes consumed, failure at the same step and stuck from then on;
// every value read re-encodes to exactly the bytes it came from; Done fails
// exactly when a read failed or bytes are left.
func FuzzReader(f *testing.F) {
	var good []byte
	good = append(good, 9)
	good = AppendU64(good, 42)
	good = AppendUvarint(good, 300)
	good = AppendVarint(good, -5)
	good = AppendUvarint(good, 2)
	good = AppendBytes(good, []byte("hi"))
	f.Add([]byte{0, 1, 2, 3, 4 | 1<<3, 5 | 8<<3}, good)
	f.Add([]byte{2, 2, 2}, []byte{0x80, 0x00, 0x01})
	f.Add([]byte{5 | 1<<3}, []byte{3, 'a', 'b', 'c'})
	f.Add([]byte{6, 0}, []byte{1})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, ops, buf []byte) {
		r := NewReader(buf, nil)
		pos, failed := 0, false
		for step, op := range ops {
			rest := buf[pos:]
			arg := int(op >> 3)
			var (
				n   int  // bytes the twin consumes
				bad bool // the twin fails this step
				enc []byte
			)
			switch op % 7 {
			case 0:
				got := r.Byte()
				if bad = len(rest) < 1; !bad {
					n, enc = 1, []byte{got}
				}
			case 1:
				got := r.U64()
				if bad = len(rest) < 8; !bad {
					n, enc = 8, AppendU64(nil, got)
				}
			case 2:
				got := r.Uvarint()
				want, m, ok := naiveUvarint(rest)
				if bad = !ok; !bad {
					if got != want && !failed {
						t.Fatalf("step %d: Uvarint = %d, naive %d", step, got, want)
					}
					n, enc = m, AppendUvarint(nil, got)
				}
			case 3:
				got := r.Varint()
				u, m, ok := naiveUvarint(rest)
				if bad = !ok; !bad {
					if want := naiveZigZag(u); got != want && !failed {
						t.Fatalf("step %d: Varint = %d, naive %d", step, got, want)
					}
					n, enc = m, AppendVarint(nil, got)
				}
			case 4:
				minSize := max(arg, 1)
				got := r.Count(arg)
				u, m, ok := naiveUvarint(rest)
				if bad = !ok || u*uint64(minSize)/uint64(minSize) != u || u*uint64(minSize) > uint64(len(rest)-m); !bad {
					if uint64(got) != u && !failed {
						t.Fatalf("step %d: Count = %d, naive %d", step, got, u)
					}
					n, enc = m, AppendUvarint(nil, uint64(got))
				}
			case 5:
				got := r.Bytes(uint64(arg))
				u, m, ok := naiveUvarint(rest)
				if bad = !ok || u > uint64(len(rest)-m) || u > uint64(arg); !bad {
					if !failed && (cap(got) != len(got) || !bytes.Equal(got, rest[m:m+int(u)])) {
						t.Fatalf("step %d: Bytes = %q (cap %d), naive %q", step, got, cap(got), rest[m:m+int(u)])
					}
					n, enc = m+int(u), AppendBytes(nil, got)
				}
			case 6:
				r.Fail("caller's check")
				bad = true
			}
			if failed {
				if r.Len() != 0 || r.Err() == nil {
					t.Fatalf("step %d: a failed reader has %d bytes, err %v", step, r.Len(), r.Err())
				}
				continue
			}
			if bad {
				failed = true
				if r.Err() == nil || r.Len() != 0 {
					t.Fatalf("step %d (op %d): reader did not fail on %x", step, op%7, rest)
				}
				continue
			}
			if r.Err() != nil {
				t.Fatalf("step %d (op %d): reader failed where the twin did not: %v", step, op%7, r.Err())
			}
			if !bytes.Equal(enc, rest[:n]) {
				t.Fatalf("step %d (op %d): value re-encodes to %x, read from %x", step, op%7, enc, rest[:n])
			}
			pos += n
			if r.Len() != len(buf)-pos {
				t.Fatalf("step %d: %d bytes left, twin %d", step, r.Len(), len(buf)-pos)
			}
		}
		if err := r.Done(); (err != nil) != (failed || pos != len(buf)) {
			t.Fatalf("Done = %v, failed %v, %d bytes left", err, failed, len(buf)-pos)
		}
	})
}
