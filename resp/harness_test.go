package resp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// The in-process harness: a Server on 127.0.0.1:0 over the test backend,
// talked to with go-redis where reading the reply as a client would is
// what matters, and with rawConn where the exact bytes on the wire do.

// testEnv is one server and what is under it.
type testEnv struct {
	t       *testing.T
	srv     *Server
	addr    string
	clock   *testClock
	local   *memLocal
	coord   *replication.Coordinator
	backend *testBackend
	view    *fakeView
}

var quietLogger = slog.New(slog.DiscardHandler)

// newTestEnv starts a server over a single-node coordinator on a fresh
// in-memory replica; adjust may change its Config before it starts. The
// server is closed when the test ends.
func newTestEnv(t *testing.T, adjust ...func(*Config)) *testEnv {
	t.Helper()
	clock := newTestClock()
	local := newMemLocal("n1")
	coord, err := replication.NewCoordinator(replication.Config{
		Local:  local,
		Router: replication.RouterFunc(func([]byte) []replication.Replica { return []replication.Replica{local} }),
		Actor:  1, N: 1, R: 1, W: 1,
		Now:    clock.Now,
		Logger: quietLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	backend := &testBackend{Coordinator: coord}
	view := &fakeView{local: local, clock: clock}
	cfg := Config{Backend: backend, View: view, NodeID: "n1", Version: "0.0.0-test", Logger: quietLogger}
	for _, f := range adjust {
		f(&cfg)
	}
	return startEnv(t, cfg, &testEnv{t: t, clock: clock, local: local, coord: coord, backend: backend, view: view})
}

// startEnv serves cfg on a new loopback listener.
func startEnv(t *testing.T, cfg Config, e *testEnv) *testEnv {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if e.coord != nil {
			e.coord.Close()
		}
	})
	e.srv, e.addr = srv, ln.Addr().String()
	return e
}

// client returns a go-redis client of the server (RESP3, as go-redis
// negotiates by default), closed when the test ends.
func (e *testEnv) client(adjust ...func(*redis.Options)) *redis.Client {
	opt := &redis.Options{
		Addr:                     e.addr,
		MaxRetries:               -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	for _, f := range adjust {
		f(opt)
	}
	c := redis.NewClient(opt)
	e.t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a connection that writes requests as given and reads replies
// as the exact bytes the server sent.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

// dial opens a raw connection, closed when the test ends. Every read and
// write fails after 10 seconds rather than hang the test.
func (e *testEnv) dial() *rawConn {
	e.t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	e.t.Cleanup(func() { nc.Close() })
	return &rawConn{t: e.t, nc: nc, r: bufio.NewReader(nc)}
}

// send writes raw bytes.
func (c *rawConn) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// do sends one command as a multibulk request and returns its reply.
func (c *rawConn) do(args ...string) string {
	c.t.Helper()
	c.send(string(rdEncode(args)))
	return c.read()
}

// read returns the next reply, exactly as sent.
func (c *rawConn) read() string {
	c.t.Helper()
	s, err := readReply(c.r)
	if err != nil {
		c.t.Fatalf("reading a reply: %v (read %q)", err, clip(s))
	}
	return s
}

// expectClosed checks that the server closed the connection, with no
// more replies.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	if b, err := c.r.ReadByte(); err == nil {
		rest, _ := c.r.Peek(c.r.Buffered())
		c.t.Fatalf("connection still open: read %q", append([]byte{b}, rest...))
	}
}

// clip shortens s for a failure message.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// readReply reads one RESP2 or RESP3 reply and returns its bytes.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return line, fmt.Errorf("malformed line %q", line)
	}
	body := line[1 : len(line)-2]
	count := func() (int, error) {
		n, err := strconv.Atoi(body)
		if err != nil {
			return 0, fmt.Errorf("bad length in %q", line)
		}
		return n, nil
	}
	switch line[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return line, nil
	case '$', '=', '!':
		n, err := count()
		if err != nil || n < 0 {
			return line, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return line, err
		}
		return line + string(buf), nil
	case '*', '~', '>', '%', '|':
		n, err := count()
		if err != nil || n < 0 {
			return line, err
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		var out strings.Builder
		out.WriteString(line)
		for range n {
			s, err := readReply(r)
			out.WriteString(s)
			if err != nil {
				return out.String(), err
			}
		}
		return out.String(), nil
	}
	return line, fmt.Errorf("unknown reply type in %q", line)
}

// Expected replies, spelled as on the wire.

const (
	okReply   = "+OK\r\n"
	nullBulk  = "$-1\r\n"
	nullResp3 = "_\r\n"
)

func bulk(s string) string       { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func integer(n int64) string     { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func simple(s string) string     { return "+" + s + "\r\n" }
func errReply(msg string) string { return "-" + msg + "\r\n" }

// array is a RESP2 array of already encoded elements.
func array(elems ...string) string {
	return "*" + strconv.Itoa(len(elems)) + "\r\n" + strings.Join(elems, "")
}

// bulks is an array of bulk strings.
func bulks(ss ...string) string {
	elems := make([]string, len(ss))
	for i, s := range ss {
		elems[i] = bulk(s)
	}
	return array(elems...)
}

// rawCase is one command and the reply it must get.
type rawCase struct {
	args []string
	want string
}

func cmd(args ...string) []string { return args }

// runRaw sends each case's command on c in turn and checks the replies.
func runRaw(t *testing.T, c *rawConn, cases []rawCase) {
	t.Helper()
	for _, tc := range cases {
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
}

// ctx is the context of go-redis calls.
var ctx = context.Background()

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// decode parses one encoded reply into Go values: simple and bulk strings
// (and verbatim ones, without their format) as string, errors as error,
// integers as int64, booleans as bool, nulls as nil, arrays and sets as
// []any, maps as []any of alternating keys and values (in wire order).
func decode(t *testing.T, reply string) any {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(reply))
	v, err := decodeValue(r)
	if err != nil {
		t.Fatalf("decoding %q: %v", reply, err)
	}
	if r.Buffered() > 0 {
		t.Fatalf("decoding %q: trailing bytes", reply)
	}
	return v
}

func decodeValue(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return errors.New(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '_':
		return nil, nil
	case '#':
		return body == "t", nil
	case '$', '=':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		s := string(buf[:n])
		if line[0] == '=' {
			s = s[4:] // "txt:"
		}
		return s, nil
	case '*', '~', '%':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		if line[0] == '%' {
			n *= 2
		}
		out := make([]any, 0, n)
		for range n {
			v, err := decodeValue(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported reply type in %q", line)
}

// strs returns v, an array of strings, as []string; it fails the test when
// v is anything else.
func strs(t *testing.T, v any) []string {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("%#v is not an array", v)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		if out[i], ok = e.(string); !ok {
			t.Fatalf("element %d of %#v is not a string", i, v)
		}
	}
	return out
}

// fields returns v, a map reply, as a Go map of its string keys.
func fields(t *testing.T, v any) map[string]any {
	t.Helper()
	arr, ok := v.([]any)
	if !ok || len(arr)%2 != 0 {
		t.Fatalf("%#v is not a map", v)
	}
	out := map[string]any{}
	for i := 0; i < len(arr); i += 2 {
		k, ok := arr[i].(string)
		if !ok {
			t.Fatalf("key %#v of %#v is not a string", arr[i], v)
		}
		out[k] = arr[i+1]
	}
	return out
}
