package resp

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// Ranges of sorted sets: by rank, by score, by member (lexicographical),
// as ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZRANK and
// ZREMRANGEBY* take them. Each becomes a walk of the score index over a
// range of positions (replication.SortKey: the score's sortable bytes,
// then the member).
//
// A lexicographical range relies on Redis's rule that it is only defined
// when every member has the same score: the range is taken among the
// members that share the lowest member's score, in member byte order,
// which is the index's order within one score (Redis's as well).

// Range kinds.
const (
	byRank  byte = 'r'
	byScore byte = 's'
	byLex   byte = 'l'
)

// zrange is a parsed range.
type zrange struct {
	kind    byte
	reverse bool
	// byRank: start and stop ranks (negative from the end).
	start, stop int64
	// byScore: the bounds and whether they exclude their value.
	min, max     float64
	minEx, maxEx bool
	// byLex: the bounds' members, whether they exclude them, and the open
	// ends ("-", "+").
	lmin, lmax       []byte
	lminEx, lmaxEx   bool
	lminAll, lmaxAll bool
	// LIMIT offset count (count < 0: no limit).
	limited       bool
	offset, count int64
	withScores    bool
}

// parseScoreBound reads a ZRANGEBYSCORE bound: a score, "(" before it to
// exclude it.
func parseScoreBound(b []byte) (f float64, ex, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		ex, b = true, b[1:]
	}
	f, ok = parseScore(b)
	return f, ex, ok
}

// parseLexBound reads a ZRANGEBYLEX bound: "-", "+", or "[" or "(" and a
// member.
func parseLexBound(b []byte) (m []byte, ex, all, ok bool) {
	switch {
	case len(b) == 1 && (b[0] == '-' || b[0] == '+'):
		return nil, false, true, true
	case len(b) > 0 && b[0] == '(':
		return b[1:], true, false, true
	case len(b) > 0 && b[0] == '[':
		return b[1:], false, false, true
	}
	return nil, false, false, false
}

// parseRangeBounds reads a range's two bounds (lo first: for a reverse
// score or lex range the caller passes them swapped back) into r.
func (r *zrange) parseBounds(lo, hi []byte) string {
	var ok1, ok2 bool
	switch r.kind {
	case byRank:
		r.start, ok1 = string2ll(lo)
		r.stop, ok2 = string2ll(hi)
		if !ok1 || !ok2 {
			return errNotInteger
		}
	case byScore:
		r.min, r.minEx, ok1 = parseScoreBound(lo)
		r.max, r.maxEx, ok2 = parseScoreBound(hi)
		if !ok1 || !ok2 {
			return errMinMaxFloat
		}
	case byLex:
		var okMin, okMax bool
		r.lmin, r.lminEx, r.lminAll, okMin = parseLexBound(lo)
		r.lmax, r.lmaxEx, r.lmaxAll, okMax = parseLexBound(hi)
		// "+" as a lower bound and "-" as an upper one are empty ranges.
		if !okMin || !okMax {
			return errLexRange
		}
		if r.lminAll && lo[0] == '+' || r.lmaxAll && hi[0] == '-' {
			r.lmin, r.lmax, r.lminAll, r.lmaxAll, r.lminEx = []byte{1}, []byte{0}, false, false, false
		}
	}
	return ""
}

// parseZRange parses ZRANGE's arguments after the key (min, max, options),
// as Redis's zrangeGenericCommand: kind and reverse preset by the older
// commands, the options after. store forbids WITHSCORES.
func parseZRange(args [][]byte, kind byte, reverse, store bool) (zrange, string) {
	r := zrange{count: -1}
	autoKind, autoDir := kind == 0, !reverse && kind == 0
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !store && eqFold(a, "withscores"):
			r.withScores = true
		case eqFold(a, "limit") && left >= 2:
			off, ok1 := string2ll(args[j+1])
			cnt, ok2 := string2ll(args[j+2])
			if !ok1 || !ok2 {
				return r, errNotInteger
			}
			r.limited, r.offset, r.count = true, off, cnt
			j += 2
		case autoDir && eqFold(a, "rev"):
			reverse, autoDir = true, false
		case autoKind && eqFold(a, "bylex"):
			kind, autoKind = byLex, false
		case autoKind && eqFold(a, "byscore"):
			kind, autoKind = byScore, false
		default:
			return r, errSyntax
		}
	}
	if kind == 0 {
		kind = byRank
	}
	r.kind, r.reverse = kind, reverse
	switch {
	case r.limited && kind == byRank:
		return r, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	case r.withScores && kind == byLex:
		return r, "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	}
	lo, hi := args[0], args[1]
	if reverse && kind != byRank {
		lo, hi = hi, lo // given as max, min
	}
	return r, r.parseBounds(lo, hi)
}

