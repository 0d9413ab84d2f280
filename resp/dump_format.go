package resp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc64"

	"github.com/dynakv/dynakv/crdt"
)

// The DUMP payload: dynakv's own, not Redis's RDB encoding, since a key
// here is versions and elements, not one value. A payload from
// redis-server is refused as a wrong version, and one from dynakv means
// nothing to redis-server.
//
//	payload  = 0x01 kind body crc
//	body     = versions                  kind of a string ('v')
//	         | element* 0x00             kind of a collection
//	element  = uvarint(len(member)+1) member versions
//	versions = uvarint(n), n >= 1, then n times:
//	           flags uvarint(len(value)) value
//	flags    = bit 0: the version is a HyperLogLog sketch; the other bits 0
//	crc      = CRC-64/ECMA-182 (hash/crc64's ECMA table) of every byte
//	           before it, 8 bytes little-endian
//
// 0x01 is the format's version. A string's versions are its live siblings,
// oldest first (a counter's as its value, see keys_state.go); a collection's
// elements come in member hash order, each with its live versions (a set's
// member has empty values). Expiry is not in the payload: RESTORE's ttl
// argument gives the key's, as in Redis.
//
// The kinds are a registry (dumpKinds): a collection type registers its
// kind byte, the element type its elements are stored under, and what an
// element of it may hold, with registerDumpKind.

const dumpVersion = 1

const (
	errDumpPayload = "ERR DUMP payload version or checksum are wrong"
	errBadFormat   = "ERR Bad data format"
)

// dumpKind is one type's place in the payload format.
type dumpKind struct {
	code byte // the payload's kind byte
	// typ is the collection type whose elements the kind holds (the
	// ring.ElementKey type), 0 for a string, which has none.
	typ byte
	// valid reports whether an element (a collection's) or the key's
	// versions (a string's: member nil) are something the type can hold.
	valid func(member []byte, versions []copyVersion) bool
}

var dumpKinds []dumpKind

// registerDumpKind adds a type to the payload format. Codes and types are
// unique; 0 is no code.
func registerDumpKind(k dumpKind) {
	for _, o := range dumpKinds {
		if o.code == k.code || o.typ == k.typ || k.code == 0 {
			panic("resp: dump kind registered twice")
		}
	}
	dumpKinds = append(dumpKinds, k)
}

func init() {
	registerDumpKind(dumpKind{code: 'v', valid: func(_ []byte, vs []copyVersion) bool {
		for _, v := range vs {
			if v.hll {
				if _, err := crdt.DecodeHLL(v.value); err != nil {
					return false
				}
			}
		}
		return true
	}})
	registerDumpKind(dumpKind{code: typeSet, typ: typeSet, valid: func(_ []byte, vs []copyVersion) bool {
		for _, v := range vs {
			if v.hll || len(v.value) > 0 {
				return false
			}
		}
		return true
	}})
	registerDumpKind(dumpKind{code: typeHash, typ: typeHash, valid: func(_ []byte, vs []copyVersion) bool {
		for _, v := range vs {
			if v.hll {
				return false
			}
		}
		return true
	}})
}

func kindByCode(code byte) (dumpKind, bool) {
	for _, k := range dumpKinds {
		if k.code == code {
			return k, true
		}
	}
	return dumpKind{}, false
}

func kindByType(t byte) (dumpKind, bool) {
	for _, k := range dumpKinds {
		if k.typ == t {
			return k, true
		}
	}
	return dumpKind{}, false
}

var crcTable = crc64.MakeTable(crc64.ECMA)

const flagHLL = 1

// appendVersions appends a versions field to b.
func appendVersions(b []byte, vs []copyVersion) []byte {
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		var flags byte
		if v.hll {
			flags |= flagHLL
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, uint64(len(v.value)))
		b = append(b, v.value...)
	}
	return b
}

// appendElement appends an element to a collection's body.
func appendElement(b []byte, member []byte, vs []copyVersion) []byte {
	b = binary.AppendUvarint(b, uint64(len(member))+1)
	return appendVersions(append(b, member...), vs)
}

