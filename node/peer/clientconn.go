package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// result is the outcome of one call, handed from the reader goroutine to
// the waiting caller.
type result struct {
	payload []byte
	err     error
}

// resultChans recycles the one-slot channels calls wait on. A channel goes
// back only when no sender can still use it (see clientConn.call).
var resultChans = sync.Pool{New: func() any { return make(chan result, 1) }}

// clientConn is one multiplexed connection to a peer: callers register a
// request id and queue their frame; readLoop routes each response to the
// caller waiting on that id.
type clientConn struct {
	peer *peerConns
	slot int
	w    *wireConn

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]waiter // nil once broken
	broken  error             // why the connection failed
}

// waiter is whoever waits for one call's response: a blocked Call on ch,
// or a Go call's callback fn.
type waiter struct {
	ch chan result
	fn func([]byte, error)
}

// deliver hands r to the waiter. ch is buffered and has no other sender.
func (w waiter) deliver(r result) {
	if w.fn != nil {
		w.fn(r.payload, r.err)
		return
	}
	w.ch <- r
}

// newClientConn wraps an authenticated connection and starts its reader and
// writer goroutines. The caller runs in a goroutine counted by the client's
// WaitGroup.
func newClientConn(p *peerConns, slot int, nc net.Conn) *clientConn {
	cc := &clientConn{
		peer:    p,
		slot:    slot,
		w:       newWireConn(nc),
		pending: make(map[uint64]waiter),
	}
	wg := &p.c.wg
	wg.Add(2)
	go func() {
		defer wg.Done()
		cc.w.writeLoop()
	}()
	go func() {
		defer wg.Done()
		cc.readLoop()
	}()
	return cc
}

// call sends one request on cc and waits for its response or for ctx.
//
// The result channel is returned to the pool only once no sender can still
// use it: after receiving from it, or after removing the request from
// pending ourselves (the only senders are readLoop and fail, and both
// remove the entry before sending).
func (cc *clientConn) call(ctx context.Context, op byte, req []byte) ([]byte, error) {
	ch := resultChans.Get().(chan result)
	cc.mu.Lock()
	if cc.broken != nil {
		err := cc.broken
		cc.mu.Unlock()
		resultChans.Put(ch)
		return nil, err
	}
	cc.nextID++
	id := cc.nextID
	cc.pending[id] = waiter{ch: ch}
	cc.mu.Unlock()

	f := outFrame{id: id, kind: op, payload: req}
	if ctx.Done() != nil {
		f.ctx = ctx
	}
	// If the connection closed meanwhile, send drops the frame and
	// readLoop's fail delivers the error on ch.
	cc.w.send(f)

	select {
	case r := <-ch:
		resultChans.Put(ch)
		return r.payload, r.err
	case <-ctx.Done():
	}
	cc.mu.Lock()
	_, waiting := cc.pending[id]
	delete(cc.pending, id)
	cc.mu.Unlock()
	if waiting {
		// The late response, if any, will find no one and be dropped.
		resultChans.Put(ch)
		return nil, ctx.Err()
	}
	// The response or the connection's failure raced with ctx.
	r := <-ch
	resultChans.Put(ch)
	if errors.Is(r.err, ErrUnreachable) {
		return nil, fmt.Errorf("%w: %w", ctx.Err(), r.err)
	}
	return r.payload, r.err
}

// readLoop routes responses to their callers until the connection fails,
// then closes it, fails every pending call and frees the slot.
func (cc *clientConn) readLoop() {
	cause := cc.w.close(cc.readResponses())
	var err error
	switch {
	case errors.Is(cause, ErrClosed):
		err = fmt.Errorf("%w: call to %s", ErrClosed, cc.peer.addr)
	default:
		if errors.Is(cause, errProtocol) {
			cc.peer.c.log.Warn("peer: closing connection", "peer", cc.peer.addr, "err", cause)
		}
		err = fmt.Errorf("%w: connection to %s lost: %v", ErrUnreachable, cc.peer.addr, cause)
	}
	cc.fail(err)
	cc.peer.drop(cc)
}

// readResponses reads response frames and hands each to its caller. It
// returns the error that ended the connection.
func (cc *clientConn) readResponses() error {
	max := cc.peer.c.cfg.MaxFrame
	for {
		f, err := readFrame(cc.w.br, max)
		if err != nil {
			return err
		}
		var r result
		switch f.kind {
		case statusOK:
			r.payload = f.payload
		case statusError:
			r.err = remoteError(f.payload)
		default:
			return fmt.Errorf("%w: response status %d", errProtocol, f.kind)
		}
		cc.mu.Lock()
		w, ok := cc.pending[f.id]
		delete(cc.pending, f.id)
		cc.mu.Unlock()
		if ok {
			w.deliver(r)
		}
	}
}

// fail marks cc broken and delivers err to every pending call.
func (cc *clientConn) fail(err error) {
	cc.mu.Lock()
	pending := cc.pending
	cc.pending = nil
	cc.broken = err
	cc.mu.Unlock()
	for _, w := range pending {
		w.deliver(result{err: err})
	}
}

// goCall sends one request on cc and returns at once; done gets the
// response, the connection's failure, or ctx's error, exactly once, from
// another goroutine (the reader's, fail's caller's, or ctx's AfterFunc).
func (cc *clientConn) goCall(ctx context.Context, op byte, req []byte, done func([]byte, error)) {
	cc.mu.Lock()
	if cc.broken != nil {
		err := cc.broken
		cc.mu.Unlock()
		go done(nil, err)
		return
	}
	cc.nextID++
	id := cc.nextID
	f := outFrame{id: id, kind: op, payload: req}
	if ctx.Done() != nil {
		f.ctx = ctx
		// Whoever removes the entry from pending delivers: the reader,
		// fail, or this cancellation, never two of them.
		stop := context.AfterFunc(ctx, func() {
			cc.mu.Lock()
			_, waiting := cc.pending[id]
			delete(cc.pending, id)
			cc.mu.Unlock()
			if waiting {
				done(nil, ctx.Err())
			}
		})
		fn := done
		done = func(b []byte, err error) {
			stop()
			fn(b, err)
		}
	}
	cc.pending[id] = waiter{fn: done}
	cc.mu.Unlock()
	cc.w.send(f)
}
