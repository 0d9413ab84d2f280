package geo

import (
	"math"
	"testing"
)

// The examples of Redis's GEO documentation: Palermo and Catania.
func TestDocumentedExamples(t *testing.T) {
	cases := []struct {
		lon, lat       float64
		score          uint64
		hash           string
		posLon, posLat string
	}{
		{13.361389, 38.115556, 3479099956230698, "sqc8b49rny0", "13.36138933897018433", "38.11555639549629859"},
		{15.087269, 37.502669, 3479447370796909, "sqdtr74hyu0", "15.08726745843887329", "37.50266842333162032"},
	}
	var scores []float64
	for _, c := range cases {
		s, ok := Encode(c.lon, c.lat)
		if !ok || s != c.score {
			t.Fatalf("Encode(%v, %v) = %d %v, want %d", c.lon, c.lat, s, ok, c.score)
		}
		if h := Hash(float64(s)); h != c.hash {
			t.Fatalf("Hash(%d) = %s, want %s", s, h, c.hash)
		}
		lon, lat := Decode(float64(s))
		if FormatCoord(lon) != c.posLon || FormatCoord(lat) != c.posLat {
			t.Fatalf("Decode(%d) = %s %s, want %s %s", s, FormatCoord(lon), FormatCoord(lat), c.posLon, c.posLat)
		}
		scores = append(scores, float64(s))
	}
	lon1, lat1 := Decode(scores[0])
	lon2, lat2 := Decode(scores[1])
	d := Distance(lon1, lat1, lon2, lat2)
	for _, u := range []struct {
		unit, want string
	}{{"m", "166274.1516"}, {"km", "166.2742"}, {"mi", "103.3182"}, {"ft", "545518.8700"}} {
		m, _ := Unit([]byte(u.unit))
		if got := FormatDistance(d / m); got != u.want {
			t.Fatalf("distance in %s = %s, want %s", u.unit, got, u.want)
		}
	}
}

// Encode refuses what Redis refuses, and accepts the limits themselves.
func TestEncodeLimits(t *testing.T) {
	for _, p := range [][2]float64{{180.0001, 0}, {-180.0001, 0}, {0, 85.06}, {0, -85.06}, {math.NaN(), 0}, {math.Inf(1), 0}} {
		if _, ok := Encode(p[0], p[1]); ok {
			t.Fatalf("Encode(%v, %v) accepted", p[0], p[1])
		}
	}
	for _, p := range [][2]float64{{180, LatMax}, {-180, LatMin}, {0, 0}} {
		if _, ok := Encode(p[0], p[1]); !ok {
			t.Fatalf("Encode(%v, %v) refused", p[0], p[1])
		}
	}
}

// interleave and deinterleave are inverses over all 32 bits of each axis.
func TestInterleave(t *testing.T) {
	for _, v := range [][2]uint32{{0, 0}, {1, 0}, {0, 1}, {0xFFFFFFFF, 0}, {0x12345678, 0x9abcdef0}, {1 << 26, 3}} {
		b := interleave(v[0], v[1])
		if lat, lon := deinterleave(b); lat != v[0] || lon != v[1] {
			t.Fatalf("deinterleave(interleave(%x, %x)) = %x, %x", v[0], v[1], lat, lon)
		}
		if b&1 != uint64(v[0]&1) || (b>>1)&1 != uint64(v[1]&1) {
			t.Fatalf("interleave(%x, %x) = %x: latitude not in the even bits", v[0], v[1], b)
		}
	}
}
