package resp

import (
	"math"

	"github.com/dynakv/dynakv/replication"
)

// ZADD's writes (ZADD, ZINCRBY and GEOADD run them): one update per
// member, in parallel.

// zaddResult is what one member's ZADD did, set by the last run of its
// update (a forwarded write may run it again on fresh state).
type zaddResult struct {
	added, processed bool
	changes          int64 // occurrences that added or changed the member (CH)
	score            float64
	err              error
}

// zaddMember writes one member's score under the ZADD flags: a plain score
// that replaces what the coordinator read, or, with incr, an increment.
// scores are the member's occurrences in the command, applied in turn as
// Redis applies them (ZADD k NX 1 a 2 a keeps 1; CH counts each change).
func (c *Conn) zaddMember(key, member []byte, scores []float64, fl zaddFlags, res *zaddResult) error {
	o, err := c.rawUpdate(elementKey(typeZSet, key, member), func(cur *replication.Object) (*replication.Write, error) {
		*res = zaddResult{}
		curScore, exists := replication.ScoreOf(cur)
		was := exists
		newScore := curScore
		for _, score := range scores {
			s := score
			switch {
			case exists && fl.nx, !exists && fl.xx:
				continue
			case exists && fl.incr:
				s = newScore + score
				if math.IsNaN(s) {
					res.err = &clientError{errNaNScore}
					return nil, res.err
				}
			}
			if exists && ((fl.lt && s >= newScore) || (fl.gt && s <= newScore)) {
				continue
			}
			if !exists || s != newScore {
				res.changes++
			}
			res.processed, newScore, exists = true, s, true
		}
		if !res.processed {
			return nil, nil
		}
		res.added, res.score = !was, newScore
		if fl.incr && was && !math.IsInf(curScore, 0) && !math.IsInf(scores[0], 0) && !math.IsInf(newScore, 0) {
			// A counter increment: concurrent ones through other nodes
			// are all counted.
			return &replication.Write{Increment: replication.FormatFloat(scores[0])}, nil
		}
		// A score written again all the same (as SADD writes a present
		// member again): a new version, so a concurrent ZREM that has not
		// seen it does not remove the member.
		return &replication.Write{Context: cur.Context(), Value: replication.FormatScore(newScore)}, nil
	})
	if err == nil && res.processed {
		if f, ok := replication.ScoreOf(o); ok {
			res.score = f // the coordinator's merged score
		}
	}
	return err
}

// zadd runs a parsed ZADD (or ZINCRBY) and replies.
func (c *Conn) zadd(key []byte, pairs [][]byte, scores []float64, fl zaddFlags) {
	_, err := c.collection(key, typeZSet, !fl.xx)
	if err != nil {
		if c.collectionOK(err) { // XX on a missing key
			if fl.incr {
				c.out.Null()
			} else {
				c.out.Int(0)
			}
		}
		return
	}
	// A member named more than once gets its scores in turn, in one
	// update (as Redis applies them one after the other).
	index := map[string]int{}
	var members [][]byte
	var each [][]float64
	for j := range scores {
		m := pairs[2*j+1]
		k, ok := index[string(m)]
		if !ok {
			k = len(members)
			index[string(m)] = k
			members, each = append(members, m), append(each, nil)
		}
		each[k] = append(each[k], scores[j])
	}
	results := make([]zaddResult, len(members))
	err = parallel(len(members), func(k int) error {
		return c.zaddMember(key, members[k], each[k], fl, &results[k])
	})
	if !c.updateOK(err) {
		return
	}
	var added, changed int64
	for _, r := range results {
		if r.added {
			added++
		}
		changed += r.changes
	}
	switch {
	case fl.incr && results[0].processed:
		c.replyScore(results[0].score)
	case fl.incr:
		c.out.Null()
	case fl.ch:
		c.out.Int(changed)
	default:
		c.out.Int(added)
	}
}
