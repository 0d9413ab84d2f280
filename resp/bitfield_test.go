package resp

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestBitfield: GET, SET and INCRBY of signed and unsigned fields, #N
// offsets, the three overflow behaviours, replies in order, and the
// errors in Redis's order.
func TestBitfield(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("BITFIELD", "bits"), array()},
		{cmd("BITFIELD", "bits", "SET", "i8", "0", "-100"), array(integer(0))},
		{cmd("BITFIELD", "bits", "SET", "i8", "0", "101"), array(integer(-100))},
		{cmd("BITFIELD", "bits", "GET", "i8", "0"), array(integer(101))},
		{cmd("BITFIELD", "bits", "SET", "u8", "0", "255", "GET", "u8", "0", "GET", "i8", "0"), array(integer(101), integer(255), integer(-1))},
		{cmd("BITFIELD", "bits", "SET", "u8", "#0", "65", "SET", "u8", "#1", "66", "set", "u8", "#2", "67"), array(integer(255), integer(0), integer(0))},
		{cmd("GET", "bits"), bulk("ABC")},
		{cmd("BITFIELD", "bits", "GET", "u8", "#1", "GET", "u4", "#3"), array(integer(66), integer(2))},
		{cmd("DEL", "bits"), integer(1)},
		{cmd("BITFIELD", "bits", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2", "102", "1"), array(integer(1), integer(1))},
		{cmd("BITFIELD", "bits", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"), array(integer(2), integer(2))},
		{cmd("BITFIELD", "bits", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"), array(integer(3), integer(3))},
		{cmd("BITFIELD", "bits", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"), array(integer(0), integer(3))},
		{cmd("BITFIELD", "bits", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "1"), array(nullBulk)},
		{cmd("BITFIELD", "bits", "SET", "i8", "0", "126", "INCRBY", "i8", "0", "2"), array(integer(0), integer(-128))},
		{cmd("BITFIELD", "bits", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1000"), array(integer(-128))},
		{cmd("BITFIELD", "bits", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "1000"), array(integer(127))},
		{cmd("BITFIELD", "bits", "OVERFLOW", "WRAP", "SET", "u8", "0", "257"), array(integer(127))},
		{cmd("BITFIELD", "bits", "GET", "u8", "0"), array(integer(1))},
		{cmd("BITFIELD", "bits", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1"), array(integer(1<<56), integer(math.MinInt64))},
		{cmd("BITFIELD", "bits", "SET", "u63", "0", "-1", "GET", "u63", "0"), array(integer(1<<62), integer(math.MaxInt64))},
		// OVERFLOW FAIL writes nothing, but the key is created (and grown)
		// to hold the field, as in Redis.
		{cmd("BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "20", "5"), array(nullBulk)},
		{cmd("GET", "new"), bulk("\x00\x00\x00")},
		{cmd("BITFIELD_RO", "new", "GET", "u8", "0"), array(integer(0))},
		{cmd("BITFIELD_RO", "new"), array()},
		{cmd("BITFIELD_RO", "new", "SET", "u8", "0", "1"), errReply("ERR BITFIELD_RO only supports the GET subcommand")},
		{cmd("BITFIELD_RO", "nokey", "GET", "i5", "#3"), array(integer(0))},
		{cmd("BITFIELD", "bits", "GET", "u64", "0"), errReply(errBitfieldType)},
		{cmd("BITFIELD", "bits", "GET", "i65", "0"), errReply(errBitfieldType)},
		{cmd("BITFIELD", "bits", "GET", "i0", "0"), errReply(errBitfieldType)},
		{cmd("BITFIELD", "bits", "GET", "x8", "0"), errReply(errBitfieldType)},
		{cmd("BITFIELD", "bits", "GET", "i8", "-1"), errReply(errBitOffset)},
		{cmd("BITFIELD", "bits", "GET", "i8", "#-1"), errReply(errBitOffset)},
		{cmd("BITFIELD", "bits", "SET", "i8", "0", "x"), errReply(errNotInteger)},
		{cmd("BITFIELD", "bits", "SET", "i8", "0"), errReply(errSyntax)},
		{cmd("BITFIELD", "bits", "OVERFLOW", "XX"), errReply("ERR Invalid OVERFLOW type specified")},
		{cmd("BITFIELD", "bits", "FOO"), errReply(errSyntax)},
		{cmd("SADD", "s", "m"), integer(1)},
		{cmd("BITFIELD", "s", "GET", "u8", "0"), errReply(wrongType)},
		{cmd("BITFIELD", "s", "SET", "u8", "0", "1"), errReply(wrongType)},
		{cmd("BITFIELD", "s", "GET", "u8", "-1"), errReply(errBitOffset)},
	})
}

// TestBitfieldLimit: a field past the value limit is refused before
// anything is written (dynakv also refuses the few bytes a field may run
// past proto-max-bulk-len in Redis).
func TestBitfieldLimit(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.Limits.MaxBulkLen = 8 })
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("BITFIELD", "b", "SET", "u8", "56", "1"), array(integer(0))},
		{cmd("STRLEN", "b"), integer(8)},
		{cmd("BITFIELD", "b", "SET", "u8", "64", "1"), errReply(errBitOffset)},
		{cmd("BITFIELD", "b", "SET", "u8", "60", "1"), errReply(errTooBig)},
		{cmd("BITFIELD", "c", "SET", "u8", "60", "1"), errReply(errTooBig)},
		{cmd("EXISTS", "c"), integer(0)},
		{cmd("BITFIELD", "b", "GET", "u8", "60"), array(integer(16))},
	})
}

// TestBitfieldOverflowModel checks the overflow arithmetic of every width
// against big-integer-free models: WRAP keeps the low bits (sign-extended
// for a signed field), SAT clamps to the field's range, and an overflow is
// reported exactly when the exact sum is out of range.
func TestBitfieldOverflowModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		signed := rng.IntN(2) == 0
		width := 1 + rng.IntN(63)
		if signed {
			width = 1 + rng.IntN(64)
		}
		incr := int64(rng.Uint64())
		if rng.IntN(2) == 0 {
			incr = rng.Int64N(1<<uint(min(width, 62))) - 1<<uint(min(width, 62)-1)
		}
		if signed {
			lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
			if width < 64 {
				lo, hi = -1<<(width-1), 1<<(width-1)-1
			}
			value := lo + rng.Int64N(max(hi-lo, 1))
			if width == 64 {
				value = int64(rng.Uint64())
			}
			sum := value + incr
			outOfRange := (incr > 0 && sum < value) || (incr < 0 && sum > value) || sum > hi || sum < lo
			for _, b := range []int{bfWrap, bfSat} {
				got, over := signedOverflow(value, incr, width, b)
				if (over != 0) != outOfRange {
					t.Fatalf("signed i%d %d%+d: overflow %d, want %v", width, value, incr, over, outOfRange)
				}
				if over == 0 {
					continue
				}
				want := signExtend(uint64(sum)&(math.MaxUint64>>(64-width)), width)
				if b == bfSat {
					want = hi
					if over < 0 {
						want = lo
					}
				}
				if got != want {
					t.Fatalf("signed i%d %d%+d behaviour %d = %d, want %d", width, value, incr, b, got, want)
				}
			}
			continue
		}
		maxV := uint64(1)<<width - 1
		value := rng.Uint64() & maxV
		sum := value + uint64(incr)
		outOfRange := (incr > 0 && (sum < value || sum > maxV)) || (incr < 0 && uint64(-incr) > value)
		for _, b := range []int{bfWrap, bfSat} {
			got, over := unsignedOverflow(value, incr, width, b)
			if (over != 0) != outOfRange {
				t.Fatalf("unsigned u%d %d%+d: overflow %d, want %v", width, value, incr, over, outOfRange)
			}
			if over == 0 {
				continue
			}
			want := sum & maxV
			if b == bfSat {
				want = maxV
				if over < 0 {
					want = 0
				}
			}
			if got != want {
				t.Fatalf("unsigned u%d %d%+d behaviour %d = %d, want %d", width, value, incr, b, got, want)
			}
		}
	}
}

// TestBitfieldGetSetModel writes random fields at random offsets and reads
// them back, and checks that the bits around them stay as they were.
func TestBitfieldGetSetModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		p := make([]byte, 12)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		before := append([]byte(nil), p...)
		width := 1 + rng.IntN(64)
		off := uint64(rng.IntN(96 - width + 1))
		v := rng.Uint64()
		setUnsigned(p, off, width, v)
		mask := uint64(math.MaxUint64) >> (64 - width)
		if got := getUnsigned(p, off, width); got != v&mask {
			t.Fatalf("u%d at %d: wrote %x, read %x", width, off, v&mask, got)
		}
		for i := uint64(0); i < 96; i++ {
			if (i < off || i >= off+uint64(width)) && bitAt(p, int64(i)) != bitAt(before, int64(i)) {
				t.Fatalf("u%d at %d: bit %d changed", width, off, i)
			}
		}
	}
}

// FuzzParseBitfield: the BITFIELD parser never panics; what it accepts
// has widths of Redis's types, offsets under the limit and a highest
// written bit that covers every SET and INCRBY.
func FuzzParseBitfield(f *testing.F) {
	for _, s := range []string{
		"GET u8 0", "SET i8 #1 -100 GET u4 3", "OVERFLOW FAIL INCRBY u2 102 1", "OVERFLOW",
		"SET i64 0 9223372036854775807", "GET u64 0", "INCRBY i5 #-1 1", "get i8 #9999999999999999", "set u63 4 x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const limit = 1 << 16
		ops, readonly, highest, msg := parseBitfield(splitArgs(s), limit)
		if msg != "" {
			if ops != nil {
				t.Fatalf("%q: error %q with operations", s, msg)
			}
			return
		}
		for _, o := range ops {
			if o.width < 1 || o.width > 64 || (!o.signed && o.width > 63) || o.offset>>3 >= limit {
				t.Fatalf("%q: accepted %+v", s, o)
			}
			if o.op != bfGet {
				if readonly || highest < o.offset+uint64(o.width)-1 {
					t.Fatalf("%q: readonly %v highest %d for %+v", s, readonly, highest, o)
				}
			}
		}
		// Running the operations on a buffer the parse sized never
		// reaches past it.
		if !readonly {
			v := make([]byte, highest>>3+1)
			for _, o := range ops {
				applyField(v, o)
			}
		}
	})
}

// TestBitfieldTypeNames checks every type name Redis accepts and a few it
// refuses.
func TestBitfieldTypeNames(t *testing.T) {
	for w := 1; w <= 64; w++ {
		if _, n, ok := bitfieldType([]byte("i" + strconv.Itoa(w))); !ok || n != w {
			t.Errorf("i%d refused", w)
		}
		if _, _, ok := bitfieldType([]byte("u" + strconv.Itoa(w))); ok != (w < 64) {
			t.Errorf("u%d: accepted %v", w, ok)
		}
	}
	for _, s := range []string{"", "i", "u", "I8", "i08", "i+8", "i-1", "i 8", "s8"} {
		if _, _, ok := bitfieldType([]byte(s)); ok {
			t.Errorf("%q accepted", s)
		}
	}
}
