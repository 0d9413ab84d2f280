package resp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/dynakv/dynakv/replication"
)

// Sets: an add-wins observed-remove set (see collections.go). Each member
// is an element key whose live version means "present": SADD writes one
// when the coordinator reads none, SREM deletes the versions it reads, so
// an SADD through another node that SREM did not see survives it. A
// member's delete is a tombstone, collected once every replica has it, so
// removed members cost nothing for ever (what riak_dt's ORSWOT achieves
// with dots in one object, here per element key).
//
// Multi-key commands (SMOVE, SINTERSTORE, ...) act per key, not
// atomically. SPOP removes the members it picks with observed-remove
// deletes: two SPOPs through different coordinators at once may pick and
// return the same member (at-least-once delivery of a popped member; it is
// removed once), and a member re-added concurrently survives the pop.

// setCommands returns the set commands' table entries.
func setCommands() []*command {
	key1 := func(name, since, summary string, arity int, flags []string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: "set", since: since, summary: summary, args: args, fn: fn}
	}
	keysAll := func(name, since, summary string, flags []string, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: -2, flags: flags, firstKey: 1, lastKey: -1, step: 1, group: "set", since: since, summary: summary, args: []argDoc{many(argKey("key"))}, fn: fn}
	}
	store := func(name, since, summary string, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: -3, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: -1, step: 1, group: "set", since: since, summary: summary,
			args: []argDoc{argKey("destination"), many(argKey("key"))}, fn: fn}
	}
	rw, ro := []string{"write", "denyoom", "fast"}, []string{"readonly", "fast"}
	return []*command{
		key1("sadd", "1.0.0", "Adds one or more members to a set (an add through any node survives a concurrent remove).", -3, rw,
			[]argDoc{argKey("key"), many(argStr("member"))}, cmdSAdd),
		key1("srem", "1.0.0", "Removes one or more members from a set (only the adds the coordinator has seen).", -3, []string{"write", "fast"},
			[]argDoc{argKey("key"), many(argStr("member"))}, cmdSRem),
		key1("smembers", "1.0.0", "Returns all members of a set.", 2, []string{"readonly"}, []argDoc{argKey("key")}, cmdSMembers),
		key1("sismember", "1.0.0", "Determines whether a member belongs to a set.", 3, ro, []argDoc{argKey("key"), argStr("member")}, cmdSIsMember),
		key1("smismember", "6.2.0", "Determines whether multiple members belong to a set.", -3, ro, []argDoc{argKey("key"), many(argStr("member"))}, cmdSMIsMember),
		key1("scard", "1.0.0", "Returns the number of members in a set (by walking them).", 2, ro, []argDoc{argKey("key")}, cmdSCard),
		key1("srandmember", "1.0.0", "Get one or multiple random members from a set.", -2, []string{"readonly"},
			[]argDoc{argKey("key"), opt(argInt("count"))}, cmdSRandMember),
		key1("spop", "1.0.0", "Returns one or more random members from a set after removing them (two concurrent pops may return the same member).", -2,
			[]string{"write", "fast"}, []argDoc{argKey("key"), opt(argInt("count"))}, cmdSPop),
		key1("sscan", "2.8.0", "Iterates over members of a set (cursors are positions of member hashes).", -3, []string{"readonly"},
			[]argDoc{argKey("key"), argInt("cursor"), opt(tokenArg("MATCH", argDoc{name: "pattern", typ: "pattern"})), opt(tokenArg("COUNT", argInt("count")))}, cmdSScan),
		{name: "smove", arity: 4, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 2, step: 1, group: "set", since: "1.0.0",
			summary: "Moves a member from one set to another (a remove, then an add; not atomic).",
			args:    []argDoc{argKey("source"), argKey("destination"), argStr("member")}, fn: cmdSMove},
		keysAll("sinter", "1.0.0", "Returns the intersect of multiple sets.", []string{"readonly"}, cmdSInter),
		keysAll("sunion", "1.0.0", "Returns the union of multiple sets.", []string{"readonly"}, cmdSUnion),
		keysAll("sdiff", "1.0.0", "Returns the difference of multiple sets.", []string{"readonly"}, cmdSDiff),
		store("sinterstore", "1.0.0", "Stores the intersect of multiple sets in a key.", cmdSInterStore),
		store("sunionstore", "1.0.0", "Stores the union of multiple sets in a key.", cmdSUnionStore),
		store("sdiffstore", "1.0.0", "Stores the difference of multiple sets in a key.", cmdSDiffStore),
		{name: "sintercard", arity: -3, flags: []string{"readonly", "movablekeys"}, numKeys: 1, group: "set", since: "7.0.0",
			summary: "Returns the number of members of the intersect of multiple sets.",
			args:    []argDoc{argInt("numkeys"), many(argKey("key")), opt(tokenArg("LIMIT", argInt("limit")))}, fn: cmdSInterCard},
	}
}

