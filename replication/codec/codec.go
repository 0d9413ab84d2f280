// Package codec is the byte-level codec shared by the object encoding and
// the peer messages: a Reader that takes canonical varints, fixed-width
// big-endian integers and length-prefixed byte strings off a buffer,
// keeping the first error, and the Append functions that write them.
//
// Every input a Reader is given is untrusted: it never panics, never
// accepts a non-canonical encoding (so whatever decodes re-encodes to the
// same bytes), and reports a count or length larger than the bytes left
// instead of allocating for it. The package does no I/O and imports
// nothing beyond the standard library.
package codec

import (
	"encoding/binary"
	"errors"
)

// ErrMalformed is matched (errors.Is) by every error a Reader reports,
// whatever error its caller had it wrap.
var ErrMalformed = errors.New("codec: malformed input")

// malformed is a Reader's error: base (the caller's sentinel) and what
// went wrong.
type malformed struct {
	base error
	what string
}

func (e *malformed) Error() string { return e.base.Error() + ": " + e.what }

func (e *malformed) Unwrap() []error {
	if e.base == ErrMalformed {
		return []error{ErrMalformed}
	}
	return []error{e.base, ErrMalformed}
}

// Reader decodes values from a byte slice front to back. The first failure
// sticks: it empties the reader, every later read returns the zero value,
// and Err and Done return that failure. A Reader is a small value meant to
// live on its caller's stack; it is not safe for concurrent use. The slices
// it returns alias the buffer it was given.
type Reader struct {
	buf  []byte
	base error
	err  error
}

// NewReader returns a reader over buf whose errors wrap base (such as a
// package's own "corrupt encoding" sentinel) and ErrMalformed. A nil base
// is ErrMalformed alone.
func NewReader(buf []byte, base error) Reader {
	if base == nil {
		base = ErrMalformed
	}
	return Reader{buf: buf, base: base}
}

// Err returns the first failure, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns how many bytes are left to read: 0 after a failure.
func (r *Reader) Len() int { return len(r.buf) }

// Fail records a failure described by what, unless one is recorded
// already, and empties the reader. Callers use it for checks of their own
// (an unknown flag, entries out of order) so that one error path serves
// both.
func (r *Reader) Fail(what string) {
	if r.err == nil {
		r.err = &malformed{base: r.base, what: what}
	}
	r.buf = nil
}

// Done fails with "trailing bytes" if any are left, and returns Err: the
// outcome of decoding a whole message.
func (r *Reader) Done() error {
	if r.err == nil && len(r.buf) != 0 {
		r.Fail("trailing bytes")
	}
	return r.err
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.buf) < 1 {
		r.Fail("truncated")
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

// U64 reads an 8-byte big-endian integer.
func (r *Reader) U64() uint64 {
	if len(r.buf) < 8 {
		r.Fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(r.buf)
	r.buf = r.buf[8:]
	return v
}

// Uvarint reads an unsigned varint in its shortest form (binary.Uvarint's
// encoding without the overlong forms it also accepts).
func (r *Reader) Uvarint() uint64 {
	if len(r.buf) > 0 && r.buf[0] < 0x80 {
		v := r.buf[0]
		r.buf = r.buf[1:]
		return uint64(v)
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 || r.buf[n-1] == 0 { // n > 1 here; a last byte of 0 is overlong
		r.Fail("bad varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// Varint reads a signed (zig-zag) varint in its shortest form.
func (r *Reader) Varint() int64 {
	u := r.Uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// Count reads an element count and fails with "count exceeds the data"
// unless the bytes left can hold that many elements of at least minSize
// bytes each (minSize below 1 counts as 1), so that callers may allocate
// for count elements.
func (r *Reader) Count(minSize int) int {
	v := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if v > uint64(len(r.buf)/max(minSize, 1)) {
		r.Fail("count exceeds the data")
		return 0
	}
	return int(v)
}

// Bytes reads a length-prefixed byte string of at most limit bytes. The
// result aliases the buffer, with its capacity cut to its length so that
// appending to it cannot overwrite what follows; callers that keep it
// beyond the buffer's life copy it.
func (r *Reader) Bytes(limit uint64) []byte {
	n := r.Uvarint()
	switch {
	case r.err != nil:
		return nil
	case n > uint64(len(r.buf)):
		r.Fail("truncated")
		return nil
	case n > limit:
		r.Fail("too long")
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

// String reads a length-prefixed string of at most limit bytes, copied.
func (r *Reader) String(limit uint64) string {
	return string(r.Bytes(limit))
}

// AppendUvarint appends v as a Reader.Uvarint reads it.
func AppendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// AppendVarint appends v as a Reader.Varint reads it.
func AppendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// AppendU64 appends v as a Reader.U64 reads it: 8 bytes, big-endian.
func AppendU64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// AppendBytes appends b as a Reader.Bytes reads it: uvarint length, then
// the bytes.
func AppendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// AppendString appends s as a Reader.String reads it.
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}
