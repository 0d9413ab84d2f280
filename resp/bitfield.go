package resp

import (
	"bytes"
	"math"
)

// BITFIELD and BITFIELD_RO: integers of 1 to 64 bits (unsigned up to 63) at
// any bit offset of a string value, with Redis's overflow rules. The
// operations run in order on one read of the value, and a BITFIELD that
// changes it writes one new version (see editString): two BITFIELDs through
// different coordinators at once become sibling strings, as two SETBITs do.

const errBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

// BITFIELD operations and overflow behaviours.
const (
	bfGet = iota
	bfSet
	bfIncrBy
)

const (
	bfWrap = iota
	bfSat
	bfFail
)

// bitfieldOp is one parsed GET, SET or INCRBY.
type bitfieldOp struct {
	op       int
	overflow int
	signed   bool
	width    int
	offset   uint64
	arg      int64 // SET's value, INCRBY's increment
}

// bitfieldType parses a type such as i16 or u8.
func bitfieldType(a []byte) (signed bool, width int, ok bool) {
	if len(a) == 0 || (a[0] != 'i' && a[0] != 'u') {
		return false, 0, false
	}
	signed = a[0] == 'i'
	n, ok := string2ll(a[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, false
	}
	return signed, int(n), true
}

// parseBitfield parses BITFIELD's operations (the arguments after the key)
// with Redis's checks, in its order: the first error met is the one
// returned. readonly reports that there is no SET or INCRBY; highest is the
// last bit a SET or INCRBY touches.
func parseBitfield(args [][]byte, limit int64) (ops []bitfieldOp, readonly bool, highest uint64, msg string) {
	overflow := bfWrap
	readonly = true
	for i := 0; i < len(args); i++ {
		rest := len(args) - i - 1
		a := args[i]
		var op int
		switch {
		case eqFold(a, "get") && rest >= 2:
			op = bfGet
		case eqFold(a, "set") && rest >= 3:
			op = bfSet
		case eqFold(a, "incrby") && rest >= 3:
			op = bfIncrBy
		case eqFold(a, "overflow") && rest >= 1:
			i++
			switch t := args[i]; {
			case eqFold(t, "wrap"):
				overflow = bfWrap
			case eqFold(t, "sat"):
				overflow = bfSat
			case eqFold(t, "fail"):
				overflow = bfFail
			default:
				return nil, false, 0, "ERR Invalid OVERFLOW type specified"
			}
			continue
		default:
			return nil, false, 0, errSyntax
		}
		signed, width, ok := bitfieldType(args[i+1])
		if !ok {
			return nil, false, 0, errBitfieldType
		}
		off, ok := bitOffset(args[i+2], width, limit)
		if !ok {
			return nil, false, 0, errBitOffset
		}
		o := bitfieldOp{op: op, overflow: overflow, signed: signed, width: width, offset: off}
		if op != bfGet {
			readonly = false
			highest = max(highest, off+uint64(width)-1)
			if o.arg, ok = string2ll(args[i+3]); !ok {
				return nil, false, 0, errNotInteger
			}
			i++
		}
		ops = append(ops, o)
		i += 2
	}
	return ops, readonly, highest, ""
}

func cmdBitfield(c *Conn, args [][]byte)   { bitfield(c, args, false) }
func cmdBitfieldRO(c *Conn, args [][]byte) { bitfield(c, args, true) }

// bitfield serves BITFIELD, and BITFIELD_RO when ro is set.
func bitfield(c *Conn, args [][]byte, ro bool) {
	ops, readonly, highest, msg := parseBitfield(args[2:], c.srv.cfg.Limits.MaxBulkLen)
	if msg != "" {
		c.replyErr(msg)
		return
	}
	if readonly {
		val, _, ok := c.readString(args[1])
		if !ok {
			return
		}
		c.out.Array(len(ops))
		for _, o := range ops {
			c.out.Int(getField(val, o))
		}
		return
	}
	if ro {
		c.replyErr("ERR BITFIELD_RO only supports the GET subcommand")
		return
	}
	need := int64(highest>>3) + 1
	if c.tooBig(need) {
		// Redis lets the last field run up to 8 bytes past its
		// proto-max-bulk-len; dynakv refuses any value over its limit.
		c.replyErr(errTooBig)
		return
	}
	var replies []*int64
	var changed bool
	err := c.editString(args[1], func(old []byte, exists bool) ([]byte, bool, error) {
		v := grown(old, int(need))
		changed = !exists || len(v) != len(old)
		replies = replies[:0]
		for _, o := range ops {
			r, ok := applyField(v, o)
			if !ok {
				replies = append(replies, nil)
				continue
			}
			replies = append(replies, &r)
		}
		if !changed {
			changed = !bytes.Equal(v, old)
		}
		return v, changed, nil
	})
	if !c.updateOK(err) {
		return
	}
	if changed {
		c.notify(notifyString, "setbit", args[1])
	}
	c.out.Array(len(replies))
	for _, r := range replies {
		if r == nil {
			c.out.Null()
		} else {
			c.out.Int(*r)
		}
	}
}

// getField reads the field o names from p (zero past its end), signed or
// not, as a reply value.
func getField(p []byte, o bitfieldOp) int64 {
	u := getUnsigned(p, o.offset, o.width)
	if o.signed {
		return signExtend(u, o.width)
	}
	return int64(u)
}

// applyField runs a GET, SET or INCRBY on v (long enough for every field
// a SET or INCRBY touches) and returns its reply: for SET the old value,
// for INCRBY the new one; false when the overflow is FAIL's (nothing is
// written, the reply is null).
func applyField(v []byte, o bitfieldOp) (int64, bool) {
	if o.op == bfGet {
		return getField(v, o), true
	}
	if o.signed {
		old := signExtend(getUnsigned(v, o.offset, o.width), o.width)
		var nv, ret int64
		if o.op == bfIncrBy {
			w, over := signedOverflow(old, o.arg, o.width, o.overflow)
			nv = old + o.arg
			if over != 0 {
				nv = w
			}
			ret = nv
			if over != 0 && o.overflow == bfFail {
				return 0, false
			}
		} else {
			nv = o.arg
			w, over := signedOverflow(nv, 0, o.width, o.overflow)
			if over != 0 {
				nv = w
			}
			ret = old
			if over != 0 && o.overflow == bfFail {
				return 0, false
			}
		}
		setUnsigned(v, o.offset, o.width, uint64(nv))
		return ret, true
	}
	old := getUnsigned(v, o.offset, o.width)
	var nv, ret uint64
	var over int
	if o.op == bfIncrBy {
		var w uint64
		w, over = unsignedOverflow(old, o.arg, o.width, o.overflow)
		nv = old + uint64(o.arg)
		if over != 0 {
			nv = w
		}
		ret = nv
	} else {
		var w uint64
		nv = uint64(o.arg)
		w, over = unsignedOverflow(nv, 0, o.width, o.overflow)
		if over != 0 {
			nv = w
		}
		ret = old
	}
	if over != 0 && o.overflow == bfFail {
		return 0, false
	}
	setUnsigned(v, o.offset, o.width, nv)
	return int64(ret), true
}

// getUnsigned reads width bits of p from bit offset, the first the most
// significant; bits past the end of p read as 0.
func getUnsigned(p []byte, offset uint64, width int) uint64 {
	var v uint64
	for range width {
		var b uint64
		if i := offset >> 3; i < uint64(len(p)) {
			b = uint64(p[i]>>(7-offset&7)) & 1
		}
		v = v<<1 | b
		offset++
	}
	return v
}

// setUnsigned writes the low width bits of value into p from bit offset.
func setUnsigned(p []byte, offset uint64, width int, value uint64) {
	for j := range width {
		bit := byte(value>>(width-1-j)) & 1
		i, shift := offset>>3, 7-offset&7
		p[i] = p[i]&^(1<<shift) | bit<<shift
		offset++
	}
}

// signExtend reads the low width bits of u as a two's complement integer.
func signExtend(u uint64, width int) int64 {
	if width < 64 && u&(1<<(width-1)) != 0 {
		u |= math.MaxUint64 << width
	}
	return int64(u)
}

// unsignedOverflow reports whether value+incr overflows (1) or underflows
// (-1) an unsigned field of width bits, and the value the overflow
// behaviour makes of it (WRAP: modulo 2^width; SAT: the limit crossed), as
// Redis's checkUnsignedBitfieldOverflow.
func unsignedOverflow(value uint64, incr int64, width, behaviour int) (uint64, int) {
	maxV := uint64(1)<<width - 1
	maxIncr := int64(maxV - value)
	minIncr := -int64(value)
	wrap := func() uint64 { return (value + uint64(incr)) & maxV }
	switch {
	case value > maxV || (incr > 0 && incr > maxIncr):
		if behaviour == bfSat {
			return maxV, 1
		}
		return wrap(), 1
	case incr < 0 && incr < minIncr:
		if behaviour == bfSat {
			return 0, -1
		}
		return wrap(), -1
	}
	return 0, 0
}

// signedOverflow is unsignedOverflow for a signed field of width bits, as
// Redis's checkSignedBitfieldOverflow: WRAP wraps into the field's range,
// SAT saturates at its minimum or maximum.
func signedOverflow(value, incr int64, width, behaviour int) (int64, int) {
	maxV := int64(math.MaxInt64)
	if width < 64 {
		maxV = int64(1)<<(width-1) - 1
	}
	minV := -maxV - 1
	maxIncr := int64(uint64(maxV) - uint64(value))
	minIncr := minV - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if width < 64 {
			mask := uint64(math.MaxUint64) << width
			if c&(1<<(width-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	switch {
	case value > maxV || (width != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if behaviour == bfSat {
			return maxV, 1
		}
		return wrap(), 1
	case value < minV || (width != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if behaviour == bfSat {
			return minV, -1
		}
		return wrap(), -1
	}
	return 0, 0
}