// readCollection checks, for a read, that key holds a collection of type t
// or nothing (WRONGTYPE otherwise), and reports whether it exists.
func (c *Conn) readCollection(key []byte, t byte) (*replication.Sibling, bool, error) {
	if c.tx != nil {
		return nil, false, &clientError{"ERR " + typeName(t) + " commands inside MULTI are not supported by dynakv yet"}
	}
	o, err := c.getAny(key)
	if err != nil {
		return nil, false, err
	}
	now := c.nowMs()
	s, ht := headOf(o, now)
	switch {
	case s != nil && ht == t:
		return s, true, nil
	case s != nil && ht == 0:
		return nil, false, &clientError{errWrongType}
	case s != nil: // another collection's head: that type if it has elements
		ok, err := c.hasElements(key, ht)
		if ok {
			return nil, false, &clientError{errWrongType}
		}
		return nil, false, err
	case mayHaveOrphans(o, now):
		ot, err := c.orphanType(key)
		if ot != 0 && ot != t {
			return nil, false, &clientError{errWrongType}
		}
		return nil, ot == t, err
	}
	return nil, false, nil
}

// members returns the members of the set key (none when it does not
// exist), or WRONGTYPE.
func (c *Conn) members(key []byte) ([][]byte, error) {
	_, ok, err := c.readCollection(key, typeSet)
	if !ok || err != nil {
		return nil, err
	}
	var out [][]byte
	err = c.eachElement(key, typeSet, 0, replication.MaxKeysBatch, func(m []byte, _ uint64, _ *replication.Sibling) bool {
		out = append(out, m)
		return true
	})
	return out, err
}

// addMembers adds members to the set key, which must exist or have been
// created, and returns how many were not there.
func (c *Conn) addMembers(key []byte, members [][]byte) (int64, error) {
	now := c.nowMs()
	var added int64
	for _, m := range members {
		_, err := c.rawUpdate(elementKey(typeSet, key, m), func(cur *replication.Object) (*replication.Write, error) {
			if cur.Newest(now) != nil {
				return nil, nil
			}
			added++
			return &replication.Write{Context: cur.Context()}, nil
		})
		if err != nil {
			return added, err
		}
	}
	return added, nil
}

// removeMembers removes members from the set key and returns how many it
// removed; the set's head goes when it removed the last member.
func (c *Conn) removeMembers(key []byte, members [][]byte) (int64, error) {
	var n int64
	for _, m := range members {
		removed := false
		if _, err := c.rawUpdate(elementKey(typeSet, key, m), removeElement(c.nowMs(), &removed)); err != nil {
			return n, err
		}
		if removed {
			n++
		}
	}
	if n > 0 {
		return n, c.emptied(key, typeSet)
	}
	return n, nil
}

func cmdSAdd(c *Conn, args [][]byte) {
	if _, err := c.collection(args[1], typeSet, true); !c.updateOK(err) {
		return
	}
	n, err := c.addMembers(args[1], args[2:])
	if c.updateOK(err) {
		c.out.Int(n)
	}
}

func cmdSRem(c *Conn, args [][]byte) {
	_, err := c.collection(args[1], typeSet, false)
	if err != nil {
		if c.collectionOK(err) {
			c.out.Int(0)
		}
		return
	}
	n, err := c.removeMembers(args[1], args[2:])
	if c.updateOK(err) {
		c.out.Int(n)
	}
}

