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

var (
	errNotFloat    = "ERR value is not a valid float"
	errOverflow    = "ERR increment or decrement would overflow"
	errNaNInfinity = "ERR increment would produce NaN or Infinity"
)

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
		var value int64
		var expire int64
		if s := cur.Newest(now); s != nil {
			v, ok := string2ll(s.Value)
			if !ok {
				return nil, &clientError{errNotInteger}
			}
			value, expire = v, s.ExpireAt
		}
		if (delta < 0 && value < math.MinInt64-delta) || (delta > 0 && value > math.MaxInt64-delta) {
			return nil, &clientError{errOverflow}
		}
		return &replication.Write{Increment: strconv.AppendInt(nil, delta, 10), ExpireAt: expire}, nil
	})
	if !c.updateOK(err) {
		return
	}
	v, ok := int64(0), false
	if s := o.Newest(now); s != nil {
		v, ok = string2ll(s.Value)
	}
	if !ok {
		// A concurrent write made the value no integer after ours.
		c.replyErr(errNotInteger)
		return
	}
	c.out.Int(v)
}

func cmdIncrByFloat(c *Conn, args [][]byte) {
	delta, err := strconv.ParseFloat(string(args[2]), 64)
	// As Redis: infinity is a float (the sum then is not), NaN is none.
	if (err != nil && !math.IsInf(delta, 0)) || len(args[2]) == 0 || math.IsNaN(delta) {
		c.replyErr(errNotFloat)
		return
	}
	now := c.nowMs()
	o, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		var value float64
		var expire int64
		if s := cur.Newest(now); s != nil {
			v, err := strconv.ParseFloat(string(s.Value), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, &clientError{errNotFloat}
			}
			value, expire = v, s.ExpireAt
		}
		if r := value + delta; math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, &clientError{errNaNInfinity}
		}
		return &replication.Write{Increment: replication.FormatFloat(delta), ExpireAt: expire}, nil
	})
	if !c.updateOK(err) {
		return
	}
	if s := o.Newest(now); s != nil {
		c.out.Bulk(s.Value)
		return
	}
	c.out.Null()
}
