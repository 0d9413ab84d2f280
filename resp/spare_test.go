package resp

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// A client that arrives when accept fails with EMFILE is told the server
// is full, not left hanging in the listen queue; the next one is served.
func TestAcceptOutOfFiles(t *testing.T) {
	e := newTestEnv(t)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	emfile := &net.OpError{Op: "accept", Net: "tcp", Addr: inner.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	ln := &flakyListener{Listener: inner, err: emfile, waiting: make(chan struct{})}
	go e.srv.Serve(ln)
	e.addr = inner.Addr().String()

	c := e.dial()
	close(ln.waiting)
	if got := c.read(); got != errMaxClients {
		t.Fatalf("client accepted while out of files: %q, want %q", got, errMaxClients)
	}
	c.expectClosed()
	runRaw(t, e.dial(), []rawCase{{cmd("PING"), simple("PONG")}})
	if n := e.srv.stats.connsRejected.Load(); n != 1 {
		t.Fatalf("rejected_connections = %d, want 1", n)
	}
}
