package resp

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/syncbuf"
)

// noReader is a client that sends a pipeline and never reads a reply: its
// receive buffer is small, so the server's writes block early.
func noReader(t *testing.T, e *testEnv, cmds ...[]string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := nc.Write(rdEncode(cmds...)); err != nil {
		t.Fatal(err)
	}
	return nc
}

// setAndHangUp sets key on a connection of its own and waits until the
// server has closed it.
func setAndHangUp(t *testing.T, e *testEnv, key, value string) {
	t.Helper()
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("SET", key, value), okReply}})
	c.nc.Close()
	poll.Until(t, 10*time.Second, "the SET connection to end", func() bool { return e.srv.numConns() == 0 })
}

// getCounter counts the backend's Gets per key.
type getCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (g *getCounter) hook(op string, key []byte) {
	if op != "get" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n == nil {
		g.n = map[string]int{}
	}
	g.n[string(key)]++
}

func (g *getCounter) count(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n[key]
}

// logged returns a logger writing text to the returned buffer.
func logged() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

// A client pipelining 64 GETs of a 4 MiB value without reading, with a
// hard limit under one reply: the first reply closes it at once, with a
// log line naming it, and the other GETs never run.
func TestOutputBufferHardLimit(t *testing.T) {
	log, logBuf := logged()
	e := newTestEnv(t, func(cfg *Config) {
		cfg.OutputLimit = OutputLimit{Hard: 3 << 20}
		cfg.Logger = log
	})
	value := strings.Repeat("v", 4<<20)
	setAndHangUp(t, e, "big", value)
	var gets getCounter
	e.backend.setHook(gets.hook)

	var cmds [][]string
	for range 64 {
		cmds = append(cmds, cmd("GET", "big"))
	}
	noReader(t, e, cmds...)
	poll.Until(t, 10*time.Second, "the client closed for the output buffer limit", func() bool {
		return e.srv.stats.obufDisconnects.Load() == 1 && e.srv.numConns() == 0
	})
	// Closed when the first reply was done: the window holds two.
	if peak := e.srv.stats.peakOutput.Load(); peak > 8<<20 {
		t.Fatalf("output buffer peaked at %d bytes, want at most two replies", peak)
	}
	if n := gets.count("big"); n > 2 {
		t.Fatalf("%d of the 64 GETs ran; the rest should have been dropped with the connection", n)
	}
	line := logBuf.String()
	if !strings.Contains(line, "scheduled to be closed ASAP for overcoming of output buffer limits") || !strings.Contains(line, "limit=hard") || !strings.Contains(line, "addr=127.0.0.1:") {
		t.Fatalf("log: %s", line)
	}
	// The server still serves others.
	runRaw(t, e.dial(), []rawCase{{cmd("PING"), simple("PONG")}})
}

// Without output buffer limits (Redis's default for normal clients), the
// window alone bounds what a client that pipelines 64 GETs of a 4 MiB
// value and never reads makes the server hold: a reply being written and
// one or two waiting. With all 64 in flight at once (main), the replies
// held reached 256 MiB.
func TestPipelineWindowBoundsUnreadReplies(t *testing.T) {
	e := newTestEnv(t)
	value := strings.Repeat("v", 4<<20)
	setAndHangUp(t, e, "big", value)
	// The first GET waits at the gate, as a read of a big value from disk
	// takes a while (the others wait for it: same key), until the
	// connection has read all of the pipeline it will read meanwhile: its
	// qbuf in CLIENT LIST unchanged over 50 looks.
	var started atomic.Int64
	gate := make(chan struct{})
	var opened sync.Once
	open := func() { opened.Do(func() { close(gate) }) }
	t.Cleanup(open)
	e.backend.setHook(func(op string, key []byte) {
		if op == "get" && string(key) == "big" {
			started.Add(1)
			<-gate
		}
	})
	var cmds [][]string
	for range 64 {
		cmds = append(cmds, cmd("GET", "big"))
	}
	nc := noReader(t, e, cmds...)
	admin := e.dial()
	settled(t, admin, "qbuf", func() bool { return started.Load() > 0 })
	open()
	// Then until it holds what it will: omem unchanged over 50 looks.
	settled(t, admin, "omem", func() bool { return started.Load() >= 2 })
	nc.Close()
	admin.nc.Close()
	poll.Until(t, 10*time.Second, "the connections to end", func() bool { return e.srv.numConns() == 0 })
	if peak := e.srv.stats.peakOutput.Load(); peak > 16<<20 {
		t.Fatalf("output buffer peaked at %d bytes (%d GETs ran), want at most 16 MiB", peak, started.Load())
	}
	if n := started.Load(); n > 8 {
		t.Fatalf("%d of the 64 GETs ran", n)
	}
}

