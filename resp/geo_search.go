package resp

import (
	"encoding/binary"
	"slices"

	"github.com/dynakv/dynakv/replication"
)

// GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and
// GEOSEARCHSTORE: one parser and one search, as Redis's georadiusGeneric.

// Kinds of geo search.
const (
	geoByCoords = 1 << iota
	geoByMember
	geoNoStore
	geoSearch
	geoSearchStore
)

// geoPoint is a member found by a search.
type geoPoint struct {
	member   []byte
	score    float64
	dist     float64
	lon, lat float64
}

// geoQuery is a parsed search.
type geoQuery struct {
	shape                          geoShape
	withDist, withHash, withCoords bool
	sort                           int // 0 none, 1 asc, -1 desc
	any                            bool
	count                          int64
	store                          []byte
	storeDist                      bool
}

// parseGeoSearch parses a search's arguments, as Redis does: the source
// key is read first (a member position needs it), options in any order,
// then the checks of what goes together. exists says whether the source
// holds a sorted set.
func (c *Conn) parseGeoSearch(args [][]byte, flags int, name string) (q geoQuery, exists bool, err error) {
	src := 1
	if flags&geoSearchStore != 0 {
		src = 2
	}
	_, exists, err = c.readCollection(args[src], typeZSet)
	if err != nil {
		return q, false, err
	}
	fail := func(msg string) (geoQuery, bool, error) { return q, false, &clientError{msg} }
	member := func(m []byte) (bool, error) {
		f, ok, err := c.memberScore(args[src], m)
		if err != nil || !ok {
			return false, err
		}
		q.shape.lon, q.shape.lat = geoPosition(f)
		return true, nil
	}
	radius := func(a [][]byte) string {
		r, ok := parseScore(a[0])
		if !ok {
			return "ERR need numeric radius"
		}
		if r < 0 {
			return "ERR radius cannot be negative"
		}
		conv, msg := geoUnit(a[1])
		q.shape.radius, q.shape.conversion = r, conv
		return msg
	}
	base := 0
	switch {
	case flags&geoByCoords != 0:
		base = 6
		var msg string
		if q.shape.lon, q.shape.lat, msg = parseLonLat(args[2:4]); msg != "" {
			return fail(msg)
		}
		if msg := radius(args[4:6]); msg != "" {
			return fail(msg)
		}
	case flags&geoByMember != 0:
		base = 5
		if exists {
			ok, err := member(args[2])
			if err != nil {
				return q, false, err
			}
			if !ok {
				return fail("ERR could not decode requested zset member")
			}
			if msg := radius(args[3:5]); msg != "" {
				return fail(msg)
			}
		}
	default:
		base = src + 1
	}
	var fromMember, fromLoc, byRadius, byBox bool
	rest := args[base:]
	for i := 0; i < len(rest); i++ {
		a, left := rest[i], len(rest)-i-1
		search := flags&geoSearch != 0
		canStore := flags&(geoNoStore|geoSearch) == 0
		switch {
		case eqFold(a, "withdist"):
			q.withDist = true
		case eqFold(a, "withhash"):
			q.withHash = true
		case eqFold(a, "withcoord"):
			q.withCoords = true
		case eqFold(a, "any"):
			q.any = true
		case eqFold(a, "asc"):
			q.sort = 1
		case eqFold(a, "desc"):
			q.sort = -1
		case eqFold(a, "count") && left >= 1:
			n, ok := string2ll(rest[i+1])
			if !ok {
				return fail(errNotInteger)
			}
			if n <= 0 {
				return fail("ERR COUNT must be > 0")
			}
			q.count = n
			i++
		case (eqFold(a, "store") || eqFold(a, "storedist")) && left >= 1 && canStore:
			q.store, q.storeDist = rest[i+1], eqFold(a, "storedist")
			i++
		case eqFold(a, "storedist") && search && flags&geoSearchStore != 0:
			q.storeDist = true
		case eqFold(a, "frommember") && left >= 1 && search && !fromLoc:
			fromMember = true
			if exists {
				ok, err := member(rest[i+1])
				if err != nil {
					return q, false, err
				}
				if !ok {
					return fail("ERR could not decode requested zset member")
				}
			}
			i++
		case eqFold(a, "fromlonlat") && left >= 2 && search && !fromMember:
			var msg string
			if q.shape.lon, q.shape.lat, msg = parseLonLat(rest[i+1 : i+3]); msg != "" {
				return fail(msg)
			}
			fromLoc = true
			i += 2
		case eqFold(a, "byradius") && left >= 2 && search && !byBox:
			if msg := radius(rest[i+1 : i+3]); msg != "" {
				return fail(msg)
			}
			q.shape.box, byRadius = false, true
			i += 2
		case eqFold(a, "bybox") && left >= 3 && search && !byRadius:
			w, ok1 := parseScore(rest[i+1])
			h, ok2 := parseScore(rest[i+2])
			switch {
			case !ok1:
				return fail("ERR need numeric width")
			case !ok2:
				return fail("ERR need numeric height")
			case w < 0 || h < 0:
				return fail("ERR height or width cannot be negative")
			}
			conv, msg := geoUnit(rest[i+3])
			if msg != "" {
				return fail(msg)
			}
			q.shape.box, q.shape.width, q.shape.height, q.shape.conversion = true, w, h, conv
			byBox = true
			i += 3
		default:
			return fail(errSyntax)
		}
	}
	if flags&geoSearchStore != 0 {
		q.store = args[1]
	}
	switch {
	case q.store != nil && (q.withDist || q.withHash || q.withCoords):
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return fail("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
	case flags&geoSearch != 0 && !fromMember && !fromLoc:
		return fail("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + name)
	case flags&geoSearch != 0 && !byRadius && !byBox:
		return fail("ERR exactly one of BYRADIUS and BYBOX can be specified for " + name)
	case q.any && q.count == 0:
		return fail("ERR the ANY argument requires COUNT argument")
	}
	if q.count != 0 && q.sort == 0 && !q.any {
		q.sort = 1 // the closest COUNT: sorted
	}
	return q, exists, nil
}

// geoFind returns the members of the geo set key within the query's shape:
// the score ranges of the cells around the center, read from the index in
// Redis's order, each member checked against the shape (up to count with
// ANY).
func (c *Conn) geoFind(key []byte, q *geoQuery) ([]geoPoint, error) {
	var out []geoPoint
	cells := q.shape.searchCells()
	last := -1
	limit := int64(0)
	if q.any {
		limit = q.count
	}
	for i, cell := range cells {
		if cell.zero() {
			continue
		}
		if last >= 0 && cell == cells[last] {
			continue // a huge radius: the same cell twice
		}
		if limit > 0 && int64(len(out)) >= limit {
			break
		}
		lo, hi := cell.scoreRange()
		start := binary.BigEndian.AppendUint64(nil, replication.SortableScore(lo))
		end := binary.BigEndian.AppendUint64(nil, replication.SortableScore(hi))
		err := c.walkIndex(key, start, end, false, 0, replication.MaxKeysBatch, func(m scoredMember) bool {
			lon, lat := geoPosition(m.score)
			if d, ok := q.shape.within(lon, lat); ok {
				out = append(out, geoPoint{member: m.member, score: m.score, dist: d, lon: lon, lat: lat})
			}
			return limit == 0 || int64(len(out)) < limit
		})
		if err != nil {
			return nil, err
		}
		last = i
	}
	return out, nil
}

// geoSearchCommand implements the searches of the given kind.
func geoSearchCommand(flags int) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		name := string(lowerASCII(args[0]))
		q, exists, err := c.parseGeoSearch(args, flags, name)
		if err != nil {
			c.fail(err)
			return
		}
		src := 1
		if flags&geoSearchStore != 0 {
			src = 2
		}
		var found []geoPoint
		if exists {
			if found, err = c.geoFind(args[src], &q); err != nil {
				c.fail(err)
				return
			}
		}
		if q.sort != 0 {
			slices.SortStableFunc(found, func(a, b geoPoint) int {
				switch {
				case a.dist == b.dist:
					return 0
				case (a.dist > b.dist) == (q.sort > 0):
					return 1
				}
				return -1
			})
		}
		if q.count > 0 && int64(len(found)) > q.count {
			found = found[:q.count]
		}
		for i := range found {
			found[i].dist /= q.shape.conversion
		}
		if q.store != nil {
			ms := make([]scoredMember, len(found))
			for i, p := range found {
				ms[i] = scoredMember{member: p.member, score: p.score}
				if q.storeDist {
					ms[i].score = p.dist
				}
			}
			n, err := c.storeZSet(q.store, ms)
			if c.updateOK(err) {
				c.out.Int(n)
			}
			return
		}
		c.replyGeoPoints(found, &q)
	}
}

// replyGeoPoints replies a search's members, each with what the query asked
// for.
func (c *Conn) replyGeoPoints(found []geoPoint, q *geoQuery) {
	opts := 0
	for _, on := range []bool{q.withDist, q.withHash, q.withCoords} {
		if on {
			opts++
		}
	}
	c.out.Array(len(found))
	for _, p := range found {
		if opts == 0 {
			c.out.Bulk(p.member)
			continue
		}
		c.out.Array(opts + 1)
		c.out.Bulk(p.member)
		if q.withDist {
			c.replyDistance(p.dist)
		}
		if q.withHash {
			c.out.Int(int64(p.score))
		}
		if q.withCoords {
			c.out.Array(2)
			c.replyCoord(p.lon)
			c.replyCoord(p.lat)
		}
	}
}

// lowerASCII returns b in lower case.
func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return out
}
