package replication

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"

	"github.com/dynakv/dynakv/replication/codec"
)

// The stored and internode form of an Object:
//
//	version byte (1)
//	uvarint n, then n clock entries sorted by actor:
//	    actor (8 bytes big-endian), uvarint counter (> 0), varint time
//	uvarint m, then m siblings sorted by dot:
//	    uvarint index of the dot's actor among the clock entries,
//	    uvarint counter (> 0, <= that entry's counter),
//	    flags byte (1 tombstone, 2 has expiry, 4 counter contribution,
//	    8 has observed contributions, 16 HyperLogLog sketch, 32 collection
//	    head or, with 1, its delete), [type byte if flag 32], varint time,
//	    [varint expireAt if flag 2], uvarint length, value bytes,
//	    [if flag 8: uvarint k, then k observed contributions sorted by dot,
//	    one per actor: actor (8 bytes), uvarint counter, uvarint length,
//	    value bytes]
//
// A context token is base64url (no padding) of: version byte (1), uvarint n,
// then n entries of actor (8 bytes big-endian) and uvarint counter.
const (
	objectVersion  = 1
	contextVersion = 1

	flagTombstone = 1
	flagExpire    = 2
	flagCounter   = 4
	flagObserved  = 8
	flagHLL       = 16
	flagHead      = 32
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
	dst = codec.AppendUvarint(dst, uint64(len(c.entries)))
	for _, e := range c.entries {
		dst = codec.AppendU64(dst, uint64(e.Actor))
		dst = codec.AppendUvarint(dst, e.Counter)
		dst = codec.AppendVarint(dst, e.Time)
	}
	dst = codec.AppendUvarint(dst, uint64(len(sibs)))
	for i := range sibs {
		s := &sibs[i]
		idx, _ := c.find(s.Dot.Actor)
		dst = codec.AppendUvarint(dst, uint64(idx))
		dst = codec.AppendUvarint(dst, s.Dot.Counter)
		var flags byte
		if s.Tombstone {
			flags |= flagTombstone
		}
		if s.ExpireAt != 0 {
			flags |= flagExpire
		}
		if s.Counter {
			flags |= flagCounter
		}
		if len(s.Observed) > 0 {
			flags |= flagObserved
		}
		if s.HLL {
			flags |= flagHLL
		}
		if s.Type != 0 {
			flags |= flagHead
		}
		dst = append(dst, flags)
		if s.Type != 0 {
			dst = append(dst, s.Type)
		}
		dst = codec.AppendVarint(dst, s.Time)
		if s.ExpireAt != 0 {
			dst = codec.AppendVarint(dst, s.ExpireAt)
		}
		dst = codec.AppendBytes(dst, s.Value)
		if len(s.Observed) > 0 {
			dst = codec.AppendUvarint(dst, uint64(len(s.Observed)))
			for _, c := range s.Observed {
				dst = codec.AppendU64(dst, uint64(c.Dot.Actor))
				dst = codec.AppendUvarint(dst, c.Dot.Counter)
				dst = codec.AppendBytes(dst, c.Value)
			}
		}
	}
	return dst
}

