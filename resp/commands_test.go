package resp

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
)

func TestUnknownCommandAndArity(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	long := strings.Repeat("x", 200)
	runRaw(t, c, []rawCase{
		{cmd("NOSUCH"), errReply("ERR unknown command 'NOSUCH', with args beginning with: ")},
		{cmd("nosuch", "a", "b c"), errReply("ERR unknown command 'nosuch', with args beginning with: 'a' 'b c' ")},
		// The name is cut at 128 bytes, the arguments once they total 128.
		{cmd(long, long), errReply("ERR unknown command '" + long[:128] + "', with args beginning with: '" + long[:128] + "' ")},
		{cmd("x", strings.Repeat("a", 100), strings.Repeat("b", 100), "c"),
			errReply("ERR unknown command 'x', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' ")},
		// Names are case-insensitive, also past the 32 bytes looked up
		// without allocating.
		{cmd("GeT", "k"), nullBulk},
		{cmd("get" + strings.Repeat("t", 40)), errReply("ERR unknown command 'get" + strings.Repeat("t", 40) + "', with args beginning with: ")},
		{cmd("GET", "a", "b"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("CONFIG", "GET"), errReply("ERR wrong number of arguments for 'config|get' command")},
		{cmd("CONFIG", "NOSUCH"), errReply("ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.")},
		{cmd("CONFIG", long), errReply("ERR unknown subcommand '" + long[:128] + "'. Try CONFIG HELP.")},
	})
	// An error message never spans lines.
	c.send("*2\r\n$6\r\nNOSUCH\r\n$3\r\na\r\n\r\n")
	if got := c.read(); got != errReply("ERR unknown command 'NOSUCH', with args beginning with: 'a  ' ") {
		t.Errorf("unknown command with CRLF in its argument: %q", got)
	}
}

func TestUnsupportedCommands(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	scripts := "scripts would need atomicity across replicas, which an always-writable Dynamo store does not have"
	runRaw(t, c, []rawCase{
		{cmd("INCRBY", "k"), errReply("ERR wrong number of arguments for 'incrby' command")},
		{cmd("EVAL", "return 1", "0"), errReply("ERR EVAL is not supported by dynakv: " + scripts)},
		{cmd("FUNCTION", "LIST"), errReply("ERR FUNCTION is not supported by dynakv: " + scripts)},
		{cmd("MSETNX", "a", "1"), errReply("ERR MSETNX is not supported by dynakv: setting several keys all-or-nothing needs atomicity across partitions, which dynakv does not have; use SET NX per key")},
		{cmd("EXISTS", "a", "b"), integer(0)},
	})
}

func TestRefuse(t *testing.T) {
	const msg = "ERR this node was removed from the ring"
	var refusing = make(chan bool, 1)
	refusing <- true
	e := newTestEnv(t, func(cfg *Config) {
		cfg.Refuse = func() string {
			r := <-refusing
			refusing <- r
			if r {
				return msg
			}
			return ""
		}
	})
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("GET", "k"), errReply(msg)},
		{cmd("SET", "k", "v"), errReply(msg)},
		{cmd("SCAN", "0"), errReply(msg)},
		{cmd("VGET", "k"), errReply(msg)},
		{cmd("DBSIZE"), errReply(msg)},
		{cmd("FLUSHALL"), errReply(msg)},
		{cmd("INCR", "k"), errReply(msg)},
		// Arity comes first; commands that touch no data still work.
		{cmd("GET"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("PING"), simple("PONG")},
		{cmd("RING", "KEY", "k"), array(bulk("key"), bulk("k"), bulk("partition"), integer(int64(partitionOf("k"))), bulk("preference_list"),
			array(bulks("n1", "10.0.0.1:7379", "up", "replica"), bulks("n2", "10.0.0.2:7379", "down", "fallback")))},
		{cmd("CONFIG", "GET", "databases"), bulks("databases", "1")},
	})
	if got := infoHeaders(infoText(t, c)); len(got) != len(defaultInfo) {
		t.Errorf("INFO while refusing: sections %q", got)
	}
	<-refusing
	refusing <- false
	runRaw(t, c, []rawCase{{cmd("SET", "k", "v"), okReply}, {cmd("GET", "k"), bulk("v")}})
}

