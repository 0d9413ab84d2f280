package replication

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// Digest returns a 64-bit fingerprint of key holding state o, for
// anti-entropy's hash trees: equal for Equal states of the same key (clock
// times, which Equal ignores, are left out), different, but for a chance of
// 2^-64, otherwise. An absent state, or an empty one, is 0, so that a key a
// replica lacks adds nothing to the replica's tree. Safe for concurrent use.
func Digest(key []byte, o *Object) uint64 {
	if o == nil || (len(o.Siblings) == 0 && o.Clock.IsZero()) {
		return 0
	}
	d := digesters.Get().(*digester)
	defer digesters.Put(d)
	b := d.buf[:0]
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(o.Clock.entries)))
	for _, e := range o.Clock.entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.Actor))
		b = binary.AppendUvarint(b, e.Counter)
	}
	b = binary.AppendUvarint(b, uint64(len(o.Siblings)))
	for i := range o.Siblings {
		s := &o.Siblings[i]
		b = binary.BigEndian.AppendUint64(b, uint64(s.Dot.Actor))
		b = binary.AppendUvarint(b, s.Dot.Counter)
		b = binary.AppendVarint(b, s.Time)
		b = binary.AppendVarint(b, s.ExpireAt)
		var flags byte
		if s.Tombstone {
			flags |= 1
		}
		if s.Counter {
			flags |= 2
		}
		if s.HLL {
			flags |= 4
		}
		b = append(b, flags, s.Type)
		b = binary.AppendUvarint(b, uint64(len(s.Value)))
		b = append(b, s.Value...)
		b = binary.AppendUvarint(b, uint64(len(s.Observed)))
		for _, c := range s.Observed {
			b = binary.BigEndian.AppendUint64(b, uint64(c.Dot.Actor))
			b = binary.AppendUvarint(b, c.Dot.Counter)
			b = binary.AppendUvarint(b, uint64(len(c.Value)))
			b = append(b, c.Value...)
		}
	}
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 { // keep the grown buffer, unless a huge value grew it
		d.buf = b[:0]
	}
	v := binary.BigEndian.Uint64(sum[:8])
	if v == 0 {
		v = 1 // 0 means absent
	}
	return v
}

type digester struct{ buf []byte }

var digesters = sync.Pool{New: func() any { return &digester{buf: make([]byte, 0, 1024)} }}
