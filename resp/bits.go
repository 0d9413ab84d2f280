package resp

import (
	"encoding/binary"
	"math/bits"

	"github.com/dynakv/dynakv/replication"
)

// Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP over a string value,
// read and written as the range commands are (see strings_range.go). Bit 0
// is the most significant bit of the first byte, as in Redis. Offsets and
// ranges are checked with Redis's rules and words, against the configured
// value limit (proto_max_bulk_len) where Redis checks proto-max-bulk-len.

const (
	errBitOffset = "ERR bit offset is not an integer or out of range"
	errBitValue  = "ERR bit is not an integer or out of range"
)

// bitOffset parses a bit offset as Redis's getBitOffsetFromArgument does:
// a non-negative integer whose byte is below the value limit. With width >
// 0 (BITFIELD), "#n" is the n-th field of that width.
func bitOffset(a []byte, width int, limit int64) (uint64, bool) {
	hash := width > 0 && len(a) > 0 && a[0] == '#'
	if hash {
		a = a[1:]
	}
	n, ok := string2ll(a)
	if !ok {
		return 0, false
	}
	if hash {
		n *= int64(width) // wraps as in Redis; a negative result is refused below
	}
	if n < 0 || n>>3 >= limit {
		return 0, false
	}
	return uint64(n), true
}

func cmdSetBit(c *Conn, args [][]byte) {
	off, ok := bitOffset(args[2], 0, c.srv.cfg.Limits.MaxBulkLen)
	if !ok {
		c.replyErr(errBitOffset)
		return
	}
	on, ok := string2ll(args[3])
	if !ok || on&^1 != 0 {
		c.replyErr(errBitValue)
		return
	}
	byteIdx, mask := int(off>>3), byte(1)<<(7-off&7)
	var was, wrote bool
	err := c.editString(args[1], func(old []byte, exists bool) ([]byte, bool, error) {
		was = byteIdx < len(old) && old[byteIdx]&mask != 0
		wrote = !exists || byteIdx >= len(old) || was != (on == 1)
		if !wrote {
			return nil, false, nil // no change: no new version, as Redis leaves the key clean
		}
		v := grown(old, byteIdx+1)
		if on == 1 {
			v[byteIdx] |= mask
		} else {
			v[byteIdx] &^= mask
		}
		return v, true, nil
	})
	if c.updateOK(err) {
		if wrote {
			c.notify(notifyString, "setbit", args[1])
		}
		c.out.Int(int64(btoi(was)))
	}
}

func cmdGetBit(c *Conn, args [][]byte) {
	off, ok := bitOffset(args[2], 0, c.srv.cfg.Limits.MaxBulkLen)
	if !ok {
		c.replyErr(errBitOffset)
		return
	}
	val, _, ok := c.readString(args[1])
	if !ok {
		return
	}
	i := off >> 3
	c.out.Int(int64(btoi(i < uint64(len(val)) && val[i]&(1<<(7-off&7)) != 0)))
}

// bitRange is a BITCOUNT or BITPOS range converted to bytes: start..end
// inclusive, and the bits of the first and last byte outside a BIT range
// (firstMask, lastMask; 0 when none).
type bitRange struct {
	start, end          int64
	firstMask, lastMask byte
}

