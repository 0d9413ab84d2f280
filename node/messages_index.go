package node

// The messages of opReadIndex, a range read of one sorted set's score
// index (replication.IndexQuery and IndexResult).

import (
	"context"
	"encoding/binary"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/replication/codec"
)

// maxIndexLimit bounds the entries one index read may ask for.
const maxIndexLimit = 1 << 16

// appendOptBytes appends b with a presence flag: nil and empty differ.
func appendOptBytes(dst, b []byte) []byte {
	if b == nil {
		return append(dst, 0)
	}
	return codec.AppendBytes(append(dst, 1), b)
}

// readOptBytes reads what appendOptBytes wrote.
func readOptBytes(r *codec.Reader) []byte {
	switch r.Byte() {
	case 0:
		return nil
	case 1:
		if b := r.Bytes(maxWireKey); b != nil {
			return b
		}
		return []byte{}
	}
	r.Fail("bad presence flag")
	return nil
}

func appendIndexQuery(dst []byte, q replication.IndexQuery) []byte {
	dst = binary.BigEndian.AppendUint64(dst, q.Pos)
	dst = codec.AppendBytes(dst, q.Prefix)
	dst = appendOptBytes(dst, q.Start)
	dst = appendOptBytes(dst, q.End)
	if q.Reverse {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(q.Skip))
	return binary.AppendUvarint(dst, uint64(q.Limit))
}

func decodeIndexQuery(b []byte) (replication.IndexQuery, error) {
	r := codec.NewReader(b, errBadFrame)
	q := replication.IndexQuery{Pos: r.U64(), Prefix: r.Bytes(maxWireKey)}
	q.Start = readOptBytes(&r)
	q.End = readOptBytes(&r)
	switch r.Byte() {
	case 0:
	case 1:
		q.Reverse = true
	default:
		r.Fail("bad direction")
	}
	skip := r.Uvarint()
	if skip > 1<<63-1 {
		r.Fail("bad skip")
	}
	q.Skip = int64(skip)
	l := r.Uvarint()
	if l > maxIndexLimit {
		r.Fail("bad limit")
	}
	q.Limit = int(l)
	return q, r.Done()
}

func appendIndexResult(dst []byte, res replication.IndexResult) []byte {
	dst = binary.AppendUvarint(dst, uint64(res.Skipped))
	dst = binary.BigEndian.AppendUint64(dst, res.Digest)
	dst = appendOptBytes(dst, res.Last)
	dst = binary.AppendUvarint(dst, uint64(len(res.Entries)))
	for _, e := range res.Entries {
		dst = codec.AppendBytes(dst, e.Sort)
		dst = codec.AppendBytes(dst, e.Key)
		dst = appendObject(dst, e.Obj)
	}
	if res.More {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func decodeIndexResult(b []byte) (replication.IndexResult, error) {
	r := codec.NewReader(b, errBadFrame)
	var res replication.IndexResult
	skipped := r.Uvarint()
	if skipped > 1<<63-1 {
		r.Fail("bad skip count")
	}
	res.Skipped = int64(skipped)
	res.Digest = r.U64()
	res.Last = readOptBytes(&r)
	n := r.Count(3)
	res.Entries = make([]replication.IndexEntry, 0, n)
	for range n {
		e := replication.IndexEntry{Sort: r.Bytes(maxWireKey), Key: r.Bytes(maxWireKey)}
		e.Obj = readObject(&r)
		if r.Err() != nil {
			break
		}
		res.Entries = append(res.Entries, e)
	}
	switch r.Byte() {
	case 0:
	case 1:
		res.More = true
	default:
		r.Fail("bad more flag")
	}
	if err := r.Done(); err != nil {
		return replication.IndexResult{}, err
	}
	return res, nil
}

func (c *cluster) serveReadIndex(ctx context.Context, req []byte) ([]byte, error) {
	q, err := decodeIndexQuery(req)
	if err != nil {
		return nil, err
	}
	res, err := c.local.ReadIndex(ctx, q)
	if err != nil {
		return nil, err
	}
	return appendIndexResult(nil, res), nil
}

// ReadIndex implements replication.IndexReader for a peer.
func (r *remoteReplica) ReadIndex(ctx context.Context, q replication.IndexQuery) (replication.IndexResult, error) {
	resp, err := r.call(ctx, opReadIndex, appendIndexQuery(nil, q))
	if err != nil {
		return replication.IndexResult{}, err
	}
	return decodeIndexResult(resp)
}
