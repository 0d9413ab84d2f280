package resp

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestZSets: the sorted-set commands with Redis's replies and errors.
func TestZSets(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	wrong := errReply(errWrongType)
	runRaw(t, c, []rawCase{
		{cmd("ZADD", "z", "1", "a", "2", "b", "3", "c"), integer(3)},
		{cmd("ZADD", "z", "1.5", "d", "2", "b"), integer(1)},
		{cmd("ZADD", "z", "CH", "1.25", "d", "2", "b", "9", "e"), integer(2)},
		{cmd("ZREM", "z", "e", "nothing"), integer(1)},
		{cmd("ZCARD", "z"), integer(4)},
		{cmd("TYPE", "z"), simple("zset")},
		{cmd("ZSCORE", "z", "d"), bulk("1.25")},
		{cmd("ZSCORE", "z", "nope"), "$-1\r\n"},
		{cmd("ZSCORE", "nope", "a"), "$-1\r\n"},
		{cmd("ZMSCORE", "z", "a", "nope", "c"), array(bulk("1"), "$-1\r\n", bulk("3"))},
		{cmd("ZRANGE", "z", "0", "-1"), bulks("a", "d", "b", "c")},
		{cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"), bulks("a", "1", "d", "1.25", "b", "2", "c", "3")},
		{cmd("ZRANGE", "z", "1", "2"), bulks("d", "b")},
		{cmd("ZRANGE", "z", "-2", "-1"), bulks("b", "c")},
		{cmd("ZRANGE", "z", "-100", "1"), bulks("a", "d")},
		{cmd("ZRANGE", "z", "2", "100"), bulks("b", "c")},
		{cmd("ZRANGE", "z", "3", "1"), array()},
		{cmd("ZRANGE", "z", "0", "-1", "REV"), bulks("c", "b", "d", "a")},
		{cmd("ZREVRANGE", "z", "0", "0", "WITHSCORES"), bulks("c", "3")},
		{cmd("ZREVRANGE", "z", "-1", "-1"), bulks("a")},
		{cmd("ZRANGEBYSCORE", "z", "(1", "2"), bulks("d", "b")},
		{cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"), bulks("d", "b")},
		{cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"), array()},
		{cmd("ZRANGEBYSCORE", "z", "2", "1"), array()},
		{cmd("ZRANGEBYSCORE", "z", "x", "1"), errReply("ERR min or max is not a float")},
		{cmd("ZREVRANGEBYSCORE", "z", "3", "(1", "WITHSCORES", "LIMIT", "0", "2"), bulks("c", "3", "b", "2")},
		{cmd("ZRANGE", "z", "(1", "3", "BYSCORE", "REV"), array()},
		{cmd("ZRANGE", "z", "3", "(1", "BYSCORE", "REV", "LIMIT", "1", "1"), bulks("b")},
		{cmd("ZCOUNT", "z", "(1", "+inf"), integer(3)},
		{cmd("ZCOUNT", "z", "2", "2"), integer(1)},
		{cmd("ZRANK", "z", "b"), integer(2)},
		{cmd("ZREVRANK", "z", "b"), integer(1)},
		{cmd("ZRANK", "z", "nope"), "$-1\r\n"},
		{cmd("ZINCRBY", "z", "2.5", "a"), bulk("3.5")},
		{cmd("ZINCRBY", "z", "1", "new"), bulk("1")},
		{cmd("ZRANGE", "z", "0", "-1"), bulks("new", "d", "b", "c", "a")},
		{cmd("ZINCRBY", "z", "+inf", "new"), bulk("inf")},
		{cmd("ZINCRBY", "z", "-inf", "new"), errReply("ERR resulting score is not a number (NaN)")},
		{cmd("ZADD", "z", "nan", "x"), errReply("ERR value is not a valid float")},
		{cmd("ZADD", "z", "", "x"), errReply("ERR value is not a valid float")},
		{cmd("ZADD", "z", "1", "x", "2"), errReply("ERR syntax error")},
		{cmd("ZADD", "z", "NX", "XX", "1", "x"), errReply("ERR XX and NX options at the same time are not compatible")},
		{cmd("ZADD", "z", "GT", "LT", "1", "x"), errReply("ERR GT, LT, and/or NX options at the same time are not compatible")},
		{cmd("ZADD", "z", "INCR", "1", "x", "2", "y"), errReply("ERR INCR option supports a single increment-element pair")},
		{cmd("ZADD", "z", "XX", "INCR", "1", "nope"), "$-1\r\n"},
		{cmd("ZADD", "missing", "XX", "1", "a"), integer(0)},
		{cmd("EXISTS", "missing"), integer(0)},
		{cmd("ZADD", "z", "GT", "1", "c", "5", "b"), integer(0)},
		{cmd("ZSCORE", "z", "c"), bulk("3")},
		{cmd("ZSCORE", "z", "b"), bulk("5")},
		{cmd("ZADD", "z", "LT", "INCR", "1", "b"), "$-1\r\n"},
		{cmd("ZADD", "z", "NX", "10", "b", "10", "f"), integer(1)},
		{cmd("ZSCORE", "z", "b"), bulk("5")},
		{cmd("ZREM", "z", "new", "f"), integer(2)},
		// Lex ranges, among equal scores.
		{cmd("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"), integer(5)},
		{cmd("ZRANGEBYLEX", "l", "[b", "(d"), bulks("b", "c")},
		{cmd("ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2"), bulks("b", "c")},
		{cmd("ZREVRANGEBYLEX", "l", "+", "(c"), bulks("e", "d")},
		{cmd("ZRANGEBYLEX", "l", "+", "-"), array()},
		{cmd("ZRANGEBYLEX", "l", "b", "d"), errReply("ERR min or max not valid string range item")},
		{cmd("ZRANGE", "l", "[a", "[c", "BYLEX", "WITHSCORES"), errReply("ERR syntax error, WITHSCORES not supported in combination with BYLEX")},
		{cmd("ZRANGE", "l", "0", "1", "LIMIT", "0", "1"), errReply("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")},
		{cmd("ZRANGE", "l", "0", "1", "BYLEX", "BYSCORE"), errReply("ERR syntax error")},
		{cmd("ZLEXCOUNT", "l", "(a", "[d"), integer(3)},
		{cmd("ZREMRANGEBYLEX", "l", "[b", "[c"), integer(2)},
		{cmd("ZRANGE", "l", "0", "-1"), bulks("a", "d", "e")},
		{cmd("ZREMRANGEBYRANK", "l", "0", "0"), integer(1)},
		{cmd("ZREMRANGEBYSCORE", "l", "-inf", "+inf"), integer(2)},
		{cmd("EXISTS", "l"), integer(0)},
		// Lex ranges over members of several scores: walked as Redis
		// walks them.
		{cmd("ZADD", "m", "1", "a", "2", "b", "3", "c", "4", "d"), integer(4)},
		{cmd("ZRANGE", "m", "[b", "[c", "BYLEX"), bulks("b", "c")},
		{cmd("ZREVRANGEBYLEX", "m", "+", "(a", "LIMIT", "1", "5"), bulks("c", "b")},
		{cmd("ZLEXCOUNT", "m", "-", "+"), integer(4)},
		{cmd("DEL", "m"), integer(1)},
		// Pops.
		{cmd("ZADD", "p", "1", "a", "2", "b", "3", "c", "4", "d"), integer(4)},
		{cmd("ZPOPMIN", "p"), bulks("a", "1")},
		{cmd("ZPOPMAX", "p", "2"), bulks("d", "4", "c", "3")},
		{cmd("ZPOPMIN", "p", "0"), array()},
		{cmd("ZPOPMIN", "p", "-1"), errReply("ERR value is out of range, must be positive")},
		{cmd("ZMPOP", "2", "nothing", "p", "MIN", "COUNT", "5"), array(bulk("p"), array(bulks("b", "2")))},
		{cmd("ZMPOP", "1", "p", "MIN"), "*-1\r\n"},
		{cmd("ZMPOP", "0", "p", "MIN"), errReply("ERR numkeys should be greater than 0")},
		{cmd("ZMPOP", "1", "p", "MIN", "COUNT", "0"), errReply("ERR count should be greater than 0")},
		{cmd("ZMPOP", "1", "p", "SIDEWAYS"), errReply("ERR syntax error")},
		{cmd("BZPOPMIN", "p", "0.01"), "*-1\r\n"},
		{cmd("ZADD", "p", "7", "x"), integer(1)},
		{cmd("BZPOPMAX", "nothing", "p", "1"), bulks("p", "x", "7")},
		{cmd("EXISTS", "p"), integer(0)},
		// Algebra.
		{cmd("ZADD", "za", "1", "a", "2", "b", "3", "c"), integer(3)},
		{cmd("ZADD", "zb", "1", "b", "2", "c", "3", "d"), integer(3)},
		{cmd("SADD", "s", "a", "d"), integer(2)},
		{cmd("ZUNION", "2", "za", "zb", "WITHSCORES"), bulks("a", "1", "b", "3", "d", "3", "c", "5")},
		{cmd("ZINTER", "2", "za", "zb", "WEIGHTS", "2", "3", "AGGREGATE", "MAX", "WITHSCORES"), bulks("b", "4", "c", "6")},
		{cmd("ZDIFF", "2", "za", "zb"), bulks("a")},
		{cmd("ZUNIONSTORE", "dst", "2", "za", "s"), integer(4)},
		{cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES"), bulks("d", "1", "a", "2", "b", "2", "c", "3")},
		{cmd("ZINTERSTORE", "dst", "2", "za", "nothing"), integer(0)},
		{cmd("EXISTS", "dst"), integer(0)},
		{cmd("ZINTERCARD", "2", "za", "zb", "LIMIT", "1"), integer(1)},
		{cmd("ZUNION", "0", "za"), errReply("ERR at least 1 input key is needed for 'zunion' command")},
		{cmd("ZUNIONSTORE", "dst", "2", "za", "zb", "WITHSCORES"), errReply("ERR syntax error")},
		{cmd("ZRANGESTORE", "dst", "za", "1", "-1"), integer(2)},
		{cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES"), bulks("b", "2", "c", "3")},
		// Types.
		{cmd("SET", "str", "v"), okReply},
		{cmd("ZADD", "str", "1", "a"), wrong},
		{cmd("ZRANGE", "str", "0", "-1"), wrong},
		{cmd("ZCARD", "str"), wrong},
		{cmd("ZUNION", "2", "za", "str"), wrong},
		{cmd("ZPOPMIN", "str"), wrong},
		{cmd("SADD", "za", "x"), wrong},
		{cmd("ZSCAN", "nothing", "0"), array(bulk("0"), array())},
		{cmd("ZSCAN", "str", "0"), wrong},
		{cmd("DEL", "za"), integer(1)},
		{cmd("ZCARD", "za"), integer(0)},
		{cmd("ZADD", "za", "5", "q"), integer(1)},
		{cmd("ZRANGE", "za", "0", "-1"), bulks("q")}, // the old members went with DEL
	})
	// ZSCAN's page holds every member with its score.
	got := decode(t, c.do("ZSCAN", "zb", "0", "COUNT", "100")).([]any)
	if got[0] != "0" || !slices.Equal(sortPairs(strs(t, got[1])), []string{"b=1", "c=2", "d=3"}) {
		t.Fatalf("ZSCAN: %v", got)
	}
	// RESP3: scores are doubles, WITHSCORES pairs.
	c.do("HELLO", "3")
	runRaw(t, c, []rawCase{
		{cmd("ZSCORE", "zb", "b"), ",1\r\n"},
		{cmd("ZRANGE", "zb", "0", "0", "WITHSCORES"), array(array(bulk("b"), ",1\r\n"))},
		{cmd("ZPOPMIN", "zb"), array(bulk("b"), ",1\r\n")},
		{cmd("ZPOPMIN", "zb", "1"), array(array(bulk("c"), ",2\r\n"))},
	})
}

// sortPairs turns a flat member, score list into sorted "member=score"
// strings.
func sortPairs(flat []string) []string {
	var out []string
	for i := 0; i+1 < len(flat); i += 2 {
		out = append(out, flat[i]+"="+flat[i+1])
	}
	slices.Sort(out)
	return out
}

// TestZSetRangesMatchModel: random ZADDs, ZINCRBYs and ZREMs, and after
// each batch every kind of range read answers what a naive model of a
// sorted set answers (ranks, scores, limits, reverses, counts, ranks of
// members).
func TestZSetRangesMatchModel(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	rng := rand.New(rand.NewPCG(7, 8))
	model := map[string]float64{}
	sorted := func() []string {
		var ms []string
		for m := range model {
			ms = append(ms, m)
		}
		slices.SortFunc(ms, func(a, b string) int {
			if model[a] != model[b] {
				if model[a] < model[b] {
					return -1
				}
				return 1
			}
			if a < b {
				return -1
			}
			if a > b {
				return 1
			}
			return 0
		})
		return ms
	}
	for round := range 30 {
		for range 20 {
			m := fmt.Sprintf("m%02d", rng.IntN(40))
			switch rng.IntN(4) {
			case 0:
				c.do("ZREM", "z", m)
				delete(model, m)
			case 1:
				d := rng.IntN(5) - 2
				c.do("ZINCRBY", "z", strconv.Itoa(d), m)
				model[m] += float64(d)
			default:
				s := rng.IntN(10) - 5
				c.do("ZADD", "z", strconv.Itoa(s), m)
				model[m] = float64(s)
			}
		}
		ms := sorted()
		n := len(ms)
		if got := decode(t, c.do("ZCARD", "z")); got != int64(n) {
			t.Fatalf("round %d: ZCARD %v, want %d", round, got, n)
		}
		for range 10 {
			a, b := rng.IntN(2*n+3)-n-1, rng.IntN(2*n+3)-n-1
			want := rankSlice(ms, a, b)
			if got := strs(t, decode(t, c.do("ZRANGE", "z", strconv.Itoa(a), strconv.Itoa(b)))); !slices.Equal(got, want) {
				t.Fatalf("round %d: ZRANGE %d %d = %v, want %v (set %v)", round, a, b, got, want, ms)
			}
			rev := slices.Clone(ms)
			slices.Reverse(rev)
			if got := strs(t, decode(t, c.do("ZREVRANGE", "z", strconv.Itoa(a), strconv.Itoa(b)))); !slices.Equal(got, rankSlice(rev, a, b)) {
				t.Fatalf("round %d: ZREVRANGE %d %d = %v, want %v", round, a, b, got, rankSlice(rev, a, b))
			}
			lo, hi := float64(rng.IntN(12)-6), float64(rng.IntN(12)-6)
			off, cnt := rng.IntN(4), rng.IntN(5)-1
			var inRange []string
			for _, m := range ms {
				if model[m] > lo && model[m] <= hi {
					inRange = append(inRange, m)
				}
			}
			wantLim := inRange[min(off, len(inRange)):]
			if cnt >= 0 {
				wantLim = wantLim[:min(cnt, len(wantLim))]
			}
			args := []string{"ZRANGEBYSCORE", "z", "(" + strconv.Itoa(int(lo)), strconv.Itoa(int(hi)), "LIMIT", strconv.Itoa(off), strconv.Itoa(cnt)}
			if got := strs(t, decode(t, c.do(args...))); !slices.Equal(got, wantLim) {
				t.Fatalf("round %d: %v = %v, want %v", round, args, got, wantLim)
			}
			if got := decode(t, c.do("ZCOUNT", "z", "("+strconv.Itoa(int(lo)), strconv.Itoa(int(hi)))); got != int64(len(inRange)) {
				t.Fatalf("round %d: ZCOUNT (%v %v = %v, want %d", round, lo, hi, got, len(inRange))
			}
			if n > 0 {
				i := rng.IntN(n)
				if got := decode(t, c.do("ZRANK", "z", ms[i])); got != int64(i) {
					t.Fatalf("round %d: ZRANK %s = %v, want %d", round, ms[i], got, i)
				}
				if got := decode(t, c.do("ZREVRANK", "z", ms[i])); got != int64(n-1-i) {
					t.Fatalf("round %d: ZREVRANK %s = %v, want %d", round, ms[i], got, n-1-i)
				}
			}
		}
	}
}

// rankSlice is Redis's ZRANGE start stop over ms.
func rankSlice(ms []string, start, stop int) []string {
	n := len(ms)
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return []string{}
	}
	stop = min(stop, n-1)
	return ms[start : stop+1]
}

// TestZSetConcurrentWrites: ZADDs of one member through two nodes at once
// leave both versions and both nodes read the newest's score; ZINCRBYs
// through both are all counted; a ZREM removes only what it read, so a
// concurrent ZADD survives; and the ranges follow.
func TestZSetConcurrentWrites(t *testing.T) {
	e := newTestEnv(t)
	n2 := secondNode(t, e)
	c1, c2 := e.dial(), n2.dial()
	runRaw(t, c1, []rawCase{{cmd("ZADD", "z", "1", "m", "5", "other"), integer(2)}})
	e.clock.Advance(time.Millisecond)
	runRaw(t, c2, []rawCase{{cmd("ZADD", "z", "9", "m"), integer(1)}})
	exchange(t, e.local, n2.local)
	for _, c := range []*rawConn{c1, c2} {
		runRaw(t, c, []rawCase{
			{cmd("ZSCORE", "z", "m"), bulk("9")}, // the newest write
			{cmd("ZRANGE", "z", "0", "-1"), bulks("other", "m")},
			{cmd("ZCARD", "z"), integer(2)},
		})
	}
	// Increments through both nodes, concurrent: both counted.
	runRaw(t, c1, []rawCase{{cmd("ZINCRBY", "z", "2", "other"), bulk("7")}})
	runRaw(t, c2, []rawCase{{cmd("ZINCRBY", "z", "3", "other"), bulk("8")}})
	exchange(t, e.local, n2.local)
	for _, c := range []*rawConn{c1, c2} {
		runRaw(t, c, []rawCase{
			{cmd("ZSCORE", "z", "other"), bulk("10")},
			{cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"), bulks("m", "9", "other", "10")},
		})
	}
	// A ZADD that read them replaces them; an increment it did not see
	// stays on top.
	runRaw(t, c1, []rawCase{{cmd("ZADD", "z", "100", "other"), integer(0)}})
	runRaw(t, c2, []rawCase{{cmd("ZINCRBY", "z", "1", "other"), bulk("11")}})
	exchange(t, e.local, n2.local)
	runRaw(t, c1, []rawCase{{cmd("ZSCORE", "z", "other"), bulk("101")}})
	// Node 2 adds m again while node 1 removes it without having seen
	// that add: the add survives.
	e.clock.Advance(time.Millisecond)
	runRaw(t, c2, []rawCase{{cmd("ZADD", "z", "4", "m"), integer(0)}})
	runRaw(t, c1, []rawCase{{cmd("ZREM", "z", "m"), integer(1)}, {cmd("ZRANGE", "z", "0", "-1"), bulks("other")}})
	exchange(t, e.local, n2.local)
	for _, c := range []*rawConn{c1, c2} {
		runRaw(t, c, []rawCase{
			{cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"), bulks("m", "4", "other", "101")},
			{cmd("ZRANK", "z", "other"), integer(1)},
		})
	}
}

// TestZSetBlockingPops: a blocking pop waits (counted in blocked_clients)
// until a member is pushed through another connection; one whose client
// leaves stops waiting; one still waiting when the server closes does not
// hold the close.
func TestZSetBlockingPops(t *testing.T) {
	e := newTestEnv(t)
	blocked := func(n int64) func() bool { return func() bool { return e.srv.stats.blocked.Load() == n } }
	c1, c2 := e.dial(), e.dial()
	c1.send(string(rdEncode([]string{"BZPOPMIN", "z", "0"})))
	waitFor(t, "BZPOPMIN to block", blocked(1))
	runRaw(t, c2, []rawCase{{cmd("ZADD", "z", "3", "a"), integer(1)}})
	if got := c1.read(); got != bulks("z", "a", "3") {
		t.Fatalf("BZPOPMIN = %q", got)
	}
	waitFor(t, "BZPOPMIN to return", blocked(0))
	runRaw(t, c2, []rawCase{{cmd("EXISTS", "z"), integer(0)}})

	// A waiting client that leaves stops the poll.
	c3 := e.dial()
	c3.send(string(rdEncode([]string{"BZMPOP", "0", "1", "q", "MIN"})))
	waitFor(t, "BZMPOP to block", blocked(1))
	c3.nc.Close()
	waitFor(t, "the left client's BZMPOP to stop", blocked(0))

	// One still waiting at the end: the server's close (at cleanup) ends it.
	c4 := e.dial()
	c4.send(string(rdEncode([]string{"BZPOPMAX", "q", "0"})))
	waitFor(t, "BZPOPMAX to block", blocked(1))
	runRaw(t, c2, []rawCase{{cmd("BZPOPMIN", "q", "0.05"), "*-1\r\n"}})
}

// TestZSetExpiryAndTypes: a sorted set expires with its head (ranges, counts
// and ranks see nothing), comes back without its old members when written
// again, and takes part in the key commands (TYPE, SCAN TYPE, DEL, a SET
// over it) as the other collections do; a big set is paged by ZRANGE,
// ZSCAN and ranks across index reads of many batches.
func TestZSetExpiryAndTypes(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	args := []string{"ZADD", "big"}
	for i := range 3000 {
		args = append(args, strconv.Itoa(i%100), fmt.Sprintf("m%04d", i))
	}
	runRaw(t, c, []rawCase{
		{args, integer(3000)},
		{cmd("ZCARD", "big"), integer(3000)},
		{cmd("ZCOUNT", "big", "10", "(20"), integer(300)},
		{cmd("ZRANGE", "big", "2500", "2502"), bulks("m1083", "m1183", "m1283")},
		{cmd("ZREVRANGE", "big", "1000", "1001"), bulks("m1966", "m1866")},
		{cmd("ZRANK", "big", "m2999"), integer(2999)},
		{cmd("ZRANGEBYSCORE", "big", "99", "+inf", "LIMIT", "29", "5"), bulks("m2999")},
		{cmd("SCAN", "0", "TYPE", "zset"), array(bulk("0"), array(bulk("big")))},
		{cmd("EXPIRE", "big", "10"), integer(1)},
	})
	seen := map[string]bool{}
	for cursor := "0"; ; {
		v := decode(t, c.do("ZSCAN", "big", cursor, "COUNT", "500")).([]any)
		cursor = v[0].(string)
		flat := strs(t, v[1])
		for i := 0; i < len(flat); i += 2 {
			seen[flat[i]] = true
		}
		if cursor == "0" {
			break
		}
	}
	if len(seen) != 3000 {
		t.Fatalf("ZSCAN saw %d members", len(seen))
	}
	e.clock.Advance(11 * time.Second)
	runRaw(t, c, []rawCase{
		{cmd("EXISTS", "big"), integer(0)},
		{cmd("ZCARD", "big"), integer(0)},
		{cmd("ZRANGE", "big", "0", "-1"), array()},
		{cmd("ZRANK", "big", "m0001"), "$-1\r\n"},
		{cmd("ZADD", "big", "1", "new"), integer(1)},
		{cmd("ZRANGE", "big", "0", "-1", "WITHSCORES"), bulks("new", "1")},
		{cmd("ZCARD", "big"), integer(1)},
		{cmd("SET", "big", "str"), okReply},
		{cmd("ZRANGE", "big", "0", "-1"), errReply(errWrongType)},
		{cmd("DEL", "big"), integer(1)},
		{cmd("ZADD", "big", "2", "newer"), integer(1)},
		{cmd("ZRANGE", "big", "0", "-1"), bulks("newer")},
		{cmd("OBJECT", "ENCODING", "big"), bulk("listpack")},
	})
}

// TestZSetCopyRenameDump: COPY, RENAME and DUMP/RESTORE carry a sorted
// set's members and scores (a counter's as its value), and the copies'
// ranges read through the index.
func TestZSetCopyRenameDump(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("ZADD", "z", "1", "a", "2.5", "b"), integer(2)},
		{cmd("ZINCRBY", "z", "5", "a"), bulk("6")},
		{cmd("COPY", "z", "z2"), integer(1)},
		{cmd("RENAME", "z2", "z3"), okReply},
		{cmd("ZRANGE", "z3", "0", "-1", "WITHSCORES"), bulks("b", "2.5", "a", "6")},
		{cmd("EXISTS", "z2"), integer(0)},
	})
	payload := decode(t, c.do("DUMP", "z3")).(string)
	runRaw(t, c, []rawCase{
		{cmd("RESTORE", "z4", "0", payload), okReply},
		{cmd("ZRANGE", "z4", "0", "-1", "WITHSCORES"), bulks("b", "2.5", "a", "6")},
		{cmd("ZRANK", "z4", "a"), integer(1)},
		{cmd("TYPE", "z4"), simple("zset")},
	})
}

// TestZSetsInMulti: a transaction on one sorted set runs its commands in
// turn at EXEC, and a blocking pop inside it does not block (as in Redis).
func TestZSetsInMulti(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("ZADD", "z", "1", "a", "2", "b"), simple("QUEUED")},
		{cmd("ZINCRBY", "z", "5", "a"), simple("QUEUED")},
		{cmd("BZPOPMIN", "z", "0"), simple("QUEUED")},
		{cmd("BZPOPMIN", "z", "0"), simple("QUEUED")},
		{cmd("BZPOPMIN", "z", "0"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(2), bulk("6"), bulks("z", "b", "2"), bulks("z", "a", "6"), "*-1\r\n")},
		{cmd("EXISTS", "z"), integer(0)},
	})
}
