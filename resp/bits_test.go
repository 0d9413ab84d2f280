package resp

import (
	"bytes"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestSetBitGetBit: SETBIT replies the old bit, pads with zero bytes and
// keeps the expiry; GETBIT reads 0 past the end; offsets and bit values
// are checked with Redis's words, offsets against the value limit.
func TestSetBitGetBit(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.Limits.MaxBulkLen = 64 })
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SETBIT", "k", "1", "1"), integer(0)},
		{cmd("GET", "k"), bulk("\x40")},
		{cmd("SET", "k", "@", "EX", "100"), okReply},
		{cmd("SETBIT", "k", "2", "1"), integer(0)},
		{cmd("GET", "k"), bulk("\x60")},
		{cmd("SETBIT", "k", "1", "0"), integer(1)},
		{cmd("GET", "k"), bulk("\x20")},
		{cmd("TTL", "k"), integer(100)},
		{cmd("SETBIT", "k", "23", "1"), integer(0)},
		{cmd("GET", "k"), bulk("\x20\x00\x01")},
		{cmd("GETBIT", "k", "2"), integer(1)},
		{cmd("GETBIT", "k", "3"), integer(0)},
		{cmd("GETBIT", "k", "23"), integer(1)},
		{cmd("GETBIT", "k", "511"), integer(0)},
		{cmd("GETBIT", "nokey", "0"), integer(0)},
		// A new key is created even by a clear bit.
		{cmd("SETBIT", "z", "7", "0"), integer(0)},
		{cmd("GET", "z"), bulk("\x00")},
		// Bit 511 is the last of a 64-byte value.
		{cmd("SETBIT", "big", "511", "1"), integer(0)},
		{cmd("STRLEN", "big"), integer(64)},
		{cmd("SETBIT", "big", "512", "1"), errReply(errBitOffset)},
		{cmd("GETBIT", "big", "512"), errReply(errBitOffset)},
		{cmd("SETBIT", "k", "-1", "1"), errReply(errBitOffset)},
		{cmd("SETBIT", "k", "x", "1"), errReply(errBitOffset)},
		{cmd("SETBIT", "k", "#1", "1"), errReply(errBitOffset)},
		{cmd("SETBIT", "k", "0", "2"), errReply(errBitValue)},
		{cmd("SETBIT", "k", "0", "-1"), errReply(errBitValue)},
		{cmd("SETBIT", "k", "0", "x"), errReply(errBitValue)},
		{cmd("SADD", "s", "m"), integer(1)},
		{cmd("SETBIT", "s", "0", "1"), errReply(wrongType)},
		{cmd("GETBIT", "s", "0"), errReply(wrongType)},
		{cmd("SETBIT", "s", "-1", "1"), errReply(errBitOffset)},
		// A counter reads as its decimal text: "1" is 00110001.
		{cmd("INCR", "n"), integer(1)},
		{cmd("GETBIT", "n", "2"), integer(1)},
		{cmd("SETBIT", "n", "6", "1"), integer(0)},
		{cmd("GET", "n"), bulk("3")},
		{cmd("INCR", "n"), integer(4)},
	})
}

// TestSetBitUnchangedWritesNothing: a SETBIT that changes nothing writes
// no version (Redis leaves the key clean): the key's causal context stays.
func TestSetBitUnchangedWritesNothing(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("SETBIT", "k", "3", "1"), integer(0)}})
	before := vgetContext(t, c, "k")
	runRaw(t, c, []rawCase{
		{cmd("SETBIT", "k", "3", "1"), integer(1)},
		{cmd("SETBIT", "k", "4", "0"), integer(0)},
		{cmd("BITFIELD", "k", "SET", "u4", "0", "1"), array(integer(1))},
	})
	if after := vgetContext(t, c, "k"); after != before {
		t.Errorf("context changed from %q to %q by writes that changed nothing", before, after)
	}
	runRaw(t, c, []rawCase{{cmd("SETBIT", "k", "8", "0"), integer(0)}}) // grows: a write
	if after := vgetContext(t, c, "k"); after == before {
		t.Errorf("a SETBIT that grew the value wrote no version")
	}
}

