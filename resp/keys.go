package resp

import (
	"context"
	"strconv"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// The keyspace commands. Multi-key commands act per key, not atomically.

func cmdDel(c *Conn, args [][]byte) {
	var n int64
	for _, key := range args[1:] {
		existed, err := c.del(key)
		if err != nil {
			c.fail(err)
			return
		}
		if existed {
			c.notify(notifyGeneric, "del", key)
			n++
		}
	}
	c.out.Int(n)
}

// del deletes key, whatever its type, and reports whether it existed: a
// tombstone replaces the versions of the key the coordinator reads, and
// the elements of a collection are deleted with its head (updateAny), or
// alone when they outlived an earlier delete.
func (c *Conn) del(key []byte) (bool, error) {
	now := c.nowMs()
	existed, orphans := false, false
	_, err := c.updateAny(key, func(cur *replication.Object) (*replication.Write, error) {
		existed, orphans = cur.Newest(now) != nil, mayHaveOrphans(cur, now)
		if !existed {
			return nil, nil
		}
		return deleteWrite(cur), nil
	})
	if err != nil || existed || !orphans || c.tx != nil {
		return existed, err
	}
	t, err := c.orphanType(key)
	if t == 0 || err != nil {
		return false, err
	}
	return true, c.dropElements(key, collectionTypes)
}

func cmdExists(c *Conn, args [][]byte) {
	var n int64
	for _, key := range args[1:] {
		_, _, ok, err := c.keyType(key)
		if err != nil {
			c.fail(err)
			return
		}
		if ok {
			n++
		}
	}
	c.out.Int(n)
}

// expireCommand implements EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT with
// Redis 7's NX/XX/GT/LT options.
func expireCommand(unit int, relative bool, name string) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		now := c.nowMs()
		var nx, xx, gt, lt bool
		for _, a := range args[3:] {
			switch {
			case eqFold(a, "nx"):
				nx = true
			case eqFold(a, "xx"):
				xx = true
			case eqFold(a, "gt"):
				gt = true
			case eqFold(a, "lt"):
				lt = true
			default:
				c.replyErr("ERR Unsupported option " + string(a))
				return
			}
		}
		if nx && (xx || gt || lt) {
			c.replyErr("ERR NX and XX, GT or LT options at the same time are not compatible")
			return
		}
		if gt && lt {
			c.replyErr("ERR GT and LT options at the same time are not compatible")
			return
		}
		at, msg := absExpire(args[2], unit, relative, false, now, name)
		if msg != "" {
			c.replyErr(msg)
			return
		}
		set := false
		_, err := c.updateAny(args[1], func(cur *replication.Object) (*replication.Write, error) {
			old := cur.Newest(now)
			if old == nil {
				return nil, nil
			}
			has := old.ExpireAt != 0
			switch {
			case nx && has, xx && !has:
				return nil, nil
			case gt && (!has || at <= old.ExpireAt):
				return nil, nil
			case lt && has && at >= old.ExpireAt:
				return nil, nil
			}
			set = true
			if at <= now {
				return deleteWrite(cur), nil
			}
			return keepWrite(cur, old, at), nil
		})
		if err != nil {
			c.fail(err)
			return
		}
		if set {
			if at <= now {
				c.notify(notifyGeneric, "del", args[1])
			} else {
				c.notify(notifyGeneric, "expire", args[1])
			}
			c.out.Int(1)
		} else {
			c.out.Int(0)
		}
	}
}

func ttlCommand(unit int) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		_, s, ok, err := c.keyType(args[1])
		if err != nil {
			c.fail(err)
			return
		}
		now := c.nowMs()
		switch {
		case !ok:
			c.out.Int(-2)
		case s == nil || s.ExpireAt == 0:
			c.out.Int(-1)
		case unit == unitSeconds:
			c.out.Int((s.ExpireAt - now + 500) / 1000)
		default:
			c.out.Int(s.ExpireAt - now)
		}
	}
}

func cmdPersist(c *Conn, args [][]byte) {
	now := c.nowMs()
	done := false
	_, err := c.updateAny(args[1], func(cur *replication.Object) (*replication.Write, error) {
		old := cur.Newest(now)
		if old == nil || old.ExpireAt == 0 {
			return nil, nil
		}
		done = true
		return keepWrite(cur, old, 0), nil
	})
	if err == nil && done {
		c.notify(notifyGeneric, "persist", args[1])
	}
	c.replyCount(err, done)
}

func cmdType(c *Conn, args [][]byte) {
	t, _, ok, err := c.keyType(args[1])
	switch {
	case err != nil:
		c.fail(err)
	case !ok:
		c.out.Simple("none")
	default:
		c.out.Simple(typeName(t))
	}
}

// keepWrite is the write that keeps old, the key's newest version, as it
// is (a value, a sketch or a collection head) with expiry expireAt, and
// replaces everything else cur holds.
func keepWrite(cur *replication.Object, old *replication.Sibling, expireAt int64) *replication.Write {
	return &replication.Write{Context: cur.Context(), Value: old.Value, HLL: old.HLL, Type: old.Type, ExpireAt: expireAt}
}

// scanKeys walks the whole keyspace, calling fn with each live key (a copy
// of the user key).
func (c *Conn) scanKeys(fn func(key []byte)) error {
	ctx, cancel := context.WithTimeout(c.ctx, 10*c.srv.cfg.RequestTimeout)
	defer cancel()
	now := c.nowMs()
	_, err := c.srv.cfg.Backend.Scan(ctx, 0, func(key []byte, o *replication.Object) bool {
		if uk, ok := ring.UserKey(key); ok && o.Newest(now) != nil {
			fn(append([]byte(nil), uk...))
		}
		return true
	})
	return err
}

