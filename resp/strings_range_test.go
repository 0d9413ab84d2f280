package resp

import (
	"testing"
	"time"
)

const wrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

// TestGetRange: GETRANGE and SUBSTR with Redis's index rules (negative
// from the end, clamped, empty when start > end), an empty bulk string for
// a missing key, WRONGTYPE for a collection.
func TestGetRange(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("GETRANGE", "nokey", "0", "-1"), bulk("")},
		{cmd("SET", "k", "Hello World"), okReply},
		{cmd("GETRANGE", "k", "0", "3"), bulk("Hell")},
		{cmd("GETRANGE", "k", "0", "-1"), bulk("Hello World")},
		{cmd("GETRANGE", "k", "-4", "-1"), bulk("orld")},
		{cmd("GETRANGE", "k", "5", "3"), bulk("")},
		{cmd("GETRANGE", "k", "5", "5000"), bulk(" World")},
		{cmd("GETRANGE", "k", "-5000", "10000"), bulk("Hello World")},
		{cmd("GETRANGE", "k", "-1", "-5"), bulk("")},
		{cmd("GETRANGE", "k", "0", "4294967297"), bulk("Hello World")},
		{cmd("SUBSTR", "k", "6", "-1"), bulk("World")},
		{cmd("GETRANGE", "k", "x", "1"), errReply(errNotInteger)},
		{cmd("GETRANGE", "k", "0"), errReply("ERR wrong number of arguments for 'getrange' command")},
		{cmd("SET", "empty", ""), okReply},
		{cmd("GETRANGE", "empty", "0", "-1"), bulk("")},
		{cmd("SADD", "s", "m"), integer(1)},
		{cmd("GETRANGE", "s", "0", "-1"), errReply(wrongType)},
		// The arguments are checked before the key's type, as in Redis.
		{cmd("GETRANGE", "s", "a", "-1"), errReply(errNotInteger)},
	})
}

// TestSetRange: SETRANGE pads with zero bytes, keeps the key's expiry,
// sets nothing for an empty value, and refuses a result over the value
// limit (proto_max_bulk_len) before anything is written.
func TestSetRange(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.Limits.MaxBulkLen = 64 })
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SETRANGE", "k", "0", "foo"), integer(3)},
		{cmd("GET", "k"), bulk("foo")},
		{cmd("SETRANGE", "n", "0", ""), integer(0)},
		{cmd("EXISTS", "n"), integer(0)},
		{cmd("SETRANGE", "p", "1", "foo"), integer(4)},
		{cmd("GET", "p"), bulk("\x00foo")},
		{cmd("SET", "k", "foo", "EX", "100"), okReply},
		{cmd("SETRANGE", "k", "1", "b"), integer(3)},
		{cmd("GET", "k"), bulk("fbo")},
		{cmd("TTL", "k"), integer(100)},
		{cmd("SETRANGE", "k", "4", "bar"), integer(7)},
		{cmd("GET", "k"), bulk("fbo\x00bar")},
		{cmd("SETRANGE", "k", "99", ""), integer(7)}, // nothing set: the length
		{cmd("SETRANGE", "k", "-1", "x"), errReply(errOffsetRange)},
		{cmd("SETRANGE", "k", "x", "x"), errReply(errNotInteger)},
		// 60 + 5 > 64: refused, the value stays.
		{cmd("SETRANGE", "k", "60", "world"), errReply(errTooBig)},
		{cmd("GET", "k"), bulk("fbo\x00bar")},
		{cmd("SETRANGE", "big", "60", "world"), errReply(errTooBig)},
		{cmd("EXISTS", "big"), integer(0)},
		{cmd("SETRANGE", "big", "9223372036854775807", "A"), errReply(errTooBig)},
		{cmd("SETRANGE", "k", "59", "world"), integer(64)},
		{cmd("SADD", "s", "m"), integer(1)},
		{cmd("SETRANGE", "s", "0", "x"), errReply(wrongType)},
		{cmd("SETRANGE", "s", "-1", "x"), errReply(errOffsetRange)},
	})
	e.clock.Advance(100 * time.Second)
	// An expired key is a missing one: no padding from the old value, no
	// expiry.
	runRaw(t, c, []rawCase{
		{cmd("SETRANGE", "k", "1", "x"), integer(2)},
		{cmd("GET", "k"), bulk("\x00x")},
		{cmd("TTL", "k"), integer(-1)},
	})
}

