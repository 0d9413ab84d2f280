package resp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSets: the set commands with Redis's replies and errors.
func TestSets(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	wrong := errReply("WRONGTYPE Operation against a key holding the wrong kind of value")
	runRaw(t, c, []rawCase{
		{cmd("SADD", "s", "a", "b", "a"), integer(2)},
		{cmd("SADD", "s", "b", "c"), integer(1)},
		{cmd("HSET", "dup", "f", "1", "f", "2", "g", "3"), integer(2)},
		{cmd("HGET", "dup", "f"), bulk("2")},
		{cmd("SREM", "dup2", "a", "a"), integer(0)},
		{cmd("SCARD", "s"), integer(3)},
		{cmd("SISMEMBER", "s", "a"), integer(1)},
		{cmd("SISMEMBER", "s", "z"), integer(0)},
		{cmd("SMISMEMBER", "s", "a", "z", "c"), array(integer(1), integer(0), integer(1))},
		{cmd("TYPE", "s"), simple("set")},
		{cmd("EXISTS", "s"), integer(1)},
		{cmd("GET", "s"), wrong},
		{cmd("INCR", "s"), wrong},
		{cmd("APPEND", "s", "x"), wrong},
		{cmd("MGET", "s", "nothing"), array("$-1\r\n", "$-1\r\n")},
		{cmd("GETDEL", "s"), wrong},
		{cmd("SET", "s", "v", "GET"), wrong},
		{cmd("PFADD", "s", "x"), wrong},
		{cmd("SETNX", "s", "v"), integer(0)},
		{cmd("SREM", "s", "a", "z"), integer(1)},
		{cmd("SCARD", "s"), integer(2)},
		{cmd("SREM", "missing", "a"), integer(0)},
		{cmd("SCARD", "missing"), integer(0)},
		{cmd("SISMEMBER", "missing", "a"), integer(0)},
		{cmd("SMEMBERS", "missing"), array()},
		// An emptied set is gone.
		{cmd("SREM", "s", "b", "c"), integer(2)},
		{cmd("EXISTS", "s"), integer(0)},
		{cmd("TYPE", "s"), simple("none")},
		{cmd("GET", "s"), "$-1\r\n"},
		// Type conflicts in Redis's words; SET replaces a set.
		{cmd("SET", "str", "v"), okReply},
		{cmd("SADD", "str", "a"), wrong},
		{cmd("SCARD", "str"), wrong},
		{cmd("SMEMBERS", "str"), wrong},
		{cmd("SADD", "t", "a", "b"), integer(2)},
		{cmd("SET", "t", "now a string"), okReply},
		{cmd("GET", "t"), bulk("now a string")},
		{cmd("DEL", "t"), integer(1)},
		{cmd("SADD", "t", "c"), integer(1)},
		{cmd("SMEMBERS", "t"), array(bulk("c"))}, // a and b went with the SET
		// DEL deletes the members.
		{cmd("DEL", "t"), integer(1)},
		{cmd("SCARD", "t"), integer(0)},
		{cmd("SADD", "t", "d"), integer(1)},
		{cmd("SMEMBERS", "t"), array(bulk("d"))},
		// Algebra.
		{cmd("DEL", "t"), integer(1)},
		{cmd("SADD", "x", "1", "2", "3"), integer(3)},
		{cmd("SADD", "y", "2", "3", "4"), integer(3)},
		{cmd("SINTERCARD", "2", "x", "y"), integer(2)},
		{cmd("SINTERCARD", "2", "x", "y", "LIMIT", "1"), integer(1)},
		{cmd("SINTERCARD", "0", "x"), errReply("ERR numkeys should be greater than 0")},
		{cmd("SINTERCARD", "3", "x", "y"), errReply("ERR Number of keys can't be greater than number of args")},
		{cmd("SINTERCARD", "2", "x", "y", "LIMIT", "-1"), errReply("ERR LIMIT can't be negative")},
		{cmd("SINTERSTORE", "z", "x", "y"), integer(2)},
		{cmd("SUNIONSTORE", "z", "x", "y"), integer(4)},
		{cmd("SDIFFSTORE", "z", "x", "y"), integer(1)},
		{cmd("SMEMBERS", "z"), array(bulk("1"))},
		{cmd("SINTERSTORE", "z", "x", "nothing"), integer(0)},
		{cmd("EXISTS", "z"), integer(0)},
		{cmd("SINTER", "x", "str"), wrong},
		// SMOVE.
		{cmd("SMOVE", "x", "w", "1"), integer(1)},
		{cmd("SMOVE", "x", "w", "1"), integer(0)},
		{cmd("SMOVE", "x", "str", "2"), wrong},
		{cmd("SISMEMBER", "w", "1"), integer(1)},
		{cmd("SPOP", "x", "-1"), errReply("ERR value is out of range, must be positive")},
		{cmd("SRANDMEMBER", "x", "a"), errReply("ERR value is not an integer or out of range")},
		{cmd("SRANDMEMBER", "missing"), "$-1\r\n"},
		{cmd("SPOP", "missing"), "$-1\r\n"},
		{cmd("SRANDMEMBER", "x", "0"), array()},
		{cmd("SADD", "s1"), errReply("ERR wrong number of arguments for 'sadd' command")},
	})
	sorted := func(args ...string) []string {
		v := strs(t, decode(t, c.do(args...)))
		slices.Sort(v)
		return v
	}
	if got := sorted("SUNION", "x", "y"); !slices.Equal(got, []string{"2", "3", "4"}) {
		t.Fatalf("SUNION = %q", got)
	}
	if got := sorted("SDIFF", "y", "x"); !slices.Equal(got, []string{"4"}) {
		t.Fatalf("SDIFF = %q", got)
	}
	if got := sorted("SRANDMEMBER", "y", "-5"); len(got) != 5 {
		t.Fatalf("SRANDMEMBER -5 = %q", got)
	}
	if got := sorted("SRANDMEMBER", "y", "10"); !slices.Equal(got, []string{"2", "3", "4"}) {
		t.Fatalf("SRANDMEMBER 10 = %q", got)
	}
	// SPOP empties the set, one member at a time, each once.
	var popped []string
	for range 3 {
		popped = append(popped, decode(t, c.do("SPOP", "y")).(string))
	}
	slices.Sort(popped)
	if !slices.Equal(popped, []string{"2", "3", "4"}) || c.do("EXISTS", "y") != integer(0) {
		t.Fatalf("SPOP gave %q", popped)
	}
}

