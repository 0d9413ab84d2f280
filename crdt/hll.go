package crdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// HyperLogLog with Redis's parameters, hash and estimator, so that PFCOUNT
// over the same elements gives redis-server's answer: 2^14 registers of 6
// bits, MurmurHash64A with Redis's seed, and Otmar Ertl's improved raw
// estimator ("New cardinality estimation algorithms for HyperLogLog
// sketches", 2017), which Redis uses since 5.0. As a CRDT its state is the
// registers and its merge the register-wise maximum.

const (
	hllP         = 14
	HLLRegisters = 1 << hllP // registers of an HLL
	hllQ         = 64 - hllP // bits of the hash that count leading zeros
	hllSeed      = 0xadc83b19
	// hllAlphaInf is 1/(2 ln 2), the estimator's constant for m → ∞.
	hllAlphaInf = 0.721347520444481703680
)

// HLL is a HyperLogLog sketch. The zero value is an empty sketch.
type HLL struct {
	reg *[HLLRegisters]uint8 // nil while empty
}

// HLLDelta is the registers an update raised: index and new value.
type HLLDelta []HLLRegister

// HLLRegister is one register of an HLL.
type HLLRegister struct {
	Index uint16
	Value uint8
}

// hllPosition returns the register of element e and the value e gives it:
// one more than the number of trailing zero bits of the hash above the
// register bits (at most hllQ+1).
func hllPosition(e []byte) (index uint16, count uint8) {
	h := murmurHash64A(e, hllSeed)
	index = uint16(h & (HLLRegisters - 1))
	h >>= hllP
	h |= 1 << hllQ // the count ends by hllQ+1
	count = 1
	for h&1 == 0 {
		count++
		h >>= 1
	}
	return index, count
}

// Add adds elements and returns the delta of the registers they raised
// (empty when the sketch did not change: PFADD's 0).
func (h *HLL) Add(elements ...[]byte) HLLDelta {
	var d HLLDelta
	for _, e := range elements {
		i, c := hllPosition(e)
		if h.get(i) < c {
			h.set(i, c)
			d = append(d, HLLRegister{Index: i, Value: c})
		}
	}
	return d
}

func (h *HLL) get(i uint16) uint8 {
	if h.reg == nil {
		return 0
	}
	return h.reg[i]
}

func (h *HLL) set(i uint16, v uint8) {
	if h.reg == nil {
		h.reg = new([HLLRegisters]uint8)
	}
	h.reg[i] = v
}

// Merge raises every register of h to o's where o's is higher: the union
// of the sets the two sketches count. It reports whether h changed.
func (h *HLL) Merge(o *HLL) bool {
	if o == nil || o.reg == nil {
		return false
	}
	changed := false
	for i, v := range o.reg {
		if h.get(uint16(i)) < v {
			h.set(uint16(i), v)
			changed = true
		}
	}
	return changed
}

// ApplyDelta merges a delta into h, as Merge of the state it came from
// would. It reports whether h changed.
func (h *HLL) ApplyDelta(d HLLDelta) bool {
	changed := false
	for _, r := range d {
		if h.get(r.Index) < r.Value {
			h.set(r.Index, r.Value)
			changed = true
		}
	}
	return changed
}

// Clone returns a copy of h.
func (h *HLL) Clone() *HLL {
	c := &HLL{}
	if h.reg != nil {
		r := *h.reg
		c.reg = &r
	}
	return c
}

// Equal reports whether h and o hold the same registers.
func (h *HLL) Equal(o *HLL) bool {
	for i := range HLLRegisters {
		if h.get(uint16(i)) != o.get(uint16(i)) {
			return false
		}
	}
	return true
}

// Count estimates the number of distinct elements added, as Redis's
// PFCOUNT does.
func (h *HLL) Count() uint64 {
	var histo [hllQ + 2]int
	if h.reg == nil {
		return 0
	}
	for _, v := range h.reg {
		histo[v]++
	}
	const m = float64(HLLRegisters)
	z := m * hllTau((m-float64(histo[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(histo[0])/m)
	return uint64(math.Round(hllAlphaInf * m * m / z))
}

// hllSigma is σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), computed until the sum
// stops changing.
func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

// hllTau is τ(x) = (1 - x - Σ_{k≥1} (1 - x^(2^-k))^2 2^-k) / 3, computed
// until the sum stops changing.
func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == prev {
			return z / 3
		}
	}
}

// murmurHash64A is Austin Appleby's MurmurHash64A (public domain), reading
// the input as little-endian 64-bit words.
func murmurHash64A(key []byte, seed uint64) uint64 {
	const (
		m = 0xc6a4a7935bd1e995
		r = 47
	)
	h := seed ^ uint64(len(key))*m
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	if len(key) > 0 {
		for i := len(key) - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// Encoding, a version byte then the kind:
//
//	1 | 0                            an empty sketch
//	1 | 1 | 2^14 register bytes      dense
const (
	hllVersion = 1
	hllEmpty   = 0
	hllDense   = 1
)

// ErrBadHLL is returned for bytes that are not an encoded HLL.
var ErrBadHLL = errors.New("crdt: not an encoded HyperLogLog")

// AppendBinary appends h's encoding to b.
func (h *HLL) AppendBinary(b []byte) []byte {
	if h.reg == nil {
		return append(b, hllVersion, hllEmpty)
	}
	b = append(b, hllVersion, hllDense)
	return append(b, h.reg[:]...)
}

// DecodeHLL decodes an encoding of AppendBinary.
func DecodeHLL(b []byte) (*HLL, error) {
	if len(b) < 2 || b[0] != hllVersion {
		return nil, ErrBadHLL
	}
	switch {
	case b[1] == hllEmpty && len(b) == 2:
		return &HLL{}, nil
	case b[1] == hllDense && len(b) == 2+HLLRegisters:
		h := &HLL{reg: new([HLLRegisters]uint8)}
		for i, v := range b[2:] {
			if v > hllQ+1 {
				return nil, fmt.Errorf("%w: register %d holds %d, above %d", ErrBadHLL, i, v, hllQ+1)
			}
			h.reg[i] = v
		}
		return h, nil
	}
	return nil, ErrBadHLL
}
