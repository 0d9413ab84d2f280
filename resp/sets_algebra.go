package resp

import "slices"

// The set algebra: SINTER, SUNION, SDIFF, their STORE forms and
// SINTERCARD. Each reads its sets one by one (per key, not atomically) and
// a STORE replaces its destination as DEL then SADD would.

// setAlgebra computes the intersection, union or difference of the sets
// keys (a missing key is an empty set).
func (c *Conn) setAlgebra(op byte, keys [][]byte) ([][]byte, error) {
	var result [][]byte
	for i, k := range keys {
		ms, err := c.members(k)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			result = ms
			continue
		}
		in := make(map[string]bool, len(ms))
		for _, m := range ms {
			in[string(m)] = true
		}
		switch op {
		case '&':
			result = slices.DeleteFunc(result, func(m []byte) bool { return !in[string(m)] })
		case '-':
			result = slices.DeleteFunc(result, func(m []byte) bool { return in[string(m)] })
		case '|':
			have := make(map[string]bool, len(result))
			for _, m := range result {
				have[string(m)] = true
			}
			for _, m := range ms {
				if !have[string(m)] {
					result = append(result, m)
					have[string(m)] = true
				}
			}
		}
	}
	return result, nil
}

func algebraCommand(op byte) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		ms, err := c.setAlgebra(op, args[1:])
		if err != nil {
			c.fail(err)
			return
		}
		c.replyMembers(ms)
	}
}

func algebraStoreCommand(op byte, event string) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		ms, err := c.setAlgebra(op, args[2:])
		if err != nil {
			c.fail(err)
			return
		}
		n, existed, err := c.storeSet(args[1], ms)
		if c.updateOK(err) {
			switch {
			case n > 0:
				c.notify(notifySet, event, args[1])
			case existed:
				c.notify(notifyGeneric, "del", args[1])
			}
			c.out.Int(n)
		}
	}
}

var (
	cmdSInter      = algebraCommand('&')
	cmdSUnion      = algebraCommand('|')
	cmdSDiff       = algebraCommand('-')
	cmdSInterStore = algebraStoreCommand('&', "sinterstore")
	cmdSUnionStore = algebraStoreCommand('|', "sunionstore")
	cmdSDiffStore  = algebraStoreCommand('-', "sdiffstore")
)

// storeSet replaces whatever dst holds with a set of members (deleting it
// when there are none) and returns the set's size and whether dst existed.
func (c *Conn) storeSet(dst []byte, members [][]byte) (int64, bool, error) {
	existed, err := c.del(dst)
	if err != nil || len(members) == 0 {
		return 0, existed, err
	}
	// A key replaced is no key created: no "new" event, as in Redis.
	c.noNewEvent = existed
	_, err = c.collection(dst, typeSet, true)
	c.noNewEvent = false
	if err != nil {
		return 0, existed, err
	}
	if _, err := c.addMembers(dst, members); err != nil {
		return 0, existed, err
	}
	return int64(len(members)), existed, nil
}

func cmdSInterCard(c *Conn, args [][]byte) {
	n, ok := string2ll(args[1])
	if !ok || n <= 0 {
		c.replyErr("ERR numkeys should be greater than 0")
		return
	}
	if n > int64(len(args)-2) {
		c.replyErr("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := args[2 : 2+n]
	limit := int64(0)
	for rest := args[2+n:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 || !eqFold(rest[0], "limit") {
			c.replyErr(errSyntax)
			return
		}
		l, ok := string2ll(rest[1])
		if !ok || l < 0 {
			c.replyErr("ERR LIMIT can't be negative")
			return
		}
		limit = l
	}
	ms, err := c.setAlgebra('&', keys)
	if err != nil {
		c.fail(err)
		return
	}
	card := int64(len(ms))
	if limit > 0 {
		card = min(card, limit)
	}
	c.out.Int(card)
}