// TestRangeOfCounter: a counter (INCR) is a string to the range commands:
// they read its decimal text, and a write replaces it by a plain string, as
// SET does (one version, no contribution left beside it).
func TestRangeOfCounter(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("INCRBY", "n", "1234"), integer(1234)},
		{cmd("GETRANGE", "n", "1", "2"), bulk("23")},
		{cmd("STRLEN", "n"), integer(4)},
		{cmd("SETRANGE", "n", "0", "9"), integer(4)},
		{cmd("GET", "n"), bulk("9234")},
	})
	// One plain version: the counter's contribution went with the write.
	runRaw(t, c, []rawCase{
		{cmd("VGET", "n"), bulks(vgetContext(t, c, "n"), "9234")},
		{cmd("INCR", "n"), integer(9235)},
		{cmd("SETRANGE", "n", "4", "x"), integer(5)},
		{cmd("INCR", "n"), errReply(errNotInteger)},
	})
}

// vgetContext returns the causal context VGET answers for key.
func vgetContext(t *testing.T, c *rawConn, key string) string {
	t.Helper()
	v, ok := decode(t, c.do("VGET", key)).([]any)
	if !ok || len(v) == 0 {
		t.Fatalf("VGET %s: %v", key, v)
	}
	return v[0].(string)
}

// TestLCS: LCS's four replies (the string, LEN, IDX with and without match
// lengths and a minimum) on Redis's documented example, RESP2 and RESP3,
// and its errors in Redis's order.
func TestLCS(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	m1 := array(array(integer(4), integer(7)), array(integer(5), integer(8)))
	m2 := array(array(integer(2), integer(3)), array(integer(0), integer(1)))
	m1len := array(array(integer(4), integer(7)), array(integer(5), integer(8)), integer(4))
	m2len := array(array(integer(2), integer(3)), array(integer(0), integer(1)), integer(2))
	runRaw(t, c, []rawCase{
		{cmd("MSET", "a", "ohmytext", "b", "mynewtext"), okReply},
		{cmd("LCS", "a", "b"), bulk("mytext")},
		{cmd("LCS", "a", "b", "LEN"), integer(6)},
		{cmd("LCS", "a", "b", "IDX"), array(bulk("matches"), array(m1, m2), bulk("len"), integer(6))},
		{cmd("LCS", "a", "b", "idx", "withmatchlen"), array(bulk("matches"), array(m1len, m2len), bulk("len"), integer(6))},
		{cmd("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"), array(bulk("matches"), array(m1len), bulk("len"), integer(6))},
		{cmd("LCS", "a", "b", "IDX", "MINMATCHLEN", "-3"), array(bulk("matches"), array(m1, m2), bulk("len"), integer(6))},
		{cmd("LCS", "a", "nokey"), bulk("")},
		{cmd("LCS", "nokey", "nokey", "LEN"), integer(0)},
		{cmd("LCS", "a", "b", "LEN", "IDX"), errReply("ERR If you want both the length and indexes, please just use IDX.")},
		{cmd("LCS", "a", "b", "MINMATCHLEN"), errReply(errSyntax)},
		{cmd("LCS", "a", "b", "MINMATCHLEN", "x"), errReply(errNotInteger)},
		{cmd("LCS", "a", "b", "foo"), errReply(errSyntax)},
		{cmd("SADD", "s", "m"), integer(1)},
		// The keys' types are checked before the options.
		{cmd("LCS", "a", "s", "foo"), errReply("ERR The specified keys must contain string values")},
		{cmd("LCS", "a"), errReply("ERR wrong number of arguments for 'lcs' command")},
	})
	c.do("HELLO", "3")
	want := "%2\r\n" + bulk("matches") + array(m1len) + bulk("len") + integer(6)
	if got := c.do("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"); got != want {
		t.Errorf("LCS IDX in RESP3:\n got %q\nwant %q", got, want)
	}
}

