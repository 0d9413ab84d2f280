package replication

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// The stored and internode form of an Object:
//
//	version byte (1)
//	uvarint n, then n clock entries sorted by actor:
//	    actor (8 bytes big-endian), uvarint counter (> 0), varint time
//	uvarint m, then m siblings sorted by dot:
//	    uvarint index of the dot's actor among the clock entries,
//	    uvarint counter (> 0, <= that entry's counter),
//	    flags byte (1 tombstone, 2 has expiry), varint time,
//	    [varint expireAt if flag 2], uvarint length, value bytes
//
// A context token is base64url (no padding) of: version byte (1), uvarint n,
// then n entries of actor (8 bytes big-endian) and uvarint counter.
const (
	objectVersion  = 1
	contextVersion = 1

	flagTombstone = 1
	flagExpire    = 2
)

// ErrCorrupt is returned (wrapped) when an encoded object does not decode.
var ErrCorrupt = errors.New("replication: corrupt object encoding")

// ErrInvalidContext is returned (wrapped) when a context token does not
// decode.
var ErrInvalidContext = errors.New("replication: invalid context")

// AppendObject appends the binary encoding of o to dst and returns it. A nil
// object encodes as an empty clock with no siblings.
func AppendObject(dst []byte, o *Object) []byte {
	dst = append(dst, objectVersion)
	var c Clock
	var sibs []Sibling
	if o != nil {
		c, sibs = o.Clock, o.Siblings
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.entries)))
	for _, e := range c.entries {
		dst = binary.BigEndian.AppendUint64(dst, uint64(e.Actor))
		dst = binary.AppendUvarint(dst, e.Counter)
		dst = binary.AppendVarint(dst, e.Time)
	}
	dst = binary.AppendUvarint(dst, uint64(len(sibs)))
	for i := range sibs {
		s := &sibs[i]
		idx, _ := c.find(s.Dot.Actor)
		dst = binary.AppendUvarint(dst, uint64(idx))
		dst = binary.AppendUvarint(dst, s.Dot.Counter)
		var flags byte
		if s.Tombstone {
			flags |= flagTombstone
		}
		if s.ExpireAt != 0 {
			flags |= flagExpire
		}
		dst = append(dst, flags)
		dst = binary.AppendVarint(dst, s.Time)
		if s.ExpireAt != 0 {
			dst = binary.AppendVarint(dst, s.ExpireAt)
		}
		dst = binary.AppendUvarint(dst, uint64(len(s.Value)))
		dst = append(dst, s.Value...)
	}
	return dst
}

