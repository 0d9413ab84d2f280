package node

// The internode messages: how each request and response of the service
// (service.go) is encoded, with the codec shared with the object encoding.
// Every decoder here is fuzzed (FuzzDecodePeer): a peer's bytes are
// untrusted input like a client's.

import (
	"encoding/binary"
	"errors"

	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/replication/codec"
)

// maxWireKey bounds a key in a peer message (Redis's own key limit is
// proto_max_bulk_len; keys this long are refused by the client port first).
const maxWireKey = 512 << 20

// errBadFrame is returned (wrapped) for a peer message that does not
// decode.
var errBadFrame = errors.New("node: malformed peer message")

// readObject decodes a length-prefixed state; length 0 is nil (no state).
func readObject(r *codec.Reader) *replication.Object {
	b := r.Bytes(uint64(r.Len()))
	if r.Err() != nil || len(b) == 0 {
		return nil
	}
	o, err := replication.DecodeObject(b)
	if err != nil {
		r.Fail(err.Error())
		return nil
	}
	return o
}

// readClock decodes a length-prefixed causal context.
func readClock(r *codec.Reader) replication.Clock {
	b := r.Bytes(1 << 20)
	if r.Err() != nil {
		return replication.Clock{}
	}
	c, err := replication.DecodeContext(string(b))
	if err != nil {
		r.Fail(err.Error())
	}
	return c
}

func appendObject(dst []byte, o *replication.Object) []byte {
	if o == nil {
		return append(dst, 0)
	}
	enc := replication.AppendObject(nil, o)
	return codec.AppendBytes(dst, enc)
}

func appendClock(dst []byte, c replication.Clock) []byte {
	return codec.AppendBytes(dst, []byte(replication.EncodeContext(c)))
}

// keyObjectMsg is the request of opMerge, opHint (with an owner) and the
// response of opRead / opReadOwn (key empty).
type keyObjectMsg struct {
	owner string
	key   []byte
	obj   *replication.Object
}

func appendKeyObject(dst []byte, owner string, key []byte, o *replication.Object) []byte {
	dst = codec.AppendBytes(dst, []byte(owner))
	dst = codec.AppendBytes(dst, key)
	return appendObject(dst, o)
}

func decodeKeyObject(b []byte) (keyObjectMsg, error) {
	r := codec.NewReader(b, errBadFrame)
	m := keyObjectMsg{owner: string(r.Bytes(membership.MaxIDLen)), key: r.Bytes(maxWireKey)}
	m.obj = readObject(&r)
	return m, r.Done()
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
	dst = codec.AppendBytes(dst, m.key)
	var flags byte
	if m.check {
		flags |= 1
	}
	if m.write.Tombstone {
		flags |= 2
	}
	if m.write.Increment != nil {
		flags |= 4
	}
	if m.write.HLL {
		flags |= 8
	}
	if m.write.Type != 0 {
		flags |= 16
	}
	dst = append(dst, flags)
	dst = appendClock(dst, m.basis)
	dst = binary.AppendUvarint(dst, uint64(m.w))
	dst = appendClock(dst, m.write.Context)
	dst = binary.AppendUvarint(dst, uint64(m.write.ExpireAt))
	dst = codec.AppendBytes(dst, m.write.Value)
	if m.write.Increment != nil {
		dst = codec.AppendBytes(dst, m.write.Increment)
	}
	if m.write.Type != 0 {
		dst = append(dst, m.write.Type)
	}
	return dst
}

func decodeCoordinate(b []byte) (coordinateMsg, error) {
	r := codec.NewReader(b, errBadFrame)
	var m coordinateMsg
	m.key = r.Bytes(maxWireKey)
	flags := r.Byte()
	m.check, m.write.Tombstone, m.write.HLL = flags&1 != 0, flags&2 != 0, flags&8 != 0
	if flags&^31 != 0 {
		r.Fail("unknown flags")
	}
	m.basis = readClock(&r)
	w := r.Uvarint()
	if w > 1<<16 {
		r.Fail("bad quorum")
	}
	m.w = int(w)
	m.write.Context = readClock(&r)
	exp := r.Uvarint()
	if exp > 1<<62 {
		r.Fail("bad expiry")
	}
	m.write.ExpireAt = int64(exp)
	m.write.Value = r.Bytes(maxWireKey)
	if flags&4 != 0 {
		m.write.Increment = r.Bytes(64)
		if !replication.IsDecimal(m.write.Increment) {
			r.Fail("increment is no number")
		}
	}
	// A collection's head or delete (Write.Type): without it the home
	// would store a forwarded set's head as a string's version.
	if flags&16 != 0 {
		if m.write.Type = r.Byte(); m.write.Type == 0 {
			r.Fail("type flag with no type")
		}
	}
	return m, r.Done()
}

