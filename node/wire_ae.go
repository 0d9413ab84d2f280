package node

// Anti-entropy messages of the peer protocol: an exchange's questions
// (roots, branches, leaves and keys of the hash trees) and the reads and
// merges of its repair.

import (
	"encoding/binary"

	"github.com/dynakv/dynakv/antientropy"
)

// Anti-entropy operation codes, after those of wire.go.
const (
	opAERoots    byte = 9  // [partition]... → [root]...
	opAEBranches byte = 10 // [partition]... → [[branch hash]...]...
	opAELeaves   byte = 11 // [partition, branch]... → [[leaf hash]...]...
	opAEKeys     byte = 12 // [partition, leaf]... → [[key, digest]...]...
	opReadMany   byte = 13 // [key]... → [key, own state]...
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
	r := wreader{buf: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		r.fail("bad count")
		return nil, r.err
	}
	out := make([]int, 0, n)
	for range n {
		p := r.uvarint()
		if r.err == nil && p >= uint64(q) {
			r.fail("no such partition")
		}
		if r.err != nil {
			break
		}
		out = append(out, int(p))
	}
	return out, r.done()
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
	r := wreader{buf: b}
	n := r.uvarint()
	if n > uint64(len(b)/2) {
		r.fail("bad count")
		return nil, r.err
	}
	out := make([]antientropy.Ref, 0, n)
	for range n {
		p, i := r.uvarint(), r.uvarint()
		if r.err == nil && (p >= uint64(q) || i >= uint64(width)) {
			r.fail("no such branch or leaf")
		}
		if r.err != nil {
			break
		}
		out = append(out, antientropy.Ref{P: int(p), I: int(i)})
	}
	return out, r.done()
}

// appendHashes encodes a list of hashes.
func appendHashes(dst []byte, hs []uint64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(hs)))
	for _, h := range hs {
		dst = binary.BigEndian.AppendUint64(dst, h)
	}
	return dst
}

func (r *wreader) hashes() []uint64 {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.buf)/8) {
		r.fail("bad count")
		return nil
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.u64()
	}
	return out
}

func decodeHashes(b []byte) ([]uint64, error) {
	r := wreader{buf: b}
	hs := r.hashes()
	return hs, r.done()
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
	r := wreader{buf: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		r.fail("bad count")
		return nil, r.err
	}
	out := make([][]uint64, 0, n)
	for range n {
		hs := r.hashes()
		if r.err != nil {
			break
		}
		out = append(out, hs)
	}
	return out, r.done()
}

// appendKeyHashLists encodes the keys and digests of each leaf.
func appendKeyHashLists(dst []byte, ls [][]antientropy.KeyHash) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		dst = binary.AppendUvarint(dst, uint64(len(l)))
		for _, k := range l {
			dst = appendBytes(dst, k.Key)
			dst = binary.BigEndian.AppendUint64(dst, k.Hash)
		}
	}
	return dst
}

func decodeKeyHashLists(b []byte) ([][]antientropy.KeyHash, error) {
	r := wreader{buf: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		r.fail("bad count")
		return nil, r.err
	}
	out := make([][]antientropy.KeyHash, 0, n)
	for range n {
		m := r.uvarint()
		if r.err == nil && m > uint64(len(r.buf)/9) {
			r.fail("bad count")
		}
		if r.err != nil {
			break
		}
		l := make([]antientropy.KeyHash, 0, m)
		for range m {
			k := antientropy.KeyHash{Key: r.bytes(maxWireKey)}
			k.Hash = r.u64()
			if r.err != nil {
				break
			}
			l = append(l, k)
		}
		out = append(out, l)
	}
	return out, r.done()
}

// appendKeys encodes a list of keys (opReadMany).
func appendKeys(dst []byte, keys [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = appendBytes(dst, k)
	}
	return dst
}

func decodeKeys(b []byte) ([][]byte, error) {
	r := wreader{buf: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		r.fail("bad count")
		return nil, r.err
	}
	out := make([][]byte, 0, n)
	for range n {
		k := r.bytes(maxWireKey)
		if r.err != nil {
			break
		}
		out = append(out, k)
	}
	return out, r.done()
}
