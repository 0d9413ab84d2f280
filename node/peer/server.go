package peer

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// maxWarned bounds the set of remote hosts already warned about a wrong
// secret; when full it is emptied, so a flood logs at most that many lines
// per cycle.
const maxWarned = 1024

// Server accepts connections from Clients, authenticates them and serves
// their requests with a Handler, and the batchable ones with Config.Batch
// if set. Serve may be called on several listeners; all methods are safe
// for concurrent use.
type Server struct {
	cfg    Config
	cfgErr error
	h      Handler
	log    *slog.Logger
	rnd    io.Reader  // nonces
	tls    *secretTLS // nil for the empty secret

	ctx    context.Context // parent of every handler context; cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	warned    map[string]struct{} // hosts warned about a wrong secret
	wg        sync.WaitGroup      // every goroutine the server started
}

// NewServer returns a Server that answers requests with h. It does not
// start listening: call Serve. cfg is copied; zero fields take their
// defaults. If cfg is invalid (see Config.Validate) Serve returns the error.
func NewServer(cfg Config, h Handler) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	cfg = cfg.withDefaults()
	t, err := newSecretTLS(cfg.Secret)
	return &Server{
		cfg:       cfg,
		cfgErr:    errors.Join(cfg.Validate(), err),
		h:         h,
		log:       cfg.Logger,
		rnd:       rand.Reader,
		tls:       t,
		ctx:       ctx,
		cancel:    cancel,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[net.Conn]struct{}),
		warned:    make(map[string]struct{}),
	}
}

// Serve accepts connections on ln and serves each in its own goroutines
// until Close, then returns ErrClosed. It takes ownership of ln and closes
// it. If ln fails for another reason (it was closed by someone else) Serve
// returns that error; temporary accept errors are retried with back-off.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfgErr != nil {
		_ = ln.Close()
		return s.cfgErr
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors, a connection aborted before it was
			// accepted and the like: wait a little and go on.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("peer: accept failed; retrying", "err", err, "in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return ErrClosed
			}
			continue
		}
		backoff = 0
		if !s.track(nc) {
			_ = nc.Close()
			return ErrClosed
		}
	}
}

// track registers nc and starts its goroutine, unless the server is closed.
// It is the only place that starts a goroutine without a counted parent,
// and it does so under s.mu, so Close's Wait never races with an Add.
func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveConn(nc)
	}()
	return true
}

// isClosed reports whether Close has been called.
func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops the server: it closes every listener and connection, cancels
// the contexts of running handlers and waits for all of the server's
// goroutines, handlers included, to return. It is safe to call more than
// once; later calls return nil at once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	// Connections first, so that handlers answering their cancelled
	// contexts find no one to answer to: pending callers see the server
	// go away (ErrUnreachable), not a "context canceled" of its making.
	for nc := range s.conns {
		_ = nc.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// serveConn authenticates the client on nc and serves its requests until
// the connection fails or the server closes.
func (s *Server) serveConn(nc net.Conn) {
	remote := nc.RemoteAddr().String()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		_ = nc.Close()
	}()
	setKeepAlive(nc)

	_ = nc.SetDeadline(time.Now().Add(s.cfg.DialTimeout))
	if err := serverHandshake(nc, s.cfg.Secret, s.rnd); err != nil {
		s.logHandshakeError(remote, err)
		return
	}
	hctx, hcancel := context.WithTimeout(s.ctx, s.cfg.DialTimeout)
	conn, err := s.tls.upgrade(hctx, nc, true)
	hcancel()
	if err != nil {
		s.logHandshakeError(remote, err)
		return
	}
	_ = nc.SetDeadline(time.Time{})

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	w := newWireConn(conn)
	s.wg.Add(1) // our own count keeps the WaitGroup above zero
	go func() {
		defer s.wg.Done()
		w.writeLoop()
	}()
	err = s.readRequests(ctx, w)
	cause := w.close(err)
	if errors.Is(cause, errProtocol) {
		s.log.Warn("peer: closing connection", "remote", remote, "err", cause)
	}
}

