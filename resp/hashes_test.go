package resp

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestHashes: every hash command's replies and errors, in Redis's words
// (each checked against redis-server 7.0).
func TestHashes(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("HSET", "h", "a", "1", "b", "2", "a", "3"), integer(2)},
		{cmd("HSET", "h", "b", "20", "c", "30"), integer(1)},
		{cmd("HGET", "h", "a"), bulk("3")},
		{cmd("HGET", "h", "b"), bulk("20")},
		{cmd("HGET", "h", "zz"), nullBulk},
		{cmd("HGET", "missing", "a"), nullBulk},
		{cmd("HMGET", "h", "a", "zz", "c"), array(bulk("3"), nullBulk, bulk("30"))},
		{cmd("HMGET", "missing", "a", "b"), array(nullBulk, nullBulk)},
		{cmd("HLEN", "h"), integer(3)},
		{cmd("HLEN", "missing"), integer(0)},
		{cmd("HEXISTS", "h", "a"), integer(1)},
		{cmd("HEXISTS", "h", "zz"), integer(0)},
		{cmd("HEXISTS", "missing", "a"), integer(0)},
		{cmd("HSTRLEN", "h", "b"), integer(2)},
		{cmd("HSTRLEN", "h", "zz"), integer(0)},
		{cmd("HSTRLEN", "missing", "a"), integer(0)},
		{cmd("HSETNX", "h", "a", "x"), integer(0)},
		{cmd("HSETNX", "h", "d", "4"), integer(1)},
		{cmd("HGET", "h", "a"), bulk("3")},
		{cmd("HMSET", "h", "d", "40", "e", "50"), okReply},
		{cmd("HGET", "h", "d"), bulk("40")},
		{cmd("HSET", "h", "empty", ""), integer(1)},
		{cmd("HGET", "h", "empty"), bulk("")},
		{cmd("HEXISTS", "h", "empty"), integer(1)},
		{cmd("TYPE", "h"), simple("hash")},
		{cmd("EXISTS", "h"), integer(1)},
		{cmd("HGETALL", "missing"), array()},
		{cmd("HKEYS", "missing"), array()},
		{cmd("HVALS", "missing"), array()},
		{cmd("HSETNX", "n", "f", "v"), integer(1)}, // creates the hash
		{cmd("HGETALL", "n"), bulks("f", "v")},
		{cmd("HKEYS", "n"), bulks("f")},
		{cmd("HVALS", "n"), bulks("v")},
		// HDEL counts what it removed; the last field takes the hash.
		{cmd("HDEL", "h", "a", "zz", "a"), integer(1)},
		{cmd("HDEL", "missing", "a"), integer(0)},
		{cmd("HLEN", "h"), integer(5)},
		{cmd("HDEL", "h", "b", "c", "d", "e", "empty", "more"), integer(5)},
		{cmd("EXISTS", "h"), integer(0)},
		{cmd("TYPE", "h"), simple("none")},
		{cmd("HLEN", "h"), integer(0)},
		{cmd("HSET", "h", "z", "1"), integer(1)},
		{cmd("HGETALL", "h"), bulks("z", "1")}, // nothing came back
		// Arity, in Redis's words.
		{cmd("HSET", "h", "a"), errReply("ERR wrong number of arguments for 'hset' command")},
		{cmd("HSET", "h", "a", "1", "b"), errReply("ERR wrong number of arguments for 'hset' command")},
		{cmd("HMSET", "h", "a", "1", "b"), errReply("ERR wrong number of arguments for 'hmset' command")},
		{cmd("HGET", "h"), errReply("ERR wrong number of arguments for 'hget' command")},
		{cmd("HSETNX", "h", "a"), errReply("ERR wrong number of arguments for 'hsetnx' command")},
		{cmd("HDEL", "h"), errReply("ERR wrong number of arguments for 'hdel' command")},
		{cmd("HMGET", "h"), errReply("ERR wrong number of arguments for 'hmget' command")},
		{cmd("HGETALL"), errReply("ERR wrong number of arguments for 'hgetall' command")},
		{cmd("HSCAN", "h"), errReply("ERR wrong number of arguments for 'hscan' command")},
		{cmd("HRANDFIELD"), errReply("ERR wrong number of arguments for 'hrandfield' command")},
		{cmd("HINCRBY", "h", "a"), errReply("ERR wrong number of arguments for 'hincrby' command")},
		{cmd("VHGET", "h"), errReply("ERR wrong number of arguments for 'vhget' command")},
	})
	// The walks, in field hash order; HGETALL pairs each field with its
	// value.
	runRaw(t, c, []rawCase{{cmd("HSET", "w", "a", "1", "b", "2", "c", "3"), integer(3)}})
	all := strs(t, decode(t, c.do("HGETALL", "w")))
	keys := strs(t, decode(t, c.do("HKEYS", "w")))
	vals := strs(t, decode(t, c.do("HVALS", "w")))
	if len(all) != 6 || len(keys) != 3 || len(vals) != 3 {
		t.Fatalf("HGETALL %q, HKEYS %q, HVALS %q", all, keys, vals)
	}
	for i := range keys {
		if all[2*i] != keys[i] || all[2*i+1] != vals[i] || strconv.Itoa(int(keys[i][0]-'a'+1)) != vals[i] {
			t.Fatalf("HGETALL %q, HKEYS %q, HVALS %q disagree", all, keys, vals)
		}
	}
	if slices.Sort(keys); !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("HKEYS = %q", keys)
	}
}