// TestSetScanAndExpiry: SSCAN visits every member exactly once across
// pages; an expired set is gone and does not come back when re-created.
func TestSetScanAndExpiry(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	args := []string{"SADD", "big"}
	for i := range 500 {
		args = append(args, "m"+strconv.Itoa(i))
	}
	if got := c.do(args...); got != integer(500) {
		t.Fatalf("SADD: %q", got)
	}
	seen := map[string]int{}
	cursor := "0"
	for pages := 0; ; pages++ {
		v := decode(t, c.do("SSCAN", "big", cursor, "COUNT", "20")).([]any)
		cursor = v[0].(string)
		for _, m := range strs(t, v[1]) {
			seen[m]++
		}
		if cursor == "0" {
			if pages < 10 {
				t.Fatalf("%d pages of COUNT 20 for 500 members", pages)
			}
			break
		}
	}
	if len(seen) != 500 {
		t.Fatalf("SSCAN saw %d members", len(seen))
	}
	for m, n := range seen {
		if n != 1 {
			t.Fatalf("SSCAN returned %s %d times", m, n)
		}
	}
	if got := strs(t, decode(t, c.do("SSCAN", "big", "0", "MATCH", "m49*", "COUNT", "1000")).([]any)[1]); len(got) != 11 {
		t.Fatalf("SSCAN MATCH m49* = %q", got)
	}
	runRaw(t, c, []rawCase{
		{cmd("EXPIRE", "big", "10"), integer(1)},
		{cmd("TTL", "big"), integer(10)},
		{cmd("SCAN", "0", "TYPE", "set"), array(bulk("0"), array(bulk("big")))},
		{cmd("SCAN", "0", "TYPE", "string"), array(bulk("0"), array())},
		{cmd("DBSIZE"), integer(1)},
	})
	e.clock.Advance(11 * time.Second)
	runRaw(t, c, []rawCase{
		{cmd("EXISTS", "big"), integer(0)},
		{cmd("SCARD", "big"), integer(0)},
		{cmd("SADD", "big", "new"), integer(1)},
		{cmd("SCARD", "big"), integer(1)},
		{cmd("TTL", "big"), integer(-1)},
		{cmd("PERSIST", "big"), integer(0)},
		{cmd("FLUSHDB"), okReply},
		{cmd("DBSIZE"), integer(0)},
		{cmd("SCARD", "big"), integer(0)},
	})
}

