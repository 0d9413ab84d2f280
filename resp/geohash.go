package resp

import "math"

// Geohashes as Redis computes them, written from the algorithm (a
// position's longitude and latitude, each scaled to a 26-bit fixed-point
// offset in its range, bits interleaved: latitude in the even bits,
// longitude in the odd ones), so a GEOADD stores the score redis-server
// stores and every reply derived from it is redis-server's.

const (
	geoLonMin = -180.0
	geoLonMax = 180.0
	geoLatMin = -85.05112878
	geoLatMax = 85.05112878
	geoStep   = 26 // bits per coordinate: 52-bit scores

	earthRadius = 6372797.560856 // meters, Redis's
	mercatorMax = 20037726.37
)

// geoRange is a coordinate's range.
type geoRange struct{ min, max float64 }

var (
	geoLonRange = geoRange{geoLonMin, geoLonMax}
	geoLatRange = geoRange{geoLatMin, geoLatMax}
)

// geoBits is a geohash of step bits per coordinate.
type geoBits struct {
	bits uint64
	step uint
}

func (h geoBits) zero() bool { return h.bits == 0 && h.step == 0 }

// spread puts the 32 bits of x in the even bits of the result.
func spread(x uint32) uint64 {
	v := uint64(x)
	v = (v | v<<16) & 0x0000FFFF0000FFFF
	v = (v | v<<8) & 0x00FF00FF00FF00FF
	v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}

// squash gathers the even bits of v.
func squash(v uint64) uint32 {
	v &= 0x5555555555555555
	v = (v | v>>1) & 0x3333333333333333
	v = (v | v>>2) & 0x0F0F0F0F0F0F0F0F
	v = (v | v>>4) & 0x00FF00FF00FF00FF
	v = (v | v>>8) & 0x0000FFFF0000FFFF
	v = (v | v>>16) & 0x00000000FFFFFFFF
	return uint32(v)
}

// geoEncode returns the geohash of a position in the given ranges; ok is
// false outside them.
func geoEncode(lonR, latR geoRange, lon, lat float64, step uint) (geoBits, bool) {
	if lon < lonR.min || lon > lonR.max || lat < latR.min || lat > latR.max {
		return geoBits{}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min) * float64(uint64(1)<<step)
	lonOff := (lon - lonR.min) / (lonR.max - lonR.min) * float64(uint64(1)<<step)
	return geoBits{bits: spread(uint32(latOff)) | spread(uint32(lonOff))<<1, step: step}, true
}

// geoArea is the cell a geohash names.
type geoArea struct{ lon, lat geoRange }

func geoDecode(h geoBits) geoArea {
	lat, lon := squash(h.bits), squash(h.bits>>1)
	cells := float64(uint64(1) << h.step)
	latScale, lonScale := geoLatMax-geoLatMin, geoLonMax-geoLonMin
	return geoArea{
		lat: geoRange{geoLatMin + float64(lat)/cells*latScale, geoLatMin + float64(lat+1)/cells*latScale},
		lon: geoRange{geoLonMin + float64(lon)/cells*lonScale, geoLonMin + float64(lon+1)/cells*lonScale},
	}
}

// geoScore is the score GEOADD stores for a position.
func geoScore(lon, lat float64) (float64, bool) {
	h, ok := geoEncode(geoLonRange, geoLatRange, lon, lat, geoStep)
	return float64(h.bits), ok
}

// geoPosition returns the position a score stands for: its cell's center,
// clamped to the ranges.
func geoPosition(score float64) (lon, lat float64) {
	a := geoDecode(geoBits{bits: uint64(score), step: geoStep})
	lon = min(max((a.lon.min+a.lon.max)/2, geoLonMin), geoLonMax)
	lat = min(max((a.lat.min+a.lat.max)/2, geoLatMin), geoLatMax)
	return lon, lat
}

func degRad(d float64) float64 { return d * (math.Pi / 180.0) }
func radDeg(r float64) float64 { return r / (math.Pi / 180.0) }

// geoLatDistance is the distance along a meridian between two latitudes.
func geoLatDistance(lat1, lat2 float64) float64 {
	return earthRadius * math.Abs(degRad(lat2)-degRad(lat1))
}

// geoDistance is the haversine distance in meters between two positions.
func geoDistance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := math.Sin((lon2r - lon1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := math.Sin((lat2r - lat1r) / 2)
	a := u*u + math.Cos(lat1r)*math.Cos(lat2r)*v*v
	return 2.0 * earthRadius * math.Asin(math.Sqrt(a))
}

// geoShape is a search's area: a circle (radius) or a box (width,
// height), around a center, in units of conversion meters.
type geoShape struct {
	lon, lat              float64
	box                   bool
	radius, width, height float64
	conversion            float64
}

// within reports whether the position lies in the shape, and its distance
// from the center in meters.
func (s *geoShape) within(lon, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.lon, s.lat, lon, lat)
		return d, d <= s.radius*s.conversion
	}
	if geoLatDistance(lat, s.lat) > s.height*s.conversion/2 {
		return 0, false
	}
	if geoDistance(lon, lat, s.lon, lat) > s.width*s.conversion/2 {
		return 0, false
	}
	return geoDistance(s.lon, s.lat, lon, lat), true
}