// TestHashTypes: WRONGTYPE exactly where Redis says it, and the writes that
// replace a hash take its fields with it.
func TestHashTypes(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	wrong := errReply("WRONGTYPE Operation against a key holding the wrong kind of value")
	runRaw(t, c, []rawCase{
		{cmd("SET", "str", "v"), okReply},
		{cmd("SADD", "set", "m"), integer(1)},
		{cmd("HSET", "h", "f", "v"), integer(1)},
	})
	var cases []rawCase
	for _, k := range []string{"str", "set"} {
		for _, args := range [][]string{
			{"HSET", k, "f", "v"}, {"HMSET", k, "f", "v"}, {"HSETNX", k, "f", "v"}, {"HGET", k, "f"}, {"HMGET", k, "f"},
			{"HGETALL", k}, {"HKEYS", k}, {"HVALS", k}, {"HLEN", k}, {"HEXISTS", k, "f"}, {"HSTRLEN", k, "f"},
			{"HDEL", k, "f"}, {"HINCRBY", k, "f", "1"}, {"HINCRBYFLOAT", k, "f", "1"}, {"HRANDFIELD", k},
			{"HRANDFIELD", k, "2"}, {"HSCAN", k, "0"}, {"VHGET", k, "f"},
		} {
			cases = append(cases, rawCase{args, wrong})
		}
	}
	for _, args := range [][]string{
		{"GET", "h"}, {"INCR", "h"}, {"APPEND", "h", "x"}, {"STRLEN", "h"}, {"GETDEL", "h"}, {"SADD", "h", "m"},
		{"SMEMBERS", "h"}, {"SCARD", "h"}, {"SREM", "h", "m"},
	} {
		cases = append(cases, rawCase{args, wrong})
	}
	runRaw(t, c, cases)
	runRaw(t, c, []rawCase{
		// The increment is checked before the key's type, as in Redis.
		{cmd("HINCRBY", "str", "f", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("HINCRBYFLOAT", "str", "f", "x"), errReply("ERR value is not a valid float")},
		{cmd("HINCRBYFLOAT", "str", "f", "inf"), errReply("ERR value is NaN or Infinity")},
		{cmd("HRANDFIELD", "str", "x"), errReply("ERR value is not an integer or out of range")},
		// A SET replaces a hash; its fields go with it.
		{cmd("HSET", "t", "a", "1", "b", "2"), integer(2)},
		{cmd("SET", "t", "now a string"), okReply},
		{cmd("GET", "t"), bulk("now a string")},
		{cmd("HGET", "t", "a"), wrong},
		{cmd("DEL", "t"), integer(1)},
		{cmd("HSET", "t", "c", "3"), integer(1)},
		{cmd("HGETALL", "t"), bulks("c", "3")},
		// DEL deletes the fields.
		{cmd("DEL", "t"), integer(1)},
		{cmd("HLEN", "t"), integer(0)},
		{cmd("HGET", "t", "c"), nullBulk},
		{cmd("SADD", "t", "m"), integer(1)},
		{cmd("SMEMBERS", "t"), bulks("m")},
		{cmd("HSET", "t", "c", "3"), wrong},
		{cmd("DEL", "t"), integer(1)},
		{cmd("HSET", "t", "d", "4"), integer(1)},
		{cmd("HGETALL", "t"), bulks("d", "4")},
		// A set's and a hash's elements of one name never mix.
		{cmd("VHGET", "missing", "f"), array()},
	})
	scan := decode(t, c.do("SCAN", "0", "TYPE", "hash")).([]any)
	if got := slices.Sorted(slices.Values(strs(t, scan[1]))); !slices.Equal(got, []string{"h", "t"}) {
		t.Fatalf("SCAN TYPE hash = %q", got)
	}
	// Hash commands run inside MULTI, one after another at EXEC; the
	// versioned read of a field does not.
	runRaw(t, c, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("HSET", "m", "f", "w"), simple("QUEUED")},
		{cmd("VHGET", "m", "f"), errReply("ERR 'vhget' cannot run inside a transaction: a dynakv transaction works on one key's coordinated state")},
		{cmd("EXEC"), errReply("EXECABORT Transaction discarded because of previous errors.")},
		{cmd("EXISTS", "m"), integer(0)},
		{cmd("MULTI"), okReply},
		{cmd("HSET", "m", "f", "w", "g", "x"), simple("QUEUED")},
		{cmd("HINCRBY", "m", "n", "2"), simple("QUEUED")},
		{cmd("HDEL", "m", "g"), simple("QUEUED")},
		{cmd("HGETALL", "m"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(2), integer(2), integer(1), bulks("n", "2", "f", "w"))}, // fields in hash order
	})
}