func cmdSMembers(c *Conn, args [][]byte) {
	ms, err := c.members(args[1])
	if err != nil {
		c.fail(err)
		return
	}
	c.replyMembers(ms)
}

// replyMembers replies a set's members: a RESP3 set, or an array.
func (c *Conn) replyMembers(ms [][]byte) {
	c.out.Set(len(ms))
	for _, m := range ms {
		c.out.Bulk(m)
	}
}

// isMember reports whether m is a member of the set key, which exists.
func (c *Conn) isMember(key, m []byte) (bool, error) {
	o, err := c.rawGet(elementKey(typeSet, key, m))
	return o.Newest(c.nowMs()) != nil, err
}

func cmdSIsMember(c *Conn, args [][]byte) {
	_, ok, err := c.readCollection(args[1], typeSet)
	if ok && err == nil {
		ok, err = c.isMember(args[1], args[2])
	}
	switch {
	case err != nil:
		c.fail(err)
	case ok:
		c.out.Int(1)
	default:
		c.out.Int(0)
	}
}

func cmdSMIsMember(c *Conn, args [][]byte) {
	_, exists, err := c.readCollection(args[1], typeSet)
	if err != nil {
		c.fail(err)
		return
	}
	res := make([]bool, len(args)-2)
	for i, m := range args[2:] {
		if !exists {
			break
		}
		if res[i], err = c.isMember(args[1], m); err != nil {
			c.fail(err)
			return
		}
	}
	c.out.Array(len(res))
	for _, v := range res {
		if v {
			c.out.Int(1)
		} else {
			c.out.Int(0)
		}
	}
}

func cmdSCard(c *Conn, args [][]byte) {
	_, ok, err := c.readCollection(args[1], typeSet)
	var n int64
	if ok && err == nil {
		err = c.eachElement(args[1], typeSet, 0, replication.MaxKeysBatch, func([]byte, uint64, *replication.Sibling) bool {
			n++
			return true
		})
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Int(n)
}

// smallSet is the size up to which a random member is drawn evenly from
// all members; a larger set's is the first member at or after a random
// hash (members whose hashes follow a wider gap come up more often).
const smallSet = 64

// randomMember returns a random member of the set key (nil when it has
// none).
func (c *Conn) randomMember(key []byte) ([]byte, error) {
	var few [][]byte
	err := c.eachElement(key, typeSet, 0, smallSet+1, func(m []byte, _ uint64, _ *replication.Sibling) bool {
		few = append(few, m)
		return len(few) <= smallSet
	})
	if err != nil || len(few) == 0 {
		return nil, err
	}
	if len(few) <= smallSet {
		return few[rand.IntN(len(few))], nil
	}
	var got []byte
	pick := func(from uint64) error {
		return c.eachElement(key, typeSet, from, 4, func(m []byte, _ uint64, _ *replication.Sibling) bool {
			got = m
			return false
		})
	}
	if err := pick(rand.Uint64()); err != nil || got != nil {
		return got, err
	}
	return got, pick(0) // wrap around
}

func cmdSRandMember(c *Conn, args [][]byte) {
	if len(args) > 3 {
		c.replyErr(errSyntax)
		return
	}
	withCount := len(args) == 3
	var count int64
	if withCount {
		var ok bool
		if count, ok = string2ll(args[2]); !ok {
			c.replyErr(errNotInteger)
			return
		}
		if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
			c.replyErr("ERR value is out of range")
			return
		}
	}
	_, exists, err := c.readCollection(args[1], typeSet)
	if err != nil {
		c.fail(err)
		return
	}
	if !withCount {
		var m []byte
		if exists {
			m, err = c.randomMember(args[1])
		}
		switch {
		case err != nil:
			c.fail(err)
		case m == nil:
			c.out.Null()
		default:
			c.out.Bulk(m)
		}
		return
	}
	var ms [][]byte
	if exists && count != 0 {
		if ms, err = c.members(args[1]); err != nil {
			c.fail(err)
			return
		}
	}
	if len(ms) == 0 {
		c.out.Array(0)
		return
	}
	if count < 0 { // with repetitions
		n := -count
		if c.exceeds(int(min(n, math.MaxInt32))) {
			return
		}
		c.out.Array(int(n))
		for range n {
			c.out.Bulk(ms[rand.IntN(len(ms))])
		}
		return
	}
	rand.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	ms = ms[:min(int64(len(ms)), count)]
	c.out.Array(len(ms))
	for _, m := range ms {
		c.out.Bulk(m)
	}
}