// readRequests reads request frames from w and serves them, at most
// MaxInFlight unanswered at a time: when that many are being served or
// waiting to be written, it stops reading. After each frame it waited for,
// it also takes the complete frames already buffered (up to maxBatch),
// without waiting on the network. Requests that Config.Batch accepts go to
// the connection's batch worker, together; every other request runs the
// Handler in a goroutine of its own. It returns the read error.
func (s *Server) readRequests(ctx context.Context, w *wireConn) error {
	sem := make(chan struct{}, s.cfg.MaxInFlight)
	var bw *batchWorker
	if s.cfg.Batch != nil {
		bw = newBatchWorker(s, ctx, w, sem)
		s.wg.Add(1) // counted under serveConn's own count
		go func() {
			defer s.wg.Done()
			bw.run()
		}()
	}
	var batch []frame
	for {
		select {
		case sem <- struct{}{}:
		case <-w.done:
			return ErrClosed
		}
		f, err := readFrame(w.br, s.cfg.MaxFrame)
		for n := 1; err == nil; n++ {
			if bw != nil && bw.b.Batchable(f.kind) {
				batch = append(batch, f)
			} else {
				s.goServe(ctx, w, sem, f)
			}
			if n == maxBatch || !frameBuffered(w.br, s.cfg.MaxFrame) || !tryAcquire(sem) {
				break
			}
			// A complete frame is buffered: this does not wait.
			f, err = readFrame(w.br, s.cfg.MaxFrame)
		}
		if len(batch) > 0 {
			bw.push(batch)
			clear(batch) // drop the payload references
			batch = batch[:0]
		}
		if err != nil {
			return err
		}
	}
}

// goServe serves f in a goroutine of its own.
func (s *Server) goServe(ctx context.Context, w *wireConn, sem chan struct{}, f frame) {
	s.wg.Add(1) // counted under serveConn's own count
	go func() {
		defer s.wg.Done()
		out := s.serve(ctx, f)
		out.sem = sem
		w.send(out)
	}()
}

// tryAcquire takes a slot of sem if one is free, without waiting.
func tryAcquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// frameBuffered reports whether br holds a whole frame of a valid size,
// which readFrame can then return without reading from the network. A
// frame of an invalid size is left to the next, waiting, readFrame to
// report.
func frameBuffered(br *bufio.Reader, max int) bool {
	if br.Buffered() < lenPrefixLen {
		return false
	}
	hdr, err := br.Peek(lenPrefixLen)
	if err != nil {
		return false
	}
	n := uint64(binary.BigEndian.Uint32(hdr))
	return n >= frameHeaderLen && n-frameHeaderLen <= uint64(max) && uint64(br.Buffered()) >= lenPrefixLen+n
}

// serve runs the handler for one request and builds the response frame.
func (s *Server) serve(ctx context.Context, f frame) outFrame {
	resp, err := s.runHandler(ctx, f.kind, f.payload)
	return s.respond(f.id, resp, err)
}

// respond builds the response frame of request id: err's message if err
// is set, an error if resp is over MaxFrame, otherwise resp.
func (s *Server) respond(id uint64, resp []byte, err error) outFrame {
	switch {
	case err != nil:
		return outFrame{id: id, kind: statusError, payload: errorPayload(codeOf(err), err.Error())}
	case len(resp) > s.cfg.MaxFrame:
		msg := fmt.Sprintf("frame too large: response of %d bytes, limit %d", len(resp), s.cfg.MaxFrame)
		return outFrame{id: id, kind: statusError, payload: errorPayload(0, msg)}
	}
	return outFrame{id: id, kind: statusOK, payload: resp}
}

// runHandler calls the handler, logging and answering a panic as an error.
func (s *Server) runHandler(ctx context.Context, op byte, req []byte) ([]byte, error) {
	resp, err := safeCall(ctx, s.h, op, req)
	if p, ok := err.(*handlerPanic); ok {
		s.log.Error("peer: handler panicked", "op", op, "panic", p.val, "stack", string(p.stack))
	}
	return resp, err
}

// logHandshakeError logs a failed handshake: a wrong secret at Warn, once
// per remote host; a malformed hello at Warn; an I/O error at Debug.
func (s *Server) logHandshakeError(remote string, err error) {
	switch {
	case errors.Is(err, ErrAuth):
		host, _, splitErr := net.SplitHostPort(remote)
		if splitErr != nil {
			host = remote
		}
		s.mu.Lock()
		_, seen := s.warned[host]
		if !seen {
			if len(s.warned) >= maxWarned {
				clear(s.warned)
			}
			s.warned[host] = struct{}{}
		}
		s.mu.Unlock()
		if !seen {
			s.log.Warn("peer refused: wrong cluster secret", "remote", remote)
		}
	case errors.Is(err, errProtocol):
		s.log.Warn("peer: bad handshake", "remote", remote, "err", err)
	default:
		s.log.Debug("peer: handshake failed", "remote", remote, "err", err)
	}
}