// TestLCSMemoryLimit: LCS's table (4 bytes per pair of positions) is
// bounded by proto_max_bulk_len, as Redis bounds it by proto-max-bulk-len.
func TestLCSMemoryLimit(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.Limits.MaxBulkLen = 100 })
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("MSET", "a", "abcd", "b", "bcd"), okReply}, // 5*4 cells of 4 bytes = 80
		{cmd("LCS", "a", "b"), bulk("bcd")},
		{cmd("SET", "b", "bcde"), okReply}, // 5*5*4 = 100
		{cmd("LCS", "a", "b"), bulk("bcd")},
		{cmd("SET", "b", "bcdef"), okReply}, // 5*6*4 = 120
		{cmd("LCS", "a", "b"), errReply("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")},
	})
}

// TestLCSModel checks lcs against a plain recursive definition of the
// longest common subsequence's length, and that the subsequence it
// returns is one of both strings.
func TestLCSModel(t *testing.T) {
	isSubseq := func(s, of []byte) bool {
		i := 0
		for j := 0; j < len(of) && i < len(s); j++ {
			if of[j] == s[i] {
				i++
			}
		}
		return i == len(s)
	}
	var length func(a, b []byte, memo map[[2]int]int) int
	length = func(a, b []byte, memo map[[2]int]int) int {
		if len(a) == 0 || len(b) == 0 {
			return 0
		}
		k := [2]int{len(a), len(b)}
		if v, ok := memo[k]; ok {
			return v
		}
		var v int
		if a[len(a)-1] == b[len(b)-1] {
			v = length(a[:len(a)-1], b[:len(b)-1], memo) + 1
		} else {
			v = max(length(a[:len(a)-1], b, memo), length(a, b[:len(b)-1], memo))
		}
		memo[k] = v
		return v
	}
	words := [][]byte{nil, []byte("a"), []byte("abcbdab"), []byte("bdcaba"), []byte("ohmytext"), []byte("mynewtext"), []byte("aaaa"), []byte("xyz")}
	for _, a := range words {
		for _, b := range words {
			r := lcs(a, b, lcsOptions{getIdx: true})
			want := length(a, b, map[[2]int]int{})
			if int(r.length) != want || len(r.common) != want {
				t.Errorf("lcs(%q, %q) = %d %q, want length %d", a, b, r.length, r.common, want)
			}
			if !isSubseq(r.common, a) || !isSubseq(r.common, b) {
				t.Errorf("lcs(%q, %q) = %q: not a subsequence of both", a, b, r.common)
			}
			n := 0
			for _, m := range r.matches {
				if string(a[m.aStart:m.aEnd+1]) != string(b[m.bStart:m.bEnd+1]) {
					t.Errorf("lcs(%q, %q): match %+v differs", a, b, m)
				}
				n += int(m.aEnd - m.aStart + 1)
			}
			if n != want {
				t.Errorf("lcs(%q, %q): matches cover %d bytes, want %d", a, b, n, want)
			}
		}
	}
}

// FuzzParseLCSOptions: the option parser never panics, and what it accepts
// has a non-negative MINMATCHLEN and not both LEN and IDX.
func FuzzParseLCSOptions(f *testing.F) {
	f.Add("IDX MINMATCHLEN 4 WITHMATCHLEN")
	f.Add("LEN")
	f.Add("MINMATCHLEN")
	f.Add("len idx")
	f.Fuzz(func(t *testing.T, s string) {
		o, msg := parseLCSOptions(splitArgs(s))
		if msg == "" && (o.minMatchLen < 0 || (o.getLen && o.getIdx)) {
			t.Fatalf("%q accepted as %+v", s, o)
		}
	})
}
