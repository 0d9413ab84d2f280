package peer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
)

// transportEnv builds one implementation for the shared suite: it serves h
// at some address and returns a Transport that reaches it.
type transportEnv func(t *testing.T, h Handler) (tr Transport, addr string)

// tcpEnv serves h with a Server on loopback and calls it with a Client
// that keeps a single connection, so "the same connection" is meaningful.
func tcpEnv(t *testing.T, h Handler) (Transport, string) {
	ts := startServer(t, Config{Secret: "s3cret"}, h)
	return newTestClient(t, Config{Secret: "s3cret", ConnsPerPeer: 1}), ts.addr
}

// memEnv serves h on a MemNetwork.
func memEnv(t *testing.T, h Handler) (Transport, string) {
	n := NewMemNetwork(1)
	n.Listen("server", h)
	return n.Endpoint("client"), "server"
}

// TestTransport runs the shared suite against every implementation.
func TestTransport(t *testing.T) {
	for _, impl := range []struct {
		name string
		env  transportEnv
	}{{"tcp", tcpEnv}, {"mem", memEnv}, {"tcp-batch", tcpBatchEnv}, {"mem-batch", memBatchEnv}} {
		t.Run(impl.name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				run  func(*testing.T, transportEnv)
			}{
				{"RoundTripConcurrent", testRoundTripConcurrent},
				{"EveryOp", testEveryOp},
				{"RemoteError", testRemoteError},
				{"Panic", testPanic},
				{"Deadline", testDeadline},
				{"CancelledBeforeCall", testCancelledBeforeCall},
				{"NoAliasing", testNoAliasing},
			} {
				t.Run(tc.name, func(t *testing.T) {
					checkGoroutines(t)
					tc.run(t, impl.env)
				})
			}
		})
	}
}

// payloadSize draws a request size between 0 and 1 MiB, mostly small:
// 1% up to 1 MiB, 9% up to 64 KiB, the rest up to 1 KiB.
func payloadSize(rng *rand.Rand) int {
	switch p := rng.Intn(100); {
	case p == 0:
		return rng.Intn(1<<20 + 1)
	case p < 10:
		return rng.Intn(64<<10 + 1)
	default:
		return rng.Intn(1<<10 + 1)
	}
}

// testRoundTripConcurrent makes 64 goroutines x 500 calls with payloads of
// 0 B to 1 MiB, each filled with its own tag, and checks that every
// response is the echo of its own request.
func testRoundTripConcurrent(t *testing.T, env transportEnv) {
	tr, addr := env(t, echo)
	const goroutines, calls = 64, 500
	n := calls
	if testing.Short() {
		n = 50
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewSource(int64(g)))
			for i := range n {
				size := payloadSize(rng)
				req := taggedPayload(uint64(g)<<32|uint64(i), size)
				op := byte(rng.Intn(256))
				resp, err := tr.Call(callCtx(t, 30*time.Second), addr, op, req)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d call %d (%d bytes): %w", g, i, size, err)
					return
				}
				if len(resp) != size+1 || resp[0] != op || !bytes.Equal(resp[1:], req) {
					errs <- fmt.Errorf("goroutine %d call %d: wrong response (len %d, want %d)", g, i, len(resp), size+1)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// taggedPayload returns size bytes repeating the 8-byte big-endian tag.
func taggedPayload(tag uint64, size int) []byte {
	p := make([]byte, size)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], tag)
	for i := 0; i < size; i += copy(p[i:], b[:]) {
	}
	return p
}

// testEveryOp checks that every op code, and an empty payload, arrive.
func testEveryOp(t *testing.T, env transportEnv) {
	tr, addr := env(t, echo)
	for op := range 256 {
		resp, err := tr.Call(callCtx(t, 5*time.Second), addr, byte(op), nil)
		if err != nil || !bytes.Equal(resp, []byte{byte(op)}) {
			t.Fatalf("Call(op %d, empty) = %v, %v; want [%d], nil", op, resp, err, op)
		}
	}
}