// scoreBounds returns the index positions [start, end) of a score range.
func (r *zrange) scoreBounds() (start, end []byte) {
	lo := binary.BigEndian.AppendUint64(nil, replication.SortableScore(r.min))
	hi := binary.BigEndian.AppendUint64(nil, replication.SortableScore(r.max))
	start, end = lo, ring.PrefixEnd(hi)
	if r.minEx {
		start = ring.PrefixEnd(lo)
	}
	if r.maxEx {
		end = hi
	}
	if start == nil { // past the largest score: empty
		start = []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	}
	return start, end
}

// lexBounds returns the index positions [start, end) of a lex range among
// the members of score s.
func (r *zrange) lexBounds(s float64) (start, end []byte) {
	base := binary.BigEndian.AppendUint64(nil, replication.SortableScore(s))
	switch {
	case r.lminAll:
		start = base
	case r.lminEx:
		start = append(append(slices.Clone(base), r.lmin...), 0)
	default:
		start = append(slices.Clone(base), r.lmin...)
	}
	switch {
	case r.lmaxAll:
		end = ring.PrefixEnd(base)
	case r.lmaxEx:
		end = append(slices.Clone(base), r.lmax...)
	default:
		end = append(append(slices.Clone(base), r.lmax...), 0)
	}
	return start, end
}

// emptyScores reports whether a score range can hold nothing.
func (r *zrange) emptyScores() bool {
	return r.min > r.max || (r.min == r.max && (r.minEx || r.maxEx))
}

// bounds returns the index positions of a score or lex range of the
// sorted set key; ok is false when the range is empty. A lex range over a
// set whose members do not all share one score has no positions (linear
// is set): it is walked from an end (lexWalk).
func (c *Conn) bounds(key []byte, r *zrange) (start, end []byte, ok, linear bool, err error) {
	if r.kind == byScore {
		if r.emptyScores() {
			return nil, nil, false, false, nil
		}
		start, end = r.scoreBounds()
		return start, end, true, false, nil
	}
	var lo, hi *scoredMember
	for _, rev := range []bool{false, true} {
		err = c.walkIndex(key, nil, nil, rev, 0, 1, func(m scoredMember) bool {
			if rev {
				hi = &m
			} else {
				lo = &m
			}
			return false
		})
		if err != nil || lo == nil {
			return nil, nil, false, false, err
		}
	}
	if hi == nil || replication.SortableScore(lo.score) != replication.SortableScore(hi.score) {
		return nil, nil, true, true, nil
	}
	start, end = r.lexBounds(lo.score)
	return start, end, true, false, nil
}

// lexAbove reports whether member m lies above the lex range's lower bound
// (at or above it when inclusive); lexBelow whether it lies below its
// upper bound.
func (r *zrange) lexAbove(m []byte) bool {
	if r.lminAll {
		return true
	}
	c := bytes.Compare(m, r.lmin)
	return c > 0 || (c == 0 && !r.lminEx)
}

func (r *zrange) lexBelow(m []byte) bool {
	if r.lmaxAll {
		return true
	}
	c := bytes.Compare(m, r.lmax)
	return c < 0 || (c == 0 && !r.lmaxEx)
}

// lexWalk returns the members of a lex range of the sorted set key whose
// members do not all share a score, as Redis finds them: walking from the
// lowest member (the highest in reverse) in score order, the first member
// within the bound it starts from begins the range, which ends at the
// first member past the other bound. (Redis defines lex ranges only for
// equal scores; this is what it answers otherwise.) It costs a walk of the
// members up to the range's end.
func (c *Conn) lexWalk(key []byte, r *zrange, skip, take int64, reply bool) ([]scoredMember, error) {
	var out []scoredMember
	started := false
	size := 0
	err := c.walkIndex(key, nil, nil, r.reverse, 0, replication.MaxKeysBatch, func(m scoredMember) bool {
		from, to := r.lexAbove, r.lexBelow
		if r.reverse {
			from, to = r.lexBelow, r.lexAbove
		}
		if !started {
			if !from(m.member) {
				return true
			}
			started = true
		}
		if !to(m.member) {
			return false
		}
		if skip > 0 {
			skip--
			return true
		}
		out = append(out, m)
		size += len(m.member) + 48
		return (take < 0 || int64(len(out)) < take) && (!reply || !c.exceeds(size))
	})
	if err == nil && reply && c.exceeds(size) {
		err = errOutputLimit
	}
	return out, err
}

