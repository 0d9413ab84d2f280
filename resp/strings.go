package resp

import (
	"math"

	"github.com/dynakv/dynakv/replication"
)

// The string commands. Every write is a plain write: its context is all
// the coordinator knows of the key (cur.Context()), so on a healthy cluster
// it replaces the value exactly as in Redis.

// expiry units and forms, as in Redis's SET/GETEX/EXPIRE family.
const (
	unitSeconds = iota
	unitMillis
)

// absExpire turns an expiry argument into an absolute Unix-ms time, with
// Redis's checks: the argument must be an integer (else errNotInteger),
// positive when positive is set (else the command's invalid-expire error),
// and the result must not overflow.
func absExpire(arg []byte, unit int, relative, positive bool, nowMs int64, cmd string) (int64, string) {
	v, ok := string2ll(arg)
	if !ok {
		return 0, errNotInteger
	}
	if positive && v <= 0 {
		return 0, errExpire(cmd)
	}
	if unit == unitSeconds {
		if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
			return 0, errExpire(cmd)
		}
		v *= 1000
	}
	if relative {
		if (v > 0 && nowMs > math.MaxInt64-v) || (v < 0 && nowMs < math.MinInt64-v) {
			return 0, errExpire(cmd)
		}
		v += nowMs
	}
	return v, ""
}

// isExpiryOption reports whether a is EX, PX, EXAT or PXAT.
func isExpiryOption(a []byte) bool {
	return eqFold(a, "ex") || eqFold(a, "px") || eqFold(a, "exat") || eqFold(a, "pxat")
}

// expiryOption turns the expiry option a (EX, PX, EXAT or PXAT) and its
// argument into an absolute Unix-ms time, or an error reply.
func expiryOption(a, arg []byte, nowMs int64, cmd string) (int64, string) {
	unit := unitSeconds
	if a[0] == 'p' || a[0] == 'P' {
		unit = unitMillis
	}
	return absExpire(arg, unit, len(a) == 2, true, nowMs, cmd)
}

// replyOld answers with a command's previous value, or null.
func (c *Conn) replyOld(err error, old *replication.Sibling) {
	switch {
	case err != nil:
		c.fail(err)
	case old == nil:
		c.out.Null()
	default:
		c.out.Bulk(old.Value)
	}
}

// plainWrite is the write that replaces everything cur holds. The write
// keeps value (replication may still send it after the reply), so callers
// pass memory they own, never a slice of the request buffer: see own.
func plainWrite(cur *replication.Object, value []byte, expireAt int64) *replication.Write {
	return &replication.Write{Context: cur.Context(), Value: value, ExpireAt: expireAt}
}

// own copies a request argument (which aliases the connection's read
// buffer) into memory a stored version may keep.
func own(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// deleteWrite is the tombstone that replaces everything cur holds. The
// delete of a collection keeps its type (see mayHaveOrphans).
func deleteWrite(cur *replication.Object) *replication.Write {
	w := &replication.Write{Context: cur.Context(), Tombstone: true}
	if ts := headTypes(cur); len(ts) > 0 {
		w.Type = ts[0]
	}
	return w
}

func cmdGet(c *Conn, args [][]byte) {
	o, err := c.get(args[1])
	if err != nil {
		c.fail(err)
		return
	}
	if s := o.Newest(c.nowMs()); s != nil {
		c.srv.stats.hits.Add(1)
		c.out.Bulk(s.Value)
		return
	}
	c.srv.stats.misses.Add(1)
	c.out.Null()
}

// setOptions are SET's parsed flags.
type setOptions struct {
	nx, xx, get, keepTTL bool
	expireAt             int64 // absolute Unix ms; 0 = none
	hasExpire            bool
}

// parseSetOptions parses SET's options from args (after key and value), as
// Redis 7's parseExtendedStringArgumentsOrReply does for SET.
func parseSetOptions(args [][]byte, nowMs int64) (setOptions, string) {
	var o setOptions
	for i := 0; i < len(args); i++ {
		a := args[i]
		hasNext := i+1 < len(args)
		switch {
		case eqFold(a, "nx") && !o.xx:
			o.nx = true
		case eqFold(a, "xx") && !o.nx:
			o.xx = true
		case eqFold(a, "get"):
			o.get = true
		case eqFold(a, "keepttl") && !o.hasExpire:
			o.keepTTL = true
		case isExpiryOption(a) && !o.keepTTL && !o.hasExpire && hasNext:
			at, msg := expiryOption(a, args[i+1], nowMs, "set")
			if msg != "" {
				return o, msg
			}
			o.expireAt, o.hasExpire = at, true
			i++
		default:
			return o, errSyntax
		}
	}
	return o, ""
}

func cmdSet(c *Conn, args [][]byte) {
	now := c.nowMs()
	opt, msg := parseSetOptions(args[3:], now)
	if msg != "" {
		c.replyErr(msg)
		return
	}
	c.set(args[1], args[2], opt, now)
}

// set runs SET with parsed options and writes its reply.
func (c *Conn) set(key, value []byte, opt setOptions, now int64) {
	var old *replication.Sibling
	update := c.updateAny // SET replaces any type
	if opt.get {
		update = c.update
	}
	written, err := update(key, func(cur *replication.Object) (*replication.Write, error) {
		old = cur.Newest(now)
		if (opt.nx && old != nil) || (opt.xx && old == nil) {
			return nil, nil
		}
		exp := opt.expireAt
		if opt.keepTTL && old != nil {
			exp = old.ExpireAt
		}
		return plainWrite(cur, own(value), exp), nil
	})
	if err == nil && written != nil {
		c.notify(notifyString, "set", key)
		if opt.hasExpire {
			c.notify(notifyGeneric, "expire", key)
		}
	}
	switch {
	case err != nil || opt.get:
		c.replyOld(err, old)
	case written == nil:
		c.out.Null()
	default:
		c.out.OK()
	}
}

func cmdSetNX(c *Conn, args [][]byte) {
	now := c.nowMs()
	written, err := c.updateAny(args[1], func(cur *replication.Object) (*replication.Write, error) {
		if cur.Newest(now) != nil {
			return nil, nil
		}
		return plainWrite(cur, own(args[2]), 0), nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	if written != nil {
		c.notify(notifyString, "set", args[1])
		c.out.Int(1)
	} else {
		c.out.Int(0)
	}
}

func setexCommand(unit int, name string) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		now := c.nowMs()
		at, msg := absExpire(args[2], unit, true, true, now, name)
		if msg != "" {
			c.replyErr(msg)
			return
		}
		c.set(args[1], args[3], setOptions{expireAt: at, hasExpire: true}, now)
	}
}

func cmdGetSet(c *Conn, args [][]byte) {
	c.set(args[1], args[2], setOptions{get: true}, c.nowMs())
}

func cmdGetDel(c *Conn, args [][]byte) {
	now := c.nowMs()
	var old *replication.Sibling
	_, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		if old = cur.Newest(now); old == nil {
			return nil, nil
		}
		return deleteWrite(cur), nil
	})
	if err == nil && old != nil {
		c.notify(notifyGeneric, "del", args[1])
	}
	c.replyOld(err, old)
}

