// Package e2e holds dynakv's end-to-end tests. They build the real dynakv binary (the module
// root's main package) once in TestMain, start it on free 127.0.0.1 ports with its own data
// directory, and drive it with real clients (go-redis, redis-cli, Debian's python3-redis) and raw
// TCP connections. This file is the harness.
//
// They take minutes; under `go test -short` the whole package skips without building anything.
//
// Set DYNAKV_E2E_TARGET=redis to run the standard-command tests against a real redis-server
// instead (started with an empty --save, --appendonly no and --databases 1), which validates the
// expectations themselves against Redis 7. Tests of dynakv-only behaviour (VGET/VSET/VDEL, RING,
// kill -9 durability, hostile input) skip on that target.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/syncbuf"

	"github.com/redis/go-redis/v9"
)

const (
	targetDynakv = "dynakv"
	targetRedis  = "redis"

	// startTimeout bounds how long a started server may take to answer PING.
	startTimeout = 30 * time.Second
	// stopTimeout bounds how long a server may take to exit after SIGTERM or SIGKILL.
	stopTimeout = 15 * time.Second
	// replyTimeout bounds every read of a reply on a raw connection.
	replyTimeout = 10 * time.Second

	// mainPackage is the package TestMain builds: the dynakv command at the module root.
	mainPackage = "github.com/dynakv/dynakv"
)

var (
	// e2eTarget is targetDynakv or targetRedis, from DYNAKV_E2E_TARGET.
	e2eTarget = targetDynakv
	// dynakvBin is the path of the binary built by TestMain; empty if it could not be built
	// (only tolerated on the redis target).
	dynakvBin string
	// buildErr says why dynakvBin could not be built.
	buildErr string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse() // testing.Short reads the -short flag
	if testing.Short() {
		fmt.Println("e2e: skipped under -short: these tests build the dynakv binary and run real servers for minutes")
		return 0
	}
	switch t := os.Getenv("DYNAKV_E2E_TARGET"); t {
	case "", targetDynakv:
		e2eTarget = targetDynakv
	case targetRedis:
		e2eTarget = targetRedis
	default:
		fmt.Fprintf(os.Stderr, "e2e: DYNAKV_E2E_TARGET=%q: want %q or %q\n", t, targetDynakv, targetRedis)
		return 2
	}
	dir, err := os.MkdirTemp("", "dynakv-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "dynakv")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, mainPackage)
	out, err := cmd.CombinedOutput()
	switch {
	case err == nil:
		dynakvBin = bin
	case e2eTarget == targetRedis:
		// The standard tests do not need the binary on this target; the dynakv-only ones skip.
		buildErr = fmt.Sprintf("go build -o %s %s failed: %v\n%s", bin, mainPackage, err, out)
		fmt.Fprintf(os.Stderr, "e2e: warning (target redis, continuing): %s\n", buildErr)
	default:
		fmt.Fprintf(os.Stderr, "e2e: building the dynakv binary failed: go build -o %s %s: %v\n%s\n", bin, mainPackage, err, out)
		return 1
	}
	return m.Run()
}

// onRedis reports whether the suite runs against a real redis-server.
func onRedis() bool { return e2eTarget == targetRedis }

// dynakvOnly skips t on the redis target.
func dynakvOnly(t testing.TB) {
	t.Helper()
	if onRedis() {
		t.Skip("dynakv-only test: skipped with DYNAKV_E2E_TARGET=redis")
	}
	if dynakvBin == "" {
		t.Fatalf("no dynakv binary: %s", buildErr)
	}
}

// proc is one server process started by startNode. Its methods are called from the test
// goroutine only.
type proc struct {
	t       testing.TB
	name    string   // binary path
	args    []string // full argument list, reused by Restart
	dataDir string
	port    int           // client port
	host    string        // client host; "" is 127.0.0.1
	wrap    []string      // a command the server runs under (ip netns exec NS), or nil
	shared  *redis.Client // see Shared
	out     *syncbuf.Buffer
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
	waitErr error         // set before done is closed
	starts  int
}

// Addr is the client address, host:port.
func (p *proc) Addr() string {
	host := p.host
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(p.port))
}

// Port is the client port as a string, for redis-cli and friends.
func (p *proc) Port() string { return strconv.Itoa(p.port) }

// PID is the process id of the running server.
func (p *proc) PID() int { return p.cmd.Process.Pid }

// Output returns everything the server printed so far, over all its starts.
func (p *proc) Output() string { return p.out.String() }

