package peer

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
)

// TestServerCloseMidCall kills the server under pending calls, then
// restarts it on the same address.
func TestServerCloseMidCall(t *testing.T) {
	checkGoroutines(t)
	var running atomic.Int32
	h := func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		if op == 1 {
			running.Add(1)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return echo(ctx, op, req)
	}
	ts := startServer(t, Config{}, h)
	c := newTestClient(t, Config{})

	const pending = 8
	errs := make(chan error, pending)
	for range pending {
		go func() {
			_, err := c.Call(callCtx(t, time.Minute), ts.addr, 1, nil)
			errs <- err
		}()
	}
	poll.Until(t, 5*time.Second, "the calls to reach the handler", func() bool { return running.Load() == pending })
	start := time.Now()
	ts.stop(t)
	for range pending {
		if err := <-errs; !errors.Is(err, ErrUnreachable) {
			t.Errorf("pending Call() = %v, want ErrUnreachable", err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("pending calls took %v to fail", d)
	}

	// While the server is down calls fail; once it is back they succeed.
	if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, nil); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Call(server down) = %v, want ErrUnreachable", err)
	}
	ts2 := startServer(t, Config{}, h, ts.addr)
	poll.Until(t, 5*time.Second, "the client to reconnect", func() bool {
		resp, err := c.Call(callCtx(t, 5*time.Second), ts2.addr, 2, []byte("back"))
		return err == nil && string(resp) == "\x02back"
	})
}

// TestFailFast checks that calls to a closed port fail quickly, and that a
// failed dial is not repeated within 200 ms.
func TestFailFast(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	now := time.Now()
	c := newTestClient(t, Config{})
	var mu sync.Mutex
	c.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	start := time.Now()
	_, err1 := c.Call(callCtx(t, 5*time.Second), addr, 0, nil)
	if !errors.Is(err1, ErrUnreachable) {
		t.Fatalf("Call(closed port) = %v, want ErrUnreachable", err1)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Call(closed port) took %v", d)
	}
	// Within the window: the same error, without a new dial.
	for range 100 {
		_, err := c.Call(callCtx(t, 5*time.Second), addr, 0, nil)
		if err != err1 {
			t.Fatalf("Call within the fail-fast window = %v, want the first dial's error %v", err, err1)
		}
	}
	// After the window: a new dial, hence a new error.
	mu.Lock()
	now = now.Add(failFastWindow)
	mu.Unlock()
	if _, err := c.Call(callCtx(t, 5*time.Second), addr, 0, nil); err == err1 || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Call after the window = %v, want a new ErrUnreachable", err)
	}
}

// TestClientClose checks that Close fails pending calls with ErrClosed and
// refuses later ones.
func TestClientClose(t *testing.T) {
	checkGoroutines(t)
	var running atomic.Int32
	ts := startServer(t, Config{}, func(ctx context.Context, _ byte, _ []byte) ([]byte, error) {
		running.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	c := NewClient(Config{})
	errs := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), ts.addr, 0, nil)
		errs <- err
	}()
	poll.Until(t, 5*time.Second, "the call to reach the handler", func() bool { return running.Load() == 1 })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Errorf("pending Call() = %v, want ErrClosed", err)
	}
	if _, err := c.Call(context.Background(), ts.addr, 0, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Call after Close = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
}

// TestServeAfterClose checks Serve's result on a closed server.
func TestServeAfterClose(t *testing.T) {
	checkGoroutines(t)
	s := NewServer(Config{}, echo)
	s.Close()
	s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close = %v, want ErrClosed", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve did not close its listener: %v", err)
	}
}

// TestMaxInFlight checks that a connection never runs more than
// MaxInFlight handlers at once and that the others wait their turn.
func TestMaxInFlight(t *testing.T) {
	checkGoroutines(t)
	const limit, calls = 2, 6
	var running, peak atomic.Int32
	release := make(chan struct{})
	ts := startServer(t, Config{MaxInFlight: limit}, func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		defer running.Add(-1)
		<-release
		return echo(ctx, op, req)
	})
	c := newTestClient(t, Config{ConnsPerPeer: 1})
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.Call(callCtx(t, 10*time.Second), ts.addr, 0, nil)
			errs <- err
		}()
	}
	for done := 0; done < calls; done++ {
		want := int32(min(limit, calls-done))
		poll.Until(t, 5*time.Second, "handlers to fill the limit", func() bool { return running.Load() == want })
		release <- struct{}{}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != limit {
		t.Errorf("peak concurrency %d, want %d", p, limit)
	}
}

// TestConnsPerPeer checks that calls are spread over ConnsPerPeer
// connections, dialled lazily.
func TestConnsPerPeer(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, Config{}, echo)
	c := newTestClient(t, Config{ConnsPerPeer: 3})
	if n := ts.ln.accepted.Load(); n != 0 {
		t.Fatalf("%d connections before the first call", n)
	}
	for i := range 30 {
		if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 5*time.Second, "3 connections", func() bool { return ts.ln.accepted.Load() == 3 })
	for i := range 30 {
		if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.ln.accepted.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

func TestConfig(t *testing.T) {
	d := DefaultConfig("x")
	if d.Secret != "x" || d.MaxFrame != 544<<20 || d.ConnsPerPeer != 2 || d.DialTimeout != time.Second || d.MaxInFlight != 256 || d.Logger == nil {
		t.Errorf("DefaultConfig() = %+v", d)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Config{}.Validate() = %v", err)
	}
	for _, tc := range []struct {
		key string
		cfg Config
	}{
		{"MaxFrame", Config{MaxFrame: -1}},
		{"MaxFrame", Config{MaxFrame: 1 << 40}},
		{"ConnsPerPeer", Config{ConnsPerPeer: -1}},
		{"DialTimeout", Config{DialTimeout: -time.Second}},
		{"MaxInFlight", Config{MaxInFlight: -1}},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.cfg, err, tc.key)
		}
		c := NewClient(tc.cfg)
		if _, callErr := c.Call(context.Background(), "127.0.0.1:1", 0, nil); callErr == nil || callErr.Error() != err.Error() {
			t.Errorf("Call with invalid config = %v, want %v", callErr, err)
		}
		c.Close()
		ln, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			t.Fatal(lerr)
		}
		if serveErr := NewServer(tc.cfg, echo).Serve(ln); serveErr == nil || serveErr.Error() != err.Error() {
			t.Errorf("Serve with invalid config = %v, want %v", serveErr, err)
		}
	}
}
