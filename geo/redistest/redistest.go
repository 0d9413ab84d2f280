// Package redistest starts a redis-server for a differential test and
// talks to it in raw RESP, so a test compares dynakv's answers with
// redis-server's byte for byte (a client library would parse "13.36" into
// a float and lose the formatting being compared).
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
)

// Client is a connection to a redis-server.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
}

// Start starts a redis-server on a free 127.0.0.1 port between lo and hi
// (inclusive; the range a test owns), stopped when t ends. It skips t if
// redis-server is not installed or the test is -short.
func Start(t testing.TB, lo, hi int) *Client {
	t.Helper()
	if testing.Short() {
		t.Skip("runs redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	for range 20 {
		port := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken
		}
		l.Close()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited })
		var c *Client
		poll.Until(t, 10*time.Second, "redis-server to answer PING", func() bool {
			select {
			case <-exited:
				return true // the port was taken meanwhile: try another
			default:
			}
			conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				return false
			}
			c = &Client{conn: conn, r: bufio.NewReader(conn)}
			t.Cleanup(func() { conn.Close() })
			return true
		})
		if c != nil {
			if _, err := c.Do("PING"); err == nil {
				return c
			}
		}
	}
	t.Fatalf("could not start redis-server on a port in %d-%d", lo, hi)
	return nil
}

// Do sends one command and returns its reply, raw.
func (c *Client) Do(args ...string) ([]byte, error) {
	c.Send(args...)
	return c.Read()
}

// Send writes one command without reading its reply (for pipelining).
func (c *Client) Send(args ...string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_, err := c.conn.Write(b.Bytes())
	return err
}

// Read reads one reply, raw.
func (c *Client) Read() ([]byte, error) {
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var out []byte
	err := readReply(c.r, &out)
	return out, err
}

func readReply(r *bufio.Reader, out *[]byte) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return err
	}
	*out = append(*out, line...)
	if len(line) < 3 {
		return errors.New("short reply line")
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', ',', '_', '#':
		return nil
	case '$':
		n, err := strconv.Atoi(string(body))
		if err != nil || n < 0 {
			return err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		*out = append(*out, buf...)
		return nil
	case '*', '%', '~':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return err
		}
		if line[0] == '%' {
			n *= 2
		}
		for range n {
			if err := readReply(r, out); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line)
}

// Value is a parsed reply: a string (simple, bulk, double or error text),
// an integer, an array, or null.
type Value struct {
	Kind byte // the RESP type byte: '+', '-', ':', '$', '*', ',', '_'
	Str  string
	Int  int64
	Arr  []Value
	Null bool
}

// Parse parses a raw reply.
func Parse(raw []byte) (Value, error) {
	v, rest, err := parse(raw)
	if err == nil && len(rest) != 0 {
		err = errors.New("trailing bytes after the reply")
	}
	return v, err
}

func parse(b []byte) (Value, []byte, error) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		return Value{}, nil, errors.New("no reply line")
	}
	kind, body, rest := b[0], string(b[1:i]), b[i+2:]
	v := Value{Kind: kind}
	switch kind {
	case '+', '-', ',':
		v.Str = body
	case '_':
		v.Null = true
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return v, nil, err
		}
		v.Int = n
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return v, nil, err
		}
		if n < 0 {
			v.Null = true
			return v, rest, nil
		}
		if len(rest) < n+2 {
			return v, nil, errors.New("short bulk")
		}
		v.Str, rest = string(rest[:n]), rest[n+2:]
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return v, nil, err
		}
		if n < 0 {
			v.Null = true
			return v, rest, nil
		}
		for range n {
			var e Value
			if e, rest, err = parse(rest); err != nil {
				return v, nil, err
			}
			v.Arr = append(v.Arr, e)
		}
	default:
		return v, nil, fmt.Errorf("unknown reply type %q", kind)
	}
	return v, rest, nil
}
