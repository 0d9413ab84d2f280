package resp

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/geo"
	"github.com/dynakv/dynakv/geo/redistest"
)

// geoModel is a sorted set in memory with the GEO commands on top of the
// parsers, geo.Search and the reply shapes: what the wiring to dynakv's
// sorted sets will do, minus the storage.
type geoModel struct {
	scores map[string]float64
	sorted []string // members by score, then bytes
}

func newGeoModel() *geoModel { return &geoModel{scores: map[string]float64{}} }

func (m *geoModel) set(member string, score float64) {
	m.scores[member] = score
	m.sorted = m.sorted[:0]
	for k := range m.scores {
		m.sorted = append(m.sorted, k)
	}
	slices.SortFunc(m.sorted, func(a, b string) int {
		if sa, sb := m.scores[a], m.scores[b]; sa != sb {
			if sa < sb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
}

func (m *geoModel) reader(min, max float64, fn func([]byte, float64) bool) error {
	i := sort.Search(len(m.sorted), func(i int) bool { return m.scores[m.sorted[i]] >= min })
	for ; i < len(m.sorted) && m.scores[m.sorted[i]] < max; i++ {
		if !fn([]byte(m.sorted[i]), m.scores[m.sorted[i]]) {
			break
		}
	}
	return nil
}

func (m *geoModel) locate(member []byte) (float64, float64, string) {
	s, ok := m.scores[string(member)]
	if !ok {
		return 0, 0, errGeoNoMember
	}
	lon, lat := geo.Decode(s)
	return lon, lat, ""
}

func (m *geoModel) pos(members [][]byte) []geoPosition {
	var out []geoPosition
	for _, b := range members {
		s, ok := m.scores[string(b)]
		out = append(out, geoPosition{ok, s})
	}
	return out
}

var geoSearchKinds = map[string]geoSearchKind{"georadius": geoRadius, "georadius_ro": geoRadiusRO,
	"georadiusbymember": geoRadiusByMember, "georadiusbymember_ro": geoRadiusByMemberRO,
	"geosearch": geoSearch, "geosearchstore": geoSearchStore}

// do runs one command on the model; models (by key) holds the sorted sets,
// an absent key being a missing one.
func geoDo(models map[string]*geoModel, proto int, args [][]byte) []byte {
	out := &Reply{proto: proto}
	name := strings.ToLower(string(args[0]))
	get := func(i int) *geoModel {
		if i < len(args) {
			return models[string(args[i])]
		}
		return nil
	}
	switch name {
	case "geoadd":
		a, err := parseGeoAdd(args)
		if err != "" {
			out.Error(err)
			break
		}
		m := get(1)
		if m == nil {
			m = newGeoModel()
		}
		n := 0
		for i, member := range a.members {
			old, exists := m.scores[string(member)]
			if (a.nx && exists) || (a.xx && !exists) {
				continue
			}
			if !exists || (a.ch && old != a.scores[i]) {
				n++
			}
			m.set(string(member), a.scores[i])
		}
		if len(m.scores) > 0 {
			models[string(args[1])] = m
		}
		out.Int(int64(n))
	case "geopos", "geohash":
		members, err := parseGeoMembers(args)
		if err != "" {
			out.Error(err)
			break
		}
		m := get(1)
		if m == nil {
			m = newGeoModel()
		}
		if name == "geopos" {
			replyGeoPos(out, m.pos(members))
		} else {
			replyGeoHash(out, m.pos(members))
		}
	case "geodist":
		unit, err := parseGeoDist(args)
		if err != "" {
			out.Error(err)
			break
		}
		m := get(1)
		if m == nil {
			out.Null()
			break
		}
		p := m.pos(args[2:4])
		replyGeoDist(out, p[0], p[1], unit)
	default:
		kind := geoSearchKinds[name]
		src := 1
		if kind == geoSearchStore {
			src = 2
		}
		var locate geoLocate
		m := get(src)
		if m != nil {
			locate = m.locate
		}
		a, err := parseGeoSearch(kind, args, locate)
		if err != "" {
			out.Error(err)
			break
		}
		if a.missing {
			if a.store != nil {
				delete(models, string(a.store))
				out.Int(0)
			} else {
				out.Array(0)
			}
			break
		}
		pts, _ := geo.Search(&a.query, m.reader)
		if a.store == nil {
			replyGeoSearch(out, pts, a)
			break
		}
		dest := newGeoModel()
		for _, e := range geoStoreEntries(pts, a.storeDist) {
			dest.set(string(e.member), e.score)
		}
		if len(pts) == 0 {
			delete(models, string(a.store))
		} else {
			models[string(a.store)] = dest
		}
		out.Int(int64(len(pts)))
	}
	return out.Bytes()
}

// geoRandomCommand builds a GEO command from a plausible skeleton, then
// mutates it now and then (a token dropped, replaced, duplicated or
// added), so that most commands are valid and the rest hit every error.
func geoRandomCommand(rng *rand.Rand) []string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	num := func() string {
		if rng.IntN(12) == 0 {
			return pick("abc", "", " 1", "1 ", "-1", "0", "nan", "inf", "-inf", "1e400", "1e-400", "0x10", "0x1p3", "1e", "0x", "1_0", "+5", ".5", "5.")
		}
		return strconv.FormatFloat(rng.Float64()*500, 'f', rng.IntN(4), 64)
	}
	lonlat := func() []string {
		if rng.IntN(8) == 0 {
			return []string{pick("200", "-181", "0", "180", "-180", "abc", "inf"), pick("86", "-85.06", "85.05112878", "0", "abc", "-inf")}
		}
		return []string{strconv.FormatFloat(rng.Float64()*20-10, 'f', 5, 64), strconv.FormatFloat(rng.Float64()*20-10, 'f', 5, 64)}
	}
	member := func() string { return pick("m1", "m2", "m3", "m7", "m40", "nosuch") }
	key := func() string { return pick("g", "g", "g", "nokey") }
	unit := func() string { return pick("m", "km", "KM", "ft", "mi", "Mi", "furlong") }
	radius := func() []string {
		return []string{strconv.FormatFloat(rng.Float64()*rng.Float64()*3000, 'f', 2, 64), pick("km", "km", "mi", "m", "ft")}
	}
	options := func(store, search bool) []string {
		var o []string
		for range rng.IntN(4) {
			switch rng.IntN(7) {
			case 0:
				o = append(o, pick("WITHDIST", "withdist"))
			case 1:
				o = append(o, "WITHHASH")
			case 2:
				o = append(o, "WITHCOORD")
			case 3:
				o = append(o, pick("ASC", "DESC", "desc"))
			case 4:
				o = append(o, "COUNT", pick("1", "3", "10", "0", "-2", "x", "100"))
			case 5:
				o = append(o, "ANY")
			case 6:
				if store {
					o = append(o, pick("STORE", "STOREDIST"), "dest")
				} else if search {
					o = append(o, "STOREDIST")
				}
			}
		}
		return o
	}
	var c []string
	switch rng.IntN(10) {
	case 0:
		c = []string{"GEOADD", pick("ga", "ga", "g2")}
		for range rng.IntN(3) {
			c = append(c, pick("NX", "XX", "CH", "nx", "ch"))
		}
		for range 1 + rng.IntN(3) {
			c = append(c, lonlat()...)
			c = append(c, member())
		}
	case 1:
		c = []string{pick("GEOPOS", "GEOHASH"), key(), member(), member()}
	case 2:
		c = []string{"GEODIST", key(), member(), member()}
		if rng.IntN(2) == 0 {
			c = append(c, unit())
		}
	case 3:
		c = append([]string{pick("GEORADIUS", "GEORADIUS_RO"), key()}, lonlat()...)
		c = append(c, radius()...)
		c = append(c, options(c[0] == "GEORADIUS", false)...)
	case 4:
		c = []string{pick("GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"), key(), member()}
		c = append(c, radius()...)
		c = append(c, options(c[0] == "GEORADIUSBYMEMBER", false)...)
	default:
		c = []string{"GEOSEARCH", key()}
		if rng.IntN(4) == 0 {
			c = []string{"GEOSEARCHSTORE", "dest", key()}
		}
		var parts [][]string
		switch rng.IntN(11) {
		case 0: // neither: an error of its own
		case 1, 2, 3, 4, 5:
			parts = append(parts, []string{"FROMMEMBER", member()})
		default:
			parts = append(parts, append([]string{"FROMLONLAT"}, lonlat()...))
		}
		switch rng.IntN(11) {
		case 0:
		case 1, 2, 3, 4, 5:
			parts = append(parts, append([]string{"BYRADIUS"}, radius()...))
		default:
			parts = append(parts, []string{"BYBOX", num(), num(), unit()})
		}
		parts = append(parts, options(false, c[0] == "GEOSEARCHSTORE"))
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		for _, p := range parts {
			c = append(c, p...)
		}
	}
	if rng.IntN(6) == 0 && len(c) > 2 {
		i := 1 + rng.IntN(len(c)-1)
		switch rng.IntN(4) {
		case 0:
			c = append(c[:i], c[i+1:]...)
		case 1:
			c[i] = pick("FROMMEMBER", "BYBOX", "BYRADIUS", "COUNT", "ANY", "STORE", "x", num(), unit())
		case 2:
			c = slices.Insert(c, i, c[i])
		case 3:
			c = append(c, pick("FROMLONLAT", "BYRADIUS", "x", "COUNT", "1"))
		}
	}
	return c
}

// TestGeoCommandsAsRedis: 6000 random GEO commands (mostly valid, with
// mutations that reach every error) get, through the parsers, geo.Search
// and the reply shapes over an in-memory sorted set, the very bytes
// redis-server replies, in RESP2 and RESP3.
func TestGeoCommandsAsRedis(t *testing.T) {
	r2 := redistest.Start(t, 33000, 33999)
	r3 := redistest.Start(t, 33000, 33999)
	if _, err := r3.Do("HELLO", "3"); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(15, 9))
	models := [2]map[string]*geoModel{{}, {}}
	for i := range 60 {
		args := []string{"GEOADD", "g", strconv.FormatFloat(rng.Float64()*20-10, 'f', 6, 64), strconv.FormatFloat(rng.Float64()*20-10, 'f', 6, 64), "m" + strconv.Itoa(i)}
		for p, r := range []*redistest.Client{r2, r3} {
			if _, err := r.Do(args...); err != nil {
				t.Fatal(err)
			}
			geoDo(models[p], 2, toBytes(args))
		}
	}
	errs, oks := 0, 0
	seen := map[string]int{}
	for n := range 6000 {
		args := geoRandomCommand(rng)
		for p, r := range []*redistest.Client{r2, r3} {
			want, err := r.Do(args...)
			if err != nil {
				t.Fatal(err)
			}
			got := geoDo(models[p], 2+p, toBytes(args))
			if !bytes.Equal(got, want) {
				t.Fatalf("command %d %q (RESP%d):\n got %q\nwant %q", n, args, 2+p, got, want)
			}
			if p == 0 {
				if want[0] == '-' {
					seen[string(want)]++
					errs++
				} else {
					oks++
				}
			}
		}
	}
	t.Logf("6000 commands: %d answers, %d errors of %d different texts", oks, errs, len(seen))
	if errs < 500 || oks < 3000 || len(seen) < 40 {
		t.Fatalf("%d answers, %d errors of %d different texts: the mix exercises too little", oks, errs, len(seen))
	}
}

func toBytes(args []string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// The float arguments' syntax is strtod's, not Go's.
func TestParseRedisDouble(t *testing.T) {
	for s, want := range map[string]string{
		"1": "1", "-1.5": "-1.5", "+2": "2", ".5": "0.5", "5.": "5", "1e3": "1000", "1E-2": "0.01",
		"inf": "+Inf", "-Infinity": "-Inf", "0x10": "16", "0x1p3": "8", "0X.8": "0.5", "4e-320": "4e-320", "-0": "-0",
		"": "err", " 1": "err", "1 ": "err", "nan": "err", "1e400": "err", "1e-400": "err", "0x": "err",
		"1e": "err", "1_0": "err", "0x1_0": "err", "abc": "err", ".": "err", "1e+": "err", "infx": "err", "1\x00": "err",
	} {
		got := "err"
		if v, ok := parseRedisDouble([]byte(s)); ok {
			got = strconv.FormatFloat(v, 'g', -1, 64)
		}
		if got != want {
			t.Errorf("parseRedisDouble(%q) = %s, want %s", s, got, want)
		}
	}
}
