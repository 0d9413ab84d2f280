package resp

import "testing"

// TestGeo: the GEO commands answer what redis-server 7.0 answers for the
// same positions (the expected replies are redis-server's), with its
// errors.
func TestGeo(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania", "13.583333", "37.316667", "Agrigento"), integer(3)},
		{cmd("TYPE", "Sicily"), simple("zset")},
		{cmd("ZSCORE", "Sicily", "Palermo"), bulk("3479099956230698")},
		{cmd("GEOPOS", "Sicily", "Palermo", "nope"), array(bulks("13.36138933897018433", "38.11555639549629859"), "*-1\r\n")},
		{cmd("GEODIST", "Sicily", "Palermo", "Catania", "km"), bulk("166.2742")},
		{cmd("GEODIST", "Sicily", "Palermo", "nope"), "$-1\r\n"},
		{cmd("GEOHASH", "Sicily", "Palermo", "Catania"), bulks("sqc8b49rny0", "sqdtr74hyu0")},
		{cmd("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST", "WITHHASH", "COUNT", "2"), array(
			array(bulk("Catania"), bulk("56.4413"), integer(3479447370796909), bulks("15.08726745843887329", "37.50266842333162032")),
			array(bulk("Agrigento"), bulk("130.4235"), integer(3479030013248308), bulks("13.5833314061164856", "37.31666804993816555")))},
		{cmd("GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km"), bulks("Agrigento", "Palermo")},
		{cmd("GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "ASC"), integer(3)},
		{cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES"), bulks("Agrigento", "3479030013248308", "Palermo", "3479099956230698", "Catania", "3479447370796909")},
		{cmd("GEORADIUS", "Sicily", "15", "37", "1", "km"), array()},
		{cmd("GEORADIUS", "nokey", "15", "37", "1", "km", "STORE", "dst"), integer(0)},
		{cmd("EXISTS", "dst"), integer(0)},
		// Errors, in Redis's words.
		{cmd("GEOADD", "Sicily", "200", "100", "x"), errReply("ERR invalid longitude,latitude pair 200.000000,100.000000")},
		{cmd("GEOADD", "Sicily", "13.36", "38.11", "x", "1"), errReply("ERR syntax error")},
		{cmd("GEORADIUS", "Sicily", "15", "37", "1", "parsec"), errReply("ERR unsupported unit provided. please use M, KM, FT, MI")},
		{cmd("GEORADIUS", "Sicily", "15", "37", "-1", "km"), errReply("ERR radius cannot be negative")},
		{cmd("GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"), errReply("ERR the ANY argument requires COUNT argument")},
		{cmd("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "x", "WITHDIST"), errReply("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")},
		{cmd("GEOSEARCH", "Sicily", "BYRADIUS", "10", "km", "ASC", "ASC"), errReply("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")},
		{cmd("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "10", "km"), errReply("ERR could not decode requested zset member")},
		{cmd("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"), errReply("ERR syntax error")},
	})
}

// TestZAddRepeatedMember: a member named more than once in one ZADD or
// GEOADD gets its scores one after the other, as in Redis: NX keeps the
// first, GT the greatest, and CH counts every change (redis-server's
// replies).
func TestZAddRepeatedMember(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("ZADD", "z1", "CH", "1", "a", "2", "b", "3", "a"), integer(3)},
		{cmd("ZADD", "z2", "CH", "1", "a", "2", "b", "1", "a"), integer(2)},
		{cmd("ZADD", "z3", "1", "a", "2", "b", "3", "a"), integer(2)},
		{cmd("ZSCORE", "z3", "a"), bulk("3")},
		{cmd("ZADD", "n1", "NX", "1", "a", "2", "a"), integer(1)},
		{cmd("ZSCORE", "n1", "a"), bulk("1")},
		{cmd("ZADD", "n2", "1", "a"), integer(1)},
		{cmd("ZADD", "n2", "GT", "CH", "5", "a", "3", "a"), integer(1)},
		{cmd("ZSCORE", "n2", "a"), bulk("5")},
		{cmd("ZADD", "n2", "XX", "CH", "5", "b", "3", "b"), integer(0)},
		{cmd("GEOADD", "g", "CH", "1", "1", "a", "2", "2", "a", "1", "1", "a"), integer(3)},
		{cmd("ZSCORE", "g", "a"), bulk("3377822707026402")},
	})
}
