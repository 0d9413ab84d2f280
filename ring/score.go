package ring

import "math/bits"

// This file defines the rendezvous score of a (partition, node) pair: the
// primitive every placement decision is made from. It is integer arithmetic
// only, so every node computes bit-identical scores on every platform (Go
// may fuse floating-point multiply-adds on some architectures, and math.Log
// differs in the last bit between implementations). Changing anything here
// changes every ring: treat it as a wire format.

// fmix64 is the MurmurHash3 64-bit finalizer: a bijection that spreads every
// input bit over the whole output.
func fmix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// partitionSalt is the per-partition half of a pair's hash.
func partitionSalt(p int) uint64 {
	return fmix64(uint64(p)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019)
}

// pairHash is a pseudo-random 64-bit value for (partition, node), from the
// node's seed (the top half of the MD5 of its id) and the partition's salt.
func pairHash(seed, salt uint64) uint64 {
	return fmix64(seed ^ salt)
}

const (
	logFracBits  = 48 // fixed-point precision of log2
	logTableBits = 10 // log2(1+j/1024) is tabulated and interpolated
)

// log2Table[j] = log2(1 + j/1024) in 48-bit fixed point, j = 0..1024,
// computed by the exact bit-by-bit algorithm in integers.
var log2Table = func() [1<<logTableBits + 1]uint64 {
	var t [1<<logTableBits + 1]uint64
	for j := range t {
		// y in [1,2] as Q62 fixed point.
		y := uint64(1)<<62 + uint64(j)<<(62-logTableBits)
		if j == 1<<logTableBits {
			t[j] = 1 << logFracBits
			continue
		}
		var r uint64
		for b := logFracBits - 1; b >= 0; b-- {
			hi, lo := bits.Mul64(y, y) // y*y in Q124
			y = hi<<2 | lo>>62         // back to Q62
			if y >= 1<<63 {            // y >= 2
				y >>= 1
				r |= 1 << uint(b)
			}
		}
		t[j] = r
	}
	return t
}()

// negLog2 returns -log2(h/2^64) in 48-bit fixed point: the exponential
// "arrival time" of a uniform variable h, up to a constant factor ln 2. It is
// non-increasing in h, and strictly decreasing in all but the low 21
// bits of the normalised h; h = 0 maps to the
// largest value.
func negLog2(h uint64) uint64 {
	if h == 0 {
		return 65 << logFracBits
	}
	lz := bits.LeadingZeros64(h)
	m := h << uint(lz) // top bit set: m/2^63 in [1,2)
	idx := (m >> (63 - logTableBits)) & (1<<logTableBits - 1)
	rem := (m >> (63 - logTableBits - 32)) & (1<<32 - 1)
	lo, hiv := log2Table[idx], log2Table[idx+1]
	d, _ := bits.Mul64(hiv-lo, rem<<32)
	frac := lo + d // log2(m/2^63) in [0,1)
	return uint64(lz+1)<<logFracBits - frac
}

// weightScale returns the multiplier that turns an arrival time into a
// weighted key: key = arrival/weight, computed as a high product.
func weightScale(w int) uint64 {
	return ^uint64(0) / uint64(w)
}

// pairKey is the weighted rendezvous key of a pair: smaller is better. For a
// partition, the node with the smallest key is the one weighted rendezvous
// hashing would pick: node i wins with probability w_i/sum(w), and removing
// or adding a node never reorders the others.
func pairKey(seed, salt, scale uint64) uint64 {
	k, _ := bits.Mul64(negLog2(pairHash(seed, salt))<<8, scale)
	return k
}
