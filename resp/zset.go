package resp

import (
	"math"
	"strconv"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// Sorted sets: an add-wins observed-remove set of members (as sets.go's),
// each member an element key (ring.ElementKey(typeZSet, key, member))
// whose value is the member's score.
//
// A member's score is its newest version's (latest coordinator clock, ties
// by writer: the rule GET and HGET use), so two ZADDs of one member through
// two nodes at once leave both versions and every node reads the same
// score. ZINCRBY (and ZADD INCR) makes the member a counter, as
// HINCRBYFLOAT makes a hash field one: each coordinator's increments live in
// a contribution of their own, so concurrent increments are all counted, on
// top of the newest plain score; a ZADD that read the member replaces what
// it saw. Increments add as exact decimals (see replication.AddDecimal), so
// 0.1 + 0.2 is 0.3 here where Redis's doubles give 0.30000000000000004. An
// infinite score is no counter: an increment of or to an infinity is
// written as a plain score.
//
// Every replica keeps a local index of its members by (score, member)
// (node/replica/index.go); range reads (ZRANGE and its kin, ZCOUNT,
// ZRANK, ZPOPMIN, ...) read it from R replicas through the coordinator
// (replication.Coordinator.WalkIndex), which settles the members the
// replicas disagree on with a quorum read, so a range read costs what it
// returns, not what the set holds. ZCARD, ZCOUNT and ZRANK count index
// entries (O(n) or O(rank) here, O(1) or O(log n) in Redis).
//
// Multi-member commands (ZADD of several members, ZREM, ZREMRANGEBY*,
// ZPOP*, the STORE forms) act per member, not atomically. Two ZPOPMINs
// through different nodes at once may return the same member, as SPOP may.

const typeZSet = replication.ZSetType

const (
	errNaNScore    = "ERR resulting score is not a number (NaN)"
	errMinMaxFloat = "ERR min or max is not a float"
	errLexRange    = "ERR min or max not valid string range item"
)

// zsetCommands returns the sorted-set commands' table entries.
func zsetCommands() []*command {
	key1 := func(name, since, summary string, arity int, flags []string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", since: since, summary: summary, args: args, fn: fn}
	}
	numkeys := func(name, since, summary string, arity int, flags []string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: append(flags, "movablekeys"), numKeys: 1, group: "sorted-set", since: since, summary: summary, args: args, fn: fn}
	}
	storeNumkeys := func(name, since, summary string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: -4, flags: []string{"write", "denyoom", "movablekeys"}, firstKey: 1, lastKey: 1, step: 1, numKeys: 2, group: "sorted-set", since: since, summary: summary,
			args: append([]argDoc{argKey("destination")}, args...), fn: fn}
	}
	rw, ro := []string{"write", "denyoom", "fast"}, []string{"readonly", "fast"}
	minMax := []argDoc{argKey("key"), argStr("min"), argStr("max")}
	maxMin := []argDoc{argKey("key"), argStr("max"), argStr("min")}
	limit := opt(argDoc{name: "limit", typ: "block", token: "LIMIT", sub: []argDoc{argInt("offset"), argInt("count")}})
	withScores := opt(token("WITHSCORES"))
	keysArgs := []argDoc{argInt("numkeys"), many(argKey("key"))}
	weights := opt(argDoc{name: "weight", typ: "integer", token: "WEIGHTS", multiple: true})
	aggregate := opt(argDoc{name: "aggregate", typ: "oneof", token: "AGGREGATE", sub: []argDoc{token("SUM"), token("MIN"), token("MAX")}})
	where := oneOf("where", token("MIN"), token("MAX"))
	return []*command{
		key1("zadd", "1.2.0", "Adds members to a sorted set, or updates their scores (a member's score is its newest version's).", -4, rw,
			[]argDoc{argKey("key"), opt(oneOf("condition", token("NX"), token("XX"))), opt(oneOf("comparison", token("GT"), token("LT"))),
				opt(token("CH")), opt(token("INCR")), many(argDoc{name: "data", typ: "block", sub: []argDoc{{name: "score", typ: "double"}, argStr("member")}})}, cmdZAdd),
		key1("zincrby", "1.2.0", "Increments the score of a member (a counter: increments through every node are kept).", 4, rw,
			[]argDoc{argKey("key"), argInt("increment"), argStr("member")}, cmdZIncrBy),
		key1("zrem", "1.2.0", "Removes members from a sorted set (only the versions the coordinator has seen).", -3, []string{"write", "fast"},
			[]argDoc{argKey("key"), many(argStr("member"))}, cmdZRem),
		key1("zcard", "1.2.0", "Returns the number of members in a sorted set (by counting its index).", 2, ro, []argDoc{argKey("key")}, cmdZCard),
		key1("zscore", "1.2.0", "Returns the score of a member.", 3, ro, []argDoc{argKey("key"), argStr("member")}, cmdZScore),
		key1("zmscore", "6.2.0", "Returns the score of one or more members.", -3, ro, []argDoc{argKey("key"), many(argStr("member"))}, cmdZMScore),
		key1("zcount", "2.0.0", "Returns the count of members with scores within a range (by counting the index).", 4, ro, minMax, cmdZCount),
		key1("zlexcount", "2.8.9", "Returns the number of members in a lexicographical range.", 4, ro, minMax, cmdZLexCount),
		key1("zrange", "1.2.0", "Returns members in a sorted set within a range of indexes, scores or members.", -4, []string{"readonly"},
			[]argDoc{argKey("key"), argStr("start"), argStr("stop"), opt(oneOf("sortby", token("BYSCORE"), token("BYLEX"))), opt(token("REV")), limit, withScores}, cmdZRange),
		{name: "zrangestore", arity: -5, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 2, step: 1, group: "sorted-set", since: "6.2.0",
			summary: "Stores a range of members from a sorted set in a key.",
			args:    []argDoc{argKey("dst"), argKey("src"), argStr("min"), argStr("max"), opt(oneOf("sortby", token("BYSCORE"), token("BYLEX"))), opt(token("REV")), limit}, fn: cmdZRangeStore},
		key1("zrevrange", "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order.", -4, []string{"readonly"},
			[]argDoc{argKey("key"), argInt("start"), argInt("stop"), withScores}, cmdZRevRange),
		key1("zrangebyscore", "1.0.5", "Returns members in a sorted set within a range of scores.", -4, []string{"readonly"},
			append(minMax, withScores, limit), cmdZRangeByScore),
		key1("zrevrangebyscore", "2.2.0", "Returns members in a sorted set within a range of scores in reverse order.", -4, []string{"readonly"},
			append(maxMin, withScores, limit), cmdZRevRangeByScore),
		key1("zrangebylex", "2.8.9", "Returns members in a sorted set within a lexicographical range.", -4, []string{"readonly"}, append(minMax, limit), cmdZRangeByLex),
		key1("zrevrangebylex", "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order.", -4, []string{"readonly"},
			append(maxMin, limit), cmdZRevRangeByLex),
		key1("zrank", "2.0.0", "Returns the index of a member ordered by ascending scores (by counting the index up to it).", 3, ro,
			[]argDoc{argKey("key"), argStr("member")}, cmdZRank),
		key1("zrevrank", "2.0.0", "Returns the index of a member ordered by descending scores.", 3, ro, []argDoc{argKey("key"), argStr("member")}, cmdZRevRank),
		key1("zremrangebyrank", "2.0.0", "Removes members in a range of indexes (per member, not atomically).", 4, []string{"write"},
			[]argDoc{argKey("key"), argInt("start"), argInt("stop")}, cmdZRemRangeByRank),
		key1("zremrangebyscore", "1.2.0", "Removes members in a range of scores (per member, not atomically).", 4, []string{"write"}, minMax, cmdZRemRangeByScore),
		key1("zremrangebylex", "2.8.9", "Removes members in a lexicographical range (per member, not atomically).", 4, []string{"write"}, minMax, cmdZRemRangeByLex),
		key1("zpopmin", "5.0.0", "Returns the lowest-scoring members after removing them (two concurrent pops may return the same member).", -2, []string{"write", "fast"},
			[]argDoc{argKey("key"), opt(argInt("count"))}, cmdZPopMin),
		key1("zpopmax", "5.0.0", "Returns the highest-scoring members after removing them.", -2, []string{"write", "fast"},
			[]argDoc{argKey("key"), opt(argInt("count"))}, cmdZPopMax),
		numkeys("zmpop", "7.0.0", "Returns the lowest- or highest-scoring members of the first non-empty sorted set after removing them.", -4, []string{"write"},
			append(keysArgs, where, opt(tokenArg("COUNT", argInt("count")))), cmdZMPop),
		{name: "bzpopmin", arity: -3, flags: []string{"write", "fast", "blocking"}, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", since: "5.0.0",
			summary: "ZPOPMIN that waits (by polling the keys) until a member is there or the timeout passes.",
			args:    []argDoc{many(argKey("key")), {name: "timeout", typ: "double"}}, fn: blockingPop(false)},
		{name: "bzpopmax", arity: -3, flags: []string{"write", "fast", "blocking"}, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", since: "5.0.0",
			summary: "ZPOPMAX that waits (by polling the keys) until a member is there or the timeout passes.",
			args:    []argDoc{many(argKey("key")), {name: "timeout", typ: "double"}}, fn: blockingPop(true)},
		{name: "bzmpop", arity: -5, flags: []string{"write", "blocking", "movablekeys"}, numKeys: 2, group: "sorted-set", since: "7.0.0",
			summary: "ZMPOP that waits (by polling the keys) until a member is there or the timeout passes.",
			args:    append([]argDoc{{name: "timeout", typ: "double"}}, append(keysArgs, where, opt(tokenArg("COUNT", argInt("count"))))...), fn: cmdBZMPop},
		key1("zrandmember", "6.2.0", "Returns one or more random members from a sorted set.", -2, []string{"readonly"},
			[]argDoc{argKey("key"), opt(argDoc{name: "options", typ: "block", sub: []argDoc{argInt("count"), withScores}})}, cmdZRandMember),
		key1("zscan", "2.8.0", "Iterates over members and scores of a sorted set (cursors are positions of member hashes).", -3, []string{"readonly"},
			[]argDoc{argKey("key"), argInt("cursor"), opt(tokenArg("MATCH", argDoc{name: "pattern", typ: "pattern"})), opt(tokenArg("COUNT", argInt("count")))}, cmdZScan),
		numkeys("zunion", "6.2.0", "Returns the union of multiple sorted sets.", -3, []string{"readonly"}, append(keysArgs, weights, aggregate, withScores), zalgebraCommand('|', false)),
		numkeys("zinter", "6.2.0", "Returns the intersect of multiple sorted sets.", -3, []string{"readonly"}, append(keysArgs, weights, aggregate, withScores), zalgebraCommand('&', false)),
		numkeys("zdiff", "6.2.0", "Returns the difference between multiple sorted sets.", -3, []string{"readonly"}, append(keysArgs, withScores), zalgebraCommand('-', false)),
		storeNumkeys("zunionstore", "2.0.0", "Stores the union of multiple sorted sets in a key.", append(keysArgs, weights, aggregate), zalgebraCommand('|', true)),
		storeNumkeys("zinterstore", "2.0.0", "Stores the intersect of multiple sorted sets in a key.", append(keysArgs, weights, aggregate), zalgebraCommand('&', true)),
		storeNumkeys("zdiffstore", "6.2.0", "Stores the difference of multiple sorted sets in a key.", keysArgs, zalgebraCommand('-', true)),
		numkeys("zintercard", "7.0.0", "Returns the number of members of the intersect of multiple sorted sets.", -3, []string{"readonly"},
			append(keysArgs, opt(tokenArg("LIMIT", argInt("limit")))), cmdZInterCard),
	}
}

