package resp

import (
	"math"

	"github.com/dynakv/dynakv/replication"
)

// Hashes: a map of fields to values in which each field is an element key
// (ring.ElementKey(typeHash, key, field), see collections.go) and the
// field's value is that element's value.
//
// A field behaves as a string key does. HSET (and HSETNX, HMSET) writes a
// new version with the context the coordinator read, so it replaces what
// the coordinator saw of the field; HSETs of one field through different
// nodes at once are kept as sibling versions, and the plain reads (HGET,
// HMGET, HGETALL, HVALS, HSCAN, HRANDFIELD WITHVALUES, HSTRLEN) answer the
// newest of them by coordinator clock (replication.Object.Newest), as GET
// does; VHGET key field shows them all with their context, as VGET does
// for a string key. A field is present while it has a live version.
//
// HDEL deletes only the versions it read (observed-remove): an HSET
// through another node that HDEL did not see survives it. When the last
// field goes, the hash goes (its head is deleted), as Redis deletes an
// empty hash.
//
// HINCRBY and HINCRBYFLOAT make a field a PN-counter (see counters.go):
// each coordinator's increments live in a contribution of their own, so
// increments through different nodes are all counted, on top of the
// field's newest plain value; an HSET that read the field replaces what it
// saw, and increments it did not see stay on top of it.
//
// Multi-field commands (HSET of several fields, HDEL of several, HGETALL)
// act per field, not atomically: a reader may see some of an HSET's fields
// and not yet the others. HLEN and the walks cost what the hash's fields
// cost. Hash commands inside MULTI are refused for now.

const (
	errHashNotInt   = "ERR hash value is not an integer"
	errHashNotFloat = "ERR hash value is not a float"
)

var hashNumErrors = numErrors{notInt: errHashNotInt, notFloat: errHashNotFloat}

// hashCommands returns the hash commands' table entries.
func hashCommands() []*command {
	key1 := func(name, since, summary string, arity int, flags []string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: "hash", since: since, summary: summary, args: args, fn: fn}
	}
	rw, ro := []string{"write", "denyoom", "fast"}, []string{"readonly", "fast"}
	pairs := many(argDoc{name: "data", typ: "block", sub: []argDoc{argStr("field"), argStr("value")}})
	keyField := []argDoc{argKey("key"), argStr("field")}
	return []*command{
		key1("hset", "2.0.0", "Sets the values of one or more fields in a hash (a field set through two nodes at once keeps both versions; reads answer the newest).", -4, rw,
			[]argDoc{argKey("key"), pairs}, cmdHSet),
		key1("hmset", "2.0.0", "Sets the values of multiple fields.", -4, rw, []argDoc{argKey("key"), pairs}, cmdHMSet),
		key1("hsetnx", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", 4, rw,
			[]argDoc{argKey("key"), argStr("field"), argStr("value")}, cmdHSetNX),
		key1("hget", "2.0.0", "Returns the value of a field in a hash (the newest version).", 3, ro, keyField, cmdHGet),
		key1("hmget", "2.0.0", "Returns the values of multiple fields in a hash.", -3, ro, []argDoc{argKey("key"), many(argStr("field"))}, cmdHMGet),
		key1("hgetall", "2.0.0", "Returns all fields and values in a hash.", 2, []string{"readonly"}, []argDoc{argKey("key")}, cmdHGetAll),
		key1("hkeys", "2.0.0", "Returns all fields in a hash.", 2, []string{"readonly"}, []argDoc{argKey("key")}, cmdHKeys),
		key1("hvals", "2.0.0", "Returns all values in a hash.", 2, []string{"readonly"}, []argDoc{argKey("key")}, cmdHVals),
		key1("hlen", "2.0.0", "Returns the number of fields in a hash (by walking them).", 2, ro, []argDoc{argKey("key")}, cmdHLen),
		key1("hexists", "2.0.0", "Determines whether a field exists in a hash.", 3, ro, keyField, cmdHExists),
		key1("hstrlen", "3.2.0", "Returns the length of the value of a field.", 3, ro, keyField, cmdHStrlen),
		key1("hdel", "2.0.0", "Deletes one or more fields from a hash (only the versions the coordinator has seen).", -3, []string{"write", "fast"},
			[]argDoc{argKey("key"), many(argStr("field"))}, cmdHDel),
		key1("hincrby", "2.0.0", "Increments the integer value of a field in a hash by a number (a counter: increments through every node are kept).", 4, rw,
			[]argDoc{argKey("key"), argStr("field"), argInt("increment")}, cmdHIncrBy),
		key1("hincrbyfloat", "2.6.0", "Increments the floating point value of a field by a number (a counter).", 4, rw,
			[]argDoc{argKey("key"), argStr("field"), {name: "increment", typ: "double"}}, cmdHIncrByFloat),
		key1("hrandfield", "6.2.0", "Returns one or more random fields from a hash.", -2, []string{"readonly"},
			[]argDoc{argKey("key"), opt(argDoc{name: "options", typ: "block", sub: []argDoc{argInt("count"), opt(token("WITHVALUES"))}})}, cmdHRandField),
		key1("hscan", "2.8.0", "Iterates over fields and values of a hash (cursors are positions of field hashes).", -3, []string{"readonly"},
			[]argDoc{argKey("key"), argInt("cursor"), opt(tokenArg("MATCH", argDoc{name: "pattern", typ: "pattern"})), opt(tokenArg("COUNT", argInt("count")))}, cmdHScan),
		{name: "vhget", arity: -3, flags: []string{"readonly"}, firstKey: 1, lastKey: 1, step: 1, group: "dynakv", since: "0.1.0",
			summary: "Returns the causal context and every live version of a hash field, as VGET does for a key.",
			args:    []argDoc{argKey("key"), argStr("field"), opt(tokenArg("R", argInt("r"))), opt(token("LOCAL"))}, fn: cmdVHGet},
	}
}