// running reports whether the current process has not exited.
func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// freePort returns a 127.0.0.1 port that was free on TCP (and, if udp, on UDP too) a moment ago.
func freePort(t testing.TB, udp bool) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !udp {
			return port
		}
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatalf("free port: no free TCP+UDP port found in 50 tries")
	return 0
}

// hasFlag reports whether args contains --name or --name=value, and its value.
func hasFlag(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// startNode starts a server on free 127.0.0.1 ports and waits until it answers PING (or
// NOAUTH). On the dynakv target args are dynakv flags; --listen, --gossip-listen, --peer-listen
// and --data-dir are added unless given. On the redis target it starts redis-server instead and
// translates the few flags the standard tests use (--requirepass; --data-dir and --cluster-secret are dropped). The server is
// stopped and, if the test failed, its output logged, at cleanup.
func startNode(t testing.TB, args ...string) *proc {
	t.Helper()
	var lastOut string
	for attempt := range 3 {
		p := newProc(t, args)
		err := p.start()
		if err == nil {
			p.stopAtCleanup(t)
			return p
		}
		lastOut = p.Output()
		// A port picked by freePort can be taken by someone else before the server binds it.
		if !strings.Contains(lastOut, "address already in use") || attempt == 2 {
			t.Fatalf("start %s %s: %v\noutput:\n%s", p.name, strings.Join(p.args, " "), err, tail(lastOut, 64<<10))
		}
	}
	t.Fatalf("start: unreachable: %s", lastOut)
	return nil
}

// stopAtCleanup stops the server at t's cleanup and, if t failed, logs its output.
func (p *proc) stopAtCleanup(t testing.TB) {
	t.Cleanup(func() {
		if p.running() {
			p.stop(true)
		}
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", filepath.Base(p.name), strings.Join(p.args, " "), tail(p.Output(), 64<<10))
		}
	})
}