// TestBitsOfHyperLogLog: a HyperLogLog key is a string to the bit
// commands, which work on dynakv's encoding of the sketch (what GET
// returns); a bit write makes it a plain string, no longer a sketch.
func TestBitsOfHyperLogLog(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("PFADD", "h", "a", "b"), integer(1)}})
	enc := decode(t, c.do("GET", "h")).(string)
	runRaw(t, c, []rawCase{
		{cmd("BITCOUNT", "h"), integer(popcount([]byte(enc)))},
		{cmd("GETRANGE", "h", "0", "-1"), bulk(enc)},
		{cmd("GETBIT", "h", "0"), integer(int64(enc[0] >> 7))},
		{cmd("SETRANGE", "h", "0", "x"), integer(int64(len(enc)))},
		{cmd("PFCOUNT", "h"), errReply(errNotHLL)},
	})
}

// TestBitCount: whole strings, BYTE and BIT ranges, Redis's early answers
// (0 for a missing key whatever the arguments, 0 for start > end both
// negative) and errors.
func TestBitCount(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("BITCOUNT", "nokey"), integer(0)},
		{cmd("BITCOUNT", "nokey", "0", "1000", "bit"), integer(0)},
		{cmd("BITCOUNT", "nokey", "0"), integer(0)}, // the key is looked up first
		{cmd("SET", "s", "foobar"), okReply},
		{cmd("BITCOUNT", "s"), integer(26)},
		{cmd("BITCOUNT", "s", "0", "0"), integer(4)},
		{cmd("BITCOUNT", "s", "1", "1"), integer(6)},
		{cmd("BITCOUNT", "s", "1", "-2"), integer(18)},
		{cmd("BITCOUNT", "s", "-2", "1"), integer(0)},
		{cmd("BITCOUNT", "s", "0", "1000"), integer(26)},
		{cmd("BITCOUNT", "s", "5", "30", "BIT"), integer(17)},
		{cmd("BITCOUNT", "s", "10", "-34", "bit"), integer(4)},
		{cmd("BITCOUNT", "s", "-6", "-15", "bit"), integer(0)},
		{cmd("BITCOUNT", "s", "0", "-1", "byte"), integer(26)},
		{cmd("BITCOUNT", "s", "0"), errReply(errSyntax)},
		{cmd("BITCOUNT", "s", "0", "1", "hello"), errReply(errSyntax)},
		{cmd("BITCOUNT", "s", "-1", "-2", "hello"), integer(0)}, // answered before the unit is read
		{cmd("BITCOUNT", "s", "x", "1"), errReply(errNotInteger)},
		{cmd("BITCOUNT", "s", "0", "1", "bit", "x"), errReply(errSyntax)},
		{cmd("SET", "e", ""), okReply},
		{cmd("BITCOUNT", "e", "0", "-1"), integer(0)},
		{cmd("SADD", "set", "m"), integer(1)},
		{cmd("BITCOUNT", "set"), errReply(wrongType)},
	})
}

