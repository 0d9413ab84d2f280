package resp

import (
	"github.com/dynakv/dynakv/replication"
)

// String ranges: GETRANGE, SUBSTR, SETRANGE and LCS, and the read and the
// read-modify-write every range and bit command goes through.
//
// A string is the key's newest live version, as GET answers it: a counter
// (INCR) reads as its decimal text, a HyperLogLog as dynakv's encoding of
// its sketch (the newest sibling's, as GET returns it). A write is a plain
// write, as APPEND's: it reads the newest version, builds the whole new
// value and writes a version that replaces everything the coordinator read
// (counter contributions and sibling sketches included, as SET does), keeping
// the newest version's expiry. Bits are not a CRDT here: two writes through
// different coordinators at once become sibling strings, and plain reads
// answer the newest, as for two APPENDs.

const (
	errTooBig      = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errOffsetRange = "ERR offset is out of range"
)

// readString reads key for a string read: its newest live value and
// whether there is one. A collection is WRONGTYPE; on an error it replies
// it and reports ok false.
func (c *Conn) readString(key []byte) (val []byte, exists, ok bool) {
	o, err := c.get(key)
	if err != nil {
		c.fail(err)
		return nil, false, false
	}
	if s := o.Newest(c.nowMs()); s != nil {
		return s.Value, true, true
	}
	return nil, false, true
}

// editString runs a read-modify-write of key's string value. edit gets the
// newest live value (nil and exists false when there is none; it must not
// modify old) and returns the new value, or write false to leave the key as
// it is. It may run more than once, when the coordinator redoes the update
// on a fresher state. The new version keeps the old one's expiry. A
// collection is WRONGTYPE.
func (c *Conn) editString(key []byte, edit func(old []byte, exists bool) (v []byte, write bool, err error)) error {
	now := c.nowMs()
	_, err := c.update(key, func(cur *replication.Object) (*replication.Write, error) {
		var old []byte
		var exists bool
		var expireAt int64
		if s := cur.Newest(now); s != nil {
			old, exists, expireAt = s.Value, true, s.ExpireAt
		}
		v, write, err := edit(old, exists)
		if err != nil || !write {
			return nil, err
		}
		return plainWrite(cur, v, expireAt), nil
	})
	return err
}

// tooBig reports whether a value of n bytes is over the configured value
// limit (proto_max_bulk_len, Redis's proto-max-bulk-len), which every
// string write is checked against before anything is written.
func (c *Conn) tooBig(n int64) bool {
	return n > c.srv.cfg.Limits.MaxBulkLen || n < 0
}

// grown returns a copy of old, zero-padded to at least n bytes.
func grown(old []byte, n int) []byte {
	v := make([]byte, max(n, len(old)))
	copy(v, old)
	return v
}

// cmdGetRange serves GETRANGE and SUBSTR.
func cmdGetRange(c *Conn, args [][]byte) {
	start, ok1 := string2ll(args[2])
	end, ok2 := string2ll(args[3])
	if !ok1 || !ok2 {
		c.replyErr(errNotInteger)
		return
	}
	val, _, ok := c.readString(args[1])
	if !ok {
		return
	}
	from, to := byteRange(start, end, int64(len(val)))
	if from > to {
		c.out.Bulk(nil)
		return
	}
	c.out.Bulk(val[from : to+1])
}

// byteRange turns GETRANGE's start and end (negative: from the end) into
// an inclusive range of a string of n bytes; from > to when it is empty.
func byteRange(start, end, n int64) (from, to int64) {
	if start < 0 && end < 0 && start > end {
		return 0, -1
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if n == 0 {
		return 0, -1
	}
	return start, end
}

func cmdSetRange(c *Conn, args [][]byte) {
	offset, ok := string2ll(args[2])
	if !ok {
		c.replyErr(errNotInteger)
		return
	}
	if offset < 0 {
		c.replyErr(errOffsetRange)
		return
	}
	value := args[3]
	var n int
	err := c.editString(args[1], func(old []byte, exists bool) ([]byte, bool, error) {
		n = len(old)
		if len(value) == 0 {
			return nil, false, nil // nothing to set: the key stays as it is
		}
		if offset > c.srv.cfg.Limits.MaxBulkLen || c.tooBig(offset+int64(len(value))) {
			return nil, false, &clientError{errTooBig}
		}
		v := grown(old, int(offset)+len(value))
		copy(v[offset:], value)
		n = len(v)
		return v, true, nil
	})
	if c.updateOK(err) {
		if len(value) > 0 {
			c.notify(notifyString, "setrange", args[1])
		}
		c.out.Int(int64(n))
	}
}

// lcsOptions are LCS's parsed options.
type lcsOptions struct {
	getLen, getIdx, withMatchLen bool
	minMatchLen                  int64
}

// parseLCSOptions parses LCS's options (after the two keys), as Redis 7.0
// does: a later MINMATCHLEN wins, a negative one is 0.
func parseLCSOptions(args [][]byte) (lcsOptions, string) {
	var o lcsOptions
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "idx"):
			o.getIdx = true
		case eqFold(a, "len"):
			o.getLen = true
		case eqFold(a, "withmatchlen"):
			o.withMatchLen = true
		case eqFold(a, "minmatchlen") && i+1 < len(args):
			n, ok := string2ll(args[i+1])
			if !ok {
				return o, errNotInteger
			}
			o.minMatchLen = max(n, 0)
			i++
		default:
			return o, errSyntax
		}
	}
	if o.getLen && o.getIdx {
		return o, "ERR If you want both the length and indexes, please just use IDX."
	}
	return o, ""
}

