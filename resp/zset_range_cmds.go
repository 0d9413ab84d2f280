package resp

import "github.com/dynakv/dynakv/replication"

// The commands over ranges besides ZRANGE's family (zset_range.go):
// ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZRANK, ZREVRANK and ZREMRANGEBY*.

func cmdZRangeStore(c *Conn, args [][]byte) {
	r, msg := parseZRange(args[3:], 0, false, true)
	if msg != "" {
		c.replyErr(msg)
		return
	}
	_, exists, err := c.readCollection(args[2], typeZSet)
	var ms []scoredMember
	if exists && err == nil {
		ms, err = c.rangeMembers(args[2], &r, false)
	}
	if err != nil {
		c.fail(err)
		return
	}
	n, err := c.storeZSet(args[1], ms)
	if c.updateOK(err) {
		c.out.Int(n)
	}
}

// storeZSet replaces whatever dst holds with a sorted set of members
// (deleting it when there are none) and returns its size.
func (c *Conn) storeZSet(dst []byte, ms []scoredMember) (int64, error) {
	if _, err := c.del(dst); err != nil {
		return 0, err
	}
	if len(ms) == 0 {
		return 0, nil
	}
	if _, err := c.collection(dst, typeZSet, true); err != nil {
		return 0, err
	}
	err := parallel(len(ms), func(i int) error {
		_, err := c.rawUpdate(elementKey(typeZSet, dst, ms[i].member), func(cur *replication.Object) (*replication.Write, error) {
			return &replication.Write{Context: cur.Context(), Value: replication.FormatScore(ms[i].score)}, nil
		})
		return err
	})
	return int64(len(ms)), err
}

// countCommand implements ZCOUNT (byScore) and ZLEXCOUNT (byLex).
func countCommand(kind byte) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		r := zrange{kind: kind, count: -1}
		if msg := r.parseBounds(args[2], args[3]); msg != "" {
			c.replyErr(msg)
			return
		}
		_, exists, err := c.readCollection(args[1], typeZSet)
		var n int64
		if exists && err == nil {
			var start, end []byte
			var ok, linear bool
			start, end, ok, linear, err = c.bounds(args[1], &r)
			switch {
			case !ok || err != nil:
			case linear:
				var ms []scoredMember
				ms, err = c.lexWalk(args[1], &r, 0, -1, false)
				n = int64(len(ms))
			default:
				n, err = c.countIndex(args[1], start, end)
			}
		}
		if err != nil {
			c.fail(err)
			return
		}
		c.out.Int(n)
	}
}

var (
	cmdZCount    = countCommand(byScore)
	cmdZLexCount = countCommand(byLex)
)

// rankCommand implements ZRANK and ZREVRANK: the members before the
// member's index position, counted.
func rankCommand(reverse bool) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		_, ok, err := c.readCollection(args[1], typeZSet)
		var f float64
		if ok && err == nil {
			f, ok, err = c.memberScore(args[1], args[2])
		}
		var n int64
		if ok && err == nil {
			pos := replication.SortKey(f, args[2])
			if reverse {
				n, err = c.countIndex(args[1], append(pos, 0), nil)
			} else {
				n, err = c.countIndex(args[1], nil, pos)
			}
		}
		switch {
		case err != nil:
			c.fail(err)
		case !ok:
			c.out.Null()
		default:
			c.out.Int(n)
		}
	}
}

var (
	cmdZRank    = rankCommand(false)
	cmdZRevRank = rankCommand(true)
)

// zremRangeCommand implements ZREMRANGEBYRANK, ZREMRANGEBYSCORE and
// ZREMRANGEBYLEX: the range's members, read, then removed one by one.
func zremRangeCommand(kind byte) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		r := zrange{kind: kind, count: -1}
		if msg := r.parseBounds(args[2], args[3]); msg != "" {
			c.replyErr(msg)
			return
		}
		if _, err := c.collection(args[1], typeZSet, false); err != nil {
			if c.collectionOK(err) {
				c.out.Int(0)
			}
			return
		}
		ms, err := c.rangeMembers(args[1], &r, false)
		if err != nil {
			c.fail(err)
			return
		}
		n, err := c.removeZMembers(args[1], memberNames(ms))
		if c.updateOK(err) {
			c.out.Int(n)
		}
	}
}

var (
	cmdZRemRangeByRank  = zremRangeCommand(byRank)
	cmdZRemRangeByScore = zremRangeCommand(byScore)
	cmdZRemRangeByLex   = zremRangeCommand(byLex)
)

// memberNames returns the members of ms.
func memberNames(ms []scoredMember) [][]byte {
	out := make([][]byte, len(ms))
	for i, m := range ms {
		out[i] = m.member
	}
	return out
}
