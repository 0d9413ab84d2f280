package resp

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// Pops of sorted sets: ZPOPMIN, ZPOPMAX, ZMPOP and the blocking forms.
// A pop reads the lowest (or highest) members from the index, then removes
// them with observed-remove deletes: two pops through different nodes at
// once may both return a member (at-least-once), and a member re-added
// concurrently survives the pop.
//
// The blocking forms (BZPOPMIN, BZPOPMAX, BZMPOP) poll their keys until a
// member is there or the timeout passes: a push through any node of the
// cluster wakes them within a poll (100 ms at most), with no blocked-client
// bookkeeping beyond INFO's blocked_clients count, and no order
// among clients waiting on one key.

// pollMax is the longest wait between two polls of a blocking pop.
const pollMax = 100 * time.Millisecond

// errClientGone ends a blocking pop whose client closed its connection.
var errClientGone = errors.New("the client closed the connection")

// pop removes up to count of the lowest (max: highest) members of the
// sorted set key and returns them; exists is false when there is no such
// set (another type is WRONGTYPE).
func (c *Conn) pop(key []byte, count int64, max bool) (ms []scoredMember, exists bool, err error) {
	if _, err := c.collection(key, typeZSet, false); err != nil {
		if c.isNoSuchKey(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if count == 0 {
		return nil, true, nil
	}
	ms, err = c.collect(key, nil, nil, max, 0, count, false)
	if err != nil {
		return nil, true, err
	}
	_, err = c.removeZMembers(key, memberNames(ms))
	return ms, true, err
}

// isNoSuchKey reports whether err says that a collection does not exist.
func (c *Conn) isNoSuchKey(err error) bool { return errors.Is(err, errNoSuchKey) }

// zpopCommand implements ZPOPMIN and ZPOPMAX.
func zpopCommand(max bool) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		if len(args) > 3 {
			c.replyErr(errSyntax)
			return
		}
		count, withCount := int64(1), len(args) == 3
		if withCount {
			n, ok := string2ll(args[2])
			switch {
			case !ok, n < 0:
				c.replyErr("ERR value is out of range, must be positive")
				return
			}
			count = n
		}
		ms, _, err := c.pop(args[1], count, max)
		if err != nil {
			c.fail(err)
			return
		}
		if withCount {
			c.replyScored(ms, true) // pairs in RESP3
			return
		}
		// Without COUNT, a flat [member, score] in every protocol.
		c.out.Array(2 * len(ms))
		for _, m := range ms {
			c.out.Bulk(m.member)
			c.replyScore(m.score)
		}
	}
}

var (
	cmdZPopMin = zpopCommand(false)
	cmdZPopMax = zpopCommand(true)
)

// replyPairs replies members as an array of [member, score] pairs, in
// RESP2 as well (ZMPOP's shape).
func (c *Conn) replyPairs(ms []scoredMember) {
	c.out.Array(len(ms))
	for _, m := range ms {
		c.out.Array(2)
		c.out.Bulk(m.member)
		c.replyScore(m.score)
	}
}

