package resp

import "slices"

// GEO: positions as sorted-set members whose scores are 52-bit geohashes,
// as in Redis: GEOADD is a ZADD of computed scores, a search reads the
// score ranges of the geohash cells around its center from the score index
// and keeps the members within the shape. Every rule of sorted sets holds
// (a position written through two nodes at once resolves to the newest
// write). This file and geo_search.go are the thin layer over sorted sets;
// the arithmetic is package geo's, the arguments are parsed and the
// replies shaped by geo_args*.go, so that each part is tested on its own
// against redis-server.

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
		key1("geopos", "3.2.0", "Returns the longitude and latitude of members.", -2, ro, []argDoc{argKey("key"), opt(many(argStr("member")))}, geoMembersCommand(replyGeoPos)),
		key1("geodist", "3.2.0", "Returns the distance between two members.", -4, ro,
			[]argDoc{argKey("key"), argStr("member1"), argStr("member2"), opt(unit)}, cmdGeoDist),
		key1("geohash", "3.2.0", "Returns members as geohash strings.", -2, ro, []argDoc{argKey("key"), opt(many(argStr("member")))}, geoMembersCommand(replyGeoHash)),
		{name: "georadius", arity: -6, flags: []string{"write", "denyoom", "movablekeys"}, firstKey: 1, lastKey: 1, step: 1, group: "geo", since: "3.2.0",
			summary: "Queries members within a distance of a position, optionally storing them.", args: append(append(byRadius, opts...), stores...), fn: geoSearchCommand(geoRadius)},
		{name: "georadiusbymember", arity: -5, flags: []string{"write", "denyoom", "movablekeys"}, firstKey: 1, lastKey: 1, step: 1, group: "geo", since: "3.2.0",
			summary: "Queries members within a distance of a member, optionally storing them.", args: append(append(byMember, opts...), stores...), fn: geoSearchCommand(geoRadiusByMember)},
		key1("georadius_ro", "3.2.10", "Returns members within a distance of a position.", -6, ro, append(byRadius, opts...), geoSearchCommand(geoRadiusRO)),
		key1("georadiusbymember_ro", "3.2.10", "Returns members within a distance of a member.", -5, ro, append(byMember, opts...), geoSearchCommand(geoRadiusByMemberRO)),
		key1("geosearch", "6.2.0", "Queries members inside an area of a box or a circle.", -7, ro, append(append([]argDoc{argKey("key")}, search...), opts...), geoSearchCommand(geoSearch)),
		{name: "geosearchstore", arity: -8, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 2, step: 1, group: "geo", since: "6.2.0",
			summary: "Stores members inside an area of a box or a circle.",
			args:    append(append([]argDoc{argKey("destination"), argKey("source")}, search...), opt(token("STOREDIST"))), fn: geoSearchCommand(geoSearchStore)},
	}
}

// cmdGeoAdd is ZADD with the scores of the positions: every position is
// checked before the key's type, as Redis checks them before it hands the
// command to ZADD.
func cmdGeoAdd(c *Conn, args [][]byte) {
	a, msg := parseGeoAdd(args)
	if msg != "" {
		c.replyErr(msg)
		return
	}
	pairs := make([][]byte, 0, 2*len(a.members))
	for _, m := range a.members {
		pairs = append(pairs, nil, m) // zadd's (score text, member) pairs; the scores are a.scores
	}
	c.zadd(args[1], pairs, a.scores, zaddFlags{nx: a.nx, xx: a.xx, ch: a.ch})
}

// geoPositions returns the scores of members of the geo set key (found
// false for a missing member, and for all of them when the key is
// missing), after the key's type check.
func (c *Conn) geoPositions(key []byte, members [][]byte) ([]geoPosition, error) {
	_, exists, err := c.readCollection(key, typeZSet)
	if err != nil || !exists {
		return make([]geoPosition, len(members)), err
	}
	pos := make([]geoPosition, len(members))
	for i, m := range members {
		if pos[i].score, pos[i].found, err = c.memberScore(key, m); err != nil {
			return nil, err
		}
	}
	return pos, nil
}

// geoMembersCommand returns GEOPOS or GEOHASH: the members' positions,
// replied by reply.
func geoMembersCommand(reply func(out *Reply, pos []geoPosition)) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		members, msg := parseGeoMembers(args)
		if msg != "" {
			c.replyErr(msg)
			return
		}
		pos, err := c.geoPositions(args[1], members)
		if err != nil {
			c.fail(err)
			return
		}
		reply(&c.out, pos)
	}
}

// cmdGeoDist parses the unit before it reads the key, so a bad unit is
// reported before WRONGTYPE, as in Redis.
func cmdGeoDist(c *Conn, args [][]byte) {
	unit, msg := parseGeoDist(args)
	if msg != "" {
		c.replyErr(msg)
		return
	}
	pos, err := c.geoPositions(args[1], args[2:4])
	if err != nil {
		c.fail(err)
		return
	}
	replyGeoDist(&c.out, pos[0], pos[1], unit)
}
