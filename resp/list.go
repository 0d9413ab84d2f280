package resp

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// Lists: a sequence CRDT of the Logoot/LSEQ family (see list_id.go) on the
// collection model (collections.go). A list is a head (type 'l') and
// items; each item is an element key ring.ElementKey(typeList, key, id)
// whose id places it in the list, so the list's order is the key order of
// its items, the same on every replica, and a push, a pop or an LSET reads
// and writes one or a few small keys whatever the list's length.
//
//   - RPUSH/LPUSH read the last (first) item's id through the coordinator
//     and write new items after (before) it; pushes through two nodes at
//     once both land, ordered by their writers. The values of one
//     multi-value push are one group (its first id, then extensions of
//     it), so a concurrent push never interleaves with them.
//   - An item's value is a register: LSET writes a version replacing what
//     it read; concurrent LSETs are siblings and the newest by coordinator
//     clock is read, as HGET's rule.
//   - LPOP/RPOP read the first (last) items and delete them
//     observed-remove. One coordinator never pops an item twice (the
//     delete reads the item again and the pop takes the next one if it is
//     gone), but two pops through different coordinators at once may
//     return the same item: at-least-once, as Redis Enterprise's
//     Active-Active lists. LREM and LTRIM delete what they read; an item
//     pushed concurrently survives them.
//   - LLEN walks the items (O(n), as SCARD); LINDEX and LRANGE walk from
//     the nearer end, a reverse read serving the tail.

// listCommands returns the list commands' table entries.
func listCommands() []*command {
	key1 := func(name, since, summary string, arity int, flags []string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: "list", since: since, summary: summary, args: args, fn: fn}
	}
	rw, ro := []string{"write", "denyoom", "fast"}, []string{"readonly"}
	pushArgs := []argDoc{argKey("key"), many(argStr("element"))}
	popArgs := []argDoc{argKey("key"), opt(argInt("count"))}
	where := func(name string) argDoc { return oneOf(name, token("LEFT"), token("RIGHT")) }
	cmds := []*command{
		key1("lpush", "1.0.0", "Prepends one or more elements to a list (pushes through two nodes at once are both kept). Creates the key if it doesn't exist.", -3, rw, pushArgs, pushCommand(false, true)),
		key1("rpush", "1.0.0", "Appends one or more elements to a list (pushes through two nodes at once are both kept). Creates the key if it doesn't exist.", -3, rw, pushArgs, pushCommand(true, true)),
		key1("lpushx", "2.2.0", "Prepends one or more elements to a list only when the list exists.", -3, rw, pushArgs, pushCommand(false, false)),
		key1("rpushx", "2.2.0", "Appends an element to a list only when the list exists.", -3, rw, pushArgs, pushCommand(true, false)),
		key1("lpop", "1.0.0", "Returns the first elements in a list after removing it (two pops through different nodes at once may return the same element). Deletes the list if the last element was popped.", -2, []string{"write", "fast"}, popArgs, popCommand(false)),
		key1("rpop", "1.0.0", "Returns and removes the last elements of the list (two pops through different nodes at once may return the same element). Deletes the list if the last element was popped.", -2, []string{"write", "fast"}, popArgs, popCommand(true)),
		key1("llen", "1.0.0", "Returns the length of a list (by walking it).", 2, []string{"readonly", "fast"}, []argDoc{argKey("key")}, cmdLLen),
		key1("lrange", "1.0.0", "Returns a range of elements from a list.", 4, ro, []argDoc{argKey("key"), argInt("start"), argInt("stop")}, cmdLRange),
		key1("lindex", "1.0.0", "Returns an element from a list by its index.", 3, ro, []argDoc{argKey("key"), argInt("index")}, cmdLIndex),
		key1("lset", "1.0.0", "Sets the value of an element in a list by its index (a register: concurrent sets are siblings, the newest is read).", 4, []string{"write", "denyoom"},
			[]argDoc{argKey("key"), argInt("index"), argStr("element")}, cmdLSet),
		key1("linsert", "2.2.0", "Inserts an element before or after another element in a list.", 5, []string{"write", "denyoom"},
			[]argDoc{argKey("key"), oneOf("where", token("BEFORE"), token("AFTER")), argStr("pivot"), argStr("element")}, cmdLInsert),
		key1("lrem", "1.0.0", "Removes elements from a list (those the coordinator read). Deletes the list if the last element was removed.", 4, []string{"write"},
			[]argDoc{argKey("key"), argInt("count"), argStr("element")}, cmdLRem),
		key1("ltrim", "1.0.0", "Removes elements from both ends a list (those the coordinator read). Deletes the list if all elements were trimmed.", 4, []string{"write"},
			[]argDoc{argKey("key"), argInt("start"), argInt("stop")}, cmdLTrim),
		key1("lpos", "6.0.6", "Returns the index of matching elements in a list.", -3, ro,
			[]argDoc{argKey("key"), argStr("element"), opt(tokenArg("RANK", argInt("rank"))), opt(tokenArg("COUNT", argInt("num-matches"))), opt(tokenArg("MAXLEN", argInt("len")))}, cmdLPos),
		{name: "lmove", arity: 5, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "6.2.0",
			summary: "Returns an element after popping it from one list and pushing it to another (a pop, then a push; not atomic).",
			args:    []argDoc{argKey("source"), argKey("destination"), where("wherefrom"), where("whereto")}, fn: cmdLMove},
		{name: "rpoplpush", arity: 3, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "1.2.0",
			summary: "Returns the last element of a list after removing and pushing it to another list (a pop, then a push; not atomic).",
			args:    []argDoc{argKey("source"), argKey("destination")}, fn: cmdRPopLPush},
		{name: "lmpop", arity: -4, flags: []string{"write", "movablekeys"}, numKeys: 1, group: "list", since: "7.0.0",
			summary: "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
			args:    []argDoc{argInt("numkeys"), many(argKey("key")), where("where"), opt(tokenArg("COUNT", argInt("count")))}, fn: cmdLMPop},
	}
	return append(cmds, blockingCommands()...)
}

