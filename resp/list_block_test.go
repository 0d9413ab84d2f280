package resp

import (
	"strings"
	"testing"
	"time"
)

// blockedClients reads INFO's blocked_clients.
func blockedClients(t *testing.T, c *rawConn) string {
	t.Helper()
	return infoField(t, c, "clients", "blocked_clients")
}

// TestBlockingPops: BLPOP, BRPOP, BLMPOP, BLMOVE and BRPOPLPUSH serve at
// once when a list has items, wait for a push otherwise (flag b in CLIENT
// LIST, counted in blocked_clients), and reply a null array on timeout.
func TestBlockingPops(t *testing.T) {
	e := newTestEnv(t)
	admin := e.dial()
	runRaw(t, admin, []rawCase{
		{cmd("RPUSH", "l", "a", "b"), integer(2)},
		{cmd("BLPOP", "none", "l", "0"), array(bulk("l"), bulk("a"))},
		{cmd("BRPOP", "l", "0"), array(bulk("l"), bulk("b"))},
		{cmd("EXISTS", "l"), integer(0)},
		{cmd("BLPOP", "l", "-1"), errReply("ERR timeout is negative")},
		{cmd("BLPOP", "l", "abc"), errReply("ERR timeout is not a float or out of range")},
		{cmd("BLPOP", "l", "inf"), errReply("ERR timeout is negative")},
		{cmd("BLMPOP", "0", "0", "l", "LEFT"), errReply("ERR numkeys should be greater than 0")},
		{cmd("BLMOVE", "l", "m", "UP", "LEFT", "0"), errReply("ERR syntax error")},
		{cmd("SET", "s", "v"), okReply},
		{cmd("BLPOP", "s", "0"), errReply("WRONGTYPE Operation against a key holding the wrong kind of value")},
	})

	// A timeout replies a null array, not before it has passed.
	start := time.Now()
	if got := admin.do("BLPOP", "l", "0.05"); got != "*-1\r\n" {
		t.Fatalf("BLPOP timeout: %q", got)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("BLPOP 0.05 returned after %v", d)
	}

	// Woken by a push; meanwhile blocked in CLIENT LIST and INFO.
	b := e.dial()
	b.send(string(rdEncode([]string{"BLPOP", "x", "l", "0"})))
	waitFor(t, "the blocked client", func() bool { return blockedClients(t, admin) == "1" })
	if list := admin.do("CLIENT", "LIST"); !strings.Contains(list, "flags=b") || !strings.Contains(list, "cmd=blpop") {
		t.Fatalf("CLIENT LIST shows no blocked client: %q", list)
	}
	if got := admin.do("RPUSH", "l", "v1", "v2"); got != integer(2) {
		t.Fatalf("RPUSH: %q", got)
	}
	if got := b.read(); got != array(bulk("l"), bulk("v1")) {
		t.Fatalf("BLPOP woken: %q", got)
	}
	waitFor(t, "no blocked client", func() bool { return blockedClients(t, admin) == "0" })
	if got := admin.do("LRANGE", "l", "0", "-1"); got != bulks("v2") {
		t.Fatalf("after BLPOP: %q", got)
	}

	// BLMOVE waits for its source, then moves.
	b.send(string(rdEncode([]string{"BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"})))
	waitFor(t, "BLMOVE blocked", func() bool { return blockedClients(t, admin) == "1" })
	admin.do("RPUSH", "src", "m")
	if got := b.read(); got != bulk("m") {
		t.Fatalf("BLMOVE: %q", got)
	}
	if got := admin.do("LRANGE", "dst", "0", "-1"); got != bulks("m") {
		t.Fatalf("BLMOVE destination: %q", got)
	}
	// BLMPOP with a count.
	b.send(string(rdEncode([]string{"BLMPOP", "0", "2", "p", "q", "RIGHT", "COUNT", "3"})))
	waitFor(t, "BLMPOP blocked", func() bool { return blockedClients(t, admin) == "1" })
	admin.do("RPUSH", "q", "1", "2")
	if got := b.read(); got != array(bulk("q"), bulks("2", "1")) {
		t.Fatalf("BLMPOP: %q", got)
	}
	// Once blocked, a key that becomes another type is passed over (it
	// fails only the first attempt), until it is a list again.
	b.send(string(rdEncode([]string{"BLPOP", "w", "0"})))
	waitFor(t, "BLPOP blocked", func() bool { return blockedClients(t, admin) == "1" })
	// A transaction pushes to w and leaves it a string: the client it
	// wakes meets the string.
	runRaw(t, admin, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("LPUSH", "w", "x"), simple("QUEUED")},
		{cmd("SET", "w", "a string"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(1), okReply)},
	})
	admin.do("DEL", "w")
	admin.do("RPUSH", "w", "back")
	if got := b.read(); got != array(bulk("w"), bulk("back")) {
		t.Fatalf("BLPOP over a key that was a string meanwhile: %q", got)
	}
}