// appendKeyObjects encodes a list of keys with their states: hints for
// their owner (opDeliverHints), a replica's answer to opReadMany.
func appendKeyObjects(dst []byte, hs []replica.Hinted) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(hs)))
	for _, h := range hs {
		dst = codec.AppendBytes(dst, h.Key)
		dst = appendObject(dst, h.Obj)
	}
	return dst
}

// decodeKeyObjects decodes what appendKeyObjects encoded.
func decodeKeyObjects(b []byte) ([]keyObjectMsg, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)/2) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([]keyObjectMsg, 0, n)
	for range n {
		m := keyObjectMsg{key: r.Bytes(maxWireKey)}
		m.obj = readObject(&r)
		if r.Err() != nil {
			break
		}
		out = append(out, m)
	}
	return out, r.Done()
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
	r := codec.NewReader(b, errBadFrame)
	m := rangeMsg{from: r.U64(), to: r.U64()}
	l := r.Uvarint()
	if l == 0 || l > 1<<16 {
		r.Fail("bad limit")
	}
	m.limit = int(l)
	return m, r.Done()
}

func appendRangeResult(dst []byte, keys []replication.KeyState, next uint64, done bool) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, ks := range keys {
		dst = binary.BigEndian.AppendUint64(dst, ks.Pos)
		dst = codec.AppendBytes(dst, ks.Key)
		dst = appendObject(dst, ks.Obj)
	}
	dst = binary.BigEndian.AppendUint64(dst, next)
	if done {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func decodeRangeResult(b []byte) (keys []replication.KeyState, next uint64, done bool, err error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)/10) {
		r.Fail("bad count")
		return nil, 0, false, r.Err()
	}
	keys = make([]replication.KeyState, 0, n)
	for range n {
		ks := replication.KeyState{Pos: r.U64(), Key: r.Bytes(maxWireKey)}
		ks.Obj = readObject(&r)
		if r.Err() != nil {
			break
		}
		keys = append(keys, ks)
	}
	next = r.U64()
	d := r.Byte()
	if d > 1 {
		r.Fail("bad done flag")
	}
	return keys, next, d == 1, r.Done()
}

// keysMsg is the request of opReadKeys: the keys at one position within
// [start, end), end nil for no bound; reverse asks for them greatest
// first (a trailing byte, absent from a forward request, so forward
// requests are encoded as before).
type keysMsg struct {
	pos        uint64
	start, end []byte
	limit      int
	reverse    bool
}

func appendKeysMsg(dst []byte, m keysMsg) []byte {
	dst = binary.BigEndian.AppendUint64(dst, m.pos)
	dst = codec.AppendBytes(dst, m.start)
	if m.end == nil {
		dst = append(dst, 0)
	} else {
		dst = codec.AppendBytes(append(dst, 1), m.end)
	}
	dst = binary.AppendUvarint(dst, uint64(m.limit))
	if m.reverse {
		dst = append(dst, 1)
	}
	return dst
}

func decodeKeysMsg(b []byte) (keysMsg, error) {
	r := codec.NewReader(b, errBadFrame)
	m := keysMsg{pos: r.U64(), start: r.Bytes(maxWireKey)}
	switch r.Byte() {
	case 0:
	case 1:
		m.end = r.Bytes(maxWireKey)
		if m.end == nil {
			m.end = []byte{}
		}
	default:
		r.Fail("bad end flag")
	}
	l := r.Uvarint()
	if l == 0 || l > 1<<16 {
		r.Fail("bad limit")
	}
	m.limit = int(l)
	if r.Len() > 0 {
		if r.Byte() != 1 {
			r.Fail("bad reverse flag")
		}
		m.reverse = true
	}
	return m, r.Done()
}

// decodeKey decodes a point read's request: the key alone.
func decodeKey(b []byte) ([]byte, error) {
	r := codec.NewReader(b, errBadFrame)
	key := r.Bytes(maxWireKey)
	return key, r.Done()
}
