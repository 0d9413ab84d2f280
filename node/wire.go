package node

// The internode operations: what one node asks another over the peer
// transport (node/peer), and how each request and response is encoded.
// Every decoder here is fuzzed (FuzzDecodePeer): a peer's bytes are
// untrusted input like a client's.
//
// Every response starts with a status byte: statusOK followed by the
// operation's result, or an error status followed by a message.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/replication"
)

// Operation codes of the peer protocol.
const (
	opRead       byte = 1 // key → state (own copy and hints)
	opReadOwn    byte = 2 // key → own copy (for forwarded writes)
	opMerge      byte = 3 // key, state → ok
	opHint       byte = 4 // owner, key, state → ok
	opCoordinate byte = 5 // forwarded write → stored state
	opHandoff    byte = 6 // [key, state]... → ok (hint delivery)
	opReadRange  byte = 7 // from, to, limit → [pos, key, state]..., next, done
	opKeyCount   byte = 8 // → live keys held locally
)

// Response statuses.
const (
	statusOK          byte = 0
	statusError       byte = 1
	statusUnavailable byte = 2
	statusConflict    byte = 3
	statusNotReady    byte = 4 // anti-entropy: the hash trees are being rebuilt
)

// maxWireKey bounds a key in a peer message (Redis's own key limit is
// proto_max_bulk_len; keys this long are refused by the client port first).
const maxWireKey = 512 << 20

// errBadFrame is returned (wrapped) for a peer message that does not
// decode.
var errBadFrame = errors.New("node: malformed peer message")

type wreader struct {
	buf []byte
	err error
}

func (r *wreader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errBadFrame, what)
	}
}