// parseScore reads a score argument as Redis does (strtod): a decimal or
// exponent form, "inf", "+inf", "-inf"; NaN, an empty string, leading
// space or an overflow are no float.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 5000 || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		// strconv refuses "inf" spelled as Redis's clients send it only
		// when it is not one of its spellings; an overflow is no float.
		return 0, false
	}
	return f, true
}

// formatScore writes a score as Redis 7.0 replies one (%.17g; "inf",
// "-inf"; -0 as 0).
func formatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case f == 0:
		return []byte("0")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// replyScore replies a score: a bulk string in RESP2, a double in RESP3.
func (c *Conn) replyScore(f float64) {
	if c.out.proto == 3 {
		c.out.b = append(c.out.b, ',')
		c.out.b = append(c.out.b, formatScore(f)...)
		c.out.b = append(c.out.b, '\r', '\n')
		return
	}
	c.out.Bulk(formatScore(f))
}

// scoredMember is a member and its score.
type scoredMember struct {
	member []byte
	score  float64
}

// replyScored replies members, with their scores when withScores: a flat
// array in RESP2, an array of [member, score] pairs in RESP3.
func (c *Conn) replyScored(ms []scoredMember, withScores bool) {
	switch {
	case !withScores:
		c.out.Array(len(ms))
		for _, m := range ms {
			c.out.Bulk(m.member)
		}
	case c.out.proto == 3:
		c.out.Array(len(ms))
		for _, m := range ms {
			c.out.Array(2)
			c.out.Bulk(m.member)
			c.replyScore(m.score)
		}
	default:
		c.out.Array(2 * len(ms))
		for _, m := range ms {
			c.out.Bulk(m.member)
			c.replyScore(m.score)
		}
	}
}