func cmdSPop(c *Conn, args [][]byte) {
	if len(args) > 3 {
		c.replyErr(errSyntax)
		return
	}
	withCount := len(args) == 3
	var count int64 = 1
	if withCount {
		n, ok := string2ll(args[2])
		if !ok || n < 0 {
			c.replyErr("ERR value is out of range, must be positive")
			return
		}
		count = n
	}
	_, err := c.collection(args[1], typeSet, false)
	if err != nil {
		if c.collectionOK(err) {
			if withCount {
				c.out.Array(0)
			} else {
				c.out.Null()
			}
		}
		return
	}
	var picked [][]byte
	if !withCount {
		m, err := c.randomMember(args[1])
		if err != nil {
			c.fail(err)
			return
		}
		if m != nil {
			picked = append(picked, m)
		}
	} else if count > 0 {
		ms, err := c.members(args[1])
		if err != nil {
			c.fail(err)
			return
		}
		rand.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		picked = ms[:min(int64(len(ms)), count)]
	}
	if _, err := c.removeMembers(args[1], picked); err != nil {
		c.fail(err)
		return
	}
	if !withCount {
		if len(picked) == 0 {
			c.out.Null()
		} else {
			c.out.Bulk(picked[0])
		}
		return
	}
	c.replyMembers(picked)
}

func cmdSMove(c *Conn, args [][]byte) {
	src, dst, m := args[1], args[2], args[3]
	_, srcErr := c.collection(src, typeSet, false)
	if srcErr != nil && !errorsIsNoKey(srcErr) {
		c.updateOK(srcErr)
		return
	}
	// The destination's type is checked before anything moves.
	if _, _, err := c.readCollection(dst, typeSet); err != nil {
		c.fail(err)
		return
	}
	if srcErr != nil {
		c.out.Int(0)
		return
	}
	n, err := c.removeMembers(src, [][]byte{m})
	if err != nil || n == 0 {
		if c.updateOK(err) {
			c.out.Int(0)
		}
		return
	}
	if _, err := c.collection(dst, typeSet, true); !c.updateOK(err) {
		return
	}
	if _, err := c.addMembers(dst, [][]byte{m}); c.updateOK(err) {
		c.out.Int(1)
	}
}

// setAlgebra computes the intersection, union or difference of the sets
// keys (a missing key is an empty set).
func (c *Conn) setAlgebra(op byte, keys [][]byte) ([][]byte, error) {
	var result [][]byte
	for i, k := range keys {
		ms, err := c.members(k)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			result = ms
			continue
		}
		in := make(map[string]bool, len(ms))
		for _, m := range ms {
			in[string(m)] = true
		}
		switch op {
		case '&':
			result = slices.DeleteFunc(result, func(m []byte) bool { return !in[string(m)] })
		case '-':
			result = slices.DeleteFunc(result, func(m []byte) bool { return in[string(m)] })
		case '|':
			have := make(map[string]bool, len(result))
			for _, m := range result {
				have[string(m)] = true
			}
			for _, m := range ms {
				if !have[string(m)] {
					result = append(result, m)
					have[string(m)] = true
				}
			}
		}
	}
	return result, nil
}

func algebraCommand(op byte) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		ms, err := c.setAlgebra(op, args[1:])
		if err != nil {
			c.fail(err)
			return
		}
		c.replyMembers(ms)
	}
}

func algebraStoreCommand(op byte) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		ms, err := c.setAlgebra(op, args[2:])
		if err != nil {
			c.fail(err)
			return
		}
		n, err := c.storeSet(args[1], ms)
		if c.updateOK(err) {
			c.out.Int(n)
		}
	}
}

