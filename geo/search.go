package geo

import "math"

// Shape is the area of a search: a circle of Radius, or (Box) a rectangle
// of Width by Height centred on (Lon, Lat), in the unit of UnitMeters
// metres (what Unit returned for the unit the client gave).
type Shape struct {
	Lon, Lat      float64
	Box           bool
	Radius        float64
	Width, Height float64
	UnitMeters    float64
}

// mercatorMax is half the equator's length in the Web Mercator projection:
// the search's precision estimate doubles the radius until it passes it.
const mercatorMax = 20037726.37

// boundingBox returns the longitude and latitude limits of the shape:
// minLon, minLat, maxLon, maxLat. The longitude half-width is taken at the
// latitude where the shape is widest in degrees: its edge nearer the pole
// (the top edge north of the equator, the bottom one south of it).
func (s *Shape) boundingBox() [4]float64 {
	height, width := s.UnitMeters*s.Radius, s.UnitMeters*s.Radius
	if s.Box {
		height, width = s.UnitMeters*(s.Height/2), s.UnitMeters*(s.Width/2)
	}
	latDelta := deg(height / EarthRadius)
	lonDeltaTop := deg(width / EarthRadius / cos(rad(s.Lat+latDelta)))
	lonDeltaBottom := deg(width / EarthRadius / cos(rad(s.Lat-latDelta)))
	lonDelta := lonDeltaTop
	if s.Lat < 0 {
		lonDelta = lonDeltaBottom
	}
	return [4]float64{s.Lon - lonDelta, s.Lat - latDelta, s.Lon + lonDelta, s.Lat + latDelta}
}

// reach is the distance in metres from the centre to the farthest point of
// the shape: the radius, or half the box's diagonal.
func (s *Shape) reach() float64 {
	r := s.Radius
	if s.Box {
		r = math.Sqrt(float64((s.Width/2)*(s.Width/2)) + float64((s.Height/2)*(s.Height/2)))
	}
	return r * s.UnitMeters
}

// estimateStep returns the precision (bits per axis) whose cells are about
// as large as the search: the radius is doubled until it passes half the
// equator, two steps are taken off so the 3x3 block of cells covers the
// radius in most cases, and one or two more near the poles, where a
// degree of longitude is short.
func estimateStep(meters, lat float64) uint {
	if meters == 0 {
		return Steps
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
	return uint(min(max(step, 1), Steps))
}

// move returns the cell dLon columns east and dLat rows north of c. An
// axis that moves wraps around modulo 2^step, as Redis's neighbour
// computation does; one that does not is left as it is, even where the
// encoding put it one past the last cell (a centre on the 180th meridian
// or the top latitude), because Redis leaves it so: such a cell's score
// range lies past every stored score and is read in vain, exactly as
// there.
func (c cell) move(dLon, dLat int) cell {
	lat, lon := deinterleave(c.bits)
	mask := uint32(1)<<c.step - 1
	if dLat != 0 {
		lat = uint32(int64(lat)+int64(dLat)) & mask
	}
	if dLon != 0 {
		lon = uint32(int64(lon)+int64(dLon)) & mask
	}
	return cell{bits: interleave(lat, lon), step: c.step}
}

// Cells returns the geohash cells to read for the shape, in the order
// Redis reads them (which is the order of an unsorted reply): the centre's
// cell, then north, south, east, west, north-east, north-west, south-east
// and south-west. The precision is estimateStep's, one coarser if a
// neighbour does not reach the shape's bounding box; neighbours lying
// wholly outside the bounding box are dropped (not at the coarsest step,
// where the four cells wrap onto each other), and so is a cell equal to
// the one read just before it (at coarse steps a neighbour can wrap round
// to the one before).
func (s *Shape) Cells() []Range {
	bounds := s.boundingBox()
	minLon, minLat, maxLon, maxLat := bounds[0], bounds[1], bounds[2], bounds[3]
	step := estimateStep(s.reach(), s.Lat)

	block := func(step uint) (area, [9]cell) {
		c, _ := encode(s.Lon, s.Lat, lonSpan, latSpan, step)
		return decode(c, lonSpan, latSpan), [9]cell{c,
			c.move(0, 1), c.move(0, -1), c.move(1, 0), c.move(-1, 0),
			c.move(1, 1), c.move(-1, 1), c.move(1, -1), c.move(-1, -1)}
	}
	const (
		centre = iota
		north
		south
		east
		west
		northEast
		northWest
		southEast
		southWest
	)
	a, cells := block(step)
	if step > 1 {
		n := decode(cells[north], lonSpan, latSpan)
		so := decode(cells[south], lonSpan, latSpan)
		e := decode(cells[east], lonSpan, latSpan)
		w := decode(cells[west], lonSpan, latSpan)
		if n.lat.max < maxLat || so.lat.min > minLat || e.lon.max < maxLon || w.lon.min > minLon {
			step--
			a, cells = block(step)
		}
	}
	var skip [9]bool
	if step >= 2 {
		drop := func(i ...int) {
			for _, j := range i {
				skip[j] = true
			}
		}
		if a.lat.min < minLat {
			drop(south, southWest, southEast)
		}
		if a.lat.max > maxLat {
			drop(north, northEast, northWest)
		}
		if a.lon.min < minLon {
			drop(west, southWest, northWest)
		}
		if a.lon.max > maxLon {
			drop(east, southEast, northEast)
		}
	}
	out := make([]Range, 0, 9)
	last := -1
	for i, c := range cells {
		if skip[i] {
			continue
		}
		// Redis compares with the last cell read only once that is not
		// the centre's (its "last processed" index 0 means none).
		if last > 0 && c == cells[last] {
			continue
		}
		out = append(out, c.scores())
		last = i
	}
	return out
}

// Range is a half-open interval [Min, Max) of scores: the members of one
// geohash cell.
type Range struct{ Min, Max uint64 }

// scores returns the scores of the 26-bit cells inside c.
func (c cell) scores() Range {
	shift := 52 - 2*c.step
	return Range{Min: c.bits << shift, Max: (c.bits + 1) << shift}
}

// Match reports whether a member of the given score lies in the shape,
// with its distance from the centre in metres and its position (its
// cell's centre). A circle holds the points within its radius; a box
// those whose latitude is within half its height of the centre's and
// whose distance along their own parallel to the centre's longitude is
// within half its width (Redis 7.0's test).
func (s *Shape) Match(score float64) (dist, lon, lat float64, ok bool) {
	lon, lat = Decode(score)
	if !s.Box {
		dist = Distance(s.Lon, s.Lat, lon, lat)
		return dist, lon, lat, dist <= s.Radius*s.UnitMeters
	}
	if latDistance(lat, s.Lat) > s.Height*s.UnitMeters/2 {
		return 0, lon, lat, false
	}
	if Distance(lon, lat, s.Lon, lat) > s.Width*s.UnitMeters/2 {
		return 0, lon, lat, false
	}
	return Distance(s.Lon, s.Lat, lon, lat), lon, lat, true
}