// DecodeObject decodes an object encoded by AppendObject. The siblings'
// values alias buf. It checks every invariant the rest of the package relies
// on (sorted, unique, every sibling's dot inside the clock) and returns an
// error wrapping ErrCorrupt (and codec.ErrMalformed), never panics, and
// never allocates more than buf's length justifies.
func DecodeObject(buf []byte) (*Object, error) {
	d := codec.NewReader(buf, ErrCorrupt)
	if v := d.Byte(); v != objectVersion {
		d.Fail(fmt.Sprintf("version %d", v))
		return nil, d.Err()
	}
	n := d.Count(10) // an entry takes at least 10 bytes
	o := &Object{}
	if n > 0 {
		o.Clock.entries = make([]Entry, 0, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		e := Entry{Actor: ActorID(d.U64()), Counter: d.Uvarint(), Time: d.Varint()}
		if e.Counter == 0 {
			d.Fail("zero counter")
		}
		if i > 0 && e.Actor <= o.Clock.entries[i-1].Actor {
			d.Fail("clock entries out of order")
		}
		o.Clock.entries = append(o.Clock.entries, e)
	}
	m := d.Count(5) // a sibling takes at least 5 bytes
	if m > 0 {
		o.Siblings = make([]Sibling, 0, m)
	}
	for i := 0; i < m && d.Err() == nil; i++ {
		idx := d.Uvarint()
		ctr := d.Uvarint()
		flags := d.Byte()
		if d.Err() != nil {
			break
		}
		if idx >= uint64(len(o.Clock.entries)) {
			d.Fail("sibling actor outside the clock")
			break
		}
		e := o.Clock.entries[idx]
		if ctr == 0 || ctr > e.Counter {
			d.Fail("sibling dot outside the clock")
		}
		if flags&^(flagTombstone|flagExpire|flagCounter|flagObserved|flagHLL|flagHead) != 0 {
			d.Fail("unknown flags")
		}
		if flags&flagHead != 0 && flags&(flagCounter|flagHLL) != 0 {
			d.Fail("a collection head that is a counter or a sketch")
		}
		if flags&flagHLL != 0 && flags&(flagTombstone|flagCounter) != 0 {
			d.Fail("a sketch that is a delete or a counter")
		}
		if flags&flagCounter != 0 && flags&(flagTombstone|flagObserved) != 0 {
			d.Fail("a counter contribution that is a delete or observes")
		}
		s := Sibling{Dot: Dot{Actor: e.Actor, Counter: ctr}, Tombstone: flags&flagTombstone != 0, Counter: flags&flagCounter != 0, HLL: flags&flagHLL != 0}
		if flags&flagHead != 0 {
			if s.Type = d.Byte(); s.Type == 0 {
				d.Fail("zero collection type")
			}
		}
		s.Time = d.Varint()
		if flags&flagExpire != 0 {
			if s.ExpireAt = d.Varint(); s.ExpireAt == 0 {
				d.Fail("zero expiry")
			}
		}
		s.Value = d.Bytes(math.MaxUint64)
		if flags&flagObserved != 0 {
			k := d.Count(10) // a contribution takes at least 10 bytes
			if k == 0 {
				d.Fail("empty observed list")
			}
			for j := 0; j < k && d.Err() == nil; j++ {
				c := Contribution{Dot: Dot{Actor: ActorID(d.U64()), Counter: d.Uvarint()}, Value: d.Bytes(64)}
				if c.Dot.Counter == 0 || (j > 0 && !s.Observed[j-1].Dot.Less(c.Dot)) || (j > 0 && s.Observed[j-1].Dot.Actor == c.Dot.Actor) {
					d.Fail("observed contributions out of order")
				}
				s.Observed = append(s.Observed, c)
			}
		}
		if i > 0 && !o.Siblings[i-1].Dot.Less(s.Dot) {
			d.Fail("siblings out of order")
		}
		o.Siblings = append(o.Siblings, s)
	}
	if err := d.Done(); err != nil {
		return nil, err
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
	buf = codec.AppendUvarint(buf, uint64(len(c.entries)))
	for _, e := range c.entries {
		buf = codec.AppendU64(buf, uint64(e.Actor))
		buf = codec.AppendUvarint(buf, e.Counter)
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// maxContextToken bounds the token length DecodeContext accepts: far more
// than any pruned clock needs.
const maxContextToken = 64 << 10

// DecodeContext parses a token made by EncodeContext. The empty string is the
// empty context. Anything else that does not decode to a well-formed clock
// returns an error wrapping ErrInvalidContext (and, unless the token is not
// base64 or too long, codec.ErrMalformed).
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
	d := codec.NewReader(buf, ErrInvalidContext)
	if v := d.Byte(); v != contextVersion {
		d.Fail(fmt.Sprintf("version %d", v))
		return Clock{}, d.Err()
	}
	n := d.Count(9)
	var c Clock
	if n > 0 {
		c.entries = make([]Entry, 0, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		e := Entry{Actor: ActorID(d.U64()), Counter: d.Uvarint()}
		if e.Counter == 0 {
			d.Fail("zero counter")
		}
		if i > 0 && e.Actor <= c.entries[i-1].Actor {
			d.Fail("entries out of order")
		}
		c.entries = append(c.entries, e)
	}
	if err := d.Done(); err != nil {
		return Clock{}, err
	}
	return c, nil
}