func newProc(t testing.TB, args []string) *proc {
	t.Helper()
	p := &proc{t: t, out: &syncbuf.Buffer{}, port: freePort(t, false)}
	dataDir, hasDataDir := hasFlag(args, "--data-dir")
	if !hasDataDir {
		dataDir = t.TempDir()
	}
	p.dataDir = dataDir
	if onRedis() {
		p.name = "redis-server"
		p.args = []string{"--port", p.Port(), "--bind", "127.0.0.1", "--dir", dataDir,
			"--save", "", "--appendonly", "no", "--databases", "1"}
		for i := 0; i < len(args); i++ {
			switch args[i] {
			case "--requirepass":
				p.args = append(p.args, "--requirepass", args[i+1])
				i++
			case "--data-dir", "--cluster-secret":
				i++
			default:
				t.Fatalf("startNode: flag %q has no redis-server translation; mark the test dynakvOnly", args[i])
			}
		}
		return p
	}
	if dynakvBin == "" {
		t.Fatalf("no dynakv binary: %s", buildErr)
	}
	p.name = dynakvBin
	p.args = append([]string(nil), args...)
	if v, ok := hasFlag(args, "--listen"); ok {
		_, ps, err := net.SplitHostPort(v)
		if err != nil {
			t.Fatalf("startNode: --listen %q: %v", v, err)
		}
		p.port, _ = strconv.Atoi(ps)
	} else {
		p.args = append(p.args, "--listen", p.Addr())
	}
	if _, ok := hasFlag(args, "--gossip-listen"); !ok {
		p.args = append(p.args, "--gossip-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, true))))
	}
	if _, ok := hasFlag(args, "--peer-listen"); !ok {
		p.args = append(p.args, "--peer-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, false))))
	}
	if !hasDataDir {
		p.args = append(p.args, "--data-dir", dataDir)
	}
	return p
}

// start launches the process and waits until it answers PING.
func (p *proc) start() error {
	p.starts++
	fmt.Fprintf(p.out, "=== start #%d: %s %s\n", p.starts, p.name, strings.Join(p.args, " "))
	cmd := exec.Command(p.name, p.args...)
	if len(p.wrap) > 0 { // the wrapper execs the server: the pid is the server's
		cmd = exec.Command(p.wrap[0], append(append(p.wrap[1:len(p.wrap):len(p.wrap)], p.name), p.args...)...)
	}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	cmd.Dir = p.dataDir
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		p.waitErr = err
		fmt.Fprintf(p.out, "=== exited: %v\n", err)
		close(done)
	}()
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for i := 0; i < 100000 && time.Now().Before(deadline); i++ {
		select {
		case <-done:
			return fmt.Errorf("exited before answering PING: %v", p.waitErr)
		default:
		}
		if lastErr = pingOnce(p.Addr()); lastErr == nil {
			return nil
		}
		select {
		case <-done:
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.stop(false)
	return fmt.Errorf("no PING answer within %v: %v", startTimeout, lastErr)
}

// pingOnce sends one PING on a new connection; +PONG and -NOAUTH both mean "serving".
func pingOnce(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("PING answered %q", line)
}

// signalAndWait sends sig and waits for the exit, bounded by stopTimeout.
func (p *proc) signalAndWait(sig syscall.Signal) bool {
	if !p.running() {
		return true
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return true
	case <-time.After(stopTimeout):
		return false
	}
}

// stop sends SIGTERM, waits, and falls back to SIGKILL; strict makes a slow exit a test error.
func (p *proc) stop(strict bool) {
	if p.signalAndWait(syscall.SIGTERM) {
		return
	}
	if strict {
		p.t.Errorf("%s did not exit within %v of SIGTERM; killing it", filepath.Base(p.name), stopTimeout)
	}
	if !p.signalAndWait(syscall.SIGKILL) {
		p.t.Errorf("%s did not exit within %v of SIGKILL", filepath.Base(p.name), stopTimeout)
	}
}

// Kill9 kills the server with SIGKILL and waits for it to be gone.
func (p *proc) Kill9() {
	p.t.Helper()
	if !p.signalAndWait(syscall.SIGKILL) {
		p.t.Fatalf("%s did not exit within %v of SIGKILL", filepath.Base(p.name), stopTimeout)
	}
}

// Stop stops the server gracefully (SIGTERM, then wait); a server that does not exit in time is
// a test error and is killed.
func (p *proc) Stop() {
	p.t.Helper()
	p.stop(true)
}

// Wipe stops the server and empties its data directory; a Restart then starts it with no data.
func (p *proc) Wipe() {
	p.t.Helper()
	p.Stop()
	if err := os.RemoveAll(p.dataDir); err != nil {
		p.t.Fatal(err)
	}
	if err := os.MkdirAll(p.dataDir, 0o755); err != nil {
		p.t.Fatal(err)
	}
}

// Restart stops the server if it still runs and starts it again with the same arguments, data
// directory and ports.
func (p *proc) Restart() {
	p.t.Helper()
	if p.running() {
		p.Stop()
	}
	if err := p.start(); err != nil {
		p.t.Fatalf("restart: %v\noutput:\n%s", err, tail(p.Output(), 64<<10))
	}
}

// Shared returns one go-redis client with default options for p, made on
// first use and closed at cleanup: for the cluster tests' many small
// queries (INFO, RING KEY, VGET LOCAL), which would otherwise leave a
// client with its pool behind each, and run the test out of descriptors.
// It reconnects by itself after p restarts.
func (p *proc) Shared(t testing.TB) *redis.Client {
	t.Helper()
	if p.shared == nil {
		p.shared = p.Client(t)
	}
	return p.shared
}

// Client returns a go-redis client with default options (RESP3 via HELLO 3) for p, closed at
// cleanup. Options may adjust a copy of the defaults.
func (p *proc) Client(t testing.TB, adjust ...func(*redis.Options)) *redis.Client {
	t.Helper()
	opt := &redis.Options{Addr: p.Addr()}
	for _, f := range adjust {
		f(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...(cut)...\n" + s[len(s)-n:]
}

// testCtx returns a context bounded by d and cancelled at cleanup.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// --- raw RESP connection ---

// respValue is one parsed reply. Lines is its wire form, one entry per CRLF-terminated line with
// a bulk payload as one entry (without its CRLF).
type respValue struct {
	Type  byte   // '+', '-', ':', '$', '*', '_', '%', ...
	Str   string // simple string, error, integer text, bulk payload
	Null  bool   // $-1, *-1, _
	Elems []respValue
	Lines []string
}

// rawConn is a test's RESP connection without any client library in between.
type rawConn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// encodeCommand encodes args as a RESP array of bulk strings.
func encodeCommand(args ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

// WriteRaw sends bytes as they are.
func (rc *rawConn) WriteRaw(b []byte) error {
	rc.c.SetWriteDeadline(time.Now().Add(replyTimeout))
	_, err := rc.c.Write(b)
	return err
}

// Do sends one command and reads its reply; errors in I/O fail the test.
func (rc *rawConn) Do(args ...string) respValue {
	rc.t.Helper()
	if err := rc.WriteRaw(encodeCommand(args...)); err != nil {
		rc.t.Fatalf("write %q: %v", args, err)
	}
	v, err := rc.Read()
	if err != nil {
		rc.t.Fatalf("reply to %q: %v", args, err)
	}
	return v
}

// Read reads one whole reply.
func (rc *rawConn) Read() (respValue, error) {
	rc.c.SetReadDeadline(time.Now().Add(replyTimeout))
	return readValue(rc.r, 0)
}

// ExpectClosed reads until EOF within replyTimeout, returning what arrived before it.
func (rc *rawConn) ExpectClosed() (string, error) {
	rc.c.SetReadDeadline(time.Now().Add(replyTimeout))
	b, err := io.ReadAll(io.LimitReader(rc.r, 1<<20))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return string(b), fmt.Errorf("connection still open after %v", replyTimeout)
		}
		if errors.Is(err, syscall.ECONNRESET) {
			return string(b), nil
		}
		return string(b), err
	}
	return string(b), nil
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return line, err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return line, fmt.Errorf("line %q does not end in CRLF", line)
	}
	return line[:len(line)-2], nil
}

// readValue reads one RESP2 or RESP3 value.
func readValue(r *bufio.Reader, depth int) (respValue, error) {
	if depth > 64 {
		return respValue{}, errors.New("reply nested too deeply")
	}
	line, err := readLine(r)
	if err != nil {
		return respValue{}, err
	}
	if line == "" {
		return respValue{}, errors.New("empty reply line")
	}
	v := respValue{Type: line[0], Str: line[1:], Lines: []string{line}}
	switch v.Type {
	case '+', '-', ':', ',', '#', '(':
		return v, nil
	case '_':
		v.Null = true
		return v, nil
	case '$', '!', '=':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return v, fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			v.Null, v.Str = true, ""
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return v, err
		}
		if string(buf[n:]) != "\r\n" {
			return v, fmt.Errorf("bulk of %d bytes not followed by CRLF", n)
		}
		v.Str = string(buf[:n])
		v.Lines = append(v.Lines, v.Str)
		return v, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return v, fmt.Errorf("bad aggregate length %q", line)
		}
		if n < 0 {
			v.Null = true
			return v, nil
		}
		if v.Type == '%' || v.Type == '|' {
			n *= 2
		}
		for range n {
			e, err := readValue(r, depth+1)
			if err != nil {
				return v, err
			}
			v.Elems = append(v.Elems, e)
			v.Lines = append(v.Lines, e.Lines...)
		}
		if v.Type == '|' { // an attribute precedes the real reply
			e, err := readValue(r, depth+1)
			if err != nil {
				return v, err
			}
			e.Lines = append(v.Lines, e.Lines...)
			return e, nil
		}
		return v, nil
	}
	return v, fmt.Errorf("unknown reply type in %q", line)
}

// Wire returns v as it came on the wire, for messages.
func (v respValue) Wire() string {
	return strings.Join(v.Lines, "\\r\\n")
}

// --- scripted cases (testdata/*.txt) ---

// scriptStep is one command of a script and the reply lines it expects.
type scriptStep struct {
	line int      // line number of the command in the file
	send []byte   // bytes to send
	desc string   // the command as written
	want []string // expected reply lines; "=text" is exact, "~re" an anchored regexp
	skip int      // number of whole replies to read and ignore before comparing
	eof  bool     // expect the connection to be closed after the reply
}

// scriptSection is a named run of steps replayed on one fresh connection.
type scriptSection struct {
	name  string
	steps []scriptStep
}

// parseScript reads a script file. Format, one directive per line:
//
//	# comment               (blank lines are ignored too)
//	=== NAME                start a section: a subtest on a fresh connection
//	> ARG ARG ...           send a command as a RESP array; an ARG may be a Go-quoted string
//	>raw "..."              send the Go-quoted bytes as they are (inline commands, bad framing)
//	< TEXT                  one line of the expected reply: a framing line such as "$3" or "*2",
//	                        or a bulk payload; TEXT may be Go-quoted to show spaces at its ends
//	<~ REGEXP               one line of the expected reply, matched by an anchored regexp
//	<skip                   read one whole reply and ignore it
//	<closed                 expect the server to close the connection (the section goes on
//	                        with a new one)
//
// The expected lines of a command are compared with the lines of as many replies as it takes
// to cover them, so one >raw line may carry a pipeline.
func parseScript(t testing.TB, path string) []scriptSection {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sections []scriptSection
	for i, raw := range strings.Split(string(data), "\n") {
		ln := i + 1
		line := strings.TrimRight(raw, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if name, ok := strings.CutPrefix(line, "=== "); ok {
			sections = append(sections, scriptSection{name: strings.TrimSpace(name)})
			continue
		}
		if len(sections) == 0 {
			sections = append(sections, scriptSection{name: "main"})
		}
		sec := &sections[len(sections)-1]
		last := func() *scriptStep {
			if len(sec.steps) == 0 {
				t.Fatalf("%s:%d: expectation before any command", path, ln)
			}
			return &sec.steps[len(sec.steps)-1]
		}
		switch {
		case strings.HasPrefix(line, ">raw "):
			s, err := strconv.Unquote(strings.TrimSpace(line[len(">raw "):]))
			if err != nil {
				t.Fatalf("%s:%d: >raw wants a Go-quoted string: %v", path, ln, err)
			}
			sec.steps = append(sec.steps, scriptStep{line: ln, send: []byte(s), desc: strconv.Quote(s)})
		case strings.HasPrefix(line, "> "):
			args, err := splitArgs(line[2:])
			if err != nil {
				t.Fatalf("%s:%d: %v", path, ln, err)
			}
			sec.steps = append(sec.steps, scriptStep{line: ln, send: encodeCommand(args...), desc: line[2:]})
		case line == "<skip":
			last().skip++
		case line == "<closed":
			last().eof = true
		case strings.HasPrefix(line, "<~ "):
			re := strings.TrimSpace(line[3:])
			if _, err := regexp.Compile("^(?:" + re + ")$"); err != nil {
				t.Fatalf("%s:%d: %v", path, ln, err)
			}
			s := last()
			s.want = append(s.want, "~"+re)
		case strings.HasPrefix(line, "< ") || line == "<":
			text := ""
			if len(line) > 2 {
				text = line[2:]
			}
			if strings.HasPrefix(text, `"`) {
				u, err := strconv.Unquote(text)
				if err != nil {
					t.Fatalf("%s:%d: bad quoted reply line: %v", path, ln, err)
				}
				text = u
			}
			s := last()
			s.want = append(s.want, "="+text)
		default:
			t.Fatalf("%s:%d: cannot parse %q", path, ln, line)
		}
	}
	return sections
}

// splitArgs splits on spaces; an argument starting with a double quote is a Go-quoted string.
func splitArgs(s string) ([]string, error) {
	var args []string
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return args, nil
		}
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("bad quoted argument in %q: %v", s, err)
			}
			u, _ := strconv.Unquote(q)
			args = append(args, u)
			s = s[len(q):]
			continue
		}
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			i = len(s)
		}
		args = append(args, s[:i])
		s = s[i:]
	}
}