// TestBitPos: BITPOS with and without ranges, BYTE and BIT, the zero bit
// past the end of an open range and -1 in a closed one.
func TestBitPos(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("BITPOS", "nokey", "0"), integer(0)},
		{cmd("BITPOS", "nokey", "1"), integer(-1)},
		{cmd("BITPOS", "nokey", "1", "x"), integer(-1)}, // the key is looked up first
		{cmd("SET", "s", "\xff\xf0\x00"), okReply},
		{cmd("BITPOS", "s", "0"), integer(12)},
		{cmd("BITPOS", "s", "1", "2"), integer(-1)},
		{cmd("BITPOS", "s", "0", "2"), integer(16)},
		{cmd("SET", "s", "\xff\xff\xff"), okReply},
		{cmd("BITPOS", "s", "0"), integer(24)},
		{cmd("BITPOS", "s", "0", "0"), integer(24)},
		{cmd("BITPOS", "s", "0", "0", "-1"), integer(-1)},
		{cmd("BITPOS", "s", "0", "0", "-1", "bit"), integer(-1)},
		{cmd("SET", "s", "\x00\xff\x00"), okReply},
		{cmd("BITPOS", "s", "1", "7", "15", "bit"), integer(8)},
		{cmd("BITPOS", "s", "1", "7", "7", "bit"), integer(-1)},
		{cmd("BITPOS", "s", "0", "8", "15", "bit"), integer(-1)},
		{cmd("BITPOS", "s", "0", "9", "-1", "BIT"), integer(16)},
		{cmd("BITPOS", "s", "1", "-1"), integer(-1)},
		{cmd("BITPOS", "s", "1", "-2"), integer(8)},
		{cmd("BITPOS", "s", "2"), errReply("ERR The bit argument must be 1 or 0.")},
		{cmd("BITPOS", "s", "x"), errReply(errNotInteger)},
		{cmd("BITPOS", "s", "1", "0", "1", "bits"), errReply(errSyntax)},
		{cmd("BITPOS", "s", "1", "0", "1", "bit", "x"), errReply(errSyntax)},
		{cmd("BITPOS", "s", "1", "0", "x"), errReply(errNotInteger)},
		{cmd("SADD", "set", "m"), integer(1)},
		{cmd("BITPOS", "set", "1"), errReply(wrongType)},
	})
}

// bitAt reads bit i of p (0 past its end).
func bitAt(p []byte, i int64) int {
	if i>>3 >= int64(len(p)) {
		return 0
	}
	return int(p[i>>3]>>(7-i&7)) & 1
}

// TestBitCountBitPosModel compares BITCOUNT's and BITPOS's range
// arithmetic with a bit-by-bit model of Redis's rules on random strings
// and ranges.
func TestBitCountBitPosModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		p := make([]byte, rng.IntN(40))
		for i := range p {
			switch rng.IntN(3) {
			case 0:
				p[i] = 0xff
			case 1:
				p[i] = byte(rng.Uint32())
			}
		}
		units := int64(len(p))
		isBit := rng.IntN(2) == 0
		if isBit {
			units *= 8
		}
		start, end := rng.Int64N(2*units+10)-units-5, rng.Int64N(2*units+10)-units-5
		checkBitRange(t, p, start, end, isBit)
	}
}

// FuzzBitRange: checkBitRange on any string and range.
func FuzzBitRange(f *testing.F) {
	f.Add([]byte("foobar"), int64(1), int64(-2), false)
	f.Add([]byte("\x00\xff\x00"), int64(7), int64(15), true)
	f.Add([]byte("\xff\xff"), int64(math.MinInt64), int64(math.MaxInt64), true)
	f.Fuzz(func(t *testing.T, p []byte, start, end int64, isBit bool) {
		checkBitRange(t, p, start, end, isBit)
	})
}

// checkBitRange checks BITCOUNT and BITPOS (with the end given, and for a
// BYTE range without it) of p over start..end against a bit-by-bit model.
func checkBitRange(t *testing.T, p []byte, start, end int64, isBit bool) {
	t.Helper()
	n := int64(len(p))
	units := n
	if isBit {
		units *= 8
	}
	// The model: the range in bits after Redis's clamping.
	s, e := start, end
	if s < 0 {
		s += units
	}
	if e < 0 {
		e += units
	}
	s, e = min(max(s, 0), units), min(max(e, 0), units-1)
	if !isBit {
		s, e = s*8, e*8+7
	}
	var count int64
	for i := s; i <= e; i++ {
		count += int64(bitAt(p, i))
	}
	r := clampBitRange(start, end, n, isBit)
	got := int64(0)
	if r.start <= r.end {
		got = popcount(p[r.start:r.end+1]) - int64(bits.OnesCount8(p[r.start]&r.firstMask)+bits.OnesCount8(p[r.end]&r.lastMask))
	}
	if got != count {
		t.Fatalf("bitcount %x %d %d bit=%v = %d, want %d", p, start, end, isBit, got, count)
	}
	if r.start > r.end {
		return // BITPOS answers -1 before bitPosIn
	}
	for bit := range 2 {
		want := int64(-1)
		for i := s; i <= e; i++ {
			if bitAt(p, i) == bit {
				want = i
				break
			}
		}
		if got := bitPosIn(p, r, bit, true); got != want {
			t.Fatalf("bitpos %x %d %d %d bit=%v = %d, want %d", p, bit, start, end, isBit, got, want)
		}
		if isBit {
			continue
		}
		// Without an end, the range runs to the end of the string and a
		// clear bit is found past it.
		open := clampBitRange(start, n-1, n, false)
		if open.start > open.end {
			continue
		}
		want = -1
		for i := open.start * 8; i < n*8; i++ {
			if bitAt(p, i) == bit {
				want = i
				break
			}
		}
		if want == -1 && bit == 0 {
			want = n * 8
		}
		if got := bitPosIn(p, open, bit, false); got != want {
			t.Fatalf("bitpos %x %d %d (no end) = %d, want %d", p, bit, start, got, want)
		}
	}
}