// memberScore returns the score of member of the sorted set key, which the
// caller knows exists; ok is false when it is no member.
func (c *Conn) memberScore(key, member []byte) (float64, bool, error) {
	o, err := c.rawGet(elementKey(typeZSet, key, member))
	if err != nil {
		return 0, false, err
	}
	f, ok := replication.ScoreOf(o)
	return f, ok, nil
}

// zaddFlags are ZADD's options.
type zaddFlags struct {
	nx, xx, gt, lt, ch, incr bool
}

func cmdZAdd(c *Conn, args [][]byte) {
	var fl zaddFlags
	i := 2
flags:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case eqFold(a, "nx"):
			fl.nx = true
		case eqFold(a, "xx"):
			fl.xx = true
		case eqFold(a, "gt"):
			fl.gt = true
		case eqFold(a, "lt"):
			fl.lt = true
		case eqFold(a, "ch"):
			fl.ch = true
		case eqFold(a, "incr"):
			fl.incr = true
		default:
			break flags
		}
	}
	pairs := args[i:]
	switch {
	case len(pairs)%2 != 0 || len(pairs) == 0:
		c.replyErr(errSyntax)
		return
	case fl.nx && fl.xx:
		c.replyErr("ERR XX and NX options at the same time are not compatible")
		return
	case (fl.gt && fl.nx) || (fl.lt && fl.nx) || (fl.gt && fl.lt):
		c.replyErr("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	case fl.incr && len(pairs) > 2:
		c.replyErr("ERR INCR option supports a single increment-element pair")
		return
	}
	scores := make([]float64, len(pairs)/2)
	for j := range scores {
		f, ok := parseScore(pairs[2*j])
		if !ok {
			c.replyErr(errNotFloat)
			return
		}
		scores[j] = f
	}
	c.zadd(args[1], pairs, scores, fl)
}

