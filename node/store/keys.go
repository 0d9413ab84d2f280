// Key layout.
//
// A node keeps everything in one flat, bytewise-ordered keyspace (a Store).
// The first byte of every key is its kind:
//
//	'd' | hash.Hi (8 bytes, big-endian) | user key   data (DataKey)
//	'm' | name                                       node metadata (MetaKey)
//	'h' | ...                                        hinted handoff (HintPrefix, reserved)
//	'i' | hash.Hi (8 bytes, big-endian) | ...         score index (IndexPrefix)
//
// Data keys carry the top 64 bits of the user key's ring position
// (ring.HashKey) in big-endian order right after the kind byte, so data keys
// sort by their position in the hash space (ties, which need a 64-bit
// collision, are broken by the user key). A ring partition is the range of
// hashes whose top log2(Q) bits are its number, for any power-of-two Q, so
// every partition's data is one contiguous range scan (PartitionRange), and
// so is every suffix of the hash space (DataRange). The kinds never
// interleave: each is the range [kind, kind+1).

package store

import (
	"encoding/binary"
	"fmt"

	"github.com/dynakv/dynakv/ring"
)

// Key kinds: the first byte of every key in a node's Store.
const (
	// DataPrefix starts data keys: DataPrefix | hash.Hi | user key.
	DataPrefix byte = 'd'
	// MetaPrefix starts node metadata keys: MetaPrefix | name.
	MetaPrefix byte = 'm'
	// HintPrefix is reserved for hinted-handoff records (writes held for an
	// unreachable replica). Their layout after the prefix is defined by the
	// hinted-handoff code; nothing else may use keys starting with it.
	HintPrefix byte = 'h'
	// IndexPrefix starts the keys of the replica's local score index of
	// sorted sets: IndexPrefix | hash.Hi | .... It is derived from the
	// data keys (node/replica/index.go), never replicated, and lives in
	// the same store shard as the data keys at its position, so a data
	// write and its index entries are one atomic batch.
	IndexPrefix byte = 'i'
)

// dataKeyHeader is the length of a data key before the user key.
const DataKeyHeader = 1 + 8

// DataKey returns the storage key of user key key, whose ring position is h
// (h must be ring.HashKey(key)). The result is a new slice; key is not
// retained.
func DataKey(h ring.Hash, key []byte) []byte {
	return AppendDataKey(make([]byte, 0, DataKeyHeader+len(key)), h, key)
}

// AppendDataKey appends the storage key of user key key (see DataKey) to dst
// and returns the extended slice. It does not allocate when dst has room.
func AppendDataKey(dst []byte, h ring.Hash, key []byte) []byte {
	dst = append(dst, DataPrefix)
	dst = binary.BigEndian.AppendUint64(dst, h.Hi)
	return append(dst, key...)
}

// ParseDataKey splits a data key made by DataKey into the top 64 bits of its
// ring position and the user key. userKey aliases k (with its capacity
// clipped, so appending to it never writes into k). ok is false, and the
// other results zero, when k is not a data key.
func ParseDataKey(k []byte) (hashHi uint64, userKey []byte, ok bool) {
	if len(k) < DataKeyHeader || k[0] != DataPrefix {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(k[1:DataKeyHeader]), k[DataKeyHeader:len(k):len(k)], true
}

// DataRange returns the key range [start, end) holding exactly the data keys
// whose hash.Hi is at least fromHash, to the end of the data kind.
func DataRange(fromHash uint64) (start, end []byte) {
	return DataBound(fromHash), []byte{DataPrefix + 1}
}

// PartitionRange returns the key range [start, end) holding exactly the data
// keys of partition p when the hash space is split into q partitions (see
// ring.Hash.Partition). The ranges of partitions 0..q-1 are ordered and
// contiguous: each one's end is the next one's start, and the last one's end
// is the end of the data kind. It panics unless ring.ValidPartitions(q) and
// 0 <= p < q.
func PartitionRange(p, q int) (start, end []byte) {
	if !ring.ValidPartitions(q) || p < 0 || p >= q {
		panic(fmt.Sprintf("store: PartitionRange(%d, %d): need a valid partition count and 0 <= p < q", p, q))
	}
	start = DataBound(ring.PartitionStart(p, q))
	if p == q-1 {
		return start, []byte{DataPrefix + 1}
	}
	return start, DataBound(ring.PartitionStart(p+1, q))
}

// DataBound returns the smallest data key whose hash.Hi is hi.
func DataBound(hi uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, DataKeyHeader), DataPrefix), hi)
}

// MetaKey returns the storage key of the node metadata entry name.
func MetaKey(name string) []byte {
	return append(append(make([]byte, 0, 1+len(name)), MetaPrefix), name...)
}
