package ring

// This file defines the key space: keys hash to 128-bit positions, and the
// space splits into Q equal partitions (the Dynamo paper's strategy 3).

import "math/bits"

// Hash is a key's position in the 128-bit hash space, as the big-endian
// halves of the key's MD5 digest (the hash the Dynamo paper uses).
type Hash struct {
	Hi, Lo uint64
}

// HashKey returns the position of internal key key in the hash space (see
// keyspace.go): the MD5 digest of the user key it stands for, or of its
// collection's user key for an element key. It is safe for concurrent use
// and does not retain key.
func HashKey(key []byte) Hash {
	if h, ok := routeHash(key); ok {
		return h
	}
	return md5Hash(key)
}

// Partition returns the partition of h when the space is split into q equal
// partitions; q must be a power of two (see ValidPartitions). Partition p
// covers the hashes whose top log2(q) bits equal p, so the partitions are
// contiguous ranges ordered by p.
func (h Hash) Partition(q int) int {
	if q <= 1 {
		return 0
	}
	return int(h.Hi >> (64 - bits.TrailingZeros64(uint64(q))))
}

// PartitionStart returns the first 64-bit hash prefix (Hash.Hi) of partition
// p out of q. The partition ends where partition p+1 starts, or at the top of
// the space for the last one.
func PartitionStart(p, q int) uint64 {
	if q <= 1 {
		return 0
	}
	return uint64(p) << (64 - bits.TrailingZeros64(uint64(q)))
}

// ValidPartitions reports whether q is an acceptable partition count: a
// power of two between 1 and 1<<24.
func ValidPartitions(q int) bool {
	return q >= 1 && q <= 1<<24 && q&(q-1) == 0
}
