package peer

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"sync"
	"time"
)

// bufSize is the size of each connection's read and write buffers.
const bufSize = 32 << 10

// keepAlive probes an idle connection after 15 s and gives it up after
// three unanswered probes 5 s apart.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// outFrame is a frame waiting in a connection's write queue.
type outFrame struct {
	id      uint64
	kind    byte
	payload []byte
	// ctx, when set, is the caller's: the writer skips the frame if it has
	// ended before the frame was written.
	ctx context.Context
	// sem, when set, is released (one receive) once the frame was written
	// or dropped, so a server bounds requests not yet answered on the wire.
	sem chan struct{}
}

// release gives back the frame's semaphore slot, if it has one.
func (f *outFrame) release() {
	if f.sem != nil {
		<-f.sem
	}
}

// wireConn is the framing half of a connection, shared by client and
// server: buffered reads for the owner's reader goroutine and a queue
// drained by a writer goroutine (writeLoop) that coalesces frames into
// one flush.
type wireConn struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer // used by writeLoop only

	wake chan struct{} // one pending wake-up for writeLoop
	done chan struct{} // closed by close

	mu     sync.Mutex
	queue  []outFrame
	closed bool
	cause  error // first error given to close
}

func newWireConn(nc net.Conn) *wireConn {
	return &wireConn{
		nc:   nc,
		br:   bufio.NewReaderSize(nc, bufSize),
		bw:   bufio.NewWriterSize(nc, bufSize),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// send queues f for writeLoop. It reports false, having released f, if
// the connection is closed. It never blocks on the network.
func (w *wireConn) send(f outFrame) bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		f.release()
		return false
	}
	w.queue = append(w.queue, f)
	first := len(w.queue) == 1
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// sendMany queues fs for writeLoop in one go, waking it at most once. Like
// send, it reports false, having released every frame, if the connection
// is closed, and never blocks on the network. fs is copied: the caller may
// reuse it.
func (w *wireConn) sendMany(fs []outFrame) bool {
	if len(fs) == 0 {
		return true
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		for i := range fs {
			fs[i].release()
		}
		return false
	}
	first := len(w.queue) == 0
	w.queue = append(w.queue, fs...)
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// writeLoop writes queued frames until the connection closes. It takes the
// whole queue at once, writes it into the buffer, and flushes only when no
// more frames arrived meanwhile, so concurrent calls share system calls.
// A write error closes the connection.
func (w *wireConn) writeLoop() {
	var batch []outFrame
	for {
		select {
		case <-w.wake:
		case <-w.done:
			return
		}
		for yielded := false; ; {
			w.mu.Lock()
			batch, w.queue = w.queue, batch[:0]
			w.mu.Unlock()
			if len(batch) == 0 {
				if yielded {
					break
				}
				// Before paying for a system call, let the goroutines
				// made runnable by the last responses queue their frames:
				// woken by the first of them, the writer would otherwise
				// run before the rest and flush one frame at a time.
				yielded = true
				runtime.Gosched()
				continue
			}
			yielded = false
			for i := range batch {
				f := &batch[i]
				var err error
				if f.ctx == nil || f.ctx.Err() == nil {
					err = writeFrame(w.bw, f.id, f.kind, f.payload)
				}
				f.release()
				*f = outFrame{} // drop the payload reference
				if err != nil {
					for j := i + 1; j < len(batch); j++ {
						batch[j].release()
					}
					w.close(err)
					return
				}
			}
		}
		if err := w.bw.Flush(); err != nil {
			w.close(err)
			return
		}
	}
}

// close closes the connection, once, and returns the first cause given to
// it: later errors (typically "use of closed network connection" in the
// goroutines it interrupts) are consequences of the first.
func (w *wireConn) close(cause error) error {
	w.mu.Lock()
	if w.closed {
		cause = w.cause
		w.mu.Unlock()
		return cause
	}
	w.closed = true
	w.cause = cause
	queue := w.queue
	w.queue = nil
	w.mu.Unlock()
	for i := range queue {
		queue[i].release()
	}
	close(w.done)
	_ = w.nc.Close()
	return cause
}

// setKeepAlive enables TCP keep-alive probes on TCP connections.
func setKeepAlive(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetKeepAliveConfig(keepAlive)
	}
}