// settled polls CLIENT LIST on admin until field of the pipelining
// client's line (cmd=get) has not changed over 50 looks, once ready holds.
func settled(t *testing.T, admin *rawConn, field string, ready func() bool) {
	t.Helper()
	looks, last := 0, ""
	poll.Until(t, 10*time.Second, "the pipelining client's "+field+" to settle", func() bool {
		val := ""
		for _, line := range strings.Split(admin.do("CLIENT", "LIST"), "\n") {
			if i := strings.Index(line, " "+field+"="); i >= 0 && strings.Contains(line, "cmd=get") {
				val = line[i+1:]
				val = val[:strings.IndexByte(val, ' ')]
			}
		}
		if !ready() || val == "" || val != last {
			looks, last = 0, val
			return false
		}
		looks++
		return looks >= 50
	})
}

// A reply over the soft limit that the client does not read closes it
// once the soft limit's seconds have passed, though nothing more is added.
func TestOutputBufferSoftLimit(t *testing.T) {
	log, logBuf := logged()
	e := newTestEnv(t, func(cfg *Config) {
		cfg.OutputLimit = OutputLimit{Hard: 64 << 20, Soft: 1 << 20, SoftSeconds: time.Second}
		cfg.Logger = log
	})
	value := strings.Repeat("v", 16<<20)
	setAndHangUp(t, e, "big", value)
	start := time.Now()
	noReader(t, e, cmd("GET", "big"))
	poll.Until(t, 20*time.Second, "the client closed for the soft limit", func() bool {
		return e.srv.stats.obufDisconnects.Load() == 1 && e.srv.numConns() == 0
	})
	if d := time.Since(start); d < time.Second {
		t.Fatalf("closed after %v, before the soft limit's second", d)
	}
	if !strings.Contains(logBuf.String(), "limit=soft") {
		t.Fatalf("log: %s", logBuf.String())
	}
	if peak := e.srv.stats.peakOutput.Load(); peak < 1<<20 || peak > 17<<20 {
		t.Fatalf("output buffer peaked at %d bytes", peak)
	}

	// A client that reads its replies is not closed: the buffer drains
	// under the soft limit before its seconds run out.
	c := e.dial()
	for range 3 {
		if got := c.do("GET", "big"); len(got) != len(bulk(value)) {
			t.Fatalf("GET big: %d bytes", len(got))
		}
	}
	if n := e.srv.stats.obufDisconnects.Load(); n != 1 {
		t.Fatalf("%d clients closed, want 1", n)
	}
}

// A connection whose client goes away cancels the context of its running
// command and drops its queued ones.
func TestClosedConnectionCancelsWork(t *testing.T) {
	e := newTestEnv(t)
	value := strings.Repeat("v", 16<<20)
	setAndHangUp(t, e, "big", value)
	var gets getCounter
	e.backend.setHook(gets.hook)
	started := make(chan struct{})
	cancelled := make(chan bool, 1)
	e.backend.setCtxHook(func(ctx context.Context, key []byte) {
		if string(key) != "slow" {
			return
		}
		close(started)
		select {
		case <-ctx.Done():
			cancelled <- true
		case <-time.After(10 * time.Second):
			cancelled <- false
		}
	})
	// GET big and GET slow run together; the 16 MiB reply blocks the
	// connection's write, as the client does not read.
	cmds := [][]string{cmd("GET", "big"), cmd("GET", "slow")}
	for range 20 {
		cmds = append(cmds, cmd("GET", "queued"))
	}
	nc := noReader(t, e, cmds...)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("GET slow did not start")
	}
	nc.Close()
	if !<-cancelled {
		t.Fatal("the running GET's context was not cancelled when its client went away")
	}
	poll.Until(t, 10*time.Second, "the connection to end", func() bool { return e.srv.numConns() == 0 })
	if n := gets.count("queued"); n != 0 {
		t.Fatalf("%d queued GETs ran after the client went away", n)
	}
}

// The window: small replies open it to maxInFlight, a big one closes it to
// what inFlightBudget allows.
func TestPipelineWindow(t *testing.T) {
	var p pipeline
	if p.window = initialWindow; p.window > 4 {
		t.Fatalf("initial window %d", p.window)
	}
	for range 10 {
		p.resize(100)
	}
	if p.window != maxInFlight {
		t.Fatalf("window %d after small replies, want %d", p.window, maxInFlight)
	}
	p.resize(inFlightBudget / 4)
	if p.window != 4 {
		t.Fatalf("window %d after a reply of a quarter of the budget, want 4", p.window)
	}
	p.resize(100 << 20)
	if p.window != 1 {
		t.Fatalf("window %d after a 100 MiB reply, want 1", p.window)
	}
	p.resize(0)
	if p.window != 2 {
		t.Fatalf("window %d after an empty reply, want 2", p.window)
	}
}
