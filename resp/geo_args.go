package resp

import (
	"strings"

	"github.com/dynakv/dynakv/geo"
)

// The GEO commands' arguments, parsed as redis-server 7.0 parses them and
// refused with its errors in the order it finds them. geo.go and
// geo_search.go wire them to sorted sets:
//
//   - GEOADD key [NX|XX] [CH] lon lat member ...: parseGeoAdd, then the
//     ZADD path with score float64(geo.Encode(lon, lat)) per member and the
//     same flags (GEOADD is ZADD with computed scores; its reply is ZADD's).
//   - GEOPOS / GEOHASH key member ...: the collection's type check (key
//     absent: every member nil), then ZSCORE of each member;
//     replyGeoPos / replyGeoHash.
//   - GEODIST key m1 m2 [unit]: parseGeoDist before the key is read (its
//     unit error comes before WRONGTYPE, as in Redis); a missing key
//     replies nil; two ZSCOREs; replyGeoDist.
//   - GEOSEARCH, GEOSEARCHSTORE, GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO]:
//     the source's type check first (WRONGTYPE comes before every argument
//     error), then parseGeoSearch with a locate function doing ZSCORE of
//     the FROMMEMBER / BYMEMBER member (nil when the key is absent: Redis
//     then skips the lookup). args.missing: reply an empty array, or for a
//     store delete the destination and reply 0. Otherwise geo.Search with a
//     RangeReader that walks the sorted set's score index over [min, max)
//     in score order (members with equal scores by member bytes) and stops
//     when told; at most nine such walks per search. replyGeoSearch for the
//     reply; for a store, the destination is replaced by a sorted set of
//     geoStoreEntries (score = geohash, or the distance with STOREDIST),
//     deleted if there are none, and the reply is their number.

// Redis's errors for the GEO commands' arguments.
const (
	errGeoNoMember  = "ERR could not decode requested zset member"
	errGeoUnit      = "ERR unsupported unit provided. please use M, KM, FT, MI"
	errGeoRadius    = "ERR need numeric radius"
	errGeoNegRadius = "ERR radius cannot be negative"
	errGeoWidth     = "ERR need numeric width"
	errGeoHeight    = "ERR need numeric height"
	errGeoNegBox    = "ERR height or width cannot be negative"
	errGeoCount     = "ERR COUNT must be > 0"
	errGeoAny       = "ERR the ANY argument requires COUNT argument"
)

// geoArityErr is the arity error of a command given fewer arguments than
// it takes (the table checks this before a handler runs; the parsers check
// again so that they stand alone).
func geoArityErr(args [][]byte) string {
	return "ERR wrong number of arguments for '" + strings.ToLower(string(args[0])) + "' command"
}

// geoLonLat parses a longitude and a latitude, refusing a pair out of
// Redis's range with its "%f,%f" wording.
func geoLonLat(lon, lat []byte) (float64, float64, string) {
	x, ok := parseRedisDouble(lon)
	if !ok {
		return 0, 0, errNotFloat
	}
	y, ok := parseRedisDouble(lat)
	if !ok {
		return 0, 0, errNotFloat
	}
	if !geo.Valid(x, y) {
		return 0, 0, "ERR invalid longitude,latitude pair " + geo.FormatFixed(x, 6) + "," + geo.FormatFixed(y, 6)
	}
	return x, y, ""
}

// geoUnit parses a distance unit into metres.
func geoUnit(b []byte) (float64, string) {
	if m, ok := geo.Unit(b); ok {
		return m, ""
	}
	return 0, errGeoUnit
}

// geoAddArgs is a parsed GEOADD.
type geoAddArgs struct {
	nx, xx, ch bool
	members    [][]byte
	scores     []float64
}

// parseGeoAdd parses GEOADD key [NX|XX] [CH] lon lat member [lon lat
// member ...]: the flags in any order and number, then whole triples
// (anything else, or NX with XX, is a syntax error), every position
// checked before anything is written.
func parseGeoAdd(args [][]byte) (*geoAddArgs, string) {
	if len(args) < 5 {
		return nil, geoArityErr(args)
	}
	a := &geoAddArgs{}
	i := 2
flags:
	for ; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "nx":
			a.nx = true
		case "xx":
			a.xx = true
		case "ch":
			a.ch = true
		default:
			break flags
		}
	}
	if (len(args)-i)%3 != 0 || (a.nx && a.xx) || i == len(args) {
		return nil, errSyntax
	}
	for ; i < len(args); i += 3 {
		lon, lat, err := geoLonLat(args[i], args[i+1])
		if err != "" {
			return nil, err
		}
		score, _ := geo.Encode(lon, lat)
		a.members = append(a.members, args[i+2])
		a.scores = append(a.scores, float64(score))
	}
	return a, ""
}

// parseGeoDist parses GEODIST key member1 member2 [unit] into the unit's
// metres (1 without one).
func parseGeoDist(args [][]byte) (float64, string) {
	switch {
	case len(args) < 4:
		return 0, geoArityErr(args)
	case len(args) == 5:
		return geoUnit(args[4])
	case len(args) > 5:
		return 0, errSyntax
	}
	return 1, ""
}

// parseGeoMembers checks GEOPOS's and GEOHASH's arguments (key and any
// number of members) and returns the members.
func parseGeoMembers(args [][]byte) ([][]byte, string) {
	if len(args) < 2 {
		return nil, geoArityErr(args)
	}
	return args[2:], ""
}
