package resp

import (
	"bytes"
	"strings"
	"testing"
)

// Before AUTH, Redis 7 refuses a multibulk header of more than 10
// arguments and a bulk header of more than 16384 bytes (networking.c,
// processMultibulkBuffer), after its ordinary checks.
func TestReaderRequireAuth(t *testing.T) {
	arg := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		in   string
		want [][]string
		err  string
	}{
		{in: "*11\r\n", err: "unauthenticated multibulk length"},
		{in: "*100\r\n", err: "unauthenticated multibulk length"},
		{in: "*2147483647\r\n", err: "invalid multibulk length"}, // the ordinary check comes first
		{in: "*x\r\n", err: "invalid multibulk length"},
		{in: string(rdEncode([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"})), want: [][]string{{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}},
		{in: "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
		{in: "*1\r\n$16385\r\n", err: "unauthenticated bulk length"},
		{in: "*1\r\n$536870913\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$-1\r\n", err: "invalid bulk length"},
		{in: string(rdEncode([]string{arg(16384)})), want: [][]string{{arg(16384)}}},
		// Inline commands have no limit of their own before AUTH in Redis;
		// max_inline_len bounds them.
		{in: arg(20000) + " " + arg(3) + "\r\n", want: [][]string{{arg(20000), arg(3)}}},
		{in: strings.Repeat("a ", 20) + "\r\n", want: [][]string{strings.Fields(strings.Repeat("a ", 20))}},
	} {
		for name, rd := range rdReaders([]byte(tc.in)) {
			r := NewReader(rd, Limits{})
			r.RequireAuth(true)
			got, err := rdReadAll(r)
			wantErr := "EOF"
			if tc.err != "" {
				wantErr = "Protocol error: " + tc.err
			}
			if !rdEqual(got, tc.want) || rdErrText(err) != wantErr {
				t.Errorf("%s %q: got %q, %v; want %q, %s", name, clip(tc.in), got, err, tc.want, wantErr)
			}
		}
	}

	// The limits apply to headers parsed while RequireAuth is on: a client
	// that authenticated may send the rest.
	big := rdEncode([]string{"DEL", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10"}, []string{"SET", "k", arg(20000)})
	r := NewReader(bytes.NewReader(append(rdEncode([]string{"AUTH", "pw"}), big...)), Limits{})
	r.RequireAuth(true)
	if args, err := r.ReadCommand(); err != nil || string(args[0]) != "AUTH" {
		t.Fatalf("AUTH: %q, %v", args, err)
	}
	r.RequireAuth(false)
	cmds, err := rdReadAll(r)
	if len(cmds) != 2 || len(cmds[0]) != 11 || len(cmds[1][2]) != 20000 || rdErrText(err) != "EOF" {
		t.Fatalf("after AUTH: %d commands, %v", len(cmds), err)
	}
}

func TestUnauthenticatedLimits(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.RequirePass = "pw" })
	errMbulk := errReply("ERR Protocol error: unauthenticated multibulk length")
	errBulk := errReply("ERR Protocol error: unauthenticated bulk length")

	// "*100" alone used to wait for the rest of the command.
	c := e.dial()
	c.send("*100\r\n")
	if got := c.read(); got != errMbulk {
		t.Fatalf("*100 before AUTH: %q, want %q", got, errMbulk)
	}
	c.expectClosed()

	c = e.dial()
	c.send("*1\r\n$100000000\r\n")
	if got := c.read(); got != errBulk {
		t.Fatalf("$100000000 before AUTH: %q, want %q", got, errBulk)
	}
	c.expectClosed()

	// At the limits, the command is read and answered as usual.
	c = e.dial()
	runRaw(t, c, []rawCase{
		{cmd("GET", "a", "b", "c", "d", "e", "f", "g", "h", "i"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("GET", strings.Repeat("k", 16384)), errReply(errNoAuth)},
		// Inline commands are bounded only by max_inline_len, as in Redis.
	})
	c.send("GET " + strings.Repeat("k", 20000) + "\r\n")
	if got := c.read(); got != errReply(errNoAuth) {
		t.Fatalf("long inline GET before AUTH: %q", got)
	}

	// After AUTH the ordinary limits apply, pipelined right behind it too;
	// RESET brings the unauthenticated ones back.
	keys := []string{"DEL"}
	for i := range 20 {
		keys = append(keys, "k"+string(rune('a'+i)))
	}
	c.send(string(rdEncode([]string{"AUTH", "pw"}, keys, []string{"SET", "big", strings.Repeat("v", 20000)})))
	for _, want := range []string{okReply, integer(0), okReply} {
		if got := c.read(); got != want {
			t.Fatalf("after AUTH: %q, want %q", got, want)
		}
	}
	runRaw(t, c, []rawCase{{cmd("RESET"), simple("RESET")}})
	c.send("*11\r\n")
	if got := c.read(); got != errMbulk {
		t.Fatalf("*11 after RESET: %q, want %q", got, errMbulk)
	}
	c.expectClosed()

	// Without requirepass nothing changes.
	open := newTestEnv(t)
	c = open.dial()
	runRaw(t, c, []rawCase{{keys, integer(0)}, {cmd("SET", "big", strings.Repeat("v", 20000)), okReply}})
}