// TestHashCounters: HINCRBY and HINCRBYFLOAT with Redis's replies and
// errors; a field is a counter on top of its plain value.
func TestHashCounters(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("HINCRBY", "h", "n", "5"), integer(5)},
		{cmd("TYPE", "h"), simple("hash")},
		{cmd("HINCRBY", "h", "n", "-7"), integer(-2)},
		{cmd("HGET", "h", "n"), bulk("-2")},
		{cmd("HSTRLEN", "h", "n"), integer(2)},
		{cmd("HSET", "h", "n", "100"), integer(0)},
		{cmd("HINCRBY", "h", "n", "1"), integer(101)},
		{cmd("HSET", "h", "n", "17179869184"), integer(0)},
		{cmd("HINCRBY", "h", "n", "17179869184"), integer(34359738368)},
		{cmd("HINCRBYFLOAT", "h", "n", "0.5"), bulk("34359738368.5")},
		{cmd("HINCRBY", "h", "n", "1"), errReply("ERR hash value is not an integer")},
		{cmd("HGETALL", "h"), bulks("n", "34359738368.5")},
		{cmd("HINCRBYFLOAT", "h", "f", "1.23"), bulk("1.23")},
		{cmd("HINCRBYFLOAT", "h", "f", "0.77"), bulk("2")},
		{cmd("HINCRBYFLOAT", "h", "f", "-0.1"), bulk("1.9")},
		{cmd("HINCRBYFLOAT", "h", "f", "5.0e3"), bulk("5001.9")},
		{cmd("HINCRBY", "h", "n", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("HINCRBY", "h", "n", "1.5"), errReply("ERR value is not an integer or out of range")},
		{cmd("HSET", "h", "s", " 11"), integer(1)},
		{cmd("HINCRBY", "h", "s", "1"), errReply("ERR hash value is not an integer")},
		{cmd("HINCRBYFLOAT", "h", "s", "1"), errReply("ERR hash value is not a float")},
		{cmd("HSET", "h", "s", "1\x002"), integer(0)},
		{cmd("HINCRBYFLOAT", "h", "s", "1"), errReply("ERR hash value is not a float")},
		{cmd("HSET", "h", "max", "9223372036854775807"), integer(1)},
		{cmd("HINCRBY", "h", "max", "1"), errReply("ERR increment or decrement would overflow")},
		{cmd("HSET", "h", "min", "-9223372036854775484"), integer(1)},
		{cmd("HINCRBY", "h", "min", "-1"), integer(-9223372036854775485)},
		{cmd("HINCRBY", "h", "min", "-10000"), errReply("ERR increment or decrement would overflow")},
		{cmd("HINCRBYFLOAT", "h", "f", "abc"), errReply("ERR value is not a valid float")},
		{cmd("HINCRBYFLOAT", "h", "f", "nan"), errReply("ERR value is not a valid float")},
		{cmd("HINCRBYFLOAT", "h", "f", "+inf"), errReply("ERR value is NaN or Infinity")},
		{cmd("HINCRBYFLOAT", "nokey", "f", "-inf"), errReply("ERR value is NaN or Infinity")},
		{cmd("EXISTS", "nokey"), integer(0)},
		{cmd("HSET", "h", "inf", "inf"), integer(1)},
		{cmd("HINCRBYFLOAT", "h", "inf", "1"), errReply("ERR increment would produce NaN or Infinity")},
		{cmd("HSET", "h", "big", "1.7e308"), integer(1)},
		{cmd("HINCRBYFLOAT", "h", "big", "1.7e308"), errReply("ERR increment would produce NaN or Infinity")},
		// INCRBYFLOAT on a stored infinity answers as Redis does too.
		{cmd("SET", "sinf", "inf"), okReply},
		{cmd("INCRBYFLOAT", "sinf", "1"), errReply("ERR increment would produce NaN or Infinity")},
		// A field's counter continues its node's running sum after a
		// delete or an HSET; the value is still exactly the increments
		// made since (float64 sums gave 1.2300000000000004 here).
		{cmd("HINCRBYFLOAT", "r", "f", "7.49"), bulk("7.49")},
		{cmd("DEL", "r"), integer(1)},
		{cmd("HINCRBYFLOAT", "r", "f", "1.23"), bulk("1.23")},
		{cmd("HINCRBYFLOAT", "r", "f", "0.77"), bulk("2")},
		{cmd("HINCRBYFLOAT", "r", "f", "-0.1"), bulk("1.9")},
		{cmd("HSET", "r", "f", "17179869184"), integer(0)},
		{cmd("HINCRBYFLOAT", "r", "f", "17179869184"), bulk("34359738368")},
		{cmd("HINCRBYFLOAT", "r", "f", "0.1"), bulk("34359738368.1")},
		{cmd("HINCRBYFLOAT", "r", "f", "0.2"), bulk("34359738368.3")},
		// HDEL removes a counter field like any other.
		{cmd("HINCRBY", "g", "n", "3"), integer(3)},
		{cmd("HDEL", "g", "n"), integer(1)},
		{cmd("EXISTS", "g"), integer(0)},
		{cmd("HINCRBY", "g", "n", "1"), integer(1)},
	})
}