func cmdZIncrBy(c *Conn, args [][]byte) {
	f, ok := parseScore(args[2])
	if !ok {
		c.replyErr(errNotFloat)
		return
	}
	c.zadd(args[1], [][]byte{args[2], args[3]}, []float64{f}, zaddFlags{incr: true})
}

// removeZMembers removes members from the sorted set key and returns how
// many it removed; the set goes when it removed the last member.
func (c *Conn) removeZMembers(key []byte, members [][]byte) (int64, error) {
	members = unique(members)
	removed := make([]bool, len(members))
	err := parallel(len(members), func(i int) error {
		_, err := c.rawUpdate(elementKey(typeZSet, key, members[i]), removeElement(c.nowMs(), &removed[i]))
		return err
	})
	n := count(removed)
	if err == nil && n > 0 {
		_, err = c.emptied(key, typeZSet)
	}
	return n, err
}

func cmdZRem(c *Conn, args [][]byte) {
	if _, err := c.collection(args[1], typeZSet, false); err != nil {
		if c.collectionOK(err) {
			c.out.Int(0)
		}
		return
	}
	n, err := c.removeZMembers(args[1], args[2:])
	if c.updateOK(err) {
		c.out.Int(n)
	}
}

func cmdZScore(c *Conn, args [][]byte) {
	_, ok, err := c.readCollection(args[1], typeZSet)
	var f float64
	if ok && err == nil {
		f, ok, err = c.memberScore(args[1], args[2])
	}
	switch {
	case err != nil:
		c.fail(err)
	case !ok:
		c.out.Null()
	default:
		c.replyScore(f)
	}
}