// listItem is one live item as a walk reads it.
type listItem struct {
	id    []byte
	value []byte
}

// itemKey returns the internal key of item id of list key.
func itemKey(key, id []byte) []byte { return ring.ElementKey(typeList, key, id) }

// eachItem walks the live items of list key from its head (tail: from its
// tail, backwards), calling fn with each until it returns false. It reads
// batch keys first and four times more at each next read (up to
// replication.MaxKeysBatch): a walk that needs a few items reads few, and
// one that passes many deleted items (a queue's head before their
// tombstones are collected) is not a read per few of them.
func (c *Conn) eachItem(key []byte, tail bool, batch int, fn func(it listItem) bool) error {
	ctx, cancel := c.reqCtx()
	defer cancel()
	ikey := ring.InternalKey(key)
	prefix := ring.ElementPrefix(typeList, key)
	now := c.nowMs()
	scan := c.srv.cfg.Backend.ScanKeys
	if tail {
		scan = c.srv.cfg.Backend.ScanKeysReverse
	}
	start, end := prefix, ring.PrefixEnd(prefix)
	batch = max(1, min(batch, replication.MaxKeysBatch))
	for {
		var (
			seen    int
			last    []byte
			stopped bool
		)
		err := scan(ctx, ikey, ring.HashKey(ikey).Hi, start, end, batch, func(k []byte, o *replication.Object) bool {
			seen++
			last = k
			if s := o.Newest(now); s != nil && len(k) > len(prefix) && !fn(listItem{id: k[len(prefix):], value: s.Value}) {
				stopped = true
				return false
			}
			return seen < batch
		})
		if err != nil || stopped || seen < batch {
			return err
		}
		if tail {
			end = last // exclusive: the keys before it
		} else {
			start = append(slices.Clip(last), 0) // just after it
		}
		batch = min(batch*4, replication.MaxKeysBatch)
	}
}

// listLen counts the live items of list key.
func (c *Conn) listLen(key []byte) (int64, error) {
	var n int64
	err := c.eachItem(key, false, replication.MaxKeysBatch, func(listItem) bool {
		n++
		return true
	})
	return n, err
}