func cmdGetEx(c *Conn, args [][]byte) {
	now := c.nowMs()
	var (
		setTTL, persist bool
		at              int64
	)
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case isExpiryOption(a) && !setTTL && !persist && i+1 < len(args):
			var msg string
			if at, msg = expiryOption(a, args[i+1], now, "getex"); msg != "" {
				c.replyErr(msg)
				return
			}
			setTTL = true
			i++
		case eqFold(a, "persist") && !setTTL && !persist:
			persist = true
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	var old *replication.Sibling
	event := ""
	_, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		old, event = cur.Newest(now), ""
		switch {
		case old == nil:
			return nil, nil
		case setTTL && at <= now:
			event = "del"
			return deleteWrite(cur), nil
		case setTTL:
			event = "expire"
			return plainWrite(cur, old.Value, at), nil
		case persist && old.ExpireAt != 0:
			event = "persist"
			return plainWrite(cur, old.Value, 0), nil
		}
		return nil, nil
	})
	if err == nil && event != "" {
		c.notify(notifyGeneric, event, args[1])
	}
	c.replyOld(err, old)
}

func cmdMGet(c *Conn, args [][]byte) {
	now := c.nowMs()
	vals := make([]*replication.Sibling, 0, len(args)-1)
	size := 0
	for _, key := range args[1:] {
		o, err := c.getAny(key) // a key of another type reads as nil, as in Redis
		if err != nil {
			c.fail(err)
			return
		}
		v := o.Newest(now)
		if v != nil && v.Type != 0 {
			v = nil
		}
		if v != nil {
			size += len(v.Value)
		}
		if c.exceeds(size) {
			return // closed for the output buffer limit
		}
		vals = append(vals, v)
	}
	c.out.Array(len(vals))
	for _, s := range vals {
		if s == nil {
			c.out.Null()
		} else {
			c.out.Bulk(s.Value)
		}
	}
}

func cmdMSet(c *Conn, args [][]byte) {
	if len(args)%2 == 0 {
		c.replyErr(errArity(c.srv.table["mset"]))
		return
	}
	for i := 1; i < len(args); i += 2 {
		val := args[i+1]
		_, err := c.updateAny(args[i], func(cur *replication.Object) (*replication.Write, error) {
			return plainWrite(cur, own(val), 0), nil
		})
		if err != nil {
			c.fail(err)
			return
		}
		c.notify(notifyString, "set", args[i])
	}
	c.out.OK()
}

func cmdStrlen(c *Conn, args [][]byte) {
	o, err := c.get(args[1])
	if err != nil {
		c.fail(err)
		return
	}
	if s := o.Newest(c.nowMs()); s != nil {
		c.out.Int(int64(len(s.Value)))
	} else {
		c.out.Int(0)
	}
}

func cmdAppend(c *Conn, args [][]byte) {
	now := c.nowMs()
	var n int
	var tooBig bool
	_, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		old := cur.Newest(now)
		if old == nil {
			n = len(args[2])
			return plainWrite(cur, own(args[2]), 0), nil
		}
		if int64(len(old.Value)+len(args[2])) > c.srv.cfg.Limits.MaxBulkLen {
			tooBig = true
			return nil, nil
		}
		v := make([]byte, 0, len(old.Value)+len(args[2]))
		v = append(append(v, old.Value...), args[2]...)
		n = len(v)
		return plainWrite(cur, v, old.ExpireAt), nil
	})
	switch {
	case err != nil:
		c.fail(err)
	case tooBig:
		c.replyErr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	default:
		c.notify(notifyString, "append", args[1])
		c.out.Int(int64(n))
	}
}