func cmdZMScore(c *Conn, args [][]byte) {
	_, exists, err := c.readCollection(args[1], typeZSet)
	if err != nil {
		c.fail(err)
		return
	}
	type res struct {
		f  float64
		ok bool
	}
	out := make([]res, len(args)-2)
	for i, m := range args[2:] {
		if !exists {
			break
		}
		if out[i].f, out[i].ok, err = c.memberScore(args[1], m); err != nil {
			c.fail(err)
			return
		}
	}
	c.out.Array(len(out))
	for _, r := range out {
		if r.ok {
			c.replyScore(r.f)
		} else {
			c.out.Null()
		}
	}
}

func cmdZCard(c *Conn, args [][]byte) {
	_, ok, err := c.readCollection(args[1], typeZSet)
	var n int64
	if ok && err == nil {
		n, err = c.countIndex(args[1], nil, nil)
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Int(n)
}

// indexWalk returns the walk of the sorted set key's index over positions
// [start, end).
func indexWalk(key, start, end []byte, reverse bool) replication.IndexWalk {
	ikey := ring.InternalKey(key)
	return replication.IndexWalk{RouteKey: ikey, Pos: ring.HashKey(ikey).Hi, Prefix: ring.ElementPrefix(typeZSet, key),
		Start: start, End: end, Reverse: reverse}
}

// countIndex counts the members of the sorted set key at index positions
// [start, end).
func (c *Conn) countIndex(key, start, end []byte) (int64, error) {
	ctx, cancel := c.reqCtx()
	defer cancel()
	return c.srv.cfg.Backend.CountIndex(ctx, indexWalk(key, start, end, false))
}

// walkIndex walks the sorted set key's index over [start, end) in the
// given direction, passing over skip members, and calls fn with each
// member and its score until fn returns false; batch is how many members
// the walk is likely to want (it reads them that many at a time).
func (c *Conn) walkIndex(key, start, end []byte, reverse bool, skip int64, batch int, fn func(m scoredMember) bool) error {
	ctx, cancel := c.reqCtx()
	defer cancel()
	w := indexWalk(key, start, end, reverse)
	w.Skip, w.Batch = skip, batch
	_, err := c.srv.cfg.Backend.WalkIndex(ctx, w, func(sort, _ []byte, _ *replication.Object) bool {
		f, m, _ := replication.SplitSortKey(sort)
		return fn(scoredMember{member: m, score: f})
	})
	return err
}