// endItem returns the first (tail: the last) live item of list key, nil
// when it has none.
func (c *Conn) endItem(key []byte, tail bool) (*listItem, error) {
	var got *listItem
	err := c.eachItem(key, tail, 8, func(it listItem) bool {
		got = &it
		return false
	})
	return got, err
}

// groupIDs returns n ids that sort in a row right after base's place: base
// itself, then extensions of it (one level deeper), which sort after base
// and before every id that sorts after base and is not an extension of it
// (none is, since only this writer extends base). A multi-value push is
// then one block that a concurrent push cannot interleave with.
func groupIDs(base []byte, n int) [][]byte {
	ids := make([][]byte, n)
	ids[0] = base
	for i := 1; i < n; i++ {
		id := make([]byte, 0, len(base)+idLevel)
		id = append(id, base...)
		id = binary.BigEndian.AppendUint64(id, uint64(i)*idStep)
		id = binary.BigEndian.AppendUint64(id, idWriter.actor)
		ids[i] = binary.BigEndian.AppendUint64(id, idWriter.counter.Add(1))
	}
	return ids
}

// pushItems writes vals at the tail (or the head: each before the one
// pushed before it, as LPUSH does) of list key, which exists or was just
// created.
func (c *Conn) pushItems(key []byte, vals [][]byte, tail bool) error {
	end, err := c.endItem(key, tail)
	if err != nil {
		return err
	}
	var anchor []byte
	if end != nil {
		anchor = end.id
	}
	var base []byte
	if tail {
		base, err = newID(anchor, nil, idAfter)
	} else {
		base, err = newID(nil, anchor, idBefore)
	}
	if err != nil {
		return err
	}
	ids := groupIDs(base, len(vals))
	if !tail {
		// LPUSH a b c leaves c b a: the last value pushed comes first.
		for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
			ids[i], ids[j] = ids[j], ids[i]
		}
	}
	return c.writeItems(key, ids, vals)
}

// writeItems writes new items ids with values vals into list key.
func (c *Conn) writeItems(key []byte, ids, vals [][]byte) error {
	err := parallel(len(ids), func(i int) error {
		_, err := c.rawUpdate(itemKey(key, ids[i]), func(cur *replication.Object) (*replication.Write, error) {
			// The version keeps Value: a copy, not the request's buffer,
			// which the connection reuses.
			return &replication.Write{Context: cur.Context(), Value: bytes.Clone(vals[i])}, nil
		})
		return err
	})
	return err
}

// pushCommand implements LPUSH, RPUSH (create) and LPUSHX, RPUSHX.
func pushCommand(tail, create bool) func(*Conn, [][]byte) {
	return func(c *Conn, args [][]byte) {
		key := args[1]
		if _, err := c.collection(key, typeList, create); err != nil {
			if c.collectionOK(err) {
				c.out.Int(0)
			}
			return
		}
		if err := c.pushItems(key, args[2:], tail); !c.updateOK(err) {
			return
		}
		// The length before blocked clients take items, as Redis replies.
		n, err := c.listLen(key)
		c.notifyPushed(key, tail)
		c.listWritten(key)
		if c.updateOK(err) {
			c.out.Int(n)
		}
	}
}

// removeItems deletes items ids of list key, each the versions the
// coordinator reads, and reports which were live and their values then.
func (c *Conn) removeItems(key []byte, ids [][]byte) (removed []bool, vals [][]byte, err error) {
	removed, vals = make([]bool, len(ids)), make([][]byte, len(ids))
	now := c.nowMs()
	err = parallel(len(ids), func(i int) error {
		_, err := c.rawUpdate(itemKey(key, ids[i]), func(cur *replication.Object) (*replication.Write, error) {
			s := cur.Newest(now)
			removed[i] = s != nil // the last read decides (a forwarded write may read again)
			if s == nil {
				return nil, nil
			}
			vals[i] = bytes.Clone(s.Value) // cur may share a buffer the store reuses
			return deleteWrite(cur), nil
		})
		return err
	})
	return removed, vals, err
}

