package peer

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
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
			poll.Until(t, 5*time.Second, "the server's warning", func() bool {
				return logs.CountLines("peer refused: wrong cluster secret") == 1
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
			poll.Until(t, 5*time.Second, "the second handshake", func() bool { return ts.ln.accepted.Load() == 2 })
			if n := logs.CountLines("peer refused: wrong cluster secret"); n != 1 {
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
		hello := append([]byte{handshakeMagic[0], handshakeMagic[1], handshakeMagic[2], handshakeMagic[3], protocolVersion}, make([]byte, nonceLen)...)
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