// TestHashRandomField: HRANDFIELD without a count, with a positive one
// (distinct fields), a negative one (repetitions) and WITHVALUES, in RESP2
// and RESP3, with Redis's errors.
func TestHashRandomField(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	want := map[string]string{}
	args := []string{"HSET", "h"}
	for i := range 100 { // more than smallHash: the sampled path too
		f, v := "f"+strconv.Itoa(i), "v"+strconv.Itoa(i)
		want[f] = v
		args = append(args, f, v)
	}
	runRaw(t, c, []rawCase{
		{args, integer(100)},
		{cmd("HSET", "small", "a", "1", "b", "2", "c", "3"), integer(3)},
		{cmd("HRANDFIELD", "missing"), nullBulk},
		{cmd("HRANDFIELD", "missing", "3"), array()},
		{cmd("HRANDFIELD", "missing", "-3", "WITHVALUES"), array()},
		{cmd("HRANDFIELD", "h", "0"), array()},
		{cmd("HRANDFIELD", "h", "0", "WITHVALUES"), array()},
		{cmd("HRANDFIELD", "h", "1", "foo"), errReply("ERR syntax error")},
		{cmd("HRANDFIELD", "h", "1", "WITHVALUES", "x"), errReply("ERR syntax error")},
		{cmd("HRANDFIELD", "h", "abc"), errReply("ERR value is not an integer or out of range")},
		{cmd("HRANDFIELD", "h", "-9223372036854775808"), errReply("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")},
		{cmd("HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"), errReply("ERR value is out of range")},
	})
	for _, key := range []string{"h", "small"} {
		seen := map[string]bool{}
		for range 200 {
			f := decode(t, c.do("HRANDFIELD", key)).(string)
			if key == "h" && want[f] == "" || key == "small" && !slices.Contains([]string{"a", "b", "c"}, f) {
				t.Fatalf("HRANDFIELD %s = %q", key, f)
			}
			seen[f] = true
		}
		if key == "small" && len(seen) != 3 {
			t.Fatalf("200 HRANDFIELD small saw %v", seen)
		}
	}
	distinct := strs(t, decode(t, c.do("HRANDFIELD", "h", "30")))
	if len(distinct) != 30 || len(slices.Compact(slices.Sorted(slices.Values(distinct)))) != 30 {
		t.Fatalf("HRANDFIELD h 30 = %q", distinct)
	}
	if got := strs(t, decode(t, c.do("HRANDFIELD", "small", "10"))); len(got) != 3 {
		t.Fatalf("HRANDFIELD small 10 = %q", got)
	}
	pairs := strs(t, decode(t, c.do("HRANDFIELD", "h", "-250", "WITHVALUES")))
	if len(pairs) != 500 {
		t.Fatalf("HRANDFIELD h -250 WITHVALUES gave %d strings", len(pairs))
	}
	for i := 0; i < len(pairs); i += 2 {
		if want[pairs[i]] != pairs[i+1] {
			t.Fatalf("HRANDFIELD WITHVALUES paired %q with %q", pairs[i], pairs[i+1])
		}
	}
	// RESP3: with values, each pick is an array of two.
	c.do("HELLO", "3")
	got := decode(t, c.do("HRANDFIELD", "small", "-3", "WITHVALUES")).([]any)
	if len(got) != 3 {
		t.Fatalf("RESP3 HRANDFIELD -3 WITHVALUES = %#v", got)
	}
	for _, p := range got {
		if kv := strs(t, p); len(kv) != 2 || kv[1] != map[string]string{"a": "1", "b": "2", "c": "3"}[kv[0]] {
			t.Fatalf("RESP3 HRANDFIELD pick %#v", p)
		}
	}
	runRaw(t, c, []rawCase{
		{cmd("HGETALL", "small", "extra"), errReply("ERR wrong number of arguments for 'hgetall' command")},
		{cmd("HMGET", "small", "a", "zz"), array(bulk("1"), nullResp3)},
		{cmd("HGET", "small", "zz"), nullResp3},
	})
	if m := c.do("HGETALL", "small"); m[0] != '%' || len(fields(t, decode(t, m))) != 3 {
		t.Fatalf("RESP3 HGETALL = %q, want a map of 3", m)
	}
}

