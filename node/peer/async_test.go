package peer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
)

// goResult is one Go call's outcome, as its done callback got it.
type goResult struct {
	resp []byte
	err  error
}

// startGo runs tr.Go while holding a mutex that done also takes: if done
// ran on the caller's goroutine, before Go returned, it would deadlock.
func startGo(ctx context.Context, tr AsyncTransport, addr string, op byte, req []byte) <-chan goResult {
	var mu sync.Mutex
	out := make(chan goResult, 2) // room for a second (wrong) delivery
	mu.Lock()
	tr.Go(ctx, addr, op, req, func(resp []byte, err error) {
		mu.Lock()
		defer mu.Unlock()
		out <- goResult{resp, err}
	})
	mu.Unlock()
	return out
}

// await returns the one result of a Go call and checks that no second
// delivery follows shortly after.
func await(t *testing.T, ch <-chan goResult) goResult {
	t.Helper()
	var r goResult
	select {
	case r = <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Go call never completed")
	}
	select {
	case r2 := <-ch:
		t.Fatalf("done called twice: %v, then %v", r, r2)
	default:
	}
	return r
}

// TestGoCalls covers the asynchronous call on TCP and on a MemNetwork: the
// first call dials (the fallback path), later ones queue on the live
// connection, many run at once and each gets its own response.
func TestGoCalls(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, Config{}, echo)
	c := newTestClient(t, Config{})
	n := NewMemNetwork(1)
	n.Listen("b", echo)
	for _, tc := range []struct {
		name string
		tr   AsyncTransport
		addr string
	}{{"tcp", c, ts.addr}, {"mem", n.Endpoint("a").(AsyncTransport), "b"}} {
		t.Run(tc.name, func(t *testing.T) {
			const calls = 200
			chans := make([]<-chan goResult, calls)
			for i := range calls {
				chans[i] = startGo(callCtx(t, 10*time.Second), tc.tr, tc.addr, byte(i), fmt.Appendf(nil, "req %d", i))
			}
			for i, ch := range chans {
				r := await(t, ch)
				if want := string(append([]byte{byte(i)}, fmt.Sprintf("req %d", i)...)); r.err != nil || string(r.resp) != want {
					t.Errorf("call %d: (%q, %v), want %q", i, r.resp, r.err, want)
				}
			}
		})
	}
}

// TestGoErrors checks that a handler error, a cancelled context, a server
// that goes away and a closed client each reach done exactly once.
func TestGoErrors(t *testing.T) {
	checkGoroutines(t)
	var blocked atomic.Int32
	release := make(chan struct{}, 1)
	h := func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		switch op {
		case 1:
			return nil, errors.New("no such thing")
		case 2, 3: // 2 waits for release, 3 for the server to close
			blocked.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil, nil
		}
		return echo(ctx, op, req)
	}
	ts := startServer(t, Config{}, h)
	c := newTestClient(t, Config{})
	// Connect first, so that the calls below take the queued path.
	if _, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 0, nil); err != nil {
		t.Fatal(err)
	}

	var re *RemoteError
	if r := await(t, startGo(callCtx(t, 5*time.Second), c, ts.addr, 1, nil)); !errors.As(r.err, &re) || re.Msg != "no such thing" {
		t.Errorf("handler error: %v, want RemoteError \"no such thing\"", r.err)
	}

	// A call whose context ends while the handler holds it: done gets the
	// context's error, and the late response is dropped.
	ctx, cancel := context.WithCancel(context.Background())
	ch := startGo(ctx, c, ts.addr, 2, nil)
	poll.Until(t, 5*time.Second, "the call to reach the handler", func() bool { return blocked.Load() == 1 })
	cancel()
	if r := await(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled call: %v, want context.Canceled", r.err)
	}
	release <- struct{}{}

	// An already ended context fails at once.
	if r := await(t, startGo(ctx, c, ts.addr, 0, nil)); !errors.Is(r.err, context.Canceled) {
		t.Errorf("call with an ended context: %v, want context.Canceled", r.err)
	}

	// The server goes away under a pending call.
	ch = startGo(callCtx(t, time.Minute), c, ts.addr, 3, nil)
	poll.Until(t, 5*time.Second, "the call to reach the handler", func() bool { return blocked.Load() == 2 })
	ts.stop(t)
	if r := await(t, ch); !errors.Is(r.err, ErrUnreachable) {
		t.Errorf("call to a server that closed: %v, want ErrUnreachable", r.err)
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r := await(t, startGo(callCtx(t, 5*time.Second), c, ts.addr, 0, nil)); !errors.Is(r.err, ErrClosed) {
		t.Errorf("call on a closed client: %v, want ErrClosed", r.err)
	}
}