// popRounds bounds how often a pop reads again after finding its items
// popped by someone else meanwhile.
const popRounds = 8

// popItems removes up to n items from the head (tail: the tail) of list
// key and returns their values in the order popped; the list's head goes
// with its last item (gone).
func (c *Conn) popItems(key []byte, tail bool, n int64) (vals [][]byte, gone bool, err error) {
	var out [][]byte
	more := false // the last walk saw a live item beyond those it took
	for round := 0; int64(len(out)) < n && round < popRounds; round++ {
		want := min(n-int64(len(out)), replication.MaxKeysBatch)
		var ids [][]byte
		more = false
		err := c.eachItem(key, tail, int(want+1), func(it listItem) bool {
			if int64(len(ids)) == want {
				more = true
				return false
			}
			ids = append(ids, it.id)
			return true
		})
		if err != nil || len(ids) == 0 {
			break
		}
		removed, vals, err := c.removeItems(key, ids)
		for i := range ids {
			if removed[i] {
				out = append(out, vals[i])
			}
		}
		if err != nil {
			return out, false, err
		}
	}
	if len(out) > 0 && !more {
		gone, err := c.listEmptied(key)
		return out, gone, err
	}
	return out, false, nil
}

// notifyPopped publishes the events of a pop of n items from list key:
// lpop or rpop, then del when the list went with them.
func (c *Conn) notifyPopped(key []byte, tail bool, n int, gone bool) {
	if n == 0 {
		return
	}
	if tail {
		c.notify(notifyList, "rpop", key)
	} else {
		c.notify(notifyList, "lpop", key)
	}
	if gone {
		c.notify(notifyGeneric, "del", key)
	}
}

// listEmptied deletes the head of list key when it has no live item left
// (emptied, with a list's own walk, which passes deleted items in growing
// batches), and reports whether it did.
func (c *Conn) listEmptied(key []byte) (bool, error) {
	if it, err := c.endItem(key, false); it != nil || err != nil {
		return false, err
	}
	now := c.nowMs()
	deleted := false
	_, err := c.rawUpdate(ring.InternalKey(key), func(cur *replication.Object) (*replication.Write, error) {
		s, ht := headOf(cur, now)
		if deleted = s != nil && ht == typeList; !deleted {
			return nil, nil
		}
		return deleteWrite(cur), nil
	})
	return deleted && err == nil, err
}

// popCommand implements LPOP and RPOP.
func popCommand(tail bool) func(*Conn, [][]byte) {
	name := "lpop"
	if tail {
		name = "rpop"
	}
	return func(c *Conn, args [][]byte) {
		if len(args) > 3 {
			c.replyErr(errArity(c.srv.table[name]))
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
		key := args[1]
		if _, err := c.collection(key, typeList, false); err != nil {
			if c.collectionOK(err) {
				c.nullPop(withCount)
			}
			return
		}
		if withCount && count == 0 {
			c.out.Array(0)
			return
		}
		vals, gone, err := c.popItems(key, tail, count)
		c.notifyPopped(key, tail, len(vals), gone)
		if !c.updateOK(err) {
			return
		}
		switch {
		case len(vals) == 0:
			c.nullPop(withCount)
		case !withCount:
			c.out.Bulk(vals[0])
		default:
			c.out.Array(len(vals))
			for _, v := range vals {
				c.out.Bulk(v)
			}
		}
	}
}

// nullPop replies a pop from a missing list: a null bulk, or a null array
// with a count.
func (c *Conn) nullPop(withCount bool) {
	if withCount {
		c.out.NullArray()
	} else {
		c.out.Null()
	}
}

func cmdLLen(c *Conn, args [][]byte) {
	_, ok, err := c.readCollection(args[1], typeList)
	var n int64
	if ok && err == nil {
		n, err = c.listLen(args[1])
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Int(n)
}

// notifyPushed publishes the event of a push onto list key.
func (c *Conn) notifyPushed(key []byte, tail bool) {
	if tail {
		c.notify(notifyList, "rpush", key)
	} else {
		c.notify(notifyList, "lpush", key)
	}
}