// sealPayload appends the checksum to a payload's header and body.
func sealPayload(b []byte) []byte {
	return binary.LittleEndian.AppendUint64(b, crc64.Checksum(b, crcTable))
}

// payloadVisitor receives a payload's content as decodePayload reads it:
// the kind and, for a string, its versions; then a collection's elements,
// a batch at a time. Values are copies the visitor may keep.
type payloadVisitor struct {
	head     func(k dumpKind, versions []copyVersion) error
	elements func(batch []copyElement) error
}

var (
	errPayloadSum    = errors.New(errDumpPayload)
	errPayloadFormat = errors.New(errBadFormat)
)

// checkPayload checks a payload's version and checksum and returns its
// kind byte and body.
func checkPayload(p []byte) (code byte, body []byte, err error) {
	if len(p) < 2+8 || p[0] != dumpVersion {
		return 0, nil, errPayloadSum
	}
	n := len(p) - 8
	if crc64.Checksum(p[:n], crcTable) != binary.LittleEndian.Uint64(p[n:]) {
		return 0, nil, errPayloadSum
	}
	return p[1], p[2:n], nil
}

// decodePayload reads payload p and hands its content to v (whose
// functions may be nil), in batches of at most copyBatch elements and
// about copyBytes. It returns errPayloadSum for a wrong version or
// checksum, errPayloadFormat for anything else it cannot read, or v's
// first error.
func decodePayload(p []byte, v payloadVisitor) error {
	code, body, err := checkPayload(p)
	if err != nil {
		return err
	}
	k, ok := kindByCode(code)
	if !ok {
		return errPayloadFormat
	}
	d := payloadDecoder{b: body}
	if k.typ == 0 {
		vs := d.versions()
		if d.bad || len(d.b) != 0 || !k.valid(nil, vs) {
			return errPayloadFormat
		}
		if v.head != nil {
			return v.head(k, vs)
		}
		return nil
	}
	if v.head != nil {
		if err := v.head(k, nil); err != nil {
			return err
		}
	}
	var (
		batch []copyElement
		size  int
	)
	flush := func() error {
		if len(batch) == 0 || v.elements == nil {
			return nil
		}
		err := v.elements(batch)
		batch, size = nil, 0
		return err
	}
	for {
		n := d.uvarint()
		if d.bad {
			return errPayloadFormat
		}
		if n == 0 {
			break
		}
		member := d.bytes(n - 1)
		vs := d.versions()
		if d.bad || !k.valid(member, vs) {
			return errPayloadFormat
		}
		if v.elements == nil {
			continue
		}
		batch = append(batch, copyElement{member: member, versions: vs})
		size += len(member)
		for _, x := range vs {
			size += len(x.value)
		}
		if len(batch) >= copyBatch || size >= copyBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(d.b) != 0 {
		return errPayloadFormat
	}
	return flush()
}

// payloadDecoder reads the fields of a payload's body; bad is set at the
// first thing it cannot read, after which it reads nothing.
type payloadDecoder struct {
	b   []byte
	bad bool
}

func (d *payloadDecoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	n, w := binary.Uvarint(d.b)
	if w <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[w:]
	return n
}

// bytes returns a copy of the next n bytes.
func (d *payloadDecoder) bytes(n uint64) []byte {
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	out := bytes.Clone(d.b[:n])
	if out == nil {
		out = []byte{}
	}
	d.b = d.b[n:]
	return out
}

// versions reads a versions field: at least one version.
func (d *payloadDecoder) versions() []copyVersion {
	n := d.uvarint()
	// Each version takes two bytes at least: a count the body cannot hold
	// is refused before anything is allocated for it.
	if d.bad || n == 0 || n > uint64(len(d.b))/2 {
		d.bad = true
		return nil
	}
	out := make([]copyVersion, 0, n)
	for range n {
		if len(d.b) == 0 {
			d.bad = true
			return nil
		}
		flags := d.b[0]
		d.b = d.b[1:]
		value := d.bytes(d.uvarint())
		if d.bad || flags&^flagHLL != 0 {
			d.bad = true
			return nil
		}
		out = append(out, copyVersion{value: value, hll: flags&flagHLL != 0})
	}
	return out
}