// TestSetsInMulti: set commands are refused while queueing (EXECABORT,
// nothing applied), and a transaction does not delete a set.
func TestSetsInMulti(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	other := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SADD", "s", "a"), integer(1)},
		// One key: the commands run one after another at EXEC, each
		// seeing the ones before it.
		{cmd("MULTI"), okReply},
		{cmd("SADD", "s", "b"), simple("QUEUED")},
		{cmd("SREM", "s", "a"), simple("QUEUED")},
		{cmd("SMEMBERS", "s"), simple("QUEUED")},
		{cmd("SCARD", "s"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(1), integer(1), bulks("b"), integer(1))},
		// A delete and a re-creation in one transaction.
		{cmd("MULTI"), okReply},
		{cmd("DEL", "s"), simple("QUEUED")},
		{cmd("SADD", "s", "c"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(1), integer(1))},
		{cmd("SMEMBERS", "s"), bulks("c")},
		// A string write over a set in a transaction replaces the set, its
		// members with it.
		{cmd("MULTI"), okReply},
		{cmd("SET", "s", "str"), simple("QUEUED")},
		{cmd("EXEC"), array(okReply)},
		{cmd("TYPE", "s"), simple("string")},
		{cmd("DEL", "s"), integer(1)},
		{cmd("SADD", "s", "z"), integer(1)},
		{cmd("SCARD", "s"), integer(1)},
		// Two keys: refused at EXEC with nothing applied, as any
		// transaction over two keys.
		{cmd("MULTI"), okReply},
		{cmd("SET", "x", "1"), simple("QUEUED")},
		{cmd("SADD", "s", "b"), simple("QUEUED")},
		{cmd("EXEC"), errReply(`ERR a dynakv transaction must touch one key; this one touches 2 keys ("x", "s"): nothing was applied`)},
		{cmd("EXISTS", "x"), integer(0)},
		{cmd("SISMEMBER", "s", "b"), integer(0)},
		// An error while queueing aborts the whole transaction.
		{cmd("MULTI"), okReply},
		{cmd("SADD", "s"), errReply("ERR wrong number of arguments for 'sadd' command")},
		{cmd("SADD", "s", "q"), simple("QUEUED")},
		{cmd("EXEC"), errReply("EXECABORT Transaction discarded because of previous errors.")},
		{cmd("SISMEMBER", "s", "q"), integer(0)},
		// WATCH of the set notices its delete.
		{cmd("WATCH", "s"), okReply},
	})
	runRaw(t, other, []rawCase{{cmd("DEL", "s"), integer(1)}})
	runRaw(t, c, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("SADD", "s", "w"), simple("QUEUED")},
		{cmd("EXEC"), "*-1\r\n"},
		{cmd("EXISTS", "s"), integer(0)},
	})
}

// TestObjectEncoding: OBJECT ENCODING answers what redis-server 7.0 would
// for the same values and thresholds.
func TestObjectEncoding(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "i", "12345"), okReply},
		{cmd("OBJECT", "ENCODING", "i"), bulk("int")},
		{cmd("SET", "e", "short"), okReply},
		{cmd("OBJECT", "ENCODING", "e"), bulk("embstr")},
		{cmd("SET", "r", strings.Repeat("x", 45)), okReply},
		{cmd("OBJECT", "ENCODING", "r"), bulk("raw")},
		{cmd("OBJECT", "ENCODING", "missing"), "$-1\r\n"},
		{cmd("SADD", "s", "1", "2", "3"), integer(3)},
		{cmd("OBJECT", "ENCODING", "s"), bulk("intset")},
		{cmd("CONFIG", "SET", "set-max-intset-entries", "2"), okReply},
		{cmd("OBJECT", "ENCODING", "s"), bulk("hashtable")},
		{cmd("CONFIG", "SET", "set-max-intset-entries", "512"), okReply},
		{cmd("SADD", "s", "a"), integer(1)},
		{cmd("OBJECT", "ENCODING", "s"), bulk("hashtable")},
		{cmd("CONFIG", "SET", "hash-max-ziplist-entries", "7"), okReply},
		{cmd("CONFIG", "GET", "hash-max-listpack-entries"), bulks("hash-max-listpack-entries", "7")},
		{cmd("OBJECT", "FOO", "s"), errReply("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")},
	})
}