// TestFirstBit checks firstBit's word-at-a-time scan against a bit loop.
func TestFirstBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		p := bytes.Repeat([]byte{0xff * byte(rng.IntN(2))}, rng.IntN(30))
		if len(p) > 0 && rng.IntN(2) == 0 {
			p[rng.IntN(len(p))] ^= 1 << rng.IntN(8)
		}
		for bit := range 2 {
			want := int64(-1)
			if bit == 0 {
				want = int64(len(p)) * 8
			}
			for i := int64(0); i < int64(len(p))*8; i++ {
				if bitAt(p, i) == bit {
					want = i
					break
				}
			}
			if got := firstBit(p, bit); got != want {
				t.Fatalf("firstBit(%x, %d) = %d, want %d", p, bit, got, want)
			}
		}
	}
}

// TestBitOp: AND, OR, XOR over zero-padded sources, NOT of one, an empty
// result deleting the destination, the destination replaced as by SET
// (whatever its type, without its expiry), and the errors.
func TestBitOp(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "a", "\x01\x02\xff\xff"), okReply},
		{cmd("SET", "b", "\x01\x02\xff"), okReply},
		{cmd("BITOP", "AND", "r", "a", "b"), integer(4)},
		{cmd("GET", "r"), bulk("\x01\x02\xff\x00")},
		{cmd("BITOP", "or", "r", "a", "b"), integer(4)},
		{cmd("GET", "r"), bulk("\x01\x02\xff\xff")},
		{cmd("BITOP", "XOR", "r", "a", "b"), integer(4)},
		{cmd("GET", "r"), bulk("\x00\x00\x00\xff")},
		{cmd("BITOP", "AND", "r", "nokey", "a"), integer(4)},
		{cmd("GET", "r"), bulk("\x00\x00\x00\x00")},
		{cmd("BITOP", "NOT", "r", "b"), integer(3)},
		{cmd("GET", "r"), bulk("\xfe\xfd\x00")},
		{cmd("BITOP", "NOT", "a", "a"), integer(4)},
		{cmd("GET", "a"), bulk("\xfe\xfd\x00\x00")},
		{cmd("SET", "one", "1"), okReply},
		{cmd("SET", "two", "2"), okReply},
		{cmd("BITOP", "XOR", "r", "one", "two", "one"), integer(1)},
		{cmd("GET", "r"), bulk("2")},
		// An empty result deletes the destination.
		{cmd("SET", "e", ""), okReply},
		{cmd("BITOP", "OR", "r", "e", "nokey"), integer(0)},
		{cmd("EXISTS", "r"), integer(0)},
		// The destination is replaced as by SET: any type, no expiry.
		{cmd("SADD", "set", "m"), integer(1)},
		{cmd("BITOP", "OR", "set", "b"), integer(3)},
		{cmd("TYPE", "set"), simple("string")},
		{cmd("SET", "x", "v", "EX", "100"), okReply},
		{cmd("BITOP", "OR", "x", "b"), integer(3)},
		{cmd("TTL", "x"), integer(-1)},
		{cmd("SADD", "s2", "m"), integer(1)},
		{cmd("BITOP", "OR", "r", "a", "s2", "nokey"), errReply(wrongType)},
		{cmd("BITOP", "NOT", "r", "a", "b"), errReply("ERR BITOP NOT must be called with a single source key.")},
		{cmd("BITOP", "NAND", "r", "a"), errReply(errSyntax)},
		{cmd("BITOP", "AND", "r"), errReply("ERR wrong number of arguments for 'bitop' command")},
	})
}