// testRemoteError checks that a handler error arrives as *RemoteError,
// truncated to 4 KiB, with the code the handler marked it with.
func testRemoteError(t *testing.T, env transportEnv) {
	long := strings.Repeat("x", 10<<10)
	tr, addr := env(t, func(_ context.Context, op byte, _ []byte) ([]byte, error) {
		switch op {
		case 1:
			return nil, errors.New(long)
		case 2:
			return nil, WithCode(7, fmt.Errorf("wrapped: %w", errors.New("conflict")))
		}
		return []byte("ignored"), errors.New("no such key")
	})
	_, err := tr.Call(callCtx(t, 5*time.Second), addr, 0, []byte("k"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "no such key" || re.Code != 0 || err.Error() != "peer: no such key" {
		t.Fatalf("Call() error = %#v, want *RemoteError{no such key}", err)
	}
	_, err = tr.Call(callCtx(t, 5*time.Second), addr, 2, nil)
	if !errors.As(err, &re) || re.Code != 7 || re.Msg != "wrapped: conflict" {
		t.Fatalf("coded error: %#v, want code 7 and the message", err)
	}
	if errors.Is(err, ErrUnreachable) {
		t.Errorf("a remote error must not be ErrUnreachable: %v", err)
	}
	_, err = tr.Call(callCtx(t, 5*time.Second), addr, 1, nil)
	if !errors.As(err, &re) || re.Msg != long[:4096] {
		t.Fatalf("long error: got %d bytes, want 4096", len(re.Msg))
	}
}

// testPanic checks that a handler panic is answered as an error and the
// server goes on serving.
func testPanic(t *testing.T, env transportEnv) {
	tr, addr := env(t, func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		if op == 13 {
			panic("unlucky")
		}
		return echo(ctx, op, req)
	})
	_, err := tr.Call(callCtx(t, 5*time.Second), addr, 13, nil)
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "unlucky") {
		t.Fatalf("Call(panicking handler) = %v, want *RemoteError mentioning the panic", err)
	}
	resp, err := tr.Call(callCtx(t, 5*time.Second), addr, 1, []byte("after"))
	if err != nil || string(resp) != "\x01after" {
		t.Fatalf("Call after panic = %q, %v", resp, err)
	}
}

// testDeadline checks that a short ctx against a slow handler returns
// quickly with DeadlineExceeded, and that later calls still work.
func testDeadline(t *testing.T, env transportEnv) {
	release := make(chan struct{})
	var started atomic.Int32
	tr, addr := env(t, func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		if op == 1 {
			started.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return []byte("late"), nil
		}
		return echo(ctx, op, req)
	})
	defer close(release)
	// Warm up so the measured call does not include the dial.
	if _, err := tr.Call(callCtx(t, 5*time.Second), addr, 0, nil); err != nil {
		t.Fatal(err)
	}
	startAt := time.Now()
	_, err := tr.Call(callCtx(t, 50*time.Millisecond), addr, 1, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call(slow, 50ms) = %v, want DeadlineExceeded", err)
	}
	if errors.Is(err, ErrUnreachable) {
		t.Errorf("Call(slow, 50ms) = %v: the connection did not fail, so not ErrUnreachable", err)
	}
	if d := time.Since(startAt); d > 2*time.Second {
		t.Errorf("Call(slow, 50ms) took %v", d)
	}
	poll.Until(t, 5*time.Second, "slow handler to start", func() bool { return started.Load() == 1 })
	for i := range 10 {
		resp, err := tr.Call(callCtx(t, 5*time.Second), addr, 2, []byte{byte(i)})
		if err != nil || !bytes.Equal(resp, []byte{2, byte(i)}) {
			t.Fatalf("Call after deadline = %v, %v", resp, err)
		}
	}
}

// testCancelledBeforeCall checks that a context already done fails at once
// without reaching the handler.
func testCancelledBeforeCall(t *testing.T, env transportEnv) {
	var calls atomic.Int32
	tr, addr := env(t, func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		calls.Add(1)
		return echo(ctx, op, req)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Call(ctx, addr, 0, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Call(cancelled) = %v, want context.Canceled", err)
	}
	if calls.Load() != 0 {
		t.Errorf("handler ran %d times for a cancelled call", calls.Load())
	}
}

// testNoAliasing checks that caller and handler share no bytes.
func testNoAliasing(t *testing.T, env transportEnv) {
	var mu sync.Mutex
	var kept []byte
	tr, addr := env(t, func(_ context.Context, _ byte, req []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		kept = []byte("response")
		req[0] = 'X' // the handler owns req
		return kept, nil
	})
	req := []byte("request")
	resp, err := tr.Call(callCtx(t, 5*time.Second), addr, 0, req)
	if err != nil {
		t.Fatal(err)
	}
	if string(req) != "request" {
		t.Errorf("the handler's write reached the caller's request: %q", req)
	}
	resp[0] = 'Y'
	mu.Lock()
	defer mu.Unlock()
	if string(kept) != "response" {
		t.Errorf("the caller's write reached the handler's response: %q", kept)
	}
}
