package resp

import (
	"context"
	"strconv"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// The keyspace commands. Multi-key commands act per key, not atomically.

func cmdDel(c *Conn, args [][]byte) {
	now := c.nowMs()
	var n int64
	for _, key := range args[1:] {
		existed := false
		_, err := c.update(key, func(cur *replication.Object) (*replication.Write, error) {
			if cur.Newest(now) == nil {
				return nil, nil
			}
			existed = true
			return deleteWrite(cur), nil
		})
		if err != nil {
			c.fail(err)
			return
		}
		if existed {
			n++
		}
	}
	c.out.Int(n)
}

func cmdExists(c *Conn, args [][]byte) {
	now := c.nowMs()
	var n int64
	for _, key := range args[1:] {
		o, err := c.get(key)
		if err != nil {
			c.fail(err)
			return
		}
		if o.Newest(now) != nil {
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
		_, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
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
			return plainWrite(cur, old.Value, at), nil
		})
		if err != nil {
			c.fail(err)
			return
		}
		if set {
			c.out.Int(1)
		} else {
			c.out.Int(0)
		}
	}
}

func ttlCommand(unit int) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		o, err := c.get(args[1])
		if err != nil {
			c.fail(err)
			return
		}
		now := c.nowMs()
		s := o.Newest(now)
		switch {
		case s == nil:
			c.out.Int(-2)
		case s.ExpireAt == 0:
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
	_, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		old := cur.Newest(now)
		if old == nil || old.ExpireAt == 0 {
			return nil, nil
		}
		done = true
		return plainWrite(cur, old.Value, 0), nil
	})
	switch {
	case err != nil:
		c.fail(err)
	case done:
		c.out.Int(1)
	default:
		c.out.Int(0)
	}
}

func cmdType(c *Conn, args [][]byte) {
	o, err := c.get(args[1])
	if err != nil {
		c.fail(err)
		return
	}
	if o.Newest(c.nowMs()) != nil {
		c.out.Simple("string")
	} else {
		c.out.Simple("none")
	}
}

// scanKeys walks the whole keyspace, calling fn with each live key (a copy).
func (c *Conn) scanKeys(fn func(key []byte)) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*c.srv.cfg.RequestTimeout)
	defer cancel()
	now := c.nowMs()
	_, err := c.srv.cfg.Backend.Scan(ctx, 0, func(key []byte, o *replication.Object) bool {
		if o.Newest(now) != nil {
			fn(append([]byte(nil), key...))
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

// scanPage calls fn with the live keys (copies) of the SCAN page starting
// at cursor, about count of them, and returns the next page's cursor, 0
// after the last page.
func (c *Conn) scanPage(cursor uint64, count int, fn func(key []byte)) (uint64, error) {
	if cursor > maxCursor {
		return 0, nil // past the last bucket: nothing is there
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*c.srv.cfg.RequestTimeout)
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
		if o.Newest(now) != nil {
			fn(append([]byte(nil), key...))
			live++
		} else {
			dead++
		}
		if !full && (live >= count || dead >= scanDeadPerKey*count) {
			full, last = true, bucket
		}
		return true
	})
	return next, err
}

func cmdScan(c *Conn, args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		c.replyErr(errInvalidCurs)
		return
	}
	count := 10
	var pattern []byte
	var typ []byte
	for i := 2; i < len(args); i += 2 {
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
		case eqFold(a, "type"):
			typ = v
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	wantNone := typ != nil && !eqFold(typ, "string")
	var keys [][]byte
	next, err := c.scanPage(cursor, count, func(key []byte) {
		if !wantNone && (pattern == nil || globMatch(pattern, key, false)) {
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
	err := c.scanKeys(func(key []byte) {
		if all || globMatch(args[1], key, false) {
			keys = append(keys, key)
		}
	})
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

// cmdFlush deletes every live key: a tombstone per key, through the
// coordinator, a page of keys at a time.
func cmdFlush(c *Conn, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !eqFold(args[1], "async") && !eqFold(args[1], "sync")) {
		c.replyErr(errSyntax)
		return
	}
	now := c.nowMs()
	cursor := uint64(0)
	for {
		var page [][]byte
		next, err := c.scanPage(cursor, 1000, func(key []byte) { page = append(page, key) })
		if err != nil {
			c.fail(err)
			return
		}
		for _, key := range page {
			_, err := c.update(key, func(cur *replication.Object) (*replication.Write, error) {
				if cur.Newest(now) == nil {
					return nil, nil
				}
				return deleteWrite(cur), nil
			})
			if err != nil {
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
