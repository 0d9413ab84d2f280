package geo

import "slices"

// Order is the order of a search's results.
type Order int

const (
	// Unsorted: the order the cells and members were read in (Cells'
	// order, each cell's members by score).
	Unsorted Order = iota
	// Asc: nearest first.
	Asc
	// Desc: farthest first.
	Desc
)

// Query is a search: its shape, its order, and a Count (0: no limit) of
// results; with Any the search stops reading as soon as Count members
// matched, rather than finding all and keeping the nearest.
type Query struct {
	Shape Shape
	Order Order
	Count int64
	Any   bool
}

// Point is one result of a search: a member, its score, its distance from
// the centre in the query's unit, and its position (its cell's centre).
type Point struct {
	Member   []byte
	Score    float64
	Dist     float64
	Lon, Lat float64
}

// RangeReader reads the members of a sorted set whose scores lie in
// [min, max), in score order (equal scores by member bytes), calling fn
// for each until fn returns false. The search keeps the member slices it
// is given, so a reader must not reuse them. It is how a search reaches
// storage: in dynakv, a score-index walk of the sorted set.
type RangeReader func(min, max float64, fn func(member []byte, score float64) bool) error

// Search runs q over the members read through read, as GEOSEARCH and
// GEORADIUS do: each cell of q's shape is read in turn and its members
// tested; with Any and a Count, reading stops once Count matched. The
// matches are then ordered (a Count without Any and without an order means
// nearest first, as in Redis), the first Count kept, and the distances
// converted to the query's unit.
func Search(q *Query, read RangeReader) ([]Point, error) {
	var limit int64
	if q.Any {
		limit = q.Count
	}
	var pts []Point
	for _, r := range q.Shape.Cells() {
		if limit > 0 && int64(len(pts)) >= limit {
			break
		}
		err := read(float64(r.Min), float64(r.Max), func(member []byte, score float64) bool {
			if d, lon, lat, ok := q.Shape.Match(score); ok {
				pts = append(pts, Point{Member: member, Score: score, Dist: d, Lon: lon, Lat: lat})
			}
			return limit == 0 || int64(len(pts)) < limit
		})
		if err != nil {
			return nil, err
		}
	}
	order := q.Order
	if q.Count > 0 && order == Unsorted && !q.Any {
		order = Asc
	}
	// Redis's sort is not stable: members at exactly the same distance (in
	// the same 26-bit cell) may come in either order there; here they keep
	// the order they were read in.
	switch order {
	case Asc:
		slices.SortStableFunc(pts, func(a, b Point) int { return cmpFloat(a.Dist, b.Dist) })
	case Desc:
		slices.SortStableFunc(pts, func(a, b Point) int { return cmpFloat(b.Dist, a.Dist) })
	}
	if q.Count > 0 && int64(len(pts)) > q.Count {
		pts = pts[:q.Count]
	}
	for i := range pts {
		pts[i].Dist /= q.Shape.UnitMeters
	}
	return pts, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
