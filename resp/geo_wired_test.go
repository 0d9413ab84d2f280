package resp

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dynakv/dynakv/geo/redistest"
)

// TestGeoWiredAsRedis is TestGeoCommandsAsRedis against the wired
// commands: the same random GEO commands (mostly valid, mutated to reach
// every error, some on a key holding a string) sent to a dynakv server
// over the real replication path and to a redis-server must get the very
// same bytes, in RESP2 and RESP3. It checks what the model test cannot:
// the sorted-set layer (type checks, member lookups, the score-index walk
// as geo.Search's reader, GEOADD through ZADD, stores replacing their
// destination).
func TestGeoWiredAsRedis(t *testing.T) {
	const commands = 3000
	type side struct {
		redis *redistest.Client
		conn  *rawConn
	}
	var sides [2]side
	for p := range sides {
		sides[p] = side{redis: redistest.Start(t, 33000, 33999), conn: newTestEnv(t).dial()}
		if p == 1 {
			sides[p].redis.Do("HELLO", "3")
			sides[p].conn.do("HELLO", "3")
		}
	}
	run := func(n int, args []string) string {
		var first string
		for p, s := range sides {
			want, err := s.redis.Do(args...)
			if err != nil {
				t.Fatal(err)
			}
			s.conn.nc.SetDeadline(time.Now().Add(10 * time.Second))
			if got := s.conn.do(args...); got != string(want) {
				t.Fatalf("command %d %q (RESP%d):\n got %q\nwant %q", n, args, 2+p, got, want)
			}
			if p == 0 {
				first = string(want)
			}
		}
		return first
	}
	rng := rand.New(rand.NewPCG(15, 10))
	for i := range 60 {
		run(-1, []string{"GEOADD", "g", strconv.FormatFloat(rng.Float64()*20-10, 'f', 6, 64), strconv.FormatFloat(rng.Float64()*20-10, 'f', 6, 64), "m" + strconv.Itoa(i)})
	}
	run(-1, []string{"SET", "str", "x"})
	errs, oks := 0, 0
	seen := map[string]int{}
	for n := range commands {
		args := geoRandomCommand(rng)
		if rng.IntN(25) == 0 { // the source (or a GEOADD's key) holds a string
			args = slices.Clone(args)
			for i, a := range args[1:] {
				if a == "g" || a == "ga" {
					args[1+i] = "str"
				}
			}
		}
		if want := run(n, args); want[0] == '-' {
			seen[want]++
			errs++
		} else {
			oks++
		}
	}
	t.Logf("%d commands: %d answers, %d errors of %d different texts", commands, oks, errs, len(seen))
	if errs < 250 || oks < 1500 || len(seen) < 40 || seen["-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"] == 0 {
		t.Fatalf("%d answers, %d errors of %d different texts: the mix exercises too little", oks, errs, len(seen))
	}
}
