package resp

import (
	"strconv"

	"github.com/dynakv/dynakv/replication"
)

// The reads shared by the collection types: the type check of a read and
// SSCAN/HSCAN.

// readCollection checks, for a read, that key holds a collection of type t
// or nothing (WRONGTYPE otherwise), and reports whether it exists.
func (c *Conn) readCollection(key []byte, t byte) (*replication.Sibling, bool, error) {
	if c.tx != nil {
		return nil, false, errCollectionInTx(t)
	}
	o, err := c.getAny(key)
	if err != nil {
		return nil, false, err
	}
	now := c.nowMs()
	s, ht := headOf(o, now)
	switch {
	case s != nil && ht == t:
		return s, true, nil
	case s != nil && ht == 0:
		return nil, false, &clientError{errWrongType}
	case s != nil: // another collection's head: that type if it has elements
		ok, err := c.hasElements(key, ht)
		if ok {
			return nil, false, &clientError{errWrongType}
		}
		return nil, false, err
	case mayHaveOrphans(o, now):
		ot, err := c.orphanType(key)
		if ot != 0 && ot != t {
			return nil, false, &clientError{errWrongType}
		}
		return nil, ot == t, err
	}
	return nil, false, nil
}

func cmdSScan(c *Conn, args [][]byte) {
	c.scanCollection(args, typeSet, nil)
}

// scanCollection implements SSCAN, HSCAN and ZSCAN (value, when set, gives
// each member's companion: a field's value, a score): a cursor is the top 53 bits of
// a member hash, as SCAN's is of a ring position, so a page ends with every
// member of its last bucket and the next page starts after it.
func (c *Conn) scanCollection(args [][]byte, t byte, value func(s *replication.Sibling) []byte) {
	// Redis's order: the cursor, then the key (a missing one answers an
	// empty page before the options are looked at), then the options.
	cursor, err := strconv.ParseUint(string(args[2]), 10, 64)
	if err != nil {
		c.replyErr(errInvalidCurs)
		return
	}
	_, exists, err := c.readCollection(args[1], t)
	if err != nil {
		c.fail(err)
		return
	}
	if !exists {
		c.out.Array(2)
		c.out.BulkString("0")
		c.out.Array(0)
		return
	}
	count, pattern, _, msg := scanOptions(args[3:], false)
	if msg != "" {
		c.replyErr(msg)
		return
	}
	var (
		out        [][]byte
		live       int
		full       bool
		last, next uint64
	)
	if cursor <= maxCursor {
		err = c.eachElement(args[1], t, cursor<<cursorShift, min(count+1, replication.MaxKeysBatch), func(m []byte, h uint64, s *replication.Sibling) bool {
			bucket := h >> cursorShift
			if full && bucket != last {
				next = bucket
				return false
			}
			if pattern == nil || globMatch(pattern, m, false) {
				out = append(out, m)
				if value != nil {
					out = append(out, value(s))
				}
			}
			live++
			if !full && live >= count {
				full, last = true, bucket
			}
			return true
		})
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Array(2)
	c.out.BulkString(strconv.FormatUint(next, 10))
	c.out.Array(len(out))
	for _, b := range out {
		c.out.Bulk(b)
	}
}
