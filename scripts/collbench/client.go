package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// A minimal RESP2 client: the driver sends commands and reads their replies
// itself, so that what it measures is the server and the network, not a
// client library's pooling, retries or allocations, and so that preloading
// can keep a window of pipelined commands in flight on each connection.

// reply is one decoded reply; arrays keep only their length (the driver
// never looks inside them).
type reply struct {
	kind byte // '+', '-', ':', '$', '*'
	n    int64
	str  []byte
	null bool
}

// errReply is an error reply from the server, as an error.
type errReply string

func (e errReply) Error() string { return string(e) }

type client struct {
	nc      net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	timeout time.Duration
}

// dial connects to addr; every read and write of the connection must finish
// within timeout.
func dial(addr string, timeout time.Duration) (*client, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &client{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10), timeout: timeout}, nil
}

func (c *client) close() error { return c.nc.Close() }

// send buffers a command; flush sends what is buffered.
func (c *client) send(args ...[]byte) {
	c.w.WriteByte('*')
	c.w.WriteString(strconv.Itoa(len(args)))
	c.w.WriteString("\r\n")
	for _, a := range args {
		c.w.WriteByte('$')
		c.w.WriteString(strconv.Itoa(len(a)))
		c.w.WriteString("\r\n")
		c.w.Write(a)
		c.w.WriteString("\r\n")
	}
}

func (c *client) flush() error {
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.w.Flush()
}

// do sends one command and reads its reply; an error reply is returned as
// an errReply error.
func (c *client) do(args ...[]byte) (reply, error) {
	c.send(args...)
	if err := c.flush(); err != nil {
		return reply{}, err
	}
	return c.read()
}

// read reads the next reply; an error reply is returned as an errReply
// error.
func (c *client) read() (reply, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	r, err := c.readValue()
	if err == nil && r.kind == '-' {
		return r, errReply(r.str)
	}
	return r, err
}

func (c *client) line() ([]byte, error) {
	l, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(l) < 3 || l[len(l)-2] != '\r' {
		return nil, fmt.Errorf("resp: malformed line %q", l)
	}
	return l[:len(l)-2], nil
}

func (c *client) readValue() (reply, error) {
	l, err := c.line()
	if err != nil {
		return reply{}, err
	}
	r := reply{kind: l[0]}
	switch r.kind {
	case '+', '-':
		r.str = append([]byte(nil), l[1:]...)
		return r, nil
	case ':':
		r.n, err = strconv.ParseInt(string(l[1:]), 10, 64)
		return r, err
	case '$':
		if r.n, err = strconv.ParseInt(string(l[1:]), 10, 64); err != nil {
			return r, err
		}
		if r.n < 0 {
			r.null = true
			return r, nil
		}
		r.str = make([]byte, r.n+2)
		if _, err := io.ReadFull(c.r, r.str); err != nil {
			return r, err
		}
		r.str = r.str[:r.n]
		return r, nil
	case '*':
		if r.n, err = strconv.ParseInt(string(l[1:]), 10, 64); err != nil {
			return r, err
		}
		if r.n < 0 {
			r.null = true
		}
		for i := int64(0); i < r.n; i++ {
			if _, err := c.readValue(); err != nil {
				return r, err
			}
		}
		return r, nil
	}
	return r, errors.New("resp: unexpected reply type " + strconv.Quote(string(l[:1])))
}
