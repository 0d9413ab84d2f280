package resp

import (
	"strconv"
	"sync"
	"time"
)

// How messages reach a subscriber's socket. A connection that never
// subscribed writes its replies from its own goroutine (server.go). Once it
// subscribes, messages arrive from other goroutines at any time, also while
// its goroutine waits for the client's next command, so from then on every
// byte for the socket goes through the connection's pushOutput: publishers
// append messages to pending (never waiting for the socket), the
// connection goroutine appends its replies there when it flushes, and
// whoever holds wmu writes pending out: the connection goroutine when it
// flushes, or the connection's writer goroutine when messages arrive while
// the connection is idle. One queue keeps frames whole and in the order
// they were produced.
//
// One exception keeps Redis's order: a (P|S)SUBSCRIBE registers its
// subscriptions before its confirmation is flushed, so a message published
// in between would overtake the confirmation. SUBSCRIBE therefore holds
// the messages that arrive until its connection flushes, and they go out
// right after its replies (encoded then, in the protocol the connection
// has at that point).
//
// Memory: pending, held messages and the write in progress count in the
// connection's output buffer (outbuf.go, ob.push), under the pubsub
// class's limits (Config.PubSubOutputLimit, Redis's 32mb 8mb 60 by
// default): a subscriber that does not read is closed, as Redis closes it,
// and its messages dropped, rather than grow the node's memory.

// pushOutput is a subscribed connection's output queue.
type pushOutput struct {
	pushMu  sync.Mutex
	pending []byte      // frames and replies to write, in order
	proto   int         // the connection's protocol as of its last flush: what messages are encoded in
	hold    bool        // messages go to held until the next flush
	held    []heldFrame // messages that arrived while holding
	dead    bool        // the connection ended: messages are dropped
	wake    chan struct{}

	wmu   sync.Mutex // held while writing; guards spare and werr
	spare []byte
	werr  error
}

// heldFrame is a message kept raw while held, to be encoded at the flush.
type heldFrame struct {
	kind                  string
	pattern, channel, msg []byte
}

func (o *pushOutput) init(proto int) {
	o.proto = proto
	o.wake = make(chan struct{}, 1)
}

// maxSpare is the largest write buffer kept for the next write.
const maxSpare = 1 << 20

// appendFrame encodes one message frame.
func appendFrame(b []byte, proto int, kind string, pattern, channel, msg []byte) []byte {
	n := 3
	if pattern != nil {
		n = 4
	}
	b = pushHeader(b, proto, n)
	b = appendBulk(b, []byte(kind))
	if pattern != nil {
		b = appendBulk(b, pattern)
	}
	b = appendBulk(b, channel)
	return appendBulk(b, msg)
}

func appendBulk(b, s []byte) []byte {
	b = append(strconv.AppendInt(append(b, '$'), int64(len(s)), 10), '\r', '\n')
	return append(append(b, s...), '\r', '\n')
}

// frameSize is what appendFrame adds, near enough for accounting.
func frameSize(pattern, channel, msg []byte) int {
	return 40 + len(pattern) + len(channel) + len(msg)
}

