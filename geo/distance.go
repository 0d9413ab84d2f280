package geo

import (
	"math"
	"strconv"
	"strings"
)

// EarthRadius is the radius, in metres, Redis's distances use.
const EarthRadius = 6372797.560856

// degToRad is π/180 as a float64, the factor Redis converts with (one
// multiplication to radians, one division back).
const degToRad = math.Pi / 180.0

func rad(deg float64) float64 { return deg * degToRad }
func deg(rad float64) float64 { return rad / degToRad }

// latDistance is the distance along a meridian between two latitudes.
func latDistance(lat1, lat2 float64) float64 {
	return EarthRadius * math.Abs(rad(lat2)-rad(lat1))
}

// Distance returns the great-circle distance in metres between two
// positions by the haversine formula. Two positions on one meridian (the
// sine of half the longitude difference is 0) take the meridian distance
// directly, as Redis 7 does.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := rad(lon1), rad(lon2)
	v := sin((lon2r - lon1r) / 2)
	if v == 0 {
		return latDistance(lat1, lat2)
	}
	lat1r, lat2r := rad(lat1), rad(lat2)
	u := sin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(cos(lat1r)*cos(lat2r))*v)*v)
	return 2.0 * EarthRadius * asin(math.Sqrt(a))
}

// Unit returns the number of metres in a distance unit (m, km, ft, mi,
// any case), or false for another word.
func Unit(name []byte) (float64, bool) {
	switch strings.ToLower(string(name)) {
	case "m":
		return 1, true
	case "km":
		return 1000, true
	case "ft":
		return 0.3048, true
	case "mi":
		return 1609.34, true
	}
	return 0, false
}

// FormatDistance formats a distance as GEODIST and WITHDIST print it, with
// four decimals. Redis 7 does not use printf's "%.4f" (the exact decimal
// value of d, rounded) but scales first: d*10^4 is rounded to a float64,
// then to the nearest integer (ties to even), whose digits get a point
// before the last four. The two differ when d*10^4 lies within half an ulp
// of a .5 (a distance of 5659867.22974999994 ft scales to exactly
// 56598672297.5 and prints 5659867.2298, where "%.4f" prints .2297).
func FormatDistance(d float64) string {
	scaled := math.RoundToEven(d * 1e4)
	if !(math.Abs(scaled) < 1<<62) {
		return formatC(d, 4) // no distance between two places gets here
	}
	n := int64(scaled)
	neg := n < 0
	if neg {
		n = -n
	}
	digits := strconv.FormatInt(n, 10)
	if len(digits) < 5 {
		digits = strings.Repeat("0", 5-len(digits)) + digits
	}
	s := digits[:len(digits)-4] + "." + digits[len(digits)-4:]
	if neg {
		s = "-" + s
	}
	return s
}

// FormatCoord formats a longitude or latitude as GEOPOS and WITHCOORD print
// it: C's "%.17Lf" of the value, trailing zeros and then a trailing point
// removed, "-0" printed "0". The value is a float64 widened to a long
// double, which holds it exactly, so seventeen correctly rounded decimals
// of the float64 are the same digits.
func FormatCoord(v float64) string {
	s := formatC(v, 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// FormatFixed formats v as C's "%.<prec>f" does, as in Redis's
// "invalid longitude,latitude pair" error: "inf", "-inf" and "nan" for
// the values Go spells otherwise.
func FormatFixed(v float64, prec int) string { return formatC(v, prec) }

func formatC(v float64, prec int) string {
	switch {
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case math.IsNaN(v):
		return "nan"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}
