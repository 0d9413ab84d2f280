package resp

import (
	"math"
	"math/rand/v2"

	"github.com/dynakv/dynakv/replication"
)

// ZRANDMEMBER and ZSCAN, which walk a sorted set's elements in member-hash
// order (as SRANDMEMBER and SSCAN walk a set's), not its index.

// zscore returns the score an element's newest version holds.
func zscore(s *replication.Sibling) float64 {
	f, _ := replication.ParseScore(s.Value)
	return f
}

// zrandomMember returns a random member of the sorted set key and its
// score (ok false when it has none): evenly among the first smallSet
// members, else the first at or after a random hash.
func (c *Conn) zrandomMember(key []byte) (scoredMember, bool, error) {
	var few []scoredMember
	err := c.eachElement(key, typeZSet, 0, smallSet+1, func(m []byte, _ uint64, s *replication.Sibling) bool {
		few = append(few, scoredMember{member: m, score: zscore(s)})
		return len(few) <= smallSet
	})
	if err != nil || len(few) == 0 {
		return scoredMember{}, false, err
	}
	if len(few) <= smallSet {
		return few[rand.IntN(len(few))], true, nil
	}
	var got *scoredMember
	pick := func(from uint64) error {
		return c.eachElement(key, typeZSet, from, 4, func(m []byte, _ uint64, s *replication.Sibling) bool {
			got = &scoredMember{member: m, score: zscore(s)}
			return false
		})
	}
	if err := pick(rand.Uint64()); err != nil || got != nil {
		return *got, got != nil, err
	}
	if err := pick(0); err != nil || got == nil { // wrap around
		return scoredMember{}, false, err
	}
	return *got, true, nil
}

// zmembers returns every member of the sorted set key with its score, in
// member-hash order (cheaper than the index's order when order does not
// matter); with reply, the read stops once the members would pass the
// client's output buffer limit.
func (c *Conn) zmembers(key []byte, reply bool) ([]scoredMember, error) {
	var out []scoredMember
	size := 0
	err := c.eachElement(key, typeZSet, 0, replication.MaxKeysBatch, func(m []byte, _ uint64, s *replication.Sibling) bool {
		out = append(out, scoredMember{member: m, score: zscore(s)})
		size += len(m) + 48
		return !reply || !c.exceeds(size)
	})
	if err == nil && reply && c.exceeds(size) {
		err = errOutputLimit
	}
	return out, err
}

func cmdZRandMember(c *Conn, args [][]byte) {
	withCount := len(args) >= 3
	var count int64
	withScores := false
	if withCount {
		n, ok := string2ll(args[2])
		if !ok {
			c.replyErr(errNotInteger)
			return
		}
		if n == math.MinInt64 {
			c.replyErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		switch {
		case len(args) > 4 || (len(args) == 4 && !eqFold(args[3], "withscores")):
			c.replyErr(errSyntax)
			return
		case len(args) == 4:
			withScores = true
			if n < -math.MaxInt64/2 || n > math.MaxInt64/2 {
				c.replyErr("ERR value is out of range")
				return
			}
		}
		count = n
	}
	_, exists, err := c.readCollection(args[1], typeZSet)
	if err != nil {
		c.fail(err)
		return
	}
	if !withCount {
		var m scoredMember
		ok := false
		if exists {
			m, ok, err = c.zrandomMember(args[1])
		}
		switch {
		case err != nil:
			c.fail(err)
		case !ok:
			c.out.Null()
		default:
			c.out.Bulk(m.member)
		}
		return
	}
	var ms []scoredMember
	if exists && count != 0 {
		if ms, err = c.zmembers(args[1], false); err != nil {
			c.fail(err)
			return
		}
	}
	if len(ms) == 0 {
		c.out.Array(0)
		return
	}
	var out []scoredMember
	if count < 0 { // with repetitions
		n := -count
		if c.exceeds(int(min(n, math.MaxInt32))) {
			return
		}
		out = make([]scoredMember, n)
		for i := range out {
			out[i] = ms[rand.IntN(len(ms))]
		}
	} else {
		rand.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		out = ms[:min(int64(len(ms)), count)]
	}
	c.replyScored(out, withScores)
}

// cmdZScan is SSCAN for sorted sets: a cursor is the top 53 bits of a
// member hash; each member comes with its score.
func cmdZScan(c *Conn, args [][]byte) {
	c.scanCollection(args, typeZSet, func(s *replication.Sibling) []byte { return formatScore(zscore(s)) })
}

// zsetEncoding is OBJECT ENCODING's answer for the sorted set key: what
// redis-server would use under the same thresholds (listpack while it has
// at most zset-max-listpack-entries members of at most
// zset-max-listpack-value bytes).
func (c *Conn) zsetEncoding(key []byte) (string, error) {
	entries, value := c.encodingLimit("zset-max-listpack-entries"), c.encodingLimit("zset-max-listpack-value")
	n, small := 0, true
	err := c.eachElement(key, typeZSet, 0, min(entries+1, replication.MaxKeysBatch), func(m []byte, _ uint64, _ *replication.Sibling) bool {
		n++
		small = small && len(m) <= value
		return small && n <= entries
	})
	if err != nil || !small || n > entries {
		return "skiplist", err
	}
	return "listpack", nil
}
