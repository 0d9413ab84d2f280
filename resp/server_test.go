package resp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewServerNeedsBackendAndView(t *testing.T) {
	e := newTestEnv(t)
	for _, cfg := range []Config{{}, {Backend: e.backend}, {View: e.view}} {
		if s, err := NewServer(cfg); err == nil || s != nil {
			t.Errorf("NewServer(%+v) = %v, %v; want an error", cfg, s, err)
		}
	}
	// The optional fields take their defaults.
	s, err := NewServer(Config{Backend: e.backend, View: e.view})
	if err != nil {
		t.Fatal(err)
	}
	if s.log != slog.Default() || s.cfg.MaxClients != 10000 || s.cfg.RequestTimeout != 2*time.Second ||
		s.cfg.Limits != DefaultLimits() || s.cfg.Settings() != nil || s.Addr() != "" {
		t.Errorf("defaults: logger %v, config %+v, addr %q", s.log, s.cfg, s.Addr())
	}
	s.Close()
}

func TestServeAndClose(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("PING"), simple("PONG")}})
	if got := e.srv.Addr(); got != e.addr {
		t.Errorf("Addr() = %q, want %q", got, e.addr)
	}
	// Close closes the connections and the listener, and may be called
	// again (the test's cleanup does).
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	if nc, err := net.Dial("tcp", e.addr); err == nil {
		nc.Close()
		t.Error("the listener still accepts after Close")
	}
	// Serve after Close refuses, and closes the listener it was given.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close = %v, want ErrServerClosed", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener after a refused Serve: Accept = %v, want net.ErrClosed", err)
	}
}

func TestMaxClients(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.MaxClients = 1 })
	first := e.dial()
	runRaw(t, first, []rawCase{{cmd("PING"), simple("PONG")}}) // first is being served
	second := e.dial()
	if got := second.read(); got != errReply("ERR max number of clients reached") {
		t.Fatalf("second client: %q", got)
	}
	second.expectClosed()
	stats := infoFields(t, first, "stats")
	if stats["rejected_connections"] != "1" || stats["total_connections_received"] != "2" {
		t.Errorf("INFO stats: rejected_connections %s, total_connections_received %s; want 1, 2",
			stats["rejected_connections"], stats["total_connections_received"])
	}
	// Once the first client leaves, a new one is served.
	runRaw(t, first, []rawCase{{cmd("QUIT"), okReply}})
	first.expectClosed()
	waitFor(t, "the first client to be gone", func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return len(e.srv.conns) == 0
	})
	runRaw(t, e.dial(), []rawCase{{cmd("PING"), simple("PONG")}})
}

// flakyListener fails its first Accept, as a listener out of file
// descriptors does: with err (default: an error that is no errno), once
// waiting is closed (if not nil), i.e. once a client is waiting.
type flakyListener struct {
	net.Listener
	failed  atomic.Bool
	err     error
	waiting chan struct{}
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if !l.failed.Swap(true) {
		if l.waiting != nil {
			<-l.waiting
		}
		if l.err != nil {
			return nil, l.err
		}
		return nil, errors.New("accept: too many open files")
	}
	return l.Listener.Accept()
}

func TestServeRetriesFailedAccept(t *testing.T) {
	e := newTestEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyListener{Listener: ln}
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(flaky) }()
	t.Cleanup(func() {
		e.srv.Close()
		<-served
	})
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
	runRaw(t, c, []rawCase{{cmd("PING"), simple("PONG")}})
	if !flaky.failed.Load() {
		t.Error("the listener's first Accept was not called")
	}
}

// TestClientLeavesMidCommand: a client that closes in the middle of a
// command gets nothing run and is let go.
func TestClientLeavesMidCommand(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva")
	c.nc.(*net.TCPConn).CloseWrite()
	c.expectClosed()
	runRaw(t, e.dial(), []rawCase{{cmd("EXISTS", "k"), integer(0)}})
}

// scriptConn is a connection whose client sent in and whose writes fail
// with writeErr (when set).
type scriptConn struct {
	in       io.Reader
	writeErr error
	mu       sync.Mutex
	out      bytes.Buffer
	closed   bool
}

func (s *scriptConn) Read(p []byte) (int, error) { return s.in.Read(p) }

func (s *scriptConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writeErr != nil {
		return 0, s.writeErr
	}
	return s.out.Write(p)
}

func (s *scriptConn) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *scriptConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379}
}
func (s *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (s *scriptConn) SetDeadline(time.Time) error      { return nil }
func (s *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (s *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// serveScript serves one scripted connection on e's server, to its end.
func (e *testEnv) serveScript(sc *scriptConn) {
	c := e.srv.newConn(sc)
	e.srv.mu.Lock()
	e.srv.conns[c] = struct{}{}
	e.srv.mu.Unlock()
	e.srv.serveConn(c)
	if !sc.closed {
		e.t.Error("connection not closed")
	}
}

// TestWriteFailures: once a reply cannot be written the connection is
// dropped, whether the write was of a big reply or of the replies flushed
// before waiting for input.
func TestWriteFailures(t *testing.T) {
	e := newTestEnv(t)
	big := strings.Repeat("x", 100<<10)
	runRaw(t, e.dial(), []rawCase{{cmd("SET", "big", big), okReply}})
	broken := errors.New("broken pipe")

	// Each Read returns one command.
	script := func(cmds ...string) io.Reader {
		var rs []io.Reader
		for _, c := range cmds {
			rs = append(rs, strings.NewReader(c))
		}
		return io.MultiReader(rs...)
	}
	// A reply over the flush threshold is written at once; it fails.
	e.serveScript(&scriptConn{in: script("GET big\r\n", "SET after 1\r\n"), writeErr: broken})
	// A small reply is written before reading on; it fails.
	e.serveScript(&scriptConn{in: script("SET small 1\r\n", "SET after 1\r\n"), writeErr: broken})
	runRaw(t, e.dial(), []rawCase{
		{cmd("EXISTS", "small"), integer(1)},
		{cmd("EXISTS", "after"), integer(0)},
	})

	// The same scripts with writes working get every reply.
	sc := &scriptConn{in: script("GET big\r\n", "SET small 2\r\n", "GET small\r\n")}
	e.serveScript(sc)
	if got, want := sc.out.String(), bulk(big)+okReply+bulk("2"); got != want {
		t.Errorf("replies %q, want %q", clip(got), clip(want))
	}
}
