package resp

import (
	"testing"
)

// TestCounters: the INCR family with Redis's replies and errors, on top of
// a plain value, keeping the key's TTL.
func TestCounters(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("INCR", "n"), integer(1)},
		{cmd("INCR", "n"), integer(2)},
		{cmd("INCRBY", "n", "10"), integer(12)},
		{cmd("DECR", "n"), integer(11)},
		{cmd("DECRBY", "n", "20"), integer(-9)},
		{cmd("GET", "n"), bulk("-9")},
		{cmd("STRLEN", "n"), integer(2)},
		{cmd("TYPE", "n"), simple("string")},
		// On a plain value.
		{cmd("SET", "p", "100"), okReply},
		{cmd("INCRBY", "p", "5"), integer(105)},
		{cmd("SET", "p", "7"), okReply},
		{cmd("INCR", "p"), integer(8)},
		{cmd("APPEND", "p", "0"), integer(2)},
		{cmd("GET", "p"), bulk("80")},
		// Errors, in Redis's words.
		{cmd("SET", "s", "abc"), okReply},
		{cmd("INCR", "s"), errReply("ERR value is not an integer or out of range")},
		{cmd("INCRBY", "n", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("INCRBY", "n", "1.5"), errReply("ERR value is not an integer or out of range")},
		{cmd("SET", "max", "9223372036854775807"), okReply},
		{cmd("INCR", "max"), errReply("ERR increment or decrement would overflow")},
		{cmd("SET", "min", "-9223372036854775808"), okReply},
		{cmd("DECR", "min"), errReply("ERR increment or decrement would overflow")},
		{cmd("DECRBY", "n", "-9223372036854775808"), errReply("ERR decrement would overflow")},
		{cmd("SET", "spaced", " 1"), okReply},
		{cmd("INCR", "spaced"), errReply("ERR value is not an integer or out of range")},
		// INCRBYFLOAT.
		{cmd("INCRBYFLOAT", "f", "10.5"), bulk("10.5")},
		{cmd("INCRBYFLOAT", "f", "0.1"), bulk("10.6")},
		{cmd("INCRBYFLOAT", "f", "-0.6"), bulk("10")},
		{cmd("INCR", "f"), integer(11)},
		{cmd("INCRBYFLOAT", "f", "5.0e3"), bulk("5011")},
		{cmd("INCRBYFLOAT", "f", "abc"), errReply("ERR value is not a valid float")},
		{cmd("INCRBYFLOAT", "s", "1"), errReply("ERR value is not a valid float")},
		{cmd("INCRBYFLOAT", "f", "+inf"), errReply("ERR increment would produce NaN or Infinity")},
		{cmd("INCRBYFLOAT", "f", "nan"), errReply("ERR value is not a valid float")},
		{cmd("SET", "big", "1.7e308"), okReply},
		{cmd("INCRBYFLOAT", "big", "1.7e308"), errReply("ERR increment would produce NaN or Infinity")},
		{cmd("INCR"), errReply("ERR wrong number of arguments for 'incr' command")},
	})
	// The TTL stays.
	runRaw(t, c, []rawCase{
		{cmd("SET", "t", "1", "PX", "100000"), okReply},
		{cmd("INCR", "t"), integer(2)},
	})
	if got := c.do("PTTL", "t"); got == integer(-1) {
		t.Fatalf("PTTL after INCR = %q: the TTL was lost", got)
	}
	// A delete removes the counter.
	runRaw(t, c, []rawCase{
		{cmd("DEL", "n"), integer(1)},
		{cmd("GET", "n"), nullBulk},
		{cmd("INCR", "n"), integer(1)},
	})
}

// TestCounterVGETShowsContributions: a counter's versions stay visible to
// the versioned read: a SET value and an increment on top of it are two
// siblings, and GET answers their sum.
func TestCounterVGETShowsContributions(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("INCRBY", "k", "5"), integer(5)},
		{cmd("GET", "k"), bulk("5")},
	})
	v := decode(t, c.do("VGET", "k")).([]any)
	if len(v) != 2 || v[1] != "5" {
		t.Fatalf("VGET of a counter: %v", v)
	}
}
