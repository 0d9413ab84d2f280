package peer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	mrand "math/rand"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWrongSecret(t *testing.T) {
	for _, tc := range []struct{ client, server string }{
		{"a", "b"},
		{"", "b"},
		{"a", ""},
	} {
		t.Run(tc.client+"|"+tc.server, func(t *testing.T) {
			checkGoroutines(t)
			log, logs := testLogger()
			var served atomic.Int32
			ts := startServer(t, Config{Secret: tc.server, Logger: log}, func(ctx context.Context, op byte, req []byte) ([]byte, error) {
				served.Add(1)
				return echo(ctx, op, req)
			})
			now := time.Now()
			c := newTestClient(t, Config{Secret: tc.client, Logger: log})
			c.now = func() time.Time { return now }

			_, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, nil)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Call() = %v, want ErrAuth", err)
			}
			if errors.Is(err, ErrUnreachable) {
				t.Errorf("Call() = %v: a refusal is not ErrUnreachable", err)
			}
			waitFor(t, "the server's warning", 5*time.Second, func() bool {
				return logs.count("peer refused: wrong cluster secret") == 1
			})
			if !strings.Contains(logs.String(), "remote=127.0.0.1:") {
				t.Errorf("warning without the remote address:\n%s", logs)
			}

			// A second attempt (after the fail-fast window) is refused
			// again but not logged again.
			now = now.Add(time.Second)
			if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, nil); !errors.Is(err, ErrAuth) {
				t.Fatalf("second Call() = %v, want ErrAuth", err)
			}
			waitFor(t, "the second handshake", 5*time.Second, func() bool { return ts.ln.accepted.Load() == 2 })
			if n := logs.count("peer refused: wrong cluster secret"); n != 1 {
				t.Errorf("warning logged %d times for one remote host, want once", n)
			}
			if served.Load() != 0 {
				t.Errorf("handler ran %d times for an unauthenticated client", served.Load())
			}

			// The right secret works on the same server.
			good := newTestClient(t, Config{Secret: tc.server})
			if resp, err := good.Call(callCtx(t, 5*time.Second), ts.addr, 7, []byte("ok")); err != nil || string(resp) != "\x07ok" {
				t.Fatalf("Call(right secret) = %q, %v", resp, err)
			}
		})
	}
}

// TestServerMustProveSecret checks that the client refuses a server that
// accepts its MAC but cannot answer with the right one.
func TestServerMustProveSecret(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		hello := append([]byte(handshakeMagic+"\x01"), make([]byte, nonceLen)...)
		nc.Write(hello)
		io.ReadFull(nc, make([]byte, clientHelloLen))
		nc.Write(append([]byte{handshakeOK}, make([]byte, macLen)...)) // a MAC it cannot compute
		io.Copy(io.Discard, nc)
	})
	c := newTestClient(t, Config{Secret: "s"})
	if _, err := c.Call(callCtx(t, 5*time.Second), ln.Addr().String(), 0, nil); !errors.Is(err, ErrAuth) {
		t.Fatalf("Call(impostor) = %v, want ErrAuth", err)
	}
	c.Close()
}

// TestFrameTooLarge covers the limit in both directions.
func TestFrameTooLarge(t *testing.T) {
	checkGoroutines(t)
	const limit = 1 << 10
	log, logs := testLogger()
	ts := startServer(t, Config{MaxFrame: limit, Logger: log}, func(_ context.Context, op byte, req []byte) ([]byte, error) {
		if op == 1 {
			return make([]byte, limit+1), nil
		}
		return append([]byte{op}, req...), nil
	})

	t.Run("request refused by the client", func(t *testing.T) {
		c := newTestClient(t, Config{MaxFrame: limit})
		if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, make([]byte, limit+1)); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("Call(too large) = %v, want ErrFrameTooLarge", err)
		}
		if ts.ln.accepted.Load() != 0 {
			t.Errorf("a request over the limit was sent")
		}
	})

	t.Run("request refused by the server", func(t *testing.T) {
		c := newTestClient(t, Config{ConnsPerPeer: 1}) // default, larger limit
		if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, make([]byte, limit+1)); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("Call(over the server's limit) = %v, want ErrUnreachable", err)
		}
		waitFor(t, "the server's warning", 5*time.Second, func() bool { return logs.count("frame too large") == 1 })
		// The server survives and the client redials.
		resp, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 2, make([]byte, limit-1))
		if err != nil || len(resp) != limit {
			t.Fatalf("Call after the refused frame = %d bytes, %v", len(resp), err)
		}
	})

	t.Run("response replaced by an error", func(t *testing.T) {
		c := newTestClient(t, Config{})
		_, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 1, nil)
		var re *RemoteError
		if !errors.As(err, &re) || !strings.Contains(re.Msg, "frame too large") {
			t.Fatalf("Call(response too large) = %v, want *RemoteError about the frame size", err)
		}
	})

	t.Run("response over the client's limit", func(t *testing.T) {
		c := newTestClient(t, Config{MaxFrame: 16})
		if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 2, make([]byte, 16)); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("Call(response over the client's limit) = %v, want ErrUnreachable", err)
		}
	})
}

