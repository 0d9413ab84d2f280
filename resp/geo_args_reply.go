package resp

import "github.com/dynakv/dynakv/geo"

// The GEO commands' replies, shaped as redis-server 7.0 shapes them.

// geoCoord appends a longitude or latitude: a bulk string in RESP2, a
// double in RESP3, with GEOPOS's 17-decimal formatting in both.
func (r *Reply) geoCoord(v float64) {
	s := geo.FormatCoord(v)
	if r.proto == 3 {
		r.b = append(r.b, ',')
		r.b = append(r.b, s...)
		r.b = append(r.b, '\r', '\n')
		return
	}
	r.BulkString(s)
}

// geoPosition is what GEOPOS found for one member: its score, if any.
type geoPosition struct {
	found bool
	score float64
}

// replyGeoPos replies GEOPOS: per member its [longitude, latitude], or a
// null array for a member (or key) that does not exist.
func replyGeoPos(out *Reply, pos []geoPosition) {
	out.Array(len(pos))
	for _, p := range pos {
		if !p.found {
			out.NullArray()
			continue
		}
		lon, lat := geo.Decode(p.score)
		out.Array(2)
		out.geoCoord(lon)
		out.geoCoord(lat)
	}
}

// replyGeoHash replies GEOHASH: per member its 11-character geohash, or a
// null bulk string.
func replyGeoHash(out *Reply, pos []geoPosition) {
	out.Array(len(pos))
	for _, p := range pos {
		if !p.found {
			out.Null()
			continue
		}
		out.BulkString(geo.Hash(p.score))
	}
}

// replyGeoDist replies GEODIST: the distance between the two scores in the
// unit of unitMeters, or null if either member (or the key) is missing.
func replyGeoDist(out *Reply, s1, s2 geoPosition, unitMeters float64) {
	if !s1.found || !s2.found {
		out.Null()
		return
	}
	lon1, lat1 := geo.Decode(s1.score)
	lon2, lat2 := geo.Decode(s2.score)
	out.BulkString(geo.FormatDistance(geo.Distance(lon1, lat1, lon2, lat2) / unitMeters))
}

// replyGeoSearch replies a search's results (geo.Search's, distances in
// the query's unit): the members alone, or per member an array of the
// member, then as asked its distance (bulk, four decimals), its geohash
// score (integer) and its [longitude, latitude], in that order whatever
// the options' order.
func replyGeoSearch(out *Reply, pts []geo.Point, a *geoSearchArgs) {
	out.Array(len(pts))
	extra := 0
	for _, w := range []bool{a.withDist, a.withHash, a.withCoord} {
		if w {
			extra++
		}
	}
	for _, p := range pts {
		if extra == 0 {
			out.Bulk(p.Member)
			continue
		}
		out.Array(1 + extra)
		out.Bulk(p.Member)
		if a.withDist {
			out.BulkString(geo.FormatDistance(p.Dist))
		}
		if a.withHash {
			out.Int(geo.ScoreInt(p.Score))
		}
		if a.withCoord {
			out.Array(2)
			out.geoCoord(p.Lon)
			out.geoCoord(p.Lat)
		}
	}
}

// geoStoreEntries returns what a GEORADIUS STORE / GEOSEARCHSTORE writes:
// each result with its geohash score, or with STOREDIST its distance in
// the query's unit.
func geoStoreEntries(pts []geo.Point, storeDist bool) []scoredMember {
	out := make([]scoredMember, len(pts))
	for i, p := range pts {
		out[i] = scoredMember{member: p.Member, score: p.Score}
		if storeDist {
			out[i].score = p.Dist
		}
	}
	return out
}
