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
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
)

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
		poll.Until(t, 5*time.Second, "the server's warning", func() bool { return logs.CountLines("frame too large") == 1 })
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
		st, err := newSecretTLS(*secret)
		if err != nil {
			t.Fatal(err)
		}
		tc, err := st.upgrade(context.Background(), nc, false)
		if err != nil {
			t.Fatal(err)
		}
		return tc
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
			nc.(interface{ CloseWrite() error }).CloseWrite()
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
			nc.(interface{ CloseWrite() error }).CloseWrite()
			waitClosed(t, nc)
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 16<<20 {
			t.Errorf("4 frames declaring 500 MB and sending 10 bytes cost %d MiB of allocation", d>>20)
		}
		serves()
	})
}

// TestSplitWrites checks the server against a peer that writes one byte
// at a time, so that frames arrive split across reads.
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