// TestBitOpModel compares bitOp with a byte-wise model on random sources.
func TestBitOpModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		srcs := make([][]byte, 1+rng.IntN(4))
		n := 0
		for i := range srcs {
			srcs[i] = make([]byte, rng.IntN(20))
			for j := range srcs[i] {
				srcs[i][j] = byte(rng.Uint32())
			}
			n = max(n, len(srcs[i]))
		}
		if n == 0 {
			continue
		}
		op := rng.IntN(4)
		if op == bitNot {
			srcs = srcs[:1]
			n = max(len(srcs[0]), 1)
			srcs[0] = append(srcs[0], make([]byte, n-len(srcs[0]))...)
		}
		got := bitOp(op, srcs, n)
		for j := range n {
			at := func(s []byte) byte {
				if j < len(s) {
					return s[j]
				}
				return 0
			}
			want := at(srcs[0])
			for _, s := range srcs[1:] {
				switch op {
				case bitAnd:
					want &= at(s)
				case bitOr:
					want |= at(s)
				case bitXor:
					want ^= at(s)
				}
			}
			if op == bitNot {
				want = ^want
			}
			if got[j] != want {
				t.Fatalf("bitOp(%d, %x) byte %d = %x, want %x", op, srcs, j, got[j], want)
			}
		}
	}
}

// TestBitsConcurrentWrites: SETBITs of different bits through two nodes
// at once become sibling strings, as two APPENDs do (bits are not a CRDT
// here); plain reads answer the newest, and the next SETBIT, which reads
// the newest, replaces them both.
func TestBitsConcurrentWrites(t *testing.T) {
	e := newTestEnv(t)
	n2 := secondNode(t, e)
	c1, c2 := e.dial(), n2.dial()
	runRaw(t, c1, []rawCase{{cmd("SETBIT", "b", "0", "1"), integer(0)}})
	e.clock.Advance(time.Millisecond)
	runRaw(t, c2, []rawCase{{cmd("SETBIT", "b", "7", "1"), integer(0)}})
	exchange(t, e.local, n2.local)
	for _, c := range []*rawConn{c1, c2} {
		ctxB := vgetContext(t, c, "b")
		runRaw(t, c, []rawCase{
			{cmd("VGET", "b"), bulks(ctxB, "\x80", "\x01")},
			{cmd("GET", "b"), bulk("\x01")},
			{cmd("GETBIT", "b", "0"), integer(0)},
			{cmd("BITCOUNT", "b"), integer(1)},
		})
	}
	runRaw(t, c1, []rawCase{{cmd("SETBIT", "b", "1", "1"), integer(0)}})
	ctxB := vgetContext(t, c1, "b")
	runRaw(t, c1, []rawCase{{cmd("VGET", "b"), bulks(ctxB, "\x41")}})
}

// splitArgs splits a fuzzer's string into arguments at spaces.
func splitArgs(s string) [][]byte {
	var out [][]byte
	for _, f := range bytes.Split([]byte(s), []byte(" ")) {
		if len(f) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// FuzzBitOffset: bitOffset never panics and accepts only offsets whose
// byte is below the limit.
func FuzzBitOffset(f *testing.F) {
	for _, s := range []string{"0", "#3", "-1", "4294967296", "#-1", "#9223372036854775807", "x"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, s string, width int) {
		width = max(0, width%65)
		const limit = 1 << 20
		off, ok := bitOffset([]byte(s), width, limit)
		if ok && off>>3 >= limit {
			t.Fatalf("bitOffset(%q, %d) = %d, over the limit", s, width, off)
		}
		if n, err := strconv.ParseInt(s, 10, 64); ok && err == nil && uint64(n) != off {
			t.Fatalf("bitOffset(%q) = %d", s, off)
		}
	})
}