// runScript replays a script file against addr, each section as a subtest on its own
// connection. A mismatch is reported and the section goes on; a broken connection ends the
// section.
func runScript(t *testing.T, addr, path string) {
	t.Helper()
	sections := parseScript(t, path)
	if len(sections) == 0 {
		t.Fatalf("%s: no commands", path)
	}
	for _, sec := range sections {
		t.Run(sec.name, func(t *testing.T) {
			rc := dialRaw(t, addr)
			for _, st := range sec.steps {
				where := fmt.Sprintf("%s:%d: %s", filepath.Base(path), st.line, st.desc)
				if err := rc.WriteRaw(st.send); err != nil {
					t.Fatalf("%s: write: %v", where, err)
				}
				for range st.skip {
					if v, err := rc.Read(); err != nil {
						t.Fatalf("%s: reading reply to skip: %v", where, err)
					} else if v.Type == '-' {
						t.Errorf("%s: skipped reply is an error: %s", where, v.Wire())
					}
				}
				var got []string
				for i := 0; len(got) < len(st.want) && i < len(st.want); i++ {
					v, err := rc.Read()
					if err != nil {
						t.Fatalf("%s: reading reply: %v (got so far %q, want %q)", where, err, got, showWant(st.want))
					}
					got = append(got, v.Lines...)
				}
				if !linesMatch(st.want, got) {
					t.Errorf("%s:\n  got  %q\n  want %q", where, got, showWant(st.want))
				}
				if st.eof {
					if rest, err := rc.ExpectClosed(); err != nil || rest != "" {
						t.Errorf("%s: want the connection closed; got %q, %v", where, rest, err)
					}
					rc = dialRaw(t, addr)
				}
			}
		})
	}
}

func linesMatch(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		switch w[0] {
		case '=':
			if got[i] != w[1:] {
				return false
			}
		case '~':
			if !regexp.MustCompile("^(?:" + w[1:] + ")$").MatchString(got[i]) {
				return false
			}
		}
	}
	return true
}

func showWant(want []string) []string {
	out := make([]string, len(want))
	for i, w := range want {
		if w[0] == '~' {
			out[i] = "regexp:" + w[1:]
		} else {
			out[i] = w[1:]
		}
	}
	return out
}
