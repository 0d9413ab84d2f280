package resp

import (
	"math"
	"strconv"

	"github.com/dynakv/dynakv/replication"
)

// Counters: INCR, INCRBY, DECR, DECRBY and INCRBYFLOAT add to a key's value
// as a PN-counter. Each coordinator's increments to a key live in one
// counter contribution (a sibling of its own, see replication.Write's
// Increment), so increments through different nodes, concurrent or
// partitioned, are all kept and counted once; the value is their sum on top
// of the key's newest plain value. A SET that read the key replaces what it
// saw, and increments it did not see stay on top of it. The reply is the
// coordinator's merged value after the write.
//
// HINCRBY and HINCRBYFLOAT make a hash field the same counter, on the
// field's element key; they share the checks and writes below and differ
// only in the words of their errors (numErrors).

var (
	errNotFloat    = "ERR value is not a valid float"
	errOverflow    = "ERR increment or decrement would overflow"
	errNaNInfinity = "ERR increment would produce NaN or Infinity"
)

// numErrors are the errors of a counter whose current value is no number:
// a string key's (INCR) or a hash field's (HINCRBY), in Redis's words.
type numErrors struct{ notInt, notFloat string }

var stringNumErrors = numErrors{notInt: errNotInteger, notFloat: errNotFloat}

func cmdIncr(c *Conn, args [][]byte)   { incrBy(c, args[1], 1) }
func cmdDecr(c *Conn, args [][]byte)   { incrBy(c, args[1], -1) }
func cmdIncrBy(c *Conn, args [][]byte) { incrByArg(c, args, 1) }
func cmdDecrBy(c *Conn, args [][]byte) { incrByArg(c, args, -1) }

func incrByArg(c *Conn, args [][]byte, sign int64) {
	n, ok := string2ll(args[2])
	if !ok {
		c.replyErr(errNotInteger)
		return
	}
	if sign < 0 {
		if n == math.MinInt64 {
			c.replyErr("ERR decrement would overflow")
			return
		}
		n = -n
	}
	incrBy(c, args[1], n)
}

// incrBy adds delta to key and replies the new value.
func incrBy(c *Conn, key []byte, delta int64) {
	now := c.nowMs()
	o, err := c.update(key, func(cur *replication.Object) (*replication.Write, error) {
		return intIncrement(cur, now, delta, stringNumErrors)
	})
	if !c.updateOK(err) {
		return
	}
	c.notify(notifyString, "incrby", key)
	if v, err := intValue(o, now, stringNumErrors); c.updateOK(err) {
		c.out.Int(v)
	}
}

// intIncrement returns the counter increment by delta of the key (or
// element) whose state is cur, keeping its newest version's expiry, or the
// client error for a value that is no integer or a sum that would
// overflow.
func intIncrement(cur *replication.Object, nowMs, delta int64, errs numErrors) (*replication.Write, error) {
	var value, expire int64
	if s := cur.Newest(nowMs); s != nil {
		v, ok := string2ll(s.Value)
		if !ok {
			return nil, &clientError{errs.notInt}
		}
		value, expire = v, s.ExpireAt
	}
	if (delta < 0 && value < math.MinInt64-delta) || (delta > 0 && value > math.MaxInt64-delta) {
		return nil, &clientError{errOverflow}
	}
	return &replication.Write{Increment: strconv.AppendInt(nil, delta, 10), ExpireAt: expire}, nil
}

// intValue returns the integer value of o after an increment: the
// coordinator's merged value, or the client error when a concurrent write
// made the value no integer after ours.
func intValue(o *replication.Object, nowMs int64, errs numErrors) (int64, error) {
	if s := o.Newest(nowMs); s != nil {
		if v, ok := string2ll(s.Value); ok {
			return v, nil
		}
	}
	return 0, &clientError{errs.notInt}
}

// parseFloatIncrement parses an INCRBYFLOAT or HINCRBYFLOAT increment. As
// in Redis, infinity is a float (what the caller does with it differs),
// NaN is none.
func parseFloatIncrement(b []byte) (float64, bool) {
	delta, err := strconv.ParseFloat(string(b), 64)
	if (err != nil && !math.IsInf(delta, 0)) || len(b) == 0 || math.IsNaN(delta) {
		return 0, false
	}
	return delta, true
}

// floatIncrement returns the counter increment by delta of the key (or
// element) whose state is cur, keeping its newest version's expiry, or the
// client error for a value that is no float or a sum that is not finite (a
// stored infinity is a float whose sum is not, as in Redis).
func floatIncrement(cur *replication.Object, nowMs int64, delta float64, errs numErrors) (*replication.Write, error) {
	var value float64
	var expire int64
	if s := cur.Newest(nowMs); s != nil {
		v, err := strconv.ParseFloat(string(s.Value), 64)
		if (err != nil && !math.IsInf(v, 0)) || math.IsNaN(v) {
			return nil, &clientError{errs.notFloat}
		}
		value, expire = v, s.ExpireAt
	}
	if r := value + delta; math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, &clientError{errNaNInfinity}
	}
	return &replication.Write{Increment: replication.FormatFloat(delta), ExpireAt: expire}, nil
}

// replyFloatValue replies the value of o after a float increment: the
// coordinator's merged value.
func (c *Conn) replyFloatValue(o *replication.Object, nowMs int64) {
	if s := o.Newest(nowMs); s != nil {
		c.out.Bulk(s.Value)
		return
	}
	c.out.Null()
}

func cmdIncrByFloat(c *Conn, args [][]byte) {
	delta, ok := parseFloatIncrement(args[2])
	if !ok {
		c.replyErr(errNotFloat)
		return
	}
	now := c.nowMs()
	o, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		return floatIncrement(cur, now, delta, stringNumErrors)
	})
	if c.updateOK(err) {
		c.notify(notifyString, "incrbyfloat", args[1])
		c.replyFloatValue(o, now)
	}
}