// push queues a message for c. It reports whether it was queued (not if
// the connection has ended or was closed for its output buffer). It never
// blocks on the socket. Safe for concurrent use.
func (o *pushOutput) push(c *client, kind string, pattern, channel, msg []byte) bool {
	o.pushMu.Lock()
	if o.dead || c.ob.closed.Load() {
		o.pushMu.Unlock()
		return false
	}
	var grew int
	if o.hold {
		f := heldFrame{kind: kind, channel: append([]byte(nil), channel...), msg: append([]byte(nil), msg...)}
		if pattern != nil {
			f.pattern = pattern // the hub's copy, never modified
		}
		o.held = append(o.held, f)
		grew = frameSize(pattern, channel, msg)
	} else {
		before := len(o.pending)
		o.pending = appendFrame(o.pending, o.proto, kind, pattern, channel, msg)
		grew = len(o.pending) - before
	}
	wake := !o.hold
	o.pushMu.Unlock()
	c.ob.push.Add(int64(grew))
	if c.checkOutput(c.obufUsed()) {
		return false
	}
	if wake {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// holdMessages makes messages wait until the connection's next flush.
// Connection goroutine only.
func (o *pushOutput) holdMessages() {
	o.pushMu.Lock()
	o.hold = true
	o.pushMu.Unlock()
}

// flush is client.flush for a subscribed connection: the replies buffered
// so far, then the messages held, join the queue, and the queue is written
// out. Connection goroutine only.
func (p *subscriber) flush() error {
	c, o := p.c, &p.out
	out := &c.main.out
	o.pushMu.Lock()
	o.pending = append(o.pending, out.b...)
	grew := len(out.b)
	o.proto = out.proto
	if o.hold {
		for _, f := range o.held {
			before := len(o.pending)
			o.pending = appendFrame(o.pending, o.proto, f.kind, f.pattern, f.channel, f.msg)
			grew += len(o.pending) - before - frameSize(f.pattern, f.channel, f.msg)
		}
		o.hold, o.held = false, nil
	}
	o.pushMu.Unlock()
	c.ob.push.Add(int64(grew))
	if cap(out.b) > 1<<20 {
		out.b = nil
	} else {
		out.Reset()
	}
	c.publishOut()
	o.drain(c)
	o.wmu.Lock()
	err := o.werr
	o.wmu.Unlock()
	if err != nil && c.werr == nil {
		c.werr = err
	}
	return c.werr
}

// drain writes the queue out until it is empty, under wmu. After a failed
// write the queue is discarded.
func (o *pushOutput) drain(c *client) {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	for {
		o.pushMu.Lock()
		buf := o.pending
		o.pending = o.spare[:0]
		o.spare = nil
		o.pushMu.Unlock()
		if len(buf) == 0 {
			o.spare = buf
			return
		}
		if o.werr == nil {
			o.werr = o.write(c, buf)
		} else {
			c.ob.push.Add(-int64(len(buf)))
		}
		if cap(buf) <= maxSpare {
			o.spare = buf[:0]
		}
	}
}

// write writes buf in chunks, under the output buffer limits, as writeOut
// does for a connection that never subscribed. Under wmu.
func (o *pushOutput) write(c *client, buf []byte) error {
	for len(buf) > 0 {
		if c.checkOutput(c.obufUsed()) {
			c.ob.push.Add(-int64(len(buf)))
			return errClosedForOutput
		}
		c.writeDeadline()
		n, err := c.nc.Write(buf[:min(len(buf), writeChunk)])
		c.srv.stats.netOut.Add(int64(n))
		c.ob.push.Add(-int64(n))
		buf = buf[n:]
		if err != nil {
			c.ob.push.Add(-int64(len(buf)))
			c.cancel()
			c.wroteOut(err, c.obufUsed())
			c.nc.Close()
			return err
		}
	}
	return nil
}

// startWriter starts the goroutine that writes messages arriving while the
// connection is idle. It ends with the connection, dropping the
// connection's subscriptions.
func (p *subscriber) startWriter() {
	c := p.c
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		for {
			select {
			case <-c.ctx.Done():
				p.out.pushMu.Lock()
				p.out.dead = true
				dropped := len(p.out.pending)
				for _, f := range p.out.held {
					dropped += frameSize(f.pattern, f.channel, f.msg)
				}
				c.ob.push.Add(-int64(dropped))
				p.out.pending, p.out.held = nil, nil
				p.out.pushMu.Unlock()
				p.close(&c.srv.pubsub)
				return
			case <-p.out.wake:
				p.out.drain(c)
			}
		}
	}()
}

// pubsubLimit is the output buffer limit of a subscribed connection:
// Redis's pubsub class.
func (s *Server) pubsubLimit() OutputLimit {
	if s.cfg.PubSubOutputLimit != nil {
		return *s.cfg.PubSubOutputLimit
	}
	return DefaultPubSubOutputLimit
}

// DefaultPubSubOutputLimit is Redis's default client-output-buffer-limit
// for the pubsub class: 32mb hard, 8mb for 60 seconds soft.
var DefaultPubSubOutputLimit = OutputLimit{Hard: 32 << 20, Soft: 8 << 20, SoftSeconds: 60 * time.Second}