var (
	cmdSInter      = algebraCommand('&')
	cmdSUnion      = algebraCommand('|')
	cmdSDiff       = algebraCommand('-')
	cmdSInterStore = algebraStoreCommand('&')
	cmdSUnionStore = algebraStoreCommand('|')
	cmdSDiffStore  = algebraStoreCommand('-')
)

// storeSet replaces whatever dst holds with a set of members (deleting it
// when there are none) and returns the set's size.
func (c *Conn) storeSet(dst []byte, members [][]byte) (int64, error) {
	if _, err := c.del(dst); err != nil {
		return 0, err
	}
	if len(members) == 0 {
		return 0, nil
	}
	if _, err := c.collection(dst, typeSet, true); err != nil {
		return 0, err
	}
	if _, err := c.addMembers(dst, members); err != nil {
		return 0, err
	}
	return int64(len(members)), nil
}

func cmdSInterCard(c *Conn, args [][]byte) {
	n, ok := string2ll(args[1])
	if !ok || n <= 0 {
		c.replyErr("ERR numkeys should be greater than 0")
		return
	}
	if n > int64(len(args)-2) {
		c.replyErr("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := args[2 : 2+n]
	limit := int64(0)
	for rest := args[2+n:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 || !eqFold(rest[0], "limit") {
			c.replyErr(errSyntax)
			return
		}
		l, ok := string2ll(rest[1])
		if !ok || l < 0 {
			c.replyErr("ERR LIMIT can't be negative")
			return
		}
		limit = l
	}
	ms, err := c.setAlgebra('&', keys)
	if err != nil {
		c.fail(err)
		return
	}
	card := int64(len(ms))
	if limit > 0 {
		card = min(card, limit)
	}
	c.out.Int(card)
}

func cmdSScan(c *Conn, args [][]byte) {
	c.scanCollection(args, typeSet, false)
}

// scanCollection implements SSCAN and HSCAN: a cursor is the top 53 bits of
// a member hash, as SCAN's is of a ring position, so a page ends with every
// member of its last bucket and the next page starts after it.
func (c *Conn) scanCollection(args [][]byte, t byte, values bool) {
	// Redis's order: the cursor, then the key (a missing one answers an
	// empty page before the options are looked at), then the options.
	cursor, err := strconv.ParseUint(string(args[2]), 10, 64)
	if err != nil {
		c.replyErr(errInvalidCurs)
		return
	}
	_, exists, err := c.readCollection(args[1], t)
	if err != nil {
		c.fail(err)
		return
	}
	if !exists {
		c.out.Array(2)
		c.out.BulkString("0")
		c.out.Array(0)
		return
	}
	count := 10
	var pattern []byte
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.replyErr(errSyntax)
			return
		}
		switch a, v := args[i], args[i+1]; {
		case eqFold(a, "count"):
			n, ok := string2ll(v)
			if !ok {
				c.replyErr(errNotInteger)
				return
			}
			if n < 1 {
				c.replyErr(errSyntax)
				return
			}
			count = int(min(n, 1<<20))
		case eqFold(a, "match"):
			pattern = v
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	var (
		out        [][]byte
		live       int
		full       bool
		last, next uint64
	)
	if cursor <= maxCursor {
		err = c.eachElement(args[1], t, cursor<<cursorShift, min(count+1, replication.MaxKeysBatch), func(m []byte, h uint64, s *replication.Sibling) bool {
			bucket := h >> cursorShift
			if full && bucket != last {
				next = bucket
				return false
			}
			if pattern == nil || globMatch(pattern, m, false) {
				out = append(out, m)
				if values {
					out = append(out, s.Value)
				}
			}
			live++
			if !full && live >= count {
				full, last = true, bucket
			}
			return true
		})
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Array(2)
	c.out.BulkString(strconv.FormatUint(next, 10))
	c.out.Array(len(out))
	for _, b := range out {
		c.out.Bulk(b)
	}
}

func errorsIsNoKey(err error) bool { return err == errNoSuchKey }