// DecodeObject decodes an object encoded by AppendObject. The siblings'
// values alias buf. It checks every invariant the rest of the package relies
// on (sorted, unique, every sibling's dot inside the clock) and returns an
// error wrapping ErrCorrupt, never panics, and never allocates more than
// buf's length justifies.
func DecodeObject(buf []byte) (*Object, error) {
	d := decoder{buf: buf}
	if v := d.byte(); v != objectVersion {
		return nil, fmt.Errorf("%w: version %d", ErrCorrupt, v)
	}
	n := d.count(10) // an entry takes at least 10 bytes
	o := &Object{}
	if n > 0 {
		o.Clock.entries = make([]Entry, 0, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		e := Entry{Actor: ActorID(d.uint64()), Counter: d.uvarint(), Time: d.varint()}
		if e.Counter == 0 {
			d.fail("zero counter")
		}
		if i > 0 && e.Actor <= o.Clock.entries[i-1].Actor {
			d.fail("clock entries out of order")
		}
		o.Clock.entries = append(o.Clock.entries, e)
	}
	m := d.count(5) // a sibling takes at least 5 bytes
	if m > 0 {
		o.Siblings = make([]Sibling, 0, m)
	}
	for i := 0; i < m && d.err == nil; i++ {
		idx := d.uvarint()
		ctr := d.uvarint()
		flags := d.byte()
		if d.err != nil {
			break
		}
		if idx >= uint64(len(o.Clock.entries)) {
			d.fail("sibling actor outside the clock")
			break
		}
		e := o.Clock.entries[idx]
		if ctr == 0 || ctr > e.Counter {
			d.fail("sibling dot outside the clock")
		}
		if flags&^(flagTombstone|flagExpire) != 0 {
			d.fail("unknown flags")
		}
		s := Sibling{Dot: Dot{Actor: e.Actor, Counter: ctr}, Tombstone: flags&flagTombstone != 0}
		s.Time = d.varint()
		if flags&flagExpire != 0 {
			if s.ExpireAt = d.varint(); s.ExpireAt == 0 {
				d.fail("zero expiry")
			}
		}
		s.Value = d.bytes()
		if i > 0 && !o.Siblings[i-1].Dot.Less(s.Dot) {
			d.fail("siblings out of order")
		}
		o.Siblings = append(o.Siblings, s)
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return o, nil
}

// EncodeContext returns the printable token for the causal context c, as
// VGET hands it to clients. The zero clock encodes as the empty string.
func EncodeContext(c Clock) string {
	if c.IsZero() {
		return ""
	}
	buf := make([]byte, 0, 2+len(c.entries)*14)
	buf = append(buf, contextVersion)
	buf = binary.AppendUvarint(buf, uint64(len(c.entries)))
	for _, e := range c.entries {
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.Actor))
		buf = binary.AppendUvarint(buf, e.Counter)
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// maxContextToken bounds the token length DecodeContext accepts: far more
// than any pruned clock needs.
const maxContextToken = 64 << 10

// DecodeContext parses a token made by EncodeContext. The empty string is the
// empty context. Anything else that does not decode to a well-formed clock
// returns an error wrapping ErrInvalidContext.
func DecodeContext(tok string) (Clock, error) {
	if tok == "" {
		return Clock{}, nil
	}
	if len(tok) > maxContextToken {
		return Clock{}, fmt.Errorf("%w: token too long", ErrInvalidContext)
	}
	buf, err := base64.RawURLEncoding.Strict().DecodeString(tok) // strict: one token per clock
	if err != nil {
		return Clock{}, fmt.Errorf("%w: %v", ErrInvalidContext, err)
	}
	d := decoder{buf: buf}
	if v := d.byte(); v != contextVersion {
		return Clock{}, fmt.Errorf("%w: version %d", ErrInvalidContext, v)
	}
	n := d.count(9)
	var c Clock
	if n > 0 {
		c.entries = make([]Entry, 0, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		e := Entry{Actor: ActorID(d.uint64()), Counter: d.uvarint()}
		if e.Counter == 0 {
			d.fail("zero counter")
		}
		if i > 0 && e.Actor <= c.entries[i-1].Actor {
			d.fail("entries out of order")
		}
		c.entries = append(c.entries, e)
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Clock{}, fmt.Errorf("%w: %v", ErrInvalidContext, d.err)
	}
	return c, nil
}

// decoder reads the encodings above, keeping the first error.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, msg)
	}
	d.buf = nil
}

func (d *decoder) byte() byte {
	if len(d.buf) < 1 {
		d.fail("truncated")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) uint64() uint64 {
	if len(d.buf) < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(d.buf)
	d.buf = d.buf[8:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 || (n > 1 && d.buf[n-1] == 0) { // overlong: not canonical
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 || (n > 1 && d.buf[n-1] == 0) { // overlong: not canonical
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// count reads an element count and checks that the remaining bytes can hold
// that many elements of at least minSize bytes each.
func (d *decoder) count(minSize int) int {
	v := d.uvarint()
	if d.err != nil {
		return 0
	}
	if v > uint64(len(d.buf)/minSize) {
		d.fail("count exceeds the data")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.buf)) {
		d.fail("truncated value")
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}
