package resp

import (
	"slices"
	"strconv"
	"strings"
)

// GEO: positions as sorted-set members whose scores are 52-bit geohashes
// (geohash.go), as in Redis: GEOADD is a ZADD of computed scores, a search
// reads the score ranges of the geohash cells around its center from the
// score index and keeps the members within the shape. Every rule of sorted
// sets holds (a position written through two nodes at once resolves to the
// newest write).

// geoCommands returns the GEO commands' table entries.
func geoCommands() []*command {
	key1 := func(name, since, summary string, arity int, flags []string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: "geo", since: since, summary: summary, args: args, fn: fn}
	}
	ro := []string{"readonly"}
	unit := oneOf("unit", token("M"), token("KM"), token("FT"), token("MI"))
	opts := []argDoc{opt(token("WITHCOORD")), opt(token("WITHDIST")), opt(token("WITHHASH")),
		opt(argDoc{name: "count-block", typ: "block", sub: []argDoc{tokenArg("COUNT", argInt("count")), opt(token("ANY"))}}), opt(oneOf("order", token("ASC"), token("DESC")))}
	stores := []argDoc{opt(tokenArg("STORE", argKey("key"))), opt(tokenArg("STOREDIST", argKey("key")))}
	lonLat := []argDoc{{name: "longitude", typ: "double"}, {name: "latitude", typ: "double"}}
	byRadius := append(append([]argDoc{argKey("key")}, lonLat...), argDoc{name: "radius", typ: "double"}, unit)
	byMember := []argDoc{argKey("key"), argStr("member"), {name: "radius", typ: "double"}, unit}
	search := []argDoc{
		oneOf("from", tokenArg("FROMMEMBER", argStr("member")), argDoc{name: "fromlonlat", typ: "block", token: "FROMLONLAT", sub: lonLat}),
		oneOf("by", argDoc{name: "circle", typ: "block", token: "BYRADIUS", sub: []argDoc{{name: "radius", typ: "double"}, unit}},
			argDoc{name: "box", typ: "block", token: "BYBOX", sub: []argDoc{{name: "width", typ: "double"}, {name: "height", typ: "double"}, unit}}),
	}
	return []*command{
		key1("geoadd", "3.2.0", "Adds one or more members to a geospatial index (a sorted set).", -5, []string{"write", "denyoom"},
			[]argDoc{argKey("key"), opt(oneOf("condition", token("NX"), token("XX"))), opt(token("CH")),
				many(argDoc{name: "data", typ: "block", sub: append(slices.Clone(lonLat), argStr("member"))})}, cmdGeoAdd),
		key1("geopos", "3.2.0", "Returns the longitude and latitude of members.", -2, ro, []argDoc{argKey("key"), opt(many(argStr("member")))}, cmdGeoPos),
		key1("geodist", "3.2.0", "Returns the distance between two members.", -4, ro,
			[]argDoc{argKey("key"), argStr("member1"), argStr("member2"), opt(unit)}, cmdGeoDist),
		key1("geohash", "3.2.0", "Returns members as geohash strings.", -2, ro, []argDoc{argKey("key"), opt(many(argStr("member")))}, cmdGeoHash),
		{name: "georadius", arity: -6, flags: []string{"write", "denyoom", "movablekeys"}, firstKey: 1, lastKey: 1, step: 1, group: "geo", since: "3.2.0",
			summary: "Queries members within a distance of a position, optionally storing them.", args: append(append(byRadius, opts...), stores...), fn: geoSearchCommand(geoByCoords)},
		{name: "georadiusbymember", arity: -5, flags: []string{"write", "denyoom", "movablekeys"}, firstKey: 1, lastKey: 1, step: 1, group: "geo", since: "3.2.0",
			summary: "Queries members within a distance of a member, optionally storing them.", args: append(append(byMember, opts...), stores...), fn: geoSearchCommand(geoByMember)},
		key1("georadius_ro", "3.2.10", "Returns members within a distance of a position.", -6, ro, append(byRadius, opts...), geoSearchCommand(geoByCoords|geoNoStore)),
		key1("georadiusbymember_ro", "3.2.10", "Returns members within a distance of a member.", -5, ro, append(byMember, opts...), geoSearchCommand(geoByMember|geoNoStore)),
		key1("geosearch", "6.2.0", "Queries members inside an area of a box or a circle.", -7, ro, append(append([]argDoc{argKey("key")}, search...), opts...), geoSearchCommand(geoSearch)),
		{name: "geosearchstore", arity: -8, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 2, step: 1, group: "geo", since: "6.2.0",
			summary: "Stores members inside an area of a box or a circle.",
			args:    append(append([]argDoc{argKey("destination"), argKey("source")}, search...), opt(token("STOREDIST"))), fn: geoSearchCommand(geoSearch | geoSearchStore)},
	}
}