// SCAN cursors. The keyspace is walked in ring-position order (the Hi half
// of ring.HashKey, as the backend's Scan visits it), and a cursor is the top
// 53 bits of a position: a bucket of 2^11 positions. So every cursor is
// below 2^53 and survives clients that hold it in a float64 (node-redis 4
// rounds larger ones and its scanIterator then skips keys), and a page
// always ends at a bucket's end: it holds every key of the last bucket it
// entered, so the next page, which starts at the following bucket, repeats
// and skips nothing.
const (
	cursorShift = 11
	maxCursor   = 1<<(64-cursorShift) - 1
)

// scanDeadPerKey bounds the deleted and expired keys one SCAN call may pass
// over, per key of COUNT, before it returns a short page: a keyspace full
// of tombstones costs a bounded amount per call, not a walk of all of them.
const scanDeadPerKey = 100

// scanPage calls fn with the live keys of the SCAN page starting at
// cursor (copies of the user keys, and their newest versions), about count
// of them, and returns the next page's cursor, 0 after the last page. With
// orphans, it also calls fn (with a nil version) for the keys whose
// collection's elements may have outlived its delete.
func (c *Conn) scanPage(cursor uint64, count int, orphans bool, fn func(key []byte, s *replication.Sibling)) (uint64, error) {
	if cursor > maxCursor {
		return 0, nil // past the last bucket: nothing is there
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*c.srv.cfg.RequestTimeout)
	defer cancel()
	now := c.nowMs()
	var (
		live, dead int
		full       bool   // the page has enough: it ends with its bucket
		last, next uint64 // the page's last bucket; the next page's cursor
	)
	_, err := c.srv.cfg.Backend.Scan(ctx, cursor<<cursorShift, func(key []byte, o *replication.Object) bool {
		bucket := ring.HashKey(key).Hi >> cursorShift
		if full && bucket != last {
			next = bucket // the first key of the next page
			return false
		}
		uk, user := ring.UserKey(key)
		if !user {
			return true // an element, which is no key
		}
		switch s := o.Newest(now); {
		case s != nil:
			fn(append([]byte(nil), uk...), s)
			live++
		case orphans && mayHaveOrphans(o, now):
			fn(append([]byte(nil), uk...), nil)
			live++
		default:
			dead++
		}
		if !full && (live >= count || dead >= scanDeadPerKey*count) {
			full, last = true, bucket
		}
		return true
	})
	return next, err
}

// scanOptions parses the options of SCAN (withType) and of SSCAN/HSCAN:
// COUNT, MATCH and TYPE, as Redis, or returns the error to reply.
func scanOptions(opts [][]byte, withType bool) (count int, pattern, typ []byte, msg string) {
	count = 10
	for i := 0; i < len(opts); i += 2 {
		if i+1 >= len(opts) {
			return 0, nil, nil, errSyntax
		}
		switch a, v := opts[i], opts[i+1]; {
		case eqFold(a, "count"):
			n, ok := string2ll(v)
			if !ok {
				return 0, nil, nil, errNotInteger
			}
			if n < 1 {
				return 0, nil, nil, errSyntax
			}
			count = int(min(n, 1<<20))
		case eqFold(a, "match"):
			pattern = v
		case withType && eqFold(a, "type"):
			typ = v
		default:
			return 0, nil, nil, errSyntax
		}
	}
	return count, pattern, typ, ""
}

func cmdScan(c *Conn, args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		c.replyErr(errInvalidCurs)
		return
	}
	count, pattern, typ, msg := scanOptions(args[2:], true)
	if msg != "" {
		c.replyErr(msg)
		return
	}
	var keys [][]byte
	next, err := c.scanPage(cursor, count, false, func(key []byte, s *replication.Sibling) {
		if (typ == nil || eqFold(typ, typeName(s.Type))) && (pattern == nil || globMatch(pattern, key, false)) {
			keys = append(keys, key)
		}
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Array(2)
	c.out.BulkString(strconv.FormatUint(next, 10))
	c.out.Array(len(keys))
	for _, k := range keys {
		c.out.Bulk(k)
	}
}

func cmdKeys(c *Conn, args [][]byte) {
	var keys [][]byte
	all := len(args[1]) == 1 && args[1][0] == '*'
	size, over := 0, false
	err := c.scanKeys(func(key []byte) {
		if !over && (all || globMatch(args[1], key, false)) {
			keys = append(keys, key)
			size += len(key) + 16 // with its bulk header
			over = c.exceeds(size)
		}
	})
	if over {
		return // closed for the output buffer limit
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Array(len(keys))
	for _, k := range keys {
		c.out.Bulk(k)
	}
}

func cmdDBSize(c *Conn, args [][]byte) {
	var n int64
	if err := c.scanKeys(func([]byte) { n++ }); err != nil {
		c.fail(err)
		return
	}
	c.out.Int(n)
}

// cmdFlush deletes every live key, with the elements of collections: as a
// DEL per key, through the coordinator, a page of keys at a time.
func cmdFlush(c *Conn, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !eqFold(args[1], "async") && !eqFold(args[1], "sync")) {
		c.replyErr(errSyntax)
		return
	}
	cursor := uint64(0)
	for {
		var page [][]byte
		next, err := c.scanPage(cursor, 1000, true, func(key []byte, _ *replication.Sibling) { page = append(page, key) })
		if err != nil {
			c.fail(err)
			return
		}
		for _, key := range page {
			if _, err := c.del(key); err != nil {
				c.fail(err)
				return
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	c.out.OK()
}