// TestBlockingPopsServeInOrder: clients blocked on one key are served in
// the order they blocked, one item each, as Redis serves them.
func TestBlockingPopsServeInOrder(t *testing.T) {
	e := newTestEnv(t)
	admin := e.dial()
	var clients []*rawConn
	for i := range 3 {
		c := e.dial()
		c.send(string(rdEncode([]string{"BRPOP", "k", "0"})))
		want := string(rune('1' + i))
		waitFor(t, "client "+want+" blocked", func() bool { return blockedClients(t, admin) == want })
		clients = append(clients, c)
	}
	if got := admin.do("LPUSH", "k", "a", "b", "c"); got != integer(3) {
		t.Fatalf("LPUSH: %q", got)
	}
	for i, want := range []string{"a", "b", "c"} {
		if got := clients[i].read(); got != array(bulk("k"), bulk(want)) {
			t.Fatalf("client %d: %q, want %q", i, got, want)
		}
	}
}

// TestBlockedClientGoneTakesNothing: a client that disconnects while
// blocked stops waiting without popping what is pushed afterwards.
func TestBlockedClientGoneTakesNothing(t *testing.T) {
	e := newTestEnv(t)
	admin := e.dial()
	b := e.dial()
	b.send(string(rdEncode([]string{"BLPOP", "gone", "0"})))
	waitFor(t, "the blocked client", func() bool { return blockedClients(t, admin) == "1" })
	b.nc.Close()
	waitFor(t, "the closed client to stop waiting", func() bool { return blockedClients(t, admin) == "0" })
	runRaw(t, admin, []rawCase{
		{cmd("RPUSH", "gone", "x"), integer(1)},
		{cmd("LRANGE", "gone", "0", "-1"), bulks("x")},
	})
}

// TestListsInTransactions: a transaction on a list runs its commands in
// turn at EXEC; a blocking pop in it answers at once; blocked clients see
// only the transaction's end state.
func TestListsInTransactions(t *testing.T) {
	e := newTestEnv(t)
	admin := e.dial()
	b := e.dial()
	b.send(string(rdEncode([]string{"BLPOP", "tl", "0"})))
	waitFor(t, "the blocked client", func() bool { return blockedClients(t, admin) == "1" })
	runRaw(t, admin, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("LPUSH", "tl", "a"), simple("QUEUED")},
		{cmd("DEL", "tl"), simple("QUEUED")},
		{cmd("BLPOP", "tl", "0"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(1), integer(1), "*-1\r\n")},
		{cmd("MULTI"), okReply},
		{cmd("RPUSH", "tl", "x", "y"), simple("QUEUED")},
		{cmd("LPOP", "tl"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(2), bulk("x"))},
	})
	// The first transaction (a push, then a delete) woke nobody; the
	// second did, once done: the client finds what it left.
	if got := b.read(); got != array(bulk("tl"), bulk("y")) {
		t.Fatalf("BLPOP after the transactions: %q", got)
	}
}

// TestClientUnblock: CLIENT UNBLOCK ends a blocking pop as a timeout or
// with Redis's error, and answers 0 for a client that is not blocked.
func TestClientUnblock(t *testing.T) {
	e := newTestEnv(t)
	admin := e.dial()
	b := e.dial()
	id := strings.TrimSuffix(strings.TrimPrefix(b.do("CLIENT", "ID"), ":"), "\r\n")
	for _, tc := range []struct{ how, want string }{
		{"TIMEOUT", "*-1\r\n"},
		{"ERROR", errReply("UNBLOCKED client unblocked via CLIENT UNBLOCK")},
	} {
		b.send(string(rdEncode([]string{"BRPOP", "u", "0"})))
		waitFor(t, "the blocked client", func() bool { return blockedClients(t, admin) == "1" })
		if got := admin.do("CLIENT", "UNBLOCK", id, tc.how); got != integer(1) {
			t.Fatalf("CLIENT UNBLOCK %s: %q", tc.how, got)
		}
		if got := b.read(); got != tc.want {
			t.Fatalf("unblocked by %s: %q, want %q", tc.how, got, tc.want)
		}
		waitFor(t, "no blocked client", func() bool { return blockedClients(t, admin) == "0" })
	}
	runRaw(t, admin, []rawCase{
		{cmd("CLIENT", "UNBLOCK", id), integer(0)},
		{cmd("CLIENT", "UNBLOCK", id, "MAYBE"), errReply("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")},
		{cmd("CLIENT", "UNBLOCK", "x"), errReply("ERR value is not an integer or out of range")},
	})
}
