package peer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingProxy forwards one address's connections and keeps every byte
// that crossed it, both ways.
type recordingProxy struct {
	ln   net.Listener
	mu   sync.Mutex
	seen bytes.Buffer
	wg   sync.WaitGroup
}

func startRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{ln: ln}
	var conns []net.Conn
	var cmu sync.Mutex
	p.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			cmu.Lock()
			conns = append(conns, in, out)
			cmu.Unlock()
			copyRecorded := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 {
						p.mu.Lock()
						p.seen.Write(buf[:n])
						p.mu.Unlock()
						if _, werr := dst.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				dst.Close()
				src.Close()
			}
			p.wg.Go(func() { copyRecorded(out, in) })
			p.wg.Go(func() { copyRecorded(in, out) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *recordingProxy) contains(b []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Contains(p.seen.Bytes(), b)
}

func (p *recordingProxy) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen.Len()
}

// TestSecretEncryptsTraffic checks that with a cluster secret neither a
// request nor a response crosses the wire in the clear, and (as the
// control) that without one they do.
func TestSecretEncryptsTraffic(t *testing.T) {
	req := []byte("request-marker-0123456789")
	for _, secret := range []string{"s3cret", ""} {
		t.Run("secret="+secret, func(t *testing.T) {
			checkGoroutines(t)
			ts := startServer(t, Config{Secret: secret}, func(_ context.Context, _ byte, req []byte) ([]byte, error) {
				return append([]byte("response-marker-"), req...), nil
			})
			proxy := startRecordingProxy(t, ts.addr)
			c := newTestClient(t, Config{Secret: secret})
			for range 10 {
				resp, err := c.Call(callCtx(t, 5*time.Second), proxy.ln.Addr().String(), 1, req)
				if err != nil || !bytes.HasPrefix(resp, []byte("response-marker-")) {
					t.Fatalf("Call() = %q, %v", resp, err)
				}
			}
			c.Close()
			clear := proxy.contains(req) || proxy.contains([]byte("response-marker-"))
			if secret != "" && clear {
				t.Fatalf("with a secret, a payload crossed the wire in the clear (%d bytes seen)", proxy.len())
			}
			if secret == "" && !clear {
				t.Fatalf("without a secret the payloads should be visible to the proxy; it saw %d bytes", proxy.len())
			}
		})
	}
}

// TestTLSKeyPinned checks that a server which passes the secret handshake
// (it knows the secret) but presents another TLS key is refused before any
// request goes out: the TLS identity is the secret's own key, not any key.
func TestTLSKeyPinned(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	other, err := newSecretTLS("another secret")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	got := make(chan []byte, 1)
	wg.Go(func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := serverHandshake(nc, "s", strings.NewReader(strings.Repeat("n", nonceLen))); err != nil {
			return
		}
		tc, err := other.upgrade(context.Background(), nc, true)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(tc)
		got <- b
	})
	c := newTestClient(t, Config{Secret: "s"})
	_, err = c.Call(callCtx(t, 5*time.Second), ln.Addr().String(), 1, []byte("x"))
	if err == nil || !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("Call(server with another TLS key) = %v, want a TLS refusal", err)
	}
	c.Close()
	ln.Close()
	select {
	case b := <-got:
		if len(b) > 0 {
			t.Fatalf("the impostor received %d bytes of requests", len(b))
		}
	default:
	}
}
