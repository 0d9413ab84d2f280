package resp

import (
	"strings"

	"github.com/dynakv/dynakv/geo"
)

// geoSearchKind is which of the six search commands is parsed: they share
// one parser, as in Redis, and differ in their fixed arguments and in the
// options they allow.
type geoSearchKind int

const (
	geoRadius           geoSearchKind = iota // GEORADIUS key lon lat radius unit ...
	geoRadiusRO                              // GEORADIUS_RO: no STORE
	geoRadiusByMember                        // GEORADIUSBYMEMBER key member radius unit ...
	geoRadiusByMemberRO                      // GEORADIUSBYMEMBER_RO: no STORE
	geoSearch                                // GEOSEARCH key FROMMEMBER|FROMLONLAT BYRADIUS|BYBOX ...
	geoSearchStore                           // GEOSEARCHSTORE dest src ... [STOREDIST]
)

// geoSearchArgs is a parsed search.
type geoSearchArgs struct {
	key       []byte // the source sorted set
	store     []byte // the destination of a store, or nil
	storeDist bool   // store distances rather than geohashes
	query     geo.Query
	withDist  bool
	withHash  bool
	withCoord bool
	// missing: the source does not exist (locate was nil); the reply is an
	// empty array, or for a store 0 after deleting the destination.
	missing bool
}

// geoLocate returns the position of a member of the source sorted set (its
// score decoded), or the error to reply: errGeoNoMember for a member the
// set lacks.
type geoLocate func(member []byte) (lon, lat float64, err string)

// parseGeoSearch parses the arguments of a search command the way Redis
// does, so that the first error Redis meets is the one returned. locate is
// nil when the source key does not exist; Redis then parses everything
// but looks nothing up (GEORADIUSBYMEMBER does not even read its radius)
// and answers as for an empty set. The member of FROMMEMBER and
// GEORADIUSBYMEMBER is looked up where it is met, so a missing member is
// reported before a later syntax error, as there.
func parseGeoSearch(kind geoSearchKind, args [][]byte, locate geoLocate) (*geoSearchArgs, string) {
	minArgs := map[geoSearchKind]int{geoRadius: 6, geoRadiusRO: 6, geoRadiusByMember: 5, geoRadiusByMemberRO: 5, geoSearch: 7, geoSearchStore: 8}[kind]
	if len(args) < minArgs {
		return nil, geoArityErr(args)
	}
	a := &geoSearchArgs{key: args[1], missing: locate == nil}
	sh := &a.query.Shape
	var base int
	var err string
	switch kind {
	case geoRadius, geoRadiusRO:
		base = 6
		if sh.Lon, sh.Lat, err = geoLonLat(args[2], args[3]); err != "" {
			return nil, err
		}
		if err = geoRadiusArgs(sh, args[4], args[5]); err != "" {
			return nil, err
		}
	case geoRadiusByMember, geoRadiusByMemberRO:
		base = 5
		if locate != nil {
			if sh.Lon, sh.Lat, err = locate(args[2]); err != "" {
				return nil, err
			}
			if err = geoRadiusArgs(sh, args[3], args[4]); err != "" {
				return nil, err
			}
		}
	case geoSearch:
		base = 2
	case geoSearchStore:
		base, a.key, a.store = 3, args[2], args[1]
	}
	search := kind == geoSearch || kind == geoSearchStore
	canStore := kind == geoRadius || kind == geoRadiusByMember
	var fromMember, fromLonLat, byRadius, byBox bool
	rest := args[base:]
	for i := 0; i < len(rest); i++ {
		left := len(rest) - i - 1 // arguments after this one
		switch arg := strings.ToLower(string(rest[i])); {
		case arg == "withdist":
			a.withDist = true
		case arg == "withhash":
			a.withHash = true
		case arg == "withcoord":
			a.withCoord = true
		case arg == "any":
			a.query.Any = true
		case arg == "asc":
			a.query.Order = geo.Asc
		case arg == "desc":
			a.query.Order = geo.Desc
		case arg == "count" && left >= 1:
			n, ok := string2ll(rest[i+1])
			if !ok {
				return nil, errNotInteger
			}
			if n <= 0 {
				return nil, errGeoCount
			}
			a.query.Count = n
			i++
		case (arg == "store" || arg == "storedist") && left >= 1 && canStore:
			a.store, a.storeDist = rest[i+1], arg == "storedist"
			i++
		case arg == "storedist" && kind == geoSearchStore:
			a.storeDist = true
		case arg == "frommember" && left >= 1 && search && !fromLonLat:
			if locate != nil {
				if sh.Lon, sh.Lat, err = locate(rest[i+1]); err != "" {
					return nil, err
				}
			}
			fromMember = true
			i++
		case arg == "fromlonlat" && left >= 2 && search && !fromMember:
			if sh.Lon, sh.Lat, err = geoLonLat(rest[i+1], rest[i+2]); err != "" {
				return nil, err
			}
			fromLonLat = true
			i += 2
		case arg == "byradius" && left >= 2 && search && !byBox:
			if err = geoRadiusArgs(sh, rest[i+1], rest[i+2]); err != "" {
				return nil, err
			}
			byRadius = true
			i += 2
		case arg == "bybox" && left >= 3 && search && !byRadius:
			if err = geoBoxArgs(sh, rest[i+1], rest[i+2], rest[i+3]); err != "" {
				return nil, err
			}
			byBox = true
			i += 3
		default:
			return nil, errSyntax
		}
	}
	if a.store != nil && (a.withDist || a.withHash || a.withCoord) {
		what := "STORE option in GEORADIUS"
		if kind == geoSearchStore {
			what = "GEOSEARCHSTORE"
		}
		return nil, "ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
	}
	if search && !fromMember && !fromLonLat {
		return nil, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0])
	}
	if search && !byRadius && !byBox {
		return nil, "ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0])
	}
	if a.query.Any && a.query.Count == 0 {
		return nil, errGeoAny
	}
	return a, ""
}

// geoRadiusArgs parses a radius and its unit into sh.
func geoRadiusArgs(sh *geo.Shape, radius, unit []byte) string {
	r, ok := parseRedisDouble(radius)
	if !ok {
		return errGeoRadius
	}
	if r < 0 {
		return errGeoNegRadius
	}
	m, err := geoUnit(unit)
	if err != "" {
		return err
	}
	sh.Box, sh.Radius, sh.UnitMeters = false, r, m
	return ""
}

// geoBoxArgs parses a box's width, height and unit into sh.
func geoBoxArgs(sh *geo.Shape, width, height, unit []byte) string {
	w, ok := parseRedisDouble(width)
	if !ok {
		return errGeoWidth
	}
	h, ok := parseRedisDouble(height)
	if !ok {
		return errGeoHeight
	}
	if w < 0 || h < 0 {
		return errGeoNegBox
	}
	m, err := geoUnit(unit)
	if err != "" {
		return err
	}
	sh.Box, sh.Width, sh.Height, sh.UnitMeters = true, w, h, m
	return ""
}
