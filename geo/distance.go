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
	v := math.Sin((lon2r - lon1r) / 2)
	if v == 0 {
		return latDistance(lat1, lat2)
	}
	lat1r, lat2r := rad(lat1), rad(lat2)
	u := math.Sin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(math.Cos(lat1r)*math.Cos(lat2r))*v)*v)
	return 2.0 * EarthRadius * math.Asin(math.Sqrt(a))
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

// FormatDistance formats a distance as GEODIST and WITHDIST print it: four
// decimals (C's "%.4f").
func FormatDistance(d float64) string {
	return formatC(d, 4)
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
