// Package geo is the arithmetic of Redis's GEO commands, written from the
// algorithm's description so that dynakv answers what redis-server 7.0
// answers: the 52-bit geohash a position is stored under as a sorted-set
// score, the cell centre a score decodes to (what GEOPOS prints), the
// standard 11-character geohash string (GEOHASH), the haversine distance
// (GEODIST), and the search of GEOSEARCH / GEORADIUS: which geohash cells
// to read, the score range of each, and the exact test each candidate
// passes. It knows nothing of storage: a search reads members by score
// range through a function its caller supplies.
//
// Every floating-point expression is written in the order Redis evaluates
// it, with explicit float64 conversions where Go could otherwise fuse a
// multiply and an add into one rounding (the spec allows that on some
// architectures), because a one-ulp difference is enough to move a point
// into the neighbouring cell or a distance across a rounding boundary.
package geo

import "math"

// The limits Redis accepts for a position. Latitudes stop at the Web
// Mercator projection's limit, which is also the latitude range the
// 52-bit scores are computed over (not -90..90).
const (
	LonMin = -180.0
	LonMax = 180.0
	LatMin = -85.05112878
	LatMax = 85.05112878

	// Steps is the number of bits per axis of a stored score: 26 + 26
	// interleaved bits, an integer a float64 score holds exactly.
	Steps = 26
)

// span is a closed interval of one axis.
type span struct{ min, max float64 }

// The axis ranges: the one scores are computed over, and the standard
// geohash latitude range GEOHASH's string is computed over.
var (
	lonSpan        = span{LonMin, LonMax}
	latSpan        = span{LatMin, LatMax}
	latSpanGeohash = span{-90, 90}
)

// cell is a geohash cell at some precision: step bits per axis,
// interleaved with the longitude's bits in the odd positions and the
// latitude's in the even ones (so the top bit is the longitude's).
type cell struct {
	bits uint64
	step uint
}

// area is the rectangle a cell covers.
type area struct{ lon, lat span }

// Valid reports whether Redis accepts (lon, lat) as a position.
func Valid(lon, lat float64) bool {
	return lon >= LonMin && lon <= LonMax && lat >= LatMin && lat <= LatMax
}

// encode returns the cell of the given precision holding (lon, lat) on the
// given axis ranges, or false where Redis refuses the position. Each axis
// is scaled to [0, 1] over its range, then to [0, 2^step] and truncated: a
// position on the range's upper edge gets index 2^step, one past the last
// cell, exactly as Redis computes it (its score then has bit 2*step set).
func encode(lon, lat float64, lonR, latR span, step uint) (cell, bool) {
	if !Valid(lon, lat) || lon < lonR.min || lon > lonR.max || lat < latR.min || lat > latR.max {
		return cell{}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	lonOff := (lon - lonR.min) / (lonR.max - lonR.min)
	scale := float64(uint64(1) << step)
	latOff *= scale
	lonOff *= scale
	return cell{bits: interleave(uint32(latOff), uint32(lonOff)), step: step}, true
}

// Encode returns the 52-bit score of (lon, lat), or false if Redis refuses
// the position.
func Encode(lon, lat float64) (uint64, bool) {
	c, ok := encode(lon, lat, lonSpan, latSpan, Steps)
	return c.bits, ok
}

// decode returns the rectangle of cell c over the given axis ranges. Each
// index may use all 32 bits (a score that no GEOADD wrote), and index+1 is
// computed in 32 bits as Redis computes it.
func decode(c cell, lonR, latR span) area {
	lat32, lon32 := deinterleave(c.bits)
	div := float64(uint64(1) << c.step)
	latScale := latR.max - latR.min
	lonScale := lonR.max - lonR.min
	var a area
	a.lat.min = latR.min + float64(float64(lat32)/div*latScale)
	a.lat.max = latR.min + float64(float64(lat32+1)/div*latScale)
	a.lon.min = lonR.min + float64(float64(lon32)/div*lonScale)
	a.lon.max = lonR.min + float64(float64(lon32+1)/div*lonScale)
	return a
}

// centre returns the middle of a, clamped to the valid range.
func (a area) centre() (lon, lat float64) {
	lon = (a.lon.min + a.lon.max) / 2
	lon = math.Max(math.Min(lon, LonMax), LonMin)
	lat = (a.lat.min + a.lat.max) / 2
	lat = math.Max(math.Min(lat, LatMax), LatMin)
	return lon, lat
}

// Decode returns the position a sorted-set score stands for: the centre of
// its 26-bit cell, what GEOPOS answers. Any score decodes (a member added
// with ZADD has one that no GEOADD wrote); it is converted to an integer
// as redis-server's C conversion does on x86-64, see scoreBits.
func Decode(score float64) (lon, lat float64) {
	return decode(cell{bits: scoreBits(score), step: Steps}, lonSpan, latSpan).centre()
}

// scoreBits converts a score to uint64 as a C cast does on x86-64, the
// platform redis-server's answers are compared on: below 2^63 (negative
// numbers and NaN included) through the signed 64-bit truncation, whose
// out-of-range result is 0x8000000000000000; from 2^63 by truncating
// score-2^63 the same way and flipping the top bit (so 2^64 and more,
// infinity included, give 0). Go leaves these conversions to the
// implementation, so they are spelled out.
func scoreBits(score float64) uint64 {
	const two63 = 9223372036854775808.0
	trunc := func(f float64) uint64 {
		if f != f || f >= two63 || f < -two63 {
			return 1 << 63
		}
		return uint64(int64(f))
	}
	if !(score >= two63) {
		return trunc(score)
	}
	return trunc(score-two63) ^ (1 << 63)
}

// ScoreInt is the integer WITHHASH prints for a score (C's truncation to
// a signed 64-bit integer; an out-of-range value gives its minimum).
func ScoreInt(score float64) int64 {
	if score != score || score >= 9223372036854775808.0 || score < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(score)
}

// base32 is the standard geohash alphabet.
const base32 = "0123456789bcdefghjkmnpqrstuvwxyz"

// Hash returns the standard 11-character geohash string of a score, as
// GEOHASH answers it. Scores are computed over Redis's latitude range
// (±85.05°) while the standard geohash uses ±90°, so the score is decoded
// to its cell centre and that position re-encoded over the standard
// ranges at 26 bits per axis. Those 52 bits make ten characters of five
// bits; the eleventh, for which no bits are left, is always '0'.
func Hash(score float64) string {
	lon, lat := Decode(score)
	c, _ := encode(lon, lat, lonSpan, latSpanGeohash, Steps)
	var b [11]byte
	for i := range 10 {
		b[i] = base32[(c.bits>>(52-uint(i+1)*5))&0x1f]
	}
	b[10] = '0'
	return string(b[:])
}

// interleave spreads the 32 bits of lat over the even bit positions and
// those of lon over the odd ones.
func interleave(lat, lon uint32) uint64 {
	return spread(lat) | spread(lon)<<1
}

// deinterleave is interleave's inverse.
func deinterleave(bits uint64) (lat, lon uint32) {
	return squeeze(bits), squeeze(bits >> 1)
}

// spread moves bit i of v to bit 2i.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// squeeze moves bit 2i of x to bit i, dropping the odd bits.
func squeeze(x uint64) uint32 {
	x &= 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}
