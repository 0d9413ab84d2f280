package resp

import (
	"bytes"
	"slices"

	"github.com/dynakv/dynakv/replication"
)

// The list reads: LRANGE, LINDEX, LPOS. Each walks from the nearer end of
// what it needs; only a range or a position counted from the other end
// than the walk's needs the length (one more walk).

// parseIndex parses a list index or count argument.
func (c *Conn) parseIndex(b []byte) (int64, bool) {
	n, ok := string2ll(b)
	if !ok {
		c.replyErr(errNotInteger)
	}
	return n, ok
}

// listRange returns the items of list key at indexes start..stop (Redis's
// rules: negative from the tail, clamped to the list), stopping with
// errOutputLimit once they would pass the client's output limit.
func (c *Conn) listRange(key []byte, start, stop int64) ([][]byte, error) {
	var (
		out  [][]byte
		size int
	)
	take := func(v []byte) bool {
		out = append(out, v)
		size += len(v) + 16
		return !c.exceeds(size)
	}
	done := func(err error) ([][]byte, error) {
		if err == nil && c.exceeds(size) {
			err = errOutputLimit
		}
		return out, err
	}
	switch {
	case start >= 0 && stop >= 0:
		if start > stop {
			return nil, nil
		}
		var i int64
		err := c.eachItem(key, false, int(min(stop+1, replication.MaxKeysBatch)), func(it listItem) bool {
			i++
			if i-1 < start {
				return true
			}
			return take(it.value) && i-1 < stop
		})
		return done(err)
	case start < 0 && stop < 0:
		if start > stop {
			return nil, nil
		}
		// From the tail: position r is index -1-r.
		first, last := -stop-1, -start-1
		var r int64
		err := c.eachItem(key, true, int(min(last+1, replication.MaxKeysBatch)), func(it listItem) bool {
			r++
			if r-1 < first {
				return true
			}
			return take(it.value) && r-1 < last
		})
		slices.Reverse(out)
		return done(err)
	case start >= 0: // stop < 0: everything from start, less the tail's -stop-1
		var i int64
		err := c.eachItem(key, false, replication.MaxKeysBatch, func(it listItem) bool {
			i++
			return i-1 < start || take(it.value)
		})
		out = out[:max(0, int64(len(out))+stop+1)]
		return done(err)
	}
	n, err := c.listLen(key)
	if err != nil {
		return nil, err
	}
	start = max(0, n+start)
	if start > stop {
		return nil, nil
	}
	return c.listRange(key, start, stop)
}

func cmdLRange(c *Conn, args [][]byte) {
	start, ok := c.parseIndex(args[2])
	if !ok {
		return
	}
	stop, ok := c.parseIndex(args[3])
	if !ok {
		return
	}
	_, exists, err := c.readCollection(args[1], typeList)
	var vals [][]byte
	if exists && err == nil {
		vals, err = c.listRange(args[1], start, stop)
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Array(len(vals))
	for _, v := range vals {
		c.out.Bulk(v)
	}
}

// itemAt returns the item of list key at index i (negative: from the
// tail), nil when there is none.
func (c *Conn) itemAt(key []byte, i int64) (*listItem, error) {
	tail := i < 0
	skip := i
	if tail {
		skip = -i - 1
	}
	var got *listItem
	err := c.eachItem(key, tail, int(min(skip+1, replication.MaxKeysBatch)), func(it listItem) bool {
		if skip > 0 {
			skip--
			return true
		}
		got = &it
		return false
	})
	return got, err
}

func cmdLIndex(c *Conn, args [][]byte) {
	i, ok := c.parseIndex(args[2])
	if !ok {
		return
	}
	_, exists, err := c.readCollection(args[1], typeList)
	var it *listItem
	if exists && err == nil {
		it, err = c.itemAt(args[1], i)
	}
	switch {
	case err != nil:
		c.fail(err)
	case it == nil:
		c.out.Null()
	default:
		c.out.Bulk(it.value)
	}
}

func cmdLPos(c *Conn, args [][]byte) {
	var (
		rank, count, maxlen int64 = 1, 1, 0
		withCount           bool
	)
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.replyErr(errSyntax)
			return
		}
		n, ok := c.parseIndex(args[i+1])
		if !ok {
			return
		}
		switch {
		case eqFold(args[i], "rank"):
			if n == 0 {
				c.replyErr("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			if n == -1<<63 {
				c.replyErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
				return
			}
			rank = n
		case eqFold(args[i], "count"):
			if n < 0 {
				c.replyErr("ERR COUNT can't be negative")
				return
			}
			count, withCount = n, true
		case eqFold(args[i], "maxlen"):
			if n < 0 {
				c.replyErr("ERR MAXLEN can't be negative")
				return
			}
			maxlen = n
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	_, exists, err := c.readCollection(args[1], typeList)
	var found []int64 // positions from the walk's end
	tail := rank < 0
	if exists && err == nil {
		skip := max(rank, -rank) - 1
		var pos int64
		err = c.eachItem(args[1], tail, replication.MaxKeysBatch, func(it listItem) bool {
			pos++
			if maxlen > 0 && pos > maxlen {
				return false
			}
			if bytes.Equal(it.value, args[2]) {
				if skip > 0 {
					skip--
				} else {
					found = append(found, pos-1)
					if count > 0 && int64(len(found)) >= count {
						return false
					}
				}
			}
			return true
		})
	}
	if err == nil && tail && len(found) > 0 {
		var n int64
		if n, err = c.listLen(args[1]); err == nil {
			for i := range found {
				found[i] = n - 1 - found[i]
			}
		}
	}
	switch {
	case err != nil:
		c.fail(err)
	case !withCount && len(found) == 0:
		c.out.Null()
	case !withCount:
		c.out.Int(found[0])
	default:
		c.out.Array(len(found))
		for _, p := range found {
			c.out.Int(p)
		}
	}
}
