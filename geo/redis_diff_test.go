package geo

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/dynakv/dynakv/geo/redistest"
)

// queries is the number of random searches TestSearchAsRedis compares
// (more for a longer hunt: go test ./geo -run SearchAsRedis -geo.queries 20000).
var queries = flag.Int("geo.queries", 1500, "random GEOSEARCH queries compared with redis-server")

// zmember is one member of the in-memory sorted set the differential tests
// search: what a score-index walk returns.
type zmember struct {
	score  float64
	member []byte
}

// zset is a sorted set kept as a slice in score order, equal scores by
// member bytes (Redis's order).
type zset []zmember

func (z *zset) add(member string, score float64) {
	*z = append(*z, zmember{score, []byte(member)})
}

func (z zset) sort() {
	slices.SortFunc(z, func(a, b zmember) int {
		if c := cmpFloat(a.score, b.score); c != 0 {
			return c
		}
		return bytes.Compare(a.member, b.member)
	})
}

// reader is the RangeReader over z.
func (z zset) reader() RangeReader {
	return func(min, max float64, fn func([]byte, float64) bool) error {
		i := sort.Search(len(z), func(i int) bool { return z[i].score >= min })
		for ; i < len(z) && z[i].score < max; i++ {
			if !fn(z[i].member, z[i].score) {
				break
			}
		}
		return nil
	}
}

// randomPoints returns n positions that exercise the geohash: uniform ones,
// clusters (so small searches find many members), the poles' and the
// antimeridian's neighbourhoods, and the limits themselves.
func randomPoints(rng *rand.Rand, n int) [][2]float64 {
	pts := [][2]float64{{0, 0}, {180, 0}, {-180, 0}, {0, LatMax}, {0, LatMin}, {180, LatMax}, {-180, LatMin},
		{179.9999999, 85.05112877}, {13.361389, 38.115556}, {15.087269, 37.502669}}
	uniform := func() [2]float64 { return [2]float64{rng.Float64()*360 - 180, rng.Float64()*2*LatMax - LatMax} }
	clamp := func(p [2]float64) [2]float64 {
		return [2]float64{min(max(p[0], LonMin), LonMax), min(max(p[1], LatMin), LatMax)}
	}
	var centres [][2]float64
	for range 30 {
		centres = append(centres, uniform())
	}
	centres = append(centres, [2]float64{179.99, 10}, [2]float64{-179.99, -10}, [2]float64{0, 84.9}, [2]float64{100, -84.9}, [2]float64{0.0001, 0.0001})
	for len(pts) < n {
		switch rng.IntN(4) {
		case 0:
			pts = append(pts, uniform())
		case 1, 2:
			c := centres[rng.IntN(len(centres))]
			spread := math.Pow(10, -rng.Float64()*4) // 1 degree down to 0.0001
			pts = append(pts, clamp([2]float64{c[0] + rng.NormFloat64()*spread, c[1] + rng.NormFloat64()*spread}))
		case 3:
			if rng.IntN(2) == 0 {
				pts = append(pts, [2]float64{rng.Float64()*360 - 180, LatMax - rng.Float64()*6})
			} else {
				pts = append(pts, [2]float64{180 - rng.Float64()*2, rng.Float64()*2*LatMax - LatMax})
			}
		}
	}
	return pts
}