func (r *wreader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 || (n > 1 && r.buf[n-1] == 0) { // overlong encodings are not canonical
		r.fail("bad varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *wreader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.buf) < 8 {
		r.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(r.buf)
	r.buf = r.buf[8:]
	return v
}

func (r *wreader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.buf) < 1 {
		r.fail("truncated")
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

// bytes returns a length-prefixed byte string, aliasing the input.
func (r *wreader) bytes(max uint64) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > max || n > uint64(len(r.buf)) {
		r.fail("bad length")
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

// object decodes a length-prefixed state; length 0 is nil (no state).
func (r *wreader) object() *replication.Object {
	b := r.bytes(uint64(len(r.buf)))
	if r.err != nil || len(b) == 0 {
		return nil
	}
	o, err := replication.DecodeObject(b)
	if err != nil {
		r.fail(err.Error())
		return nil
	}
	return o
}

func (r *wreader) clock() replication.Clock {
	b := r.bytes(1 << 20)
	if r.err != nil {
		return replication.Clock{}
	}
	c, err := replication.DecodeContext(string(b))
	if err != nil {
		r.fail(err.Error())
	}
	return c
}

func (r *wreader) done() error {
	if r.err == nil && len(r.buf) != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendObject(dst []byte, o *replication.Object) []byte {
	if o == nil {
		return append(dst, 0)
	}
	enc := replication.AppendObject(nil, o)
	return appendBytes(dst, enc)
}

func appendClock(dst []byte, c replication.Clock) []byte {
	return appendBytes(dst, []byte(replication.EncodeContext(c)))
}

// keyObjectMsg is the request of opMerge, opHint (with an owner) and the
// response of opRead / opReadOwn (key empty).
type keyObjectMsg struct {
	owner string
	key   []byte
	obj   *replication.Object
}

func appendKeyObject(dst []byte, owner string, key []byte, o *replication.Object) []byte {
	dst = appendBytes(dst, []byte(owner))
	dst = appendBytes(dst, key)
	return appendObject(dst, o)
}

func decodeKeyObject(b []byte) (keyObjectMsg, error) {
	r := wreader{buf: b}
	m := keyObjectMsg{owner: string(r.bytes(membership.MaxIDLen)), key: r.bytes(maxWireKey)}
	m.obj = r.object()
	return m, r.done()
}

// coordinateMsg is a forwarded write (opCoordinate).
type coordinateMsg struct {
	key   []byte
	check bool
	basis replication.Clock
	w     int
	write replication.Write
}

func appendCoordinate(dst []byte, m coordinateMsg) []byte {
	dst = appendBytes(dst, m.key)
	var flags byte
	if m.check {
		flags |= 1
	}
	if m.write.Tombstone {
		flags |= 2
	}
	dst = append(dst, flags)
	dst = appendClock(dst, m.basis)
	dst = binary.AppendUvarint(dst, uint64(m.w))
	dst = appendClock(dst, m.write.Context)
	dst = binary.AppendUvarint(dst, uint64(m.write.ExpireAt))
	return appendBytes(dst, m.write.Value)
}

func decodeCoordinate(b []byte) (coordinateMsg, error) {
	r := wreader{buf: b}
	var m coordinateMsg
	m.key = r.bytes(maxWireKey)
	flags := r.byte()
	m.check, m.write.Tombstone = flags&1 != 0, flags&2 != 0
	if flags&^3 != 0 {
		r.fail("unknown flags")
	}
	m.basis = r.clock()
	w := r.uvarint()
	if w > 1<<16 {
		r.fail("bad quorum")
	}
	m.w = int(w)
	m.write.Context = r.clock()
	exp := r.uvarint()
	if exp > 1<<62 {
		r.fail("bad expiry")
	}
	m.write.ExpireAt = int64(exp)
	m.write.Value = r.bytes(maxWireKey)
	return m, r.done()
}

// appendHandoff encodes a batch of hints for their owner (opHandoff).
func appendHandoff(dst []byte, hs []replica.Hinted) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(hs)))
	for _, h := range hs {
		dst = appendBytes(dst, h.Key)
		dst = appendObject(dst, h.Obj)
	}
	return dst
}

func decodeHandoff(b []byte) ([]keyObjectMsg, error) {
	r := wreader{buf: b}
	n := r.uvarint()
	if n > uint64(len(b)/2) {
		r.fail("bad count")
		return nil, r.err
	}
	out := make([]keyObjectMsg, 0, n)
	for range n {
		m := keyObjectMsg{key: r.bytes(maxWireKey)}
		m.obj = r.object()
		if r.err != nil {
			break
		}
		out = append(out, m)
	}
	return out, r.done()
}

// rangeMsg is the request of opReadRange.
type rangeMsg struct {
	from, to uint64
	limit    int
}

func appendRange(dst []byte, m rangeMsg) []byte {
	dst = binary.BigEndian.AppendUint64(dst, m.from)
	dst = binary.BigEndian.AppendUint64(dst, m.to)
	return binary.AppendUvarint(dst, uint64(m.limit))
}

func decodeRange(b []byte) (rangeMsg, error) {
	r := wreader{buf: b}
	m := rangeMsg{from: r.u64(), to: r.u64()}
	l := r.uvarint()
	if l == 0 || l > 1<<16 {
		r.fail("bad limit")
	}
	m.limit = int(l)
	return m, r.done()
}

func appendRangeResult(dst []byte, keys []replication.KeyState, next uint64, done bool) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, ks := range keys {
		dst = binary.BigEndian.AppendUint64(dst, ks.Pos)
		dst = appendBytes(dst, ks.Key)
		dst = appendObject(dst, ks.Obj)
	}
	dst = binary.BigEndian.AppendUint64(dst, next)
	if done {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func decodeRangeResult(b []byte) (keys []replication.KeyState, next uint64, done bool, err error) {
	r := wreader{buf: b}
	n := r.uvarint()
	if n > uint64(len(b)/10) {
		r.fail("bad count")
		return nil, 0, false, r.err
	}
	keys = make([]replication.KeyState, 0, n)
	for range n {
		ks := replication.KeyState{Pos: r.u64(), Key: r.bytes(maxWireKey)}
		ks.Obj = r.object()
		if r.err != nil {
			break
		}
		keys = append(keys, ks)
	}
	next = r.u64()
	d := r.byte()
	if d > 1 {
		r.fail("bad done flag")
	}
	return keys, next, d == 1, r.done()
}

// response builders and the status check on the caller's side.

func okResponse(payload []byte) []byte { return append([]byte{statusOK}, payload...) }

func errResponse(err error) []byte {
	st := statusError
	switch {
	case errors.Is(err, replication.ErrConflict):
		st = statusConflict
	case errors.Is(err, replication.ErrUnavailable):
		st = statusUnavailable
	case errors.Is(err, replica.ErrTreesNotReady):
		st = statusNotReady
	}
	msg := err.Error()
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	return append([]byte{st}, msg...)
}

// splitResponse returns the payload of an ok response or the error a
// failed one carries, mapped back onto replication's errors.
func splitResponse(resp []byte) ([]byte, error) {
	if len(resp) == 0 {
		return nil, fmt.Errorf("%w: empty response", errBadFrame)
	}
	switch resp[0] {
	case statusOK:
		return resp[1:], nil
	case statusConflict:
		return nil, replication.ErrConflict
	case statusUnavailable:
		return nil, fmt.Errorf("%w: on peer: %s", replication.ErrUnavailable, resp[1:])
	case statusNotReady:
		return nil, replica.ErrTreesNotReady
	case statusError:
		return nil, fmt.Errorf("peer: %s", resp[1:])
	}
	return nil, fmt.Errorf("%w: unknown status %d", errBadFrame, resp[0])
}