// boundingBox returns the shape's bounds: min lon, min lat, max lon, max
// lat.
func (s *geoShape) boundingBox() (minLon, minLat, maxLon, maxLat float64) {
	h, w := s.radius, s.radius
	if s.box {
		h, w = s.height/2, s.width/2
	}
	h, w = h*s.conversion, w*s.conversion
	latDelta := radDeg(h / earthRadius)
	lonTop := radDeg(w / earthRadius / math.Cos(degRad(s.lat+latDelta)))
	lonBottom := radDeg(w / earthRadius / math.Cos(degRad(s.lat-latDelta)))
	if s.lat < 0 { // the southern hemisphere: the other corners
		return s.lon - lonBottom, s.lat - latDelta, s.lon + lonBottom, s.lat + latDelta
	}
	return s.lon - lonTop, s.lat - latDelta, s.lon + lonTop, s.lat + latDelta
}

// geoStepsFor estimates the geohash step whose cells cover a radius.
func geoStepsFor(meters, lat float64) uint {
	if meters == 0 {
		return 26
	}
	step := 1
	for meters < mercatorMax {
		meters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint(min(max(step, 1), 26))
}

// moveX moves a geohash by one cell in longitude (d > 0: east); moveY in
// latitude (d > 0: north).
func (h geoBits) moveX(d int) geoBits {
	x, y := h.bits&0xaaaaaaaaaaaaaaaa, h.bits&0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - h.step*2)
	if d > 0 {
		x += zz + 1
	} else {
		x = (x | zz) - (zz + 1)
	}
	x &= 0xaaaaaaaaaaaaaaaa >> (64 - h.step*2)
	return geoBits{bits: x | y, step: h.step}
}

func (h geoBits) moveY(d int) geoBits {
	x, y := h.bits&0xaaaaaaaaaaaaaaaa, h.bits&0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - h.step*2)
	if d > 0 {
		y += zz + 1
	} else {
		y = (y | zz) - (zz + 1)
	}
	y &= 0x5555555555555555 >> (64 - h.step*2)
	return geoBits{bits: x | y, step: h.step}
}

// searchCells returns the geohash cells a search of shape reads, in
// Redis's order (the center's cell, then north, south, east, west,
// north-east, north-west, south-east, south-west), zero for those it
// leaves out: cells of a step just coarse enough that the center's cell and
// its neighbours cover the shape's bounding box.
func (s *geoShape) searchCells() [9]geoBits {
	minLon, minLat, maxLon, maxLat := s.boundingBox()
	r := s.radius
	if s.box {
		r = math.Sqrt((s.width/2)*(s.width/2) + (s.height/2)*(s.height/2))
	}
	steps := geoStepsFor(r*s.conversion, s.lat)
	cells := func(step uint) (geoBits, [9]geoBits) {
		h, _ := geoEncode(geoLonRange, geoLatRange, s.lon, s.lat, step)
		return h, [9]geoBits{h, h.moveY(1), h.moveY(-1), h.moveX(1), h.moveX(-1),
			h.moveX(1).moveY(1), h.moveX(-1).moveY(1), h.moveX(1).moveY(-1), h.moveX(-1).moveY(-1)}
	}
	h, n := cells(steps)
	north, south, east, west := geoDecode(n[1]), geoDecode(n[2]), geoDecode(n[3]), geoDecode(n[4])
	if steps > 1 && (north.lat.max < maxLat || south.lat.min > minLat || east.lon.max < maxLon || west.lon.min > minLon) {
		steps--
		h, n = cells(steps)
	}
	if steps >= 2 {
		a := geoDecode(h)
		if a.lat.min < minLat {
			n[2], n[8], n[7] = geoBits{}, geoBits{}, geoBits{}
		}
		if a.lat.max > maxLat {
			n[1], n[5], n[6] = geoBits{}, geoBits{}, geoBits{}
		}
		if a.lon.min < minLon {
			n[4], n[8], n[6] = geoBits{}, geoBits{}, geoBits{}
		}
		if a.lon.max > maxLon {
			n[3], n[7], n[5] = geoBits{}, geoBits{}, geoBits{}
		}
	}
	return n
}

// scoreRange returns the scores [min, max) of the members in a cell.
func (h geoBits) scoreRange() (lo, hi float64) {
	shift := 52 - h.step*2
	return float64(h.bits << shift), float64((h.bits + 1) << shift)
}

// geoHashString is GEOHASH's answer for a score: the standard 11-character
// geohash of its position (re-encoded with latitudes -90..90, the last
// character from zero bits, as Redis does).
func geoHashString(score float64) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	lon, lat := geoPosition(score)
	h, _ := geoEncode(geoRange{-180, 180}, geoRange{-90, 90}, lon, lat, geoStep)
	var buf [11]byte
	for i := range buf {
		idx := uint64(0)
		if i < 10 {
			idx = (h.bits >> (52 - (uint(i)+1)*5)) & 0x1f
		}
		buf[i] = alphabet[idx]
	}
	return string(buf[:])
}