// collect returns up to take members (take < 0: all) of the sorted set key
// in [start, end), in the given direction, after skip. With reply, they
// are a reply's, and the walk stops (errOutputLimit, the client closed)
// once they would pass the client's output buffer limit.
func (c *Conn) collect(key, start, end []byte, reverse bool, skip, take int64, reply bool) ([]scoredMember, error) {
	if take == 0 {
		return nil, nil
	}
	batch := replication.MaxKeysBatch
	if take > 0 && take < int64(batch) {
		batch = int(take)
	}
	var out []scoredMember
	size := 0
	err := c.walkIndex(key, start, end, reverse, skip, batch, func(m scoredMember) bool {
		out = append(out, m)
		size += len(m.member) + 48
		return (take < 0 || int64(len(out)) < take) && (!reply || !c.exceeds(size))
	})
	if err == nil && reply && c.exceeds(size) {
		err = errOutputLimit
	}
	return out, err
}

// spanLen returns stop-start+1 without overflow (start <= stop).
func spanLen(start, stop int64) int64 {
	if n := stop - start; n < math.MaxInt64 && n >= 0 {
		return n + 1
	}
	return math.MaxInt64
}

// rangeMembers returns the members of range r of the sorted set key, which
// exists.
func (c *Conn) rangeMembers(key []byte, r *zrange, reply bool) ([]scoredMember, error) {
	if r.kind != byRank {
		if r.limited && (r.offset < 0 || r.count == 0) {
			return nil, nil
		}
		start, end, ok, linear, err := c.bounds(key, r)
		switch {
		case !ok || err != nil:
			return nil, err
		case linear:
			return c.lexWalk(key, r, max(r.offset, 0), r.count, reply)
		}
		return c.collect(key, start, end, r.reverse, max(r.offset, 0), r.count, reply)
	}
	start, stop := r.start, r.stop
	switch {
	case start >= 0 && stop >= 0:
		if start > stop {
			return nil, nil
		}
		return c.collect(key, nil, nil, r.reverse, start, spanLen(start, stop), reply)
	case start < 0 && stop < 0:
		// Counted from the other end: read from there and turn around.
		if start > stop {
			return nil, nil
		}
		ms, err := c.collect(key, nil, nil, !r.reverse, ^stop, spanLen(start, stop), reply)
		slices.Reverse(ms)
		return ms, err
	}
	n, err := c.countIndex(key, nil, nil)
	if err != nil {
		return nil, err
	}
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return nil, nil
	}
	stop = min(stop, n-1)
	return c.collect(key, nil, nil, r.reverse, start, spanLen(start, stop), reply)
}

// zrangeCommand implements ZRANGE and its older forms: kind and reverse
// preset (0 and false for ZRANGE, which takes them as options).
func zrangeCommand(kind byte, reverse bool) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		r, msg := parseZRange(args[2:], kind, reverse, false)
		if msg != "" {
			c.replyErr(msg)
			return
		}
		_, exists, err := c.readCollection(args[1], typeZSet)
		var ms []scoredMember
		if exists && err == nil {
			ms, err = c.rangeMembers(args[1], &r, true)
		}
		if err != nil {
			c.fail(err)
			return
		}
		c.replyScored(ms, r.withScores)
	}
}

var (
	cmdZRange           = zrangeCommand(0, false)
	cmdZRevRange        = zrangeCommand(byRank, true)
	cmdZRangeByScore    = zrangeCommand(byScore, false)
	cmdZRevRangeByScore = zrangeCommand(byScore, true)
	cmdZRangeByLex      = zrangeCommand(byLex, false)
	cmdZRevRangeByLex   = zrangeCommand(byLex, true)
)
