package node

// Anti-entropy messages of the peer protocol: an exchange's questions
// (roots, branches, leaves and keys of the hash trees) and the reads and
// merges of its repair.

import (
	"encoding/binary"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/replication/codec"
)

// appendParts encodes a list of partitions.
func appendParts(dst []byte, parts []int) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(parts)))
	for _, p := range parts {
		dst = binary.AppendUvarint(dst, uint64(p))
	}
	return dst
}

// decodeParts decodes a list of partitions, each below q.
func decodeParts(b []byte, q int) ([]int, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([]int, 0, n)
	for range n {
		p := r.Uvarint()
		if r.Err() == nil && p >= uint64(q) {
			r.Fail("no such partition")
		}
		if r.Err() != nil {
			break
		}
		out = append(out, int(p))
	}
	return out, r.Done()
}

// appendRefs encodes a list of branches or leaves.
func appendRefs(dst []byte, refs []antientropy.Ref) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(refs)))
	for _, f := range refs {
		dst = binary.AppendUvarint(dst, uint64(f.P))
		dst = binary.AppendUvarint(dst, uint64(f.I))
	}
	return dst
}

// decodeRefs decodes a list of branches or leaves: partitions below q,
// indexes below width.
func decodeRefs(b []byte, q, width int) ([]antientropy.Ref, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)/2) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([]antientropy.Ref, 0, n)
	for range n {
		p, i := r.Uvarint(), r.Uvarint()
		if r.Err() == nil && (p >= uint64(q) || i >= uint64(width)) {
			r.Fail("no such branch or leaf")
		}
		if r.Err() != nil {
			break
		}
		out = append(out, antientropy.Ref{P: int(p), I: int(i)})
	}
	return out, r.Done()
}

// appendHashes encodes a list of hashes.
func appendHashes(dst []byte, hs []uint64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(hs)))
	for _, h := range hs {
		dst = binary.BigEndian.AppendUint64(dst, h)
	}
	return dst
}

// readHashes decodes a list of hashes.
func readHashes(r *codec.Reader) []uint64 {
	n := r.Count(8)
	if r.Err() != nil {
		return nil
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.U64()
	}
	return out
}

func decodeHashes(b []byte) ([]uint64, error) {
	r := codec.NewReader(b, errBadFrame)
	hs := readHashes(&r)
	return hs, r.Done()
}

// appendHashLists encodes one list of hashes per branch or partition.
func appendHashLists(dst []byte, ls [][]uint64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		dst = appendHashes(dst, l)
	}
	return dst
}

func decodeHashLists(b []byte) ([][]uint64, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([][]uint64, 0, n)
	for range n {
		hs := readHashes(&r)
		if r.Err() != nil {
			break
		}
		out = append(out, hs)
	}
	return out, r.Done()
}

// appendKeyHashLists encodes the keys and digests of each leaf.
func appendKeyHashLists(dst []byte, ls [][]antientropy.KeyHash) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		dst = binary.AppendUvarint(dst, uint64(len(l)))
		for _, k := range l {
			dst = codec.AppendBytes(dst, k.Key)
			dst = binary.BigEndian.AppendUint64(dst, k.Hash)
		}
	}
	return dst
}

func decodeKeyHashLists(b []byte) ([][]antientropy.KeyHash, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([][]antientropy.KeyHash, 0, n)
	for range n {
		l := readKeyHashes(&r)
		if r.Err() != nil {
			break
		}
		out = append(out, l)
	}
	return out, r.Done()
}

// readKeyHashes reads one list of keys with their digests.
func readKeyHashes(r *codec.Reader) []antientropy.KeyHash {
	m := r.Uvarint()
	if r.Err() == nil && m > uint64(r.Len()/9) {
		r.Fail("bad count")
	}
	if r.Err() != nil {
		return nil
	}
	l := make([]antientropy.KeyHash, 0, m)
	for range m {
		k := antientropy.KeyHash{Key: r.Bytes(maxWireKey)}
		k.Hash = r.U64()
		if r.Err() != nil {
			break
		}
		l = append(l, k)
	}
	return l
}

// appendLeafKeys encodes each leaf's answer to opAEKeys: 0 and its keys
// with their digests, or 1 and its bucket hashes (a big leaf).
func appendLeafKeys(dst []byte, ls []antientropy.LeafKeys) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		if l.Buckets != nil {
			dst = appendHashes(append(dst, 1), l.Buckets)
			continue
		}
		dst = appendKeyHashLists(append(dst, 0), [][]antientropy.KeyHash{l.Keys})
	}
	return dst
}

func decodeLeafKeys(b []byte) ([]antientropy.LeafKeys, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([]antientropy.LeafKeys, 0, n)
	for range n {
		switch r.Byte() {
		case 0:
			m := r.Uvarint()
			if r.Err() == nil && m != 1 {
				r.Fail("bad leaf")
			}
			l := readKeyHashes(&r)
			out = append(out, antientropy.LeafKeys{Keys: l})
		case 1:
			hs := readHashes(&r)
			if r.Err() == nil && len(hs) != antientropy.LeafBuckets {
				r.Fail("bad bucket count")
			}
			out = append(out, antientropy.LeafKeys{Buckets: hs})
		default:
			r.Fail("bad leaf kind")
		}
		if r.Err() != nil {
			break
		}
	}
	return out, r.Done()
}

// appendBucketRefs encodes a list of buckets of big leaves.
func appendBucketRefs(dst []byte, refs []antientropy.BucketRef) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(refs)))
	for _, f := range refs {
		dst = binary.AppendUvarint(dst, uint64(f.P))
		dst = binary.AppendUvarint(dst, uint64(f.I))
		dst = binary.AppendUvarint(dst, uint64(f.B))
	}
	return dst
}

// decodeBucketRefs decodes a list of buckets: partitions below q, leaves
// below width.
func decodeBucketRefs(b []byte, q, width int) ([]antientropy.BucketRef, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)/3) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([]antientropy.BucketRef, 0, n)
	for range n {
		p, i, bk := r.Uvarint(), r.Uvarint(), r.Uvarint()
		if r.Err() == nil && (p >= uint64(q) || i >= uint64(width) || bk >= antientropy.LeafBuckets) {
			r.Fail("no such bucket")
		}
		if r.Err() != nil {
			break
		}
		out = append(out, antientropy.BucketRef{Ref: antientropy.Ref{P: int(p), I: int(i)}, B: int(bk)})
	}
	return out, r.Done()
}

// appendKeys encodes a list of keys (opReadMany).
func appendKeys(dst []byte, keys [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = codec.AppendBytes(dst, k)
	}
	return dst
}

func decodeKeys(b []byte) ([][]byte, error) {
	r := codec.NewReader(b, errBadFrame)
	n := r.Uvarint()
	if n > uint64(len(b)) {
		r.Fail("bad count")
		return nil, r.Err()
	}
	out := make([][]byte, 0, n)
	for range n {
		k := r.Bytes(maxWireKey)
		if r.Err() != nil {
			break
		}
		out = append(out, k)
	}
	return out, r.Done()
}