func fmtArg(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// do sends one command to redis-server and returns its parsed reply,
// failing t on an error reply.
func do(t *testing.T, r *redistest.Client, args ...string) redistest.Value {
	t.Helper()
	raw, err := r.Do(args...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := redistest.Parse(raw)
	if err != nil {
		t.Fatalf("%v in %q", err, raw)
	}
	if v.Kind == '-' {
		t.Fatalf("redis-server: %s", v.Str)
	}
	return v
}

// TestScoresPositionsHashesAsRedis: for 3000 positions GEOADD's score
// (ZSCORE), GEOPOS's decoded position and GEOHASH's string equal
// redis-server's; so do the positions and strings of scores no GEOADD
// writes (ZADD's negative, fractional, huge and infinite scores), and
// GEODIST between 2000 random pairs in every unit.
func TestScoresPositionsHashesAsRedis(t *testing.T) {
	r := redistest.Start(t, 33000, 33999)
	rng := rand.New(rand.NewPCG(15, 33))
	pts := randomPoints(rng, 3000)
	var scores []float64
	for i := 0; i < len(pts); i += 100 {
		args := []string{"GEOADD", "g"}
		for j := i; j < min(i+100, len(pts)); j++ {
			args = append(args, fmtArg(pts[j][0]), fmtArg(pts[j][1]), "p"+strconv.Itoa(j))
		}
		do(t, r, args...)
	}
	for i, p := range pts {
		m := "p" + strconv.Itoa(i)
		s, ok := Encode(p[0], p[1])
		if !ok {
			t.Fatalf("Encode(%v) refused", p)
		}
		scores = append(scores, float64(s))
		v := do(t, r, "ZSCORE", "g", m)
		if want, _ := strconv.ParseFloat(v.Str, 64); want != float64(s) {
			t.Fatalf("score of %v: %d, redis-server %s", p, s, v.Str)
		}
		checkPosHash(t, r, "g", m, float64(s))
	}

	// Scores GEOADD never writes.
	weird := []string{"-1", "1.5", "0", "4503599627370495", "4503599627370496", "9007199254740993", "1152921504606846976",
		"9223372036854775808", "18446744073709551616", "1e300", "-1e300", "inf", "-inf", "-9223372036854775808", "-0.5", "3.9e15"}
	for i, w := range weird {
		m := "w" + strconv.Itoa(i)
		do(t, r, "ZADD", "w", w, m)
		f, _ := strconv.ParseFloat(w, 64)
		checkPosHash(t, r, "w", m, f)
	}

	// Distances.
	units := []string{"m", "km", "ft", "mi", "KM"}
	for range 2000 {
		a, b := rng.IntN(len(pts)), rng.IntN(len(pts))
		if rng.IntN(10) == 0 {
			b = a
		}
		u := units[rng.IntN(len(units))]
		v := do(t, r, "GEODIST", "g", "p"+strconv.Itoa(a), "p"+strconv.Itoa(b), u)
		lon1, lat1 := Decode(scores[a])
		lon2, lat2 := Decode(scores[b])
		m, _ := Unit([]byte(u))
		if got := FormatDistance(Distance(lon1, lat1, lon2, lat2) / m); got != v.Str {
			t.Fatalf("GEODIST %v %v %s: %s, redis-server %s", pts[a], pts[b], u, got, v.Str)
		}
	}
}

// checkPosHash compares GEOPOS and GEOHASH of member m (of the given
// score) with Decode and Hash.
func checkPosHash(t *testing.T, r *redistest.Client, key, m string, score float64) {
	t.Helper()
	v := do(t, r, "GEOPOS", key, m)
	lon, lat := Decode(score)
	if len(v.Arr) != 1 || len(v.Arr[0].Arr) != 2 {
		t.Fatalf("GEOPOS %s: %+v", m, v)
	}
	if got, want := FormatCoord(lon)+" "+FormatCoord(lat), v.Arr[0].Arr[0].Str+" "+v.Arr[0].Arr[1].Str; got != want {
		t.Fatalf("position of score %v: %s, redis-server %s", score, got, want)
	}
	v = do(t, r, "GEOHASH", key, m)
	if got := Hash(score); len(v.Arr) != 1 || v.Arr[0].Str != got {
		t.Fatalf("geohash of score %v: %s, redis-server %+v", score, got, v)
	}
}

// TestSearchAsRedis: 1500 random GEOSEARCH queries (circles and boxes from
// a metre to past half the earth, in every unit, from a position or a
// member, unsorted, ASC or DESC, with COUNT and ANY) answer the members
// redis-server answers, in its order, with its distances, hashes and
// coordinates.
func TestSearchAsRedis(t *testing.T) {
	r := redistest.Start(t, 33000, 33999)
	rng := rand.New(rand.NewPCG(7, 15))
	pts := randomPoints(rng, 3000)
	var z zset
	for i := 0; i < len(pts); i += 100 {
		args := []string{"GEOADD", "g"}
		for j := i; j < min(i+100, len(pts)); j++ {
			m := "p" + strconv.Itoa(j)
			args = append(args, fmtArg(pts[j][0]), fmtArg(pts[j][1]), m)
			s, _ := Encode(pts[j][0], pts[j][1])
			z.add(m, float64(s))
		}
		do(t, r, args...)
	}
	z.sort()

	units := []string{"m", "km", "ft", "mi"}
	var nonEmpty, results int
	for n := range *queries {
		var q Query
		args := []string{"GEOSEARCH", "g"}
		i := rng.IntN(len(pts))
		if rng.IntN(3) == 0 {
			q.Shape.Lon, q.Shape.Lat = Decode(z[slices.IndexFunc(z, func(e zmember) bool { return string(e.member) == "p"+strconv.Itoa(i) })].score)
			args = append(args, "FROMMEMBER", "p"+strconv.Itoa(i))
		} else {
			q.Shape.Lon = min(max(pts[i][0]+rng.NormFloat64()*0.01, LonMin), LonMax)
			q.Shape.Lat = min(max(pts[i][1]+rng.NormFloat64()*0.01, LatMin), LatMax)
			args = append(args, "FROMLONLAT", fmtArg(q.Shape.Lon), fmtArg(q.Shape.Lat))
		}
		u := units[rng.IntN(len(units))]
		q.Shape.UnitMeters, _ = Unit([]byte(u))
		size := func() float64 {
			if rng.IntN(50) == 0 {
				return 0
			}
			return math.Pow(10, rng.Float64()*7.5) / q.Shape.UnitMeters // 1 m to 30,000 km
		}
		if rng.IntN(2) == 0 {
			q.Shape.Radius = size()
			args = append(args, "BYRADIUS", fmtArg(q.Shape.Radius), u)
		} else {
			q.Shape.Box, q.Shape.Width, q.Shape.Height = true, size(), size()
			if rng.IntN(3) == 0 {
				q.Shape.Height = q.Shape.Width * (0.5 + rng.Float64())
			}
			args = append(args, "BYBOX", fmtArg(q.Shape.Width), fmtArg(q.Shape.Height), u)
		}
		switch rng.IntN(3) {
		case 1:
			q.Order = Asc
			args = append(args, "ASC")
		case 2:
			q.Order = Desc
			args = append(args, "DESC")
		}
		if rng.IntN(3) == 0 {
			q.Count = 1 + rng.Int64N(30)
			args = append(args, "COUNT", strconv.FormatInt(q.Count, 10))
			if rng.IntN(2) == 0 {
				q.Any = true
				args = append(args, "ANY")
			}
		}
		args = append(args, "WITHDIST", "WITHHASH", "WITHCOORD")
		v := do(t, r, args...)
		got, err := Search(&q, z.reader())
		if err != nil {
			t.Fatal(err)
		}
		if msg := compareSearch(got, v); msg != "" {
			t.Fatalf("query %d %q: %s\ngot %d results, redis-server %d", n, args, msg, len(got), len(v.Arr))
		}
		if len(got) > 0 {
			nonEmpty++
		}
		results += len(got)
	}
	t.Logf("%d queries, %d with results, %d results in all", *queries, nonEmpty, results)
	if nonEmpty < *queries/3 {
		t.Fatalf("only %d of %d queries found anything: the test exercises too little", nonEmpty, *queries)
	}
}

// compareSearch compares Search's results with redis-server's reply to
// GEOSEARCH ... WITHDIST WITHHASH WITHCOORD, or describes the difference.
// Members at exactly the same distance may come in either order (Redis's
// sort is not stable), so a run of equal distances is compared as a set.
func compareSearch(got []Point, v redistest.Value) string {
	if len(got) != len(v.Arr) {
		return fmt.Sprintf("%d results, redis-server %d", len(got), len(v.Arr))
	}
	line := func(p Point) string {
		return fmt.Sprintf("%s %s %d %s %s", p.Member, FormatDistance(p.Dist), ScoreInt(p.Score), FormatCoord(p.Lon), FormatCoord(p.Lat))
	}
	want := make([]string, len(v.Arr))
	for i, e := range v.Arr {
		if len(e.Arr) != 4 || len(e.Arr[3].Arr) != 2 {
			return fmt.Sprintf("unexpected element %+v", e)
		}
		want[i] = fmt.Sprintf("%s %s %d %s %s", e.Arr[0].Str, e.Arr[1].Str, e.Arr[2].Int, e.Arr[3].Arr[0].Str, e.Arr[3].Arr[1].Str)
	}
	for i := 0; i < len(got); {
		j := i + 1
		for j < len(got) && got[j].Dist == got[i].Dist {
			j++
		}
		var g []string
		for _, p := range got[i:j] {
			g = append(g, line(p))
		}
		w := slices.Clone(want[i:j])
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			return fmt.Sprintf("results %d-%d: %q, redis-server %q", i, j-1, g, w)
		}
		i = j
	}
	return ""
}
