package peer

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/syncbuf"
)

// checkGoroutines fails the test if, once every later cleanup has run, the
// number of goroutines does not come back to what it was when
// checkGoroutines was called. Call it first in a test.
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("goroutine leak: %d running, %d before the test\n%s", runtime.NumGoroutine(), base, buf)
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// testLogger returns a logger writing to a fresh buffer.
func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	b := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// testServer is a Server running on a loopback port.
type testServer struct {
	*Server
	addr string
	ln   *countingListener
	done chan error
}

// startServer serves h on 127.0.0.1 (port 0, or addr if given) until the
// test ends, when it closes the server and checks that Serve returned
// ErrClosed.
func startServer(t *testing.T, cfg Config, h Handler, addr ...string) *testServer {
	t.Helper()
	a := "127.0.0.1:0"
	if len(addr) > 0 {
		a = addr[0]
	}
	ln, err := net.Listen("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger()
	}
	ts := &testServer{
		Server: NewServer(cfg, h),
		addr:   ln.Addr().String(),
		ln:     &countingListener{Listener: ln},
		done:   make(chan error, 1),
	}
	go func() { ts.done <- ts.Serve(ts.ln) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop closes the server and checks Serve's result; it may be called
// before the test's cleanup.
func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	if err := ts.Close(); err != nil {
		t.Errorf("Server.Close() = %v", err)
	}
	if err := <-ts.done; !errors.Is(err, ErrClosed) {
		t.Errorf("Serve() = %v, want ErrClosed", err)
	}
	ts.done <- ErrClosed // later stops see the same result
}

// newTestClient returns a Client closed at the end of the test.
func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger()
	}
	c := NewClient(cfg)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Client.Close() = %v", err)
		}
	})
	return c
}

// echo answers op followed by req.
func echo(_ context.Context, op byte, req []byte) ([]byte, error) {
	return append([]byte{op}, req...), nil
}

// callCtx returns a context that ends after d, cancelled at test end.
func callCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