// TestBigCollectionReplyClosedAtOutputLimit: SMEMBERS and HGETALL of a
// collection larger than the client's output buffer limit close the
// client as soon as the reply would pass it, holding no more than the
// limit; the server still serves others.
func TestBigCollectionReplyClosedAtOutputLimit(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.OutputLimit = OutputLimit{Hard: 64 << 10} })
	c := e.dial()
	member := strings.Repeat("m", 100)
	for i := range 40 {
		args := []string{"SADD", "big"}
		hargs := []string{"HSET", "bigh"}
		for j := range 50 {
			args = append(args, fmt.Sprint(member, i, "-", j))
			hargs = append(hargs, fmt.Sprint(member, i, "-", j), member)
		}
		if got := c.do(args...); got != integer(50) {
			t.Fatalf("SADD: %q", got)
		}
		if got := c.do(hargs...); got != integer(50) {
			t.Fatalf("HSET: %q", got)
		}
	}
	for _, command := range [][]string{{"SMEMBERS", "big"}, {"HGETALL", "bigh"}} {
		big := e.dial()
		big.send(string(rdEncode(command)))
		big.expectClosed()
	}
	// The replies (about 240 kB each) were never built in full.
	if peak := e.srv.stats.peakOutput.Load(); peak > 128<<10 {
		t.Fatalf("output buffer peaked at %d bytes over a 64 kB limit", peak)
	}
	// Counting is no reply of the collection: not bounded by the limit.
	if got := c.do("SCARD", "big"); got != integer(2000) {
		t.Fatalf("SCARD after: %q", got)
	}
	if got := c.do("HLEN", "bigh"); got != integer(2000) {
		t.Fatalf("HLEN after: %q", got)
	}
	if got := c.do("SINTERCARD", "2", "big", "big"); got != integer(2000) {
		t.Fatalf("SINTERCARD after: %q", got)
	}
}

// TestDeleteInBatches: a delete of more elements than dropElements holds
// at once deletes them all, batch after batch.
func TestDeleteInBatches(t *testing.T) {
	defer func(n int) { dropBatch = n }(dropBatch)
	dropBatch = 16
	e := newTestEnv(t)
	c := e.dial()
	args := []string{"SADD", "big"}
	hargs := []string{"HSET", "bigh"}
	for i := range 100 {
		args = append(args, fmt.Sprint("m", i))
		hargs = append(hargs, fmt.Sprint("f", i), "v")
	}
	if got := c.do(args...); got != integer(100) {
		t.Fatalf("SADD: %q", got)
	}
	if got := c.do(hargs...); got != integer(100) {
		t.Fatalf("HSET: %q", got)
	}
	if got := c.do("DEL", "big", "bigh"); got != integer(2) {
		t.Fatalf("DEL: %q", got)
	}
	if got := c.do("EXISTS", "big", "bigh"); got != integer(0) {
		t.Fatalf("EXISTS after DEL: %q", got)
	}
	// None of the old members is left: a new set and hash of those names
	// hold only their own.
	if got := c.do("SADD", "big", "new"); got != integer(1) {
		t.Fatalf("SADD after DEL: %q", got)
	}
	if got := c.do("HSET", "bigh", "new", "v"); got != integer(1) {
		t.Fatalf("HSET after DEL: %q", got)
	}
	if got := c.do("SCARD", "big"); got != integer(1) {
		t.Fatalf("SCARD of the new set: %q", got)
	}
	if got := c.do("HLEN", "bigh"); got != integer(1) {
		t.Fatalf("HLEN of the new hash: %q", got)
	}
}