// parseLonLat reads a longitude and a latitude, Redis's errors for what is
// no float or out of the ranges.
func parseLonLat(args [][]byte) (lon, lat float64, msg string) {
	lon, ok1 := parseScore(args[0])
	lat, ok2 := parseScore(args[1])
	if !ok1 || !ok2 {
		return 0, 0, errNotFloat
	}
	if lon < geoLonMin || lon > geoLonMax || lat < geoLatMin || lat > geoLatMax {
		return 0, 0, "ERR invalid longitude,latitude pair " + strconv.FormatFloat(lon, 'f', 6, 64) + "," + strconv.FormatFloat(lat, 'f', 6, 64)
	}
	return lon, lat, ""
}

// geoUnit returns the meters in one unit, Redis's error for another.
func geoUnit(b []byte) (float64, string) {
	switch {
	case eqFold(b, "m"):
		return 1, ""
	case eqFold(b, "km"):
		return 1000, ""
	case eqFold(b, "ft"):
		return 0.3048, ""
	case eqFold(b, "mi"):
		return 1609.34, ""
	}
	return 0, "ERR unsupported unit provided. please use M, KM, FT, MI"
}

func cmdGeoAdd(c *Conn, args [][]byte) {
	i := 2
	var fl zaddFlags
flags:
	for ; i < len(args); i++ {
		switch {
		case eqFold(args[i], "nx"):
			fl.nx = true
		case eqFold(args[i], "xx"):
			fl.xx = true
		case eqFold(args[i], "ch"):
			fl.ch = true
		default:
			break flags
		}
	}
	rest := args[i:]
	if len(rest)%3 != 0 || len(rest) == 0 || (fl.nx && fl.xx) {
		c.replyErr(errSyntax)
		return
	}
	pairs := make([][]byte, 0, 2*len(rest)/3)
	scores := make([]float64, 0, len(rest)/3)
	for j := 0; j < len(rest); j += 3 {
		lon, lat, msg := parseLonLat(rest[j:])
		if msg != "" {
			c.replyErr(msg)
			return
		}
		s, _ := geoScore(lon, lat)
		pairs = append(pairs, nil, rest[j+2])
		scores = append(scores, s)
	}
	c.zadd(args[1], pairs, scores, fl)
}

// replyCoord replies a coordinate as Redis does (17 decimals, trailing
// zeros trimmed): a bulk string in RESP2, a double in RESP3.
func (c *Conn) replyCoord(f float64) {
	s := strconv.FormatFloat(f, 'f', 17, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	if c.out.proto == 3 {
		c.out.b = append(append(append(c.out.b, ','), s...), '\r', '\n')
		return
	}
	c.out.BulkString(s)
}

// replyDistance replies a distance with 4 decimals, as Redis does.
func (c *Conn) replyDistance(d float64) {
	c.out.BulkString(strconv.FormatFloat(d, 'f', 4, 64))
}

// geoScores returns the scores of members of the geo set key (ok false for
// a missing member).
func (c *Conn) geoScores(key []byte, members [][]byte) ([]float64, []bool, error) {
	_, exists, err := c.readCollection(key, typeZSet)
	if err != nil {
		return nil, nil, err
	}
	scores, oks := make([]float64, len(members)), make([]bool, len(members))
	for i, m := range members {
		if !exists {
			break
		}
		if scores[i], oks[i], err = c.memberScore(key, m); err != nil {
			return nil, nil, err
		}
	}
	return scores, oks, nil
}

func cmdGeoPos(c *Conn, args [][]byte) {
	scores, oks, err := c.geoScores(args[1], args[2:])
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Array(len(scores))
	for i, s := range scores {
		if !oks[i] {
			c.out.NullArray()
			continue
		}
		lon, lat := geoPosition(s)
		c.out.Array(2)
		c.replyCoord(lon)
		c.replyCoord(lat)
	}
}

func cmdGeoDist(c *Conn, args [][]byte) {
	conv := 1.0
	switch {
	case len(args) == 5:
		var msg string
		if conv, msg = geoUnit(args[4]); msg != "" {
			c.replyErr(msg)
			return
		}
	case len(args) > 5:
		c.replyErr(errSyntax)
		return
	}
	scores, oks, err := c.geoScores(args[1], args[2:4])
	if err != nil {
		c.fail(err)
		return
	}
	if !oks[0] || !oks[1] {
		c.out.Null()
		return
	}
	lon1, lat1 := geoPosition(scores[0])
	lon2, lat2 := geoPosition(scores[1])
	c.replyDistance(geoDistance(lon1, lat1, lon2, lat2) / conv)
}

func cmdGeoHash(c *Conn, args [][]byte) {
	scores, oks, err := c.geoScores(args[1], args[2:])
	if err != nil {
		c.fail(err)
		return
	}
	c.out.Array(len(scores))
	for i, s := range scores {
		if oks[i] {
			c.out.BulkString(geoHashString(s))
		} else {
			c.out.Null()
		}
	}
}
