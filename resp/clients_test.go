package resp

import (
	"strconv"
	"strings"
	"testing"
)

// TestClientKill: CLIENT KILL by address (the old form) and by filters.
func TestClientKill(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	self := strconv.FormatInt(c.clientID(), 10)
	a := e.dial()
	aID := strconv.FormatInt(a.clientID(), 10)
	b := e.dial()
	b.clientID()
	runRaw(t, c, []rawCase{
		{cmd("CLIENT", "KILL", "ID", aID), integer(1)},
		{cmd("CLIENT", "KILL", "ID", aID), integer(0)},
		{cmd("CLIENT", "KILL", b.nc.LocalAddr().String()), okReply},
		{cmd("CLIENT", "KILL", "127.0.0.1:1"), errReply("ERR No such client")},
		{cmd("CLIENT", "KILL", "ID", "x"), errReply("ERR client-id should be greater than 0")},
		{cmd("CLIENT", "KILL", "TYPE", "pubsub"), integer(0)},
		{cmd("CLIENT", "KILL", "TYPE", "bogus"), errReply("ERR Unknown client type 'bogus'")},
		{cmd("CLIENT", "KILL", "USER", "nobody"), errReply("ERR No such user 'nobody'")},
		{cmd("CLIENT", "KILL", "ID", self), integer(0)},               // SKIPME yes by default
		{cmd("CLIENT", "KILL", "ID"), errReply("ERR No such client")}, // the old form, as in Redis
		{cmd("CLIENT", "KILL", "FOO", "bar"), errReply(errSyntax)},
	})
	a.expectClosed()
	b.expectClosed()
	d := e.dial()
	d.clientID()
	runRaw(t, c, []rawCase{{cmd("CLIENT", "KILL", "LADDR", e.addr, "SKIPME", "yes"), integer(1)}})
	d.expectClosed()
	// Killing oneself: the reply, then the connection closes.
	if got := c.do("CLIENT", "KILL", "ID", self, "SKIPME", "no"); got != integer(1) {
		t.Fatalf("CLIENT KILL ID self SKIPME no = %q", got)
	}
	c.expectClosed()
}

// TestClientPause: CLIENT PAUSE holds writes (WRITE) or every command (ALL)
// of every client until UNPAUSE or the timeout; CLIENT commands are never
// held, so the server can be unpaused.
func TestClientPause(t *testing.T) {
	e := newTestEnv(t)
	admin, app := e.dial(), e.dial()
	blocked := func() string { return strconv.FormatInt(e.srv.stats.paused.Load(), 10) }
	runRaw(t, admin, []rawCase{{cmd("CLIENT", "PAUSE", "100000", "WRITE"), okReply}})
	runRaw(t, app, []rawCase{{cmd("GET", "k"), nullBulk}}) // reads go on
	app.send(string(rdEncode([]string{"SET", "k", "v"})))
	waitFor(t, "the SET held by the pause", func() bool { return blocked() == "1" })
	if got := infoField(t, admin, "clients", "blocked_clients"); got != "1" { // INFO is no write
		t.Fatalf("blocked_clients during the pause = %s", got)
	}
	runRaw(t, admin, []rawCase{
		{cmd("GET", "k"), nullBulk}, // the SET has not run
		{cmd("CLIENT", "UNPAUSE"), okReply},
	})
	if got := app.read(); got != okReply {
		t.Fatalf("SET after UNPAUSE = %q", got)
	}
	if got := infoField(t, admin, "clients", "blocked_clients"); got != "0" {
		t.Fatalf("blocked_clients after UNPAUSE = %s", got)
	}

	// ALL holds reads too.
	runRaw(t, admin, []rawCase{{cmd("CLIENT", "PAUSE", "100000", "ALL"), okReply}})
	app.send(string(rdEncode([]string{"GET", "k"})))
	waitFor(t, "the GET held by the pause", func() bool { return blocked() == "1" })
	runRaw(t, admin, []rawCase{{cmd("CLIENT", "UNPAUSE"), okReply}})
	if got := app.read(); got != bulk("v") {
		t.Fatalf("GET after UNPAUSE = %q", got)
	}
	// A short pause ends by itself.
	runRaw(t, admin, []rawCase{{cmd("CLIENT", "PAUSE", "20", "ALL"), okReply}})
	runRaw(t, app, []rawCase{{cmd("GET", "k"), bulk("v")}})
	runRaw(t, admin, []rawCase{
		{cmd("CLIENT", "PAUSE", "x"), errReply("ERR timeout is not an integer or out of range")},
		{cmd("CLIENT", "PAUSE", "-1"), errReply("ERR timeout is not an integer or out of range")},
		{cmd("CLIENT", "PAUSE", "10", "SOME"), errReply(errSyntax)},
		{cmd("CLIENT", "UNPAUSE"), okReply},
	})
}

// TestClientInfoFields: CLIENT INFO has every field of Redis 7.0's, so
// clients that parse them by name (redis-py's client_info) find them.
func TestClientInfoFields(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	info := decode(t, c.do("CLIENT", "INFO")).(string)
	fields := map[string]string{}
	for _, kv := range strings.Fields(info) {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	for _, k := range []string{"id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
		"qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("CLIENT INFO lacks %s: %q", k, info)
		}
	}
	for _, k := range []string{"id", "age", "idle", "db", "sub", "psub", "multi", "qbuf", "qbuf-free", "obl", "argv-mem", "oll", "omem", "tot-mem"} {
		if _, err := strconv.ParseInt(fields[k], 10, 64); err != nil {
			t.Errorf("CLIENT INFO %s=%q is not an integer (redis-py converts it)", k, fields[k])
		}
	}
	// Inside MULTI: flags x and the count of queued commands.
	runRaw(t, c, []rawCase{{cmd("MULTI"), okReply}, {cmd("PING"), simple("QUEUED")}})
	other := e.dial()
	list := decode(t, other.do("CLIENT", "LIST")).(string)
	if !strings.Contains(list, " flags=x ") || !strings.Contains(list, " multi=1 ") {
		t.Errorf("CLIENT LIST of a client in MULTI: %q", list)
	}
}