// TestBackendErrors: every data command replies a backend failure as
// Redis-style error: NOREPLICAS for a missed quorum, TRYAGAIN for a
// timeout, ERR otherwise; and counts it as a failed call.
func TestBackendErrors(t *testing.T) {
	unavailable := fmt.Errorf("%w: write needs W=2, got 1", replication.ErrUnavailable)
	timeout := fmt.Errorf("read: %w", context.DeadlineExceeded)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{unavailable, "NOREPLICAS Not enough good replicas: replication: not enough replicas: write needs W=2, got 1"},
		{timeout, "TRYAGAIN request timed out: read: context deadline exceeded"},
		{errors.New("disk on fire\r\nreally"), "ERR disk on fire  really"},
	} {
		t.Run(tc.want[:strings.IndexByte(tc.want, ' ')], func(t *testing.T) {
			e := newTestEnv(t)
			c := e.dial()
			runRaw(t, c, []rawCase{{cmd("MSET", "k", "v", "k2", "v2"), okReply}})
			e.backend.failAll(tc.err)
			want := errReply(tc.want)
			cases := []rawCase{}
			for _, args := range [][]string{
				{"GET", "k"}, {"SET", "k", "v"}, {"SET", "k", "v", "GET"}, {"SETNX", "k", "v"}, {"SETEX", "k", "10", "v"},
				{"GETSET", "k", "v"}, {"GETDEL", "k"}, {"GETEX", "k", "EX", "10"}, {"MGET", "k", "k2"}, {"MSET", "k", "v"},
				{"STRLEN", "k"}, {"APPEND", "k", "v"},
				{"DEL", "k"}, {"UNLINK", "k"}, {"EXISTS", "k"}, {"EXPIRE", "k", "10"}, {"TTL", "k"}, {"PTTL", "k"},
				{"PERSIST", "k"}, {"TYPE", "k"}, {"SCAN", "0"}, {"KEYS", "*"}, {"DBSIZE"}, {"FLUSHDB"},
				{"VGET", "k"}, {"VGET", "k", "LOCAL"}, {"VSET", "k", "", "v"}, {"VDEL", "k", ""},
			} {
				cases = append(cases, rawCase{args, want})
			}
			runRaw(t, c, cases)
			if got := infoField(t, c, "stats", "total_error_replies"); got != fmt.Sprint(len(cases)) {
				t.Errorf("total_error_replies = %s, want %d", got, len(cases))
			}
			e.backend.failAll(nil)
			runRaw(t, c, []rawCase{{cmd("MGET", "k", "k2"), bulks("v", "v2")}})
		})
	}
}

// TestWritesFailing: reads work while writes fail; FLUSHALL stops at the
// first failed delete.
func TestWritesFailing(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("MSET", "a", "1", "b", "2"), okReply}})
	e.backend.failUpdates(errInjected)
	runRaw(t, c, []rawCase{
		{cmd("GET", "a"), bulk("1")},
		{cmd("SET", "a", "x"), errReply("ERR injected failure")},
		{cmd("MSET", "a", "x", "b", "y"), errReply("ERR injected failure")},
		{cmd("DEL", "a", "b"), errReply("ERR injected failure")},
		{cmd("FLUSHALL"), errReply("ERR injected failure")},
		{cmd("DBSIZE"), integer(2)},
		{cmd("MGET", "a", "b"), bulks("1", "2")},
	})
}

// TestCoordinatorMissesQuorum runs a write through a real coordinator
// whose second replica is down: W=2 cannot be met, and the client gets
// NOREPLICAS; W=1 can.
func TestCoordinatorMissesQuorum(t *testing.T) {
	clock := newTestClock()
	local, down := newMemLocal("n1"), newMemLocal("n2")
	down.setErr(errors.New("connection refused"))
	coord, err := replication.NewCoordinator(replication.Config{
		Local:  local,
		Router: replication.RouterFunc(func([]byte) []replication.Replica { return []replication.Replica{local, down} }),
		Actor:  1, N: 2, R: 1, W: 2, ReadRepairChance: -1,
		Now: clock.Now, Logger: quietLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, clock: clock, local: local, coord: coord, backend: &testBackend{Coordinator: coord}}
	e.view = &fakeView{local: local, clock: clock}
	startEnv(t, Config{Backend: e.backend, View: e.view, Logger: quietLogger}, e)
	c := e.dial()
	got := c.do("SET", "k", "v")
	if !strings.HasPrefix(got, "-NOREPLICAS Not enough good replicas: replication: not enough replicas: write needs W=2, 1 nodes stored it") ||
		!strings.Contains(got, "connection refused") {
		t.Fatalf("SET with a replica down: %q", got)
	}
	// The coordinator stored v locally before it missed the quorum (a
	// failed write may still be read, as in Dynamo); W=1 succeeds.
	check(t, c, okReply, "VSET", "k", "", "w", "W", "1")
	check(t, c, bulks(e.context("k"), "v", "w"), "VGET", "k", "R", "1", "LOCAL")
}

// TestCommandTimeOnBackendClock: a command's duration in INFO
// commandstats is measured on the clock its start was read from, the
// backend's. It was measured from the backend's reading to the process
// clock, which is garbage whenever the two differ (here, a test clock
// years behind; usec came out in the tens of trillions).
func TestCommandTimeOnBackendClock(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	e.backend.setHook(func(op string, key []byte) {
		if string(key) == "slow" {
			e.clock.Advance(1500 * time.Microsecond)
		}
	})
	runRaw(t, c, []rawCase{
		{cmd("GET", "fast"), nullBulk},
		{cmd("GET", "slow"), nullBulk},
		{cmd("EXISTS", "fast"), integer(0)},
	})
	stats := infoFields(t, c, "commandstats")
	stat := regexp.MustCompile(`^calls=(\d+),usec=(\d+),usec_per_call=([0-9.]+),`)
	for name, want := range map[string][3]string{
		"cmdstat_get":    {"2", "1500", "750.00"},
		"cmdstat_exists": {"1", "0", "0.00"},
	} {
		m := stat.FindStringSubmatch(stats[name])
		if m == nil || m[1] != want[0] || m[2] != want[1] || m[3] != want[2] {
			t.Errorf("%s = %q, want calls=%s,usec=%s,usec_per_call=%s", name, stats[name], want[0], want[1], want[2])
		}
	}
}