// rawConn dials addr and, if secret is non-nil, completes the handshake,
// returning a connection on which the test writes raw frames.
func rawConn(t *testing.T, addr string, secret *string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if secret != nil {
		if err := clientHandshake(nc, *secret, rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	return nc
}

// waitClosed reads from nc until the server closes it.
func waitClosed(t *testing.T, nc net.Conn) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}

// TestGarbage sends malformed bytes to the server port, before and after
// the handshake, and checks that the server closes the connection, spends
// little memory, and keeps serving.
func TestGarbage(t *testing.T) {
	checkGoroutines(t)
	secret := "s"
	log, _ := testLogger()
	ts := startServer(t, Config{Secret: secret, DialTimeout: 200 * time.Millisecond, Logger: log}, echo)
	rng := mrand.New(mrand.NewSource(7))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	serves := func() {
		t.Helper()
		c := newTestClient(t, Config{Secret: secret})
		if resp, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 1, []byte("x")); err != nil || string(resp) != "\x01x" {
			t.Fatalf("server no longer serves: %q, %v", resp, err)
		}
		c.Close()
	}

	t.Run("before handshake", func(t *testing.T) {
		for _, n := range []int{0, 1, 5, 68, 69, 70, 4096} {
			nc := rawConn(t, ts.addr, nil)
			nc.Write(garbage(n)) // an idle or short hello runs into DialTimeout
			waitClosed(t, nc)
		}
		serves()
	})

	t.Run("after handshake", func(t *testing.T) {
		for _, n := range []int{1, 13, 100, 64 << 10} {
			nc := rawConn(t, ts.addr, &secret)
			nc.Write(garbage(n))
			nc.(*net.TCPConn).CloseWrite()
			waitClosed(t, nc)
		}
		serves()
	})

	t.Run("short header", func(t *testing.T) {
		for _, length := range []uint32{0, 1, 8} {
			nc := rawConn(t, ts.addr, &secret)
			nc.Write(binary.BigEndian.AppendUint32(nil, length))
			waitClosed(t, nc) // closed without waiting for more bytes
		}
		serves()
	})

	t.Run("huge declared length", func(t *testing.T) {
		const declared = 500 << 20 // within the default MaxFrame
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 4 {
			nc := rawConn(t, ts.addr, &secret)
			hdr := binary.BigEndian.AppendUint32(nil, declared+frameHeaderLen)
			hdr = binary.BigEndian.AppendUint64(hdr, 1)
			hdr = append(hdr, 0)
			nc.Write(append(hdr, garbage(10)...))
			nc.(*net.TCPConn).CloseWrite()
			waitClosed(t, nc)
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 16<<20 {
			t.Errorf("4 frames declaring 500 MB and sending 10 bytes cost %d MiB of allocation", d>>20)
		}
		serves()
	})
}

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
	waitFor(t, "the calls to reach the handler", 5*time.Second, func() bool { return running.Load() == pending })
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
	waitFor(t, "the client to reconnect", 5*time.Second, func() bool {
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
	waitFor(t, "the call to reach the handler", 5*time.Second, func() bool { return running.Load() == 1 })
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
		waitFor(t, "handlers to fill the limit", 5*time.Second, func() bool { return running.Load() == want })
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
	waitFor(t, "3 connections", 5*time.Second, func() bool { return ts.ln.accepted.Load() == 3 })
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

// TestRequestBuffering checks the client and server against a peer that
// reads and writes one byte at a time (frames split across reads).
func TestSplitWrites(t *testing.T) {
	checkGoroutines(t)
	secret := "s"
	ts := startServer(t, Config{Secret: secret}, echo)
	nc := rawConn(t, ts.addr, &secret)
	var frames bytes.Buffer
	bw := bufio.NewWriter(&frames)
	for i := range 3 {
		writeFrame(bw, uint64(100+i), byte(i), bytes.Repeat([]byte{byte(i)}, i*1000))
	}
	bw.Flush()
	for _, b := range frames.Bytes() {
		if _, err := nc.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(nc)
	seen := map[uint64]bool{}
	for range 3 {
		f, err := readFrame(br, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		i := int(f.id - 100)
		if f.kind != statusOK || len(f.payload) != 1+i*1000 || f.payload[0] != byte(i) {
			t.Errorf("response %d: status %d, %d bytes", f.id, f.kind, len(f.payload))
		}
		seen[f.id] = true
	}
	if len(seen) != 3 {
		t.Errorf("responses for ids %v, want 100..102", seen)
	}
}