// TestHashScanAndExpiry: HSCAN visits every field exactly once across
// pages, with its value; an expired hash is gone, and re-creating it does
// not bring its old fields back.
func TestHashScanAndExpiry(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	args := []string{"HSET", "big"}
	for i := range 500 {
		args = append(args, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	if got := c.do(args...); got != integer(500) {
		t.Fatalf("HSET: %q", got)
	}
	seen := map[string]int{}
	cursor := "0"
	for pages := 0; ; pages++ {
		v := decode(t, c.do("HSCAN", "big", cursor, "COUNT", "20")).([]any)
		cursor = v[0].(string)
		page := strs(t, v[1])
		for i := 0; i < len(page); i += 2 {
			if "v"+page[i][1:] != page[i+1] {
				t.Fatalf("HSCAN paired %q with %q", page[i], page[i+1])
			}
			seen[page[i]]++
		}
		if cursor == "0" {
			if pages < 10 {
				t.Fatalf("%d pages of COUNT 20 for 500 fields", pages)
			}
			break
		}
	}
	if len(seen) != 500 {
		t.Fatalf("HSCAN saw %d fields", len(seen))
	}
	for f, n := range seen {
		if n != 1 {
			t.Fatalf("HSCAN returned %s %d times", f, n)
		}
	}
	if got := strs(t, decode(t, c.do("HSCAN", "big", "0", "MATCH", "f49*", "COUNT", "1000")).([]any)[1]); len(got) != 22 {
		t.Fatalf("HSCAN MATCH f49* = %q", got)
	}
	runRaw(t, c, []rawCase{
		{cmd("HSCAN", "big", "abc"), errReply("ERR invalid cursor")},
		{cmd("HSCAN", "big", "0", "COUNT", "0"), errReply("ERR syntax error")},
		{cmd("HSCAN", "big", "0", "COUNT", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("HSCAN", "big", "0", "NOVALUES"), errReply("ERR syntax error")},
		{cmd("HSCAN", "missing", "0"), array(bulk("0"), array())},
		{cmd("EXPIRE", "big", "10"), integer(1)},
		{cmd("TTL", "big"), integer(10)},
		{cmd("HSET", "big", "f0", "changed"), integer(0)}, // a field's write keeps the hash's TTL
		{cmd("HINCRBY", "big", "n", "1"), integer(1)},
		{cmd("TTL", "big"), integer(10)},
		{cmd("SCAN", "0", "TYPE", "hash"), array(bulk("0"), bulks("big"))},
		{cmd("DBSIZE"), integer(1)},
	})
	e.clock.Advance(11 * time.Second)
	runRaw(t, c, []rawCase{
		{cmd("EXISTS", "big"), integer(0)},
		{cmd("TTL", "big"), integer(-2)},
		{cmd("HLEN", "big"), integer(0)},
		{cmd("HGET", "big", "f0"), nullBulk},
		{cmd("VHGET", "big", "f0"), array()},
		{cmd("HDEL", "big", "f0"), integer(0)},
		{cmd("HSET", "big", "f1", "new"), integer(1)}, // a new field, not an update
		{cmd("HGETALL", "big"), bulks("f1", "new")},
		{cmd("HINCRBY", "big", "n", "1"), integer(1)}, // the old counter is gone too
		{cmd("HLEN", "big"), integer(2)},
		{cmd("TTL", "big"), integer(-1)},
		{cmd("PERSIST", "big"), integer(0)},
		{cmd("FLUSHDB"), okReply},
		{cmd("DBSIZE"), integer(0)},
		{cmd("HLEN", "big"), integer(0)},
	})
}
