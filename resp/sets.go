package resp

import (
	"errors"
	"math"
	"math/rand/v2"

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

// members returns the members of the set key (none when it does not
// exist), or WRONGTYPE.
func (c *Conn) members(key []byte) ([][]byte, error) { return c.readMembers(key, false) }

// readMembers is members; with reply, the members are a reply's, and the
// read stops (errOutputLimit, the client closed) once they would pass the
// client's output buffer limit, so a huge set is never held for a client
// that may not take it.
func (c *Conn) readMembers(key []byte, reply bool) ([][]byte, error) {
	_, ok, err := c.readCollection(key, typeSet)
	if !ok || err != nil {
		return nil, err
	}
	var out [][]byte
	size := 0
	err = c.eachElement(key, typeSet, 0, replication.MaxKeysBatch, func(m []byte, _ uint64, _ *replication.Sibling) bool {
		out = append(out, m)
		size += len(m) + 16 // with its bulk header
		return !reply || !c.exceeds(size)
	})
	if err == nil && reply && c.exceeds(size) {
		err = errOutputLimit
	}
	return out, err
}

// addMembers adds members to the set key, which must exist or have been
// created, and returns how many were not there.
//
// A member the coordinator already holds is written again all the same:
// a new version replacing the ones it read, as an ORSWOT's add mints a new
// dot. Without it, an SADD of a present member would be acknowledged with
// nothing of its own in the set, and an SREM through another node that
// read only the older versions (concurrent with this SADD) would remove
// the member for good: the add would lose to a concurrent remove.
func (c *Conn) addMembers(key []byte, members [][]byte) (int64, error) {
	now := c.nowMs()
	members = unique(members)
	absent := make([]bool, len(members)) // set by the last read (a forwarded write may read again)
	err := parallel(len(members), func(i int) error {
		_, err := c.rawUpdate(elementKey(typeSet, key, members[i]), func(cur *replication.Object) (*replication.Write, error) {
			absent[i] = cur.Newest(now) == nil
			return &replication.Write{Context: cur.Context()}, nil
		})
		return err
	})
	return count(absent), err
}

// count returns how many of bs are true.
func count(bs []bool) int64 {
	var n int64
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// removeMembers removes members from the set key and returns how many it
// removed; the set's head goes when it removed the last member (gone).
func (c *Conn) removeMembers(key []byte, members [][]byte) (n int64, gone bool, err error) {
	members = unique(members)
	removed := make([]bool, len(members))
	err = parallel(len(members), func(i int) error {
		_, err := c.rawUpdate(elementKey(typeSet, key, members[i]), removeElement(c.nowMs(), &removed[i]))
		return err
	})
	n = count(removed)
	if err != nil || n == 0 {
		return n, false, err
	}
	gone, err = c.emptied(key, typeSet)
	return n, gone, err
}

// notifyRemoved notifies a set command's removal event, and "del" when it
// removed the last member, in Redis's order.
func (c *Conn) notifyRemoved(event string, key []byte, n int64, gone bool) {
	if n > 0 {
		c.notify(notifySet, event, key)
	}
	if gone {
		c.notify(notifyGeneric, "del", key)
	}
}

func cmdSAdd(c *Conn, args [][]byte) {
	if _, err := c.collection(args[1], typeSet, true); !c.updateOK(err) {
		return
	}
	n, err := c.addMembers(args[1], args[2:])
	if c.updateOK(err) {
		if n > 0 {
			c.notify(notifySet, "sadd", args[1])
		}
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
	n, gone, err := c.removeMembers(args[1], args[2:])
	if c.updateOK(err) {
		c.notifyRemoved("srem", args[1], n, gone)
		c.out.Int(n)
	}
}

func cmdSMembers(c *Conn, args [][]byte) {
	ms, err := c.readMembers(args[1], true)
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
	n, gone, err := c.removeMembers(args[1], picked)
	if err != nil {
		c.fail(err)
		return
	}
	c.notifyRemoved("spop", args[1], n, gone)
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
	if srcErr != nil && !errors.Is(srcErr, errNoSuchKey) {
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
	n, gone, err := c.removeMembers(src, [][]byte{m})
	if err != nil || n == 0 {
		if c.updateOK(err) {
			c.out.Int(0)
		}
		return
	}
	c.notifyRemoved("srem", src, n, gone)
	if _, err := c.collection(dst, typeSet, true); !c.updateOK(err) {
		return
	}
	if added, err := c.addMembers(dst, [][]byte{m}); c.updateOK(err) {
		if added > 0 {
			c.notify(notifySet, "sadd", dst)
		}
		c.out.Int(1)
	}
}
