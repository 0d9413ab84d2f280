package resp

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/geo"
)

// The GEO parsers' fuzz targets: arbitrary argument lists (split from the
// fuzzed text at NUL bytes) never panic, and what a parser accepts is
// consistent: an error is one line starting with "ERR ", a parsed request
// holds only valid positions, non-negative sizes and a known unit. Run one
// with e.g. go test ./resp -run '^$' -fuzz FuzzParseGeoSearch -fuzztime 30s.

func fuzzArgs(cmd, text string) [][]byte {
	args := [][]byte{[]byte(cmd)}
	if text != "" {
		for _, a := range strings.Split(text, "\x00") {
			args = append(args, []byte(a))
		}
	}
	return args
}

func checkGeoErr(t *testing.T, err string) {
	if err != "" && (!strings.HasPrefix(err, "ERR ") || strings.ContainsAny(err, "\r\n")) {
		t.Fatalf("malformed error %q", err)
	}
}

func FuzzParseGeoAdd(f *testing.F) {
	for _, s := range []string{"k\x00NX\x001\x002\x00m", "k\x00XX\x00CH\x00200\x000\x00m", "k\x001\x002", "k\x00ch\x00ch\x00ch", "k\x000x10\x00inf\x00m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, err := parseGeoAdd(fuzzArgs("GEOADD", text))
		checkGeoErr(t, err)
		if err != "" {
			return
		}
		if a.nx && a.xx || len(a.members) == 0 || len(a.members) != len(a.scores) {
			t.Fatalf("accepted %+v", a)
		}
		for _, s := range a.scores {
			if s < 0 || s > 1<<54 || s != math.Trunc(s) {
				t.Fatalf("score %v", s)
			}
		}
	})
}

func FuzzParseGeoDist(f *testing.F) {
	for _, s := range []string{"k\x00a\x00b", "k\x00a\x00b\x00km", "k\x00a\x00b\x00x", "k\x00a\x00b\x00m\x00m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := parseGeoDist(fuzzArgs("GEODIST", text))
		checkGeoErr(t, err)
		if err == "" && m != 1 && m != 1000 && m != 0.3048 && m != 1609.34 {
			t.Fatalf("unit %v", m)
		}
	})
}

func FuzzParseGeoMembers(f *testing.F) {
	f.Add("k\x00a\x00b")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		args := fuzzArgs("GEOPOS", text)
		members, err := parseGeoMembers(args)
		checkGeoErr(t, err)
		if err == "" && len(members) != len(args)-2 {
			t.Fatalf("%d members of %d arguments", len(members), len(args))
		}
	})
}

func FuzzParseGeoSearch(f *testing.F) {
	for _, s := range []string{
		"\x00k\x00FROMMEMBER\x00m\x00BYRADIUS\x0010\x00km\x00WITHDIST\x00COUNT\x003\x00ANY",
		"\x00k\x00FROMLONLAT\x001\x002\x00BYBOX\x001\x002\x00mi\x00DESC",
		"\x05dest\x00k\x00FROMLONLAT\x001\x002\x00BYBOX\x001\x002\x00mi\x00STOREDIST",
		"\x01k\x0013\x0038\x00200\x00km\x00STORE\x00d",
		"\x02k\x00m\x00100\x00ft\x00WITHCOORD\x00WITHHASH",
		"\x03k\x00m\x00100\x00ft\x00STORE\x00x",
	} {
		f.Add(s)
	}
	kinds := []string{"GEOSEARCH", "GEORADIUS", "GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO", "GEORADIUS_RO", "GEOSEARCHSTORE"}
	kindOf := []geoSearchKind{geoSearch, geoRadius, geoRadiusByMember, geoRadiusByMemberRO, geoRadiusRO, geoSearchStore}
	f.Fuzz(func(t *testing.T, text string) {
		if text == "" {
			return
		}
		// The first byte picks the command, and whether the key exists.
		k := int(text[0]) % len(kinds)
		exists := text[0]&0x80 == 0
		var locate geoLocate
		if exists {
			locate = func(m []byte) (float64, float64, string) {
				if bytes.Equal(m, []byte("nosuch")) {
					return 0, 0, errGeoNoMember
				}
				return 13.36, 38.11, ""
			}
		}
		a, err := parseGeoSearch(kindOf[k], fuzzArgs(kinds[k], text[1:]), locate)
		checkGeoErr(t, err)
		if err != "" {
			return
		}
		sh := a.query.Shape
		switch {
		case a.missing == exists:
			t.Fatalf("missing=%v for a key that exists=%v", a.missing, exists)
		case a.store != nil && (a.withDist || a.withHash || a.withCoord):
			t.Fatalf("a store with WITH options: %+v", a)
		case a.query.Any && a.query.Count == 0, a.query.Count < 0:
			t.Fatalf("count %d any %v", a.query.Count, a.query.Any)
		case !a.missing && (!geo.Valid(sh.Lon, sh.Lat) || sh.UnitMeters <= 0 || sh.Radius < 0 || sh.Width < 0 || sh.Height < 0):
			t.Fatalf("shape %+v", sh)
		case kindOf[k] == geoRadiusRO || kindOf[k] == geoRadiusByMemberRO:
			if a.store != nil {
				t.Fatalf("a read-only search stores: %+v", a)
			}
		}
		if !a.missing {
			// The search runs on what the parser accepted, on an empty set.
			if _, err := geo.Search(&a.query, func(float64, float64, func([]byte, float64) bool) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParseRedisDouble(f *testing.F) {
	for _, s := range []string{"1", "-1.5e3", "inf", "0x1p3", "nan", "1e400", " 1", "0x", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseRedisDouble([]byte(s))
		if ok && math.IsNaN(v) {
			t.Fatalf("%q parsed as NaN", s)
		}
		if ok && (s == "" || strings.ContainsAny(s[:1], " \t\n\v\f\r")) {
			t.Fatalf("%q accepted", s)
		}
	})
}