func cmdLCS(c *Conn, args [][]byte) {
	var vals [2][]byte
	for i, key := range args[1:3] {
		o, err := c.getAny(key)
		if err != nil {
			c.fail(err)
			return
		}
		s, t := headOf(o, c.nowMs())
		if t != 0 {
			c.replyErr("ERR The specified keys must contain string values")
			return
		}
		if s != nil {
			vals[i] = s.Value
		}
	}
	opt, msg := parseLCSOptions(args[3:])
	if msg != "" {
		c.replyErr(msg)
		return
	}
	a, b := vals[0], vals[1]
	if int64(len(a)) >= 1<<32-2 || int64(len(b)) >= 1<<32-2 {
		c.replyErr("ERR String too long for LCS")
		return
	}
	if cells := (int64(len(a)) + 1) * (int64(len(b)) + 1); cells*4 > c.srv.cfg.Limits.MaxBulkLen {
		c.replyErr("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	res := lcs(a, b, opt)
	switch {
	case opt.getIdx:
		c.out.Map(2)
		c.out.BulkString("matches")
		c.out.Array(len(res.matches))
		for _, m := range res.matches {
			c.out.Array(2 + btoi(opt.withMatchLen))
			c.out.Array(2)
			c.out.Int(int64(m.aStart))
			c.out.Int(int64(m.aEnd))
			c.out.Array(2)
			c.out.Int(int64(m.bStart))
			c.out.Int(int64(m.bEnd))
			if opt.withMatchLen {
				c.out.Int(int64(m.aEnd - m.aStart + 1))
			}
		}
		c.out.BulkString("len")
		c.out.Int(int64(res.length))
	case opt.getLen:
		c.out.Int(int64(res.length))
	default:
		c.out.Bulk(res.common)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lcsMatch is one matching range of LCS IDX: a[aStart..aEnd] equals
// b[bStart..bEnd].
type lcsMatch struct{ aStart, aEnd, bStart, bEnd uint32 }

// lcsResult is what LCS computes: the length of the longest common
// subsequence, the subsequence itself and its matching ranges (the last
// two only when opt asks for them).
type lcsResult struct {
	length  uint32
	common  []byte
	matches []lcsMatch
}

// lcs computes the longest common subsequence of a and b with Redis's
// dynamic programme and walks it back from the ends of both strings the way
// Redis does, so the subsequence and the ranges (last match first) are
// the ones redis-server answers.
func lcs(a, b []byte, opt lcsOptions) lcsResult {
	alen, blen := uint32(len(a)), uint32(len(b))
	w := blen + 1
	tab := make([]uint32, (int(alen)+1)*int(w))
	for i := uint32(1); i <= alen; i++ {
		for j := uint32(1); j <= blen; j++ {
			switch {
			case a[i-1] == b[j-1]:
				tab[i*w+j] = tab[(i-1)*w+j-1] + 1
			default:
				tab[i*w+j] = max(tab[(i-1)*w+j], tab[i*w+j-1])
			}
		}
	}
	res := lcsResult{length: tab[alen*w+blen]}
	if opt.getLen && !opt.getIdx {
		return res
	}
	idx := res.length
	res.common = make([]byte, idx)
	// The range being tracked; aStart == alen means none.
	r := lcsMatch{aStart: alen}
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			res.common[idx-1] = a[i-1]
			switch {
			case r.aStart == alen:
				r = lcsMatch{aStart: i - 1, aEnd: i - 1, bStart: j - 1, bEnd: j - 1}
			case r.aStart == i && r.bStart == j:
				r.aStart--
				r.bStart--
			default:
				emit = true
			}
			if r.aStart == 0 || r.bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if tab[(i-1)*w+j] > tab[i*w+j-1] {
				i--
			} else {
				j--
			}
			if r.aStart != alen {
				emit = true
			}
		}
		if emit {
			if opt.getIdx && (opt.minMatchLen == 0 || int64(r.aEnd-r.aStart+1) >= opt.minMatchLen) {
				res.matches = append(res.matches, r)
			}
			r.aStart = alen
		}
	}
	return res
}