// setFields writes pairs (field, value, field, value, ...) to the hash key,
// creating it, and returns how many fields were not there. With nx, a field
// that is there keeps its value.
func (c *Conn) setFields(key []byte, pairs [][]byte, nx bool) (int64, error) {
	if _, err := c.collection(key, typeHash, true); err != nil {
		return 0, err
	}
	now := c.nowMs()
	// A field named twice takes its last value, as in Redis; the fields
	// are written side by side.
	last := map[string]int{}
	var fields []int
	for i := 0; i+1 < len(pairs); i += 2 {
		if j, ok := last[string(pairs[i])]; ok {
			fields[j] = i
			continue
		}
		last[string(pairs[i])] = len(fields)
		fields = append(fields, i)
	}
	// The update may run more than once (a forwarded write that met a
	// conflict is redone on the fresh state): the last run counts.
	isNew := make([]bool, len(fields))
	err := parallel(len(fields), func(j int) error {
		i := fields[j]
		value := own(pairs[i+1])
		_, err := c.rawUpdate(elementKey(typeHash, key, pairs[i]), func(cur *replication.Object) (*replication.Write, error) {
			isNew[j] = cur.Newest(now) == nil
			if nx && !isNew[j] {
				return nil, nil
			}
			return &replication.Write{Context: cur.Context(), Value: value}, nil
		})
		return err
	})
	return count(isNew), err
}

func cmdHSet(c *Conn, args [][]byte) {
	if len(args)%2 != 0 {
		c.replyErr(errArity(c.srv.table["hset"]))
		return
	}
	if n, err := c.setFields(args[1], args[2:], false); c.updateOK(err) {
		c.notify(notifyHash, "hset", args[1])
		c.out.Int(n)
	}
}

func cmdHMSet(c *Conn, args [][]byte) {
	if len(args)%2 != 0 {
		c.replyErr(errArity(c.srv.table["hmset"]))
		return
	}
	if _, err := c.setFields(args[1], args[2:], false); c.updateOK(err) {
		c.notify(notifyHash, "hset", args[1])
		c.out.OK()
	}
}

func cmdHSetNX(c *Conn, args [][]byte) {
	if n, err := c.setFields(args[1], args[2:], true); c.updateOK(err) {
		if n > 0 {
			c.notify(notifyHash, "hset", args[1])
		}
		c.out.Int(n)
	}
}

func cmdHDel(c *Conn, args [][]byte) {
	key := args[1]
	if _, err := c.collection(key, typeHash, false); err != nil {
		if c.collectionOK(err) {
			c.out.Int(0)
		}
		return
	}
	fields := unique(args[2:])
	removed := make([]bool, len(fields))
	err := parallel(len(fields), func(i int) error {
		_, err := c.rawUpdate(elementKey(typeHash, key, fields[i]), removeElement(c.nowMs(), &removed[i]))
		return err
	})
	if err != nil {
		c.fail(err)
		return
	}
	n := count(removed)
	if n > 0 {
		gone, err := c.emptied(key, typeHash)
		if err != nil {
			c.fail(err)
			return
		}
		c.notify(notifyHash, "hdel", key)
		if gone {
			c.notify(notifyGeneric, "del", key)
		}
	}
	c.out.Int(n)
}

// incrField runs a counter increment of field of the hash key, creating
// the hash, and returns the field's state after it.
func (c *Conn) incrField(key, field []byte, inc func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	if _, err := c.collection(key, typeHash, true); err != nil {
		return nil, err
	}
	return c.rawUpdate(elementKey(typeHash, key, field), inc)
}

func cmdHIncrBy(c *Conn, args [][]byte) {
	delta, ok := string2ll(args[3])
	if !ok {
		c.replyErr(errNotInteger)
		return
	}
	now := c.nowMs()
	o, err := c.incrField(args[1], args[2], func(cur *replication.Object) (*replication.Write, error) {
		return intIncrement(cur, now, delta, hashNumErrors)
	})
	if !c.updateOK(err) {
		return
	}
	c.notify(notifyHash, "hincrby", args[1])
	if v, err := intValue(o, now, hashNumErrors); c.updateOK(err) {
		c.out.Int(v)
	}
}

func cmdHIncrByFloat(c *Conn, args [][]byte) {
	delta, ok := parseFloatIncrement(args[3])
	if !ok {
		c.replyErr(errNotFloat)
		return
	}
	if math.IsInf(delta, 0) {
		// HINCRBYFLOAT refuses an infinite increment before it looks at
		// the key, where INCRBYFLOAT adds it and refuses the sum.
		c.replyErr("ERR value is NaN or Infinity")
		return
	}
	now := c.nowMs()
	o, err := c.incrField(args[1], args[2], func(cur *replication.Object) (*replication.Write, error) {
		return floatIncrement(cur, now, delta, hashNumErrors)
	})
	if c.updateOK(err) {
		c.notify(notifyHash, "hincrbyfloat", args[1])
		c.replyFloatValue(o, now)
	}
}