// zmpopArgs parses ZMPOP's (or BZMPOP's) arguments from numkeys on: the
// keys, MIN or MAX, COUNT.
func zmpopArgs(args [][]byte) (keys [][]byte, max bool, count int64, msg string) {
	n, ok := string2ll(args[0])
	if !ok || n < 1 {
		return nil, false, 0, "ERR numkeys should be greater than 0"
	}
	if n >= int64(len(args)-1) {
		return nil, false, 0, errSyntax
	}
	keys = args[1 : 1+n]
	rest := args[1+n:]
	switch {
	case eqFold(rest[0], "min"):
	case eqFold(rest[0], "max"):
		max = true
	default:
		return nil, false, 0, errSyntax
	}
	count = -1
	for j := 1; j < len(rest); j++ {
		if count == -1 && eqFold(rest[j], "count") && j+1 < len(rest) {
			j++
			if count, ok = string2ll(rest[j]); !ok || count < 1 {
				return nil, false, 0, "ERR count should be greater than 0"
			}
			continue
		}
		return nil, false, 0, errSyntax
	}
	return keys, max, max64(count, 1), ""
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// mpop pops from the first of keys that holds members; key is nil when
// none does.
func (c *Conn) mpop(keys [][]byte, max bool, count int64) (key []byte, ms []scoredMember, err error) {
	for _, k := range keys {
		ms, exists, err := c.pop(k, count, max)
		if err != nil {
			return nil, nil, err
		}
		if exists && len(ms) > 0 {
			return k, ms, nil
		}
	}
	return nil, nil, nil
}

// replyMPop replies ZMPOP's [key, [[member, score], ...]], or a null array.
func (c *Conn) replyMPop(key []byte, ms []scoredMember) {
	if key == nil {
		c.out.NullArray()
		return
	}
	c.out.Array(2)
	c.out.Bulk(key)
	c.replyPairs(ms)
}

func cmdZMPop(c *Conn, args [][]byte) {
	keys, max, count, msg := zmpopArgs(args[1:])
	if msg != "" {
		c.replyErr(msg)
		return
	}
	key, ms, err := c.mpop(keys, max, count)
	if err != nil {
		c.fail(err)
		return
	}
	c.replyMPop(key, ms)
}

// parseTimeout reads a blocking command's timeout in seconds.
func parseTimeout(b []byte) (time.Duration, string) {
	f, err := strconv.ParseFloat(string(b), 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, "ERR timeout is not a float or out of range"
	case f < 0:
		return 0, "ERR timeout is negative"
	case f > float64(math.MaxInt64/int64(time.Second)):
		return 0, "ERR timeout is out of range"
	}
	return time.Duration(f * float64(time.Second)), ""
}

// poll calls try until it reports done, the timeout passes (0: never) or
// the connection goes; it reports whether try succeeded. Inside EXEC it
// tries once: a blocking command in a transaction does not block, as in
// Redis.
func (c *Conn) poll(timeout time.Duration, try func() (bool, error)) (bool, error) {
	if c.inExec {
		return try()
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	wait := 5 * time.Millisecond
	for first := true; ; first = false {
		done, err := try()
		if done || err != nil {
			return done, err
		}
		if first {
			// Waiting: INFO's blocked_clients counts the client.
			c.srv.stats.blocked.Add(1)
			defer c.srv.stats.blocked.Add(-1)
		}
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return false, nil
			}
			wait = min(wait, left)
		}
		if connGone(c.nc) {
			// The client left: nothing reads the connection while its
			// command runs, so the poll looks.
			return false, errClientGone
		}
		t := time.NewTimer(wait)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return false, c.ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, pollMax)
	}
}

// blockingPop implements BZPOPMIN and BZPOPMAX.
func blockingPop(max bool) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		timeout, msg := parseTimeout(args[len(args)-1])
		if msg != "" {
			c.replyErr(msg)
			return
		}
		keys := args[1 : len(args)-1]
		var key []byte
		var ms []scoredMember
		ok, err := c.poll(timeout, func() (bool, error) {
			var err error
			key, ms, err = c.mpop(keys, max, 1)
			return key != nil, err
		})
		switch {
		case err != nil:
			c.fail(err)
		case !ok:
			c.out.NullArray()
		default:
			c.out.Array(3)
			c.out.Bulk(key)
			c.out.Bulk(ms[0].member)
			c.replyScore(ms[0].score)
		}
	}
}

func cmdBZMPop(c *Conn, args [][]byte) {
	timeout, msg := parseTimeout(args[1])
	if msg != "" {
		c.replyErr(msg)
		return
	}
	keys, max, count, msg := zmpopArgs(args[2:])
	if msg != "" {
		c.replyErr(msg)
		return
	}
	var key []byte
	var ms []scoredMember
	_, err := c.poll(timeout, func() (bool, error) {
		var err error
		key, ms, err = c.mpop(keys, max, count)
		return key != nil, err
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.replyMPop(key, ms)
}
