package resp

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Clients that do not read their replies. A connection's output buffer is
// the bytes of replies produced and not yet written to the socket: the
// connection's reply buffer (being written, or waiting to be) and the
// replies of pipelined commands that have run and wait for their turn.
// OutputLimit bounds it as Redis's client-output-buffer-limit does for
// normal clients, and the pipeline window (pipeline.go) bounds how many
// commands, and so how many replies, one connection has in flight.

// OutputLimit is Redis's client-output-buffer-limit for normal clients: a
// client whose output buffer reaches Hard bytes is closed at once; one
// whose buffer stays at or over Soft bytes for more than SoftSeconds is
// closed then. Zero disables a limit (Redis's default for normal clients;
// a node passes its client_output_buffer_limit).
type OutputLimit struct {
	Hard, Soft  int64
	SoftSeconds time.Duration
}

// outputBuffer is what a connection tracks of its output buffer. Its
// counters are updated by the connection's goroutine and its pipelined
// commands' workers, and read by CLIENT LIST.
type outputBuffer struct {
	main      atomic.Int64 // len(main.out.b), published by the connection goroutine
	ops       atomic.Int64 // replies of pipelined commands that ran and wait to be retired
	push      atomic.Int64 // a subscribed connection's queue and write in progress (pubsub_out.go)
	softSince atomic.Int64 // Unix nanos at which the buffer was first seen over the soft limit; 0 if under
	closed    atomic.Bool  // closed for a limit
	deadline  bool         // a write deadline is set (connection goroutine only)
}

// obufUsed is the connection's output buffer in bytes.
func (c *client) obufUsed() int64 { return c.ob.main.Load() + c.ob.ops.Load() + c.ob.push.Load() }

// outputLimit is the limit of c's class, as Redis's getClientType picks
// it: the pubsub class while c has subscriptions, normal otherwise.
func (c *client) outputLimit() OutputLimit {
	if c.subscribed() {
		return c.srv.pubsubLimit()
	}
	return c.srv.cfg.OutputLimit
}

// publishOut records the size of the connection's reply buffer after it
// grew or was written, and applies the limits. Connection goroutine only.
func (c *client) publishOut() {
	c.ob.main.Store(int64(len(c.main.out.b)))
	c.checkOutput(c.obufUsed())
}

// checkOutput applies the output buffer limits to used bytes, as Redis's
// checkClientOutputBufferLimits does, and closes the client if one is
// exceeded. It reports whether the client is closed for a limit. Safe for
// concurrent use.
func (c *client) checkOutput(used int64) bool {
	s := c.srv
	for {
		peak := s.stats.peakOutput.Load()
		if used <= peak || s.stats.peakOutput.CompareAndSwap(peak, used) {
			break
		}
	}
	lim := c.outputLimit()
	if lim.Hard > 0 && used >= lim.Hard {
		c.closeForOutput("hard", used)
		return true
	}
	if lim.Soft > 0 && used >= lim.Soft {
		now := time.Now().UnixNano()
		since := c.ob.softSince.Load()
		if since == 0 {
			c.ob.softSince.CompareAndSwap(0, now)
		} else if time.Duration(now-since) > lim.SoftSeconds {
			c.closeForOutput("soft", used)
			return true
		}
		return c.ob.closed.Load()
	}
	c.ob.softSince.Store(0)
	return c.ob.closed.Load()
}

// closeForOutput closes the connection for exceeding an output buffer limit
// (kind "hard" or "soft") and logs it, once, in Redis's words. The
// connection's goroutine then ends, and the context of its commands is
// cancelled, so its queued commands do not run.
func (c *client) closeForOutput(kind string, used int64) {
	if c.ob.closed.Swap(true) {
		return
	}
	s := c.srv
	s.stats.obufDisconnects.Add(1)
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	lim := c.outputLimit()
	s.log.Warn(fmt.Sprintf("Client id=%d addr=%s laddr=%s name=%s omem=%d scheduled to be closed ASAP for overcoming of output buffer limits.", c.id, c.addr, c.laddr, name, used),
		"limit", kind, "hard", lim.Hard, "soft", lim.Soft, "soft_seconds", int64(lim.SoftSeconds/time.Second))
	c.cancel()
	c.nc.Close()
}

// writeChunk is the most bytes of replies written at once, so a big
// reply's output buffer shrinks as the client reads it: a client that
// keeps reading drops under the soft limit, as in Redis, though the whole
// reply took longer than the soft seconds.
const writeChunk = 1 << 20

// writeOut writes b, the connection's reply buffer, under the output
// buffer limits, in chunks of writeChunk. After a failed write the client
// is gone: its context is cancelled, so its queued and running commands
// stop. Connection goroutine only.
func (c *client) writeOut(b []byte) error {
	for len(b) > 0 {
		c.ob.main.Store(int64(len(b)))
		if c.checkOutput(c.obufUsed()) {
			return errClosedForOutput
		}
		c.writeDeadline()
		n, err := c.nc.Write(b[:min(len(b), writeChunk)])
		c.srv.stats.netOut.Add(int64(n))
		b = b[n:]
		if err != nil {
			c.cancel()
			c.wroteOut(err, c.obufUsed())
			return err
		}
	}
	return nil
}

// errClosedForOutput is the write error of a client closed for an output
// buffer limit.
var errClosedForOutput = errors.New("resp: client closed for overcoming of output buffer limits")

// writeDeadline is called before the connection goroutine writes its
// reply buffer: while the buffer is over the soft limit, the write may
// block only until the soft limit's time runs out, so a client that does
// not read is closed then even if nothing more is added to its buffer.
func (c *client) writeDeadline() {
	lim := c.outputLimit()
	since := c.ob.softSince.Load()
	switch {
	case lim.Soft > 0 && since != 0:
		c.nc.SetWriteDeadline(time.Unix(0, since).Add(lim.SoftSeconds + time.Millisecond))
		c.ob.deadline = true
	case c.ob.deadline:
		c.nc.SetWriteDeadline(time.Time{})
		c.ob.deadline = false
	}
}

// wroteOut follows a write of the reply buffer that failed with err: a
// write that timed out on the soft limit's deadline closes the client for
// the soft limit.
func (c *client) wroteOut(err error, used int64) {
	if c.ob.deadline && errors.Is(err, os.ErrDeadlineExceeded) {
		c.closeForOutput("soft", used)
	}
}

// exceeds reports whether a reply still being gathered, of pending bytes
// beyond what c.out holds, would take the connection's output buffer to
// the hard limit; if so the client is closed, as Redis closes it while the
// reply grows, and the command should stop gathering. For commands whose
// reply may be large (MGET, KEYS).
func (c *Conn) exceeds(pending int) bool {
	hard := c.srv.cfg.OutputLimit.Hard
	if hard <= 0 {
		return false
	}
	used := c.ob.ops.Load() + int64(len(c.out.b)+pending)
	if c != &c.client.main {
		used += c.ob.main.Load() // a pipelined command: the connection's buffer besides its own
	}
	return used >= hard && c.checkOutput(used)
}