// clampBitRange converts start and end (negative: from the end) of a
// string of n bytes, counted in bits when isBit, into bytes, as Redis's
// BITCOUNT and BITPOS do.
func clampBitRange(start, end, n int64, isBit bool) bitRange {
	if isBit {
		n <<= 3
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
	r := bitRange{start: start, end: end}
	if isBit && start <= end {
		r.firstMask = ^byte(0xff >> (start & 7))
		r.lastMask = byte(1<<(7-end&7)) - 1
		r.start, r.end = start>>3, end>>3
	}
	return r
}

// parseUnit parses BITCOUNT's and BITPOS's BYTE|BIT argument.
func parseUnit(a []byte) (isBit, ok bool) {
	switch {
	case eqFold(a, "bit"):
		return true, true
	case eqFold(a, "byte"):
		return false, true
	}
	return false, false
}

func cmdBitCount(c *Conn, args [][]byte) {
	val, exists, ok := c.readString(args[1])
	if !ok {
		return
	}
	if !exists {
		c.out.Int(0) // checked before the arguments, as in Redis
		return
	}
	n := int64(len(val))
	r := bitRange{start: 0, end: n - 1}
	switch len(args) {
	case 2:
	case 4, 5:
		start, ok1 := string2ll(args[2])
		if !ok1 {
			c.replyErr(errNotInteger)
			return
		}
		end, ok2 := string2ll(args[3])
		if !ok2 {
			c.replyErr(errNotInteger)
			return
		}
		if start < 0 && end < 0 && start > end {
			c.out.Int(0)
			return
		}
		isBit := false
		if len(args) == 5 {
			if isBit, ok = parseUnit(args[4]); !ok {
				c.replyErr(errSyntax)
				return
			}
		}
		r = clampBitRange(start, end, n, isBit)
	default:
		c.replyErr(errSyntax)
		return
	}
	if r.start > r.end {
		c.out.Int(0)
		return
	}
	count := popcount(val[r.start : r.end+1])
	count -= int64(bits.OnesCount8(val[r.start]&r.firstMask) + bits.OnesCount8(val[r.end]&r.lastMask))
	c.out.Int(count)
}

// popcount counts the set bits of p.
func popcount(p []byte) int64 {
	var n int
	for len(p) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	for _, b := range p {
		n += bits.OnesCount8(b)
	}
	return int64(n)
}

// firstBit returns the position of the first bit of p equal to bit, as
// Redis's redisBitpos: -1 when bit is 1 and p has none set, len(p)*8 when
// bit is 0 and p has none clear (the string is zero-padded on the right).
func firstBit(p []byte, bit int) int64 {
	var skip uint64
	if bit == 0 {
		skip = ^uint64(0)
	}
	pos := int64(0)
	for len(p) >= 8 {
		if w := binary.BigEndian.Uint64(p); w != skip {
			return pos + int64(bits.LeadingZeros64(w^skip))
		}
		p, pos = p[8:], pos+64
	}
	for _, b := range p {
		if b != byte(skip) {
			return pos + int64(bits.LeadingZeros8(b^byte(skip)))
		}
		pos += 8
	}
	if bit == 1 {
		return -1
	}
	return pos
}

func cmdBitPos(c *Conn, args [][]byte) {
	bit, ok := string2ll(args[2])
	if !ok {
		c.replyErr(errNotInteger)
		return
	}
	if bit != 0 && bit != 1 {
		c.replyErr("ERR The bit argument must be 1 or 0.")
		return
	}
	val, exists, ok := c.readString(args[1])
	if !ok {
		return
	}
	if !exists {
		// A missing key is an endless run of zeros.
		c.out.Int(-bit)
		return
	}
	n := int64(len(val))
	r, endGiven := bitRange{start: 0, end: n - 1}, false
	switch len(args) {
	case 3:
	case 4, 5, 6:
		start, ok := string2ll(args[3])
		if !ok {
			c.replyErr(errNotInteger)
			return
		}
		isBit := false
		if len(args) == 6 {
			if isBit, ok = parseUnit(args[5]); !ok {
				c.replyErr(errSyntax)
				return
			}
		}
		end := n - 1
		if len(args) >= 5 {
			if end, ok = string2ll(args[4]); !ok {
				c.replyErr(errNotInteger)
				return
			}
			endGiven = true
		}
		r = clampBitRange(start, end, n, isBit)
	default:
		c.replyErr(errSyntax)
		return
	}
	if r.start > r.end {
		c.out.Int(-1)
		return
	}
	c.out.Int(bitPosIn(val, r, int(bit), endGiven))
}

// bitPosIn is BITPOS over the range r of val, as Redis computes it: the
// edge bytes of a BIT range are masked so that their bits outside the range
// never match; when no clear bit is found and the range's end was given,
// the answer is -1 rather than the first bit past the range.
func bitPosIn(val []byte, r bitRange, bit int, endGiven bool) int64 {
	start, bytes := r.start, r.end-r.start+1
	// mask makes the bits outside the range (set in m) not match.
	mask := func(b, m byte) byte {
		if bit == 1 {
			return b &^ m
		}
		return b | m
	}
	var pos int64
	done := false
	if r.firstMask != 0 {
		t := mask(val[start], r.firstMask)
		if r.lastMask != 0 && bytes == 1 {
			t = mask(t, r.lastMask)
		}
		pos = firstBit([]byte{t}, bit)
		if bytes == 1 || (pos != -1 && pos != 8) {
			done = true
		} else {
			start++
			bytes--
		}
	}
	if !done {
		cur := bytes
		if r.lastMask != 0 {
			cur--
		}
		if cur > 0 {
			pos = firstBit(val[start:start+cur], bit)
			if bytes == cur || (pos != -1 && pos != cur<<3) {
				done = true
			} else {
				start += cur
				bytes -= cur
			}
		}
	}
	if !done {
		pos = firstBit([]byte{mask(val[r.end], r.lastMask)}, bit)
	}
	if endGiven && bit == 0 && pos == bytes<<3 {
		return -1
	}
	if pos != -1 {
		pos += start << 3
	}
	return pos
}

// BITOP operations.
const (
	bitAnd = iota
	bitOr
	bitXor
	bitNot
)

func cmdBitOp(c *Conn, args [][]byte) {
	var op int
	switch a := args[1]; {
	case eqFold(a, "and"):
		op = bitAnd
	case eqFold(a, "or"):
		op = bitOr
	case eqFold(a, "xor"):
		op = bitXor
	case eqFold(a, "not"):
		op = bitNot
	default:
		c.replyErr(errSyntax)
		return
	}
	if op == bitNot && len(args) != 4 {
		c.replyErr("ERR BITOP NOT must be called with a single source key.")
		return
	}
	// The sources are read one by one, each at its own coordinator: the
	// result is not a snapshot of them all, as PFMERGE's is not.
	srcs := make([][]byte, 0, len(args)-3)
	maxLen := 0
	for _, key := range args[3:] {
		v, _, ok := c.readString(key)
		if !ok {
			return
		}
		srcs = append(srcs, v)
		maxLen = max(maxLen, len(v))
	}
	dest := args[2]
	if maxLen == 0 {
		// An empty result deletes the destination, as in Redis.
		existed, err := c.del(dest)
		if err != nil {
			c.fail(err)
			return
		}
		if existed {
			c.notify(notifyGeneric, "del", dest)
		}
		c.out.Int(0)
		return
	}
	if c.tooBig(int64(maxLen)) {
		c.replyErr(errTooBig)
		return
	}
	res := bitOp(op, srcs, maxLen)
	_, err := c.updateAny(dest, func(cur *replication.Object) (*replication.Write, error) {
		return plainWrite(cur, res, 0), nil // as SET: any type, no expiry
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.notify(notifyString, "set", dest)
	c.out.Int(int64(maxLen))
}

// bitOp computes op over srcs, each zero-padded to n bytes.
func bitOp(op int, srcs [][]byte, n int) []byte {
	res := make([]byte, n)
	copy(res, srcs[0])
	if op == bitNot {
		for i := range res {
			res[i] = ^res[i]
		}
		return res
	}
	for _, s := range srcs[1:] {
		switch op {
		case bitAnd:
			for i := range res {
				if i < len(s) {
					res[i] &= s[i]
				} else {
					res[i] = 0
				}
			}
		case bitOr:
			for i, b := range s {
				res[i] |= b
			}
		case bitXor:
			for i, b := range s {
				res[i] ^= b
			}
		}
	}
	return res
}
