package peer

import "context"

// AsyncTransport is a Transport that can also start a call without
// blocking the caller, so that a coordinator sending one write to several
// replicas needs no goroutine per send. *Client and MemNetwork endpoints
// implement it.
type AsyncTransport interface {
	Transport
	// Go starts the call Call would make and returns at once. done gets
	// what Call would have returned, exactly once, always from another
	// goroutine than Go's caller (so done may take locks the caller
	// holds); it must not block, since it may run on a connection's
	// reader goroutine. req is owned by the transport from the start.
	Go(ctx context.Context, addr string, op byte, req []byte, done func([]byte, error))
}

var (
	_ AsyncTransport = (*Client)(nil)
	_ AsyncTransport = (*memEndpoint)(nil)
)

// Go starts a call; see AsyncTransport. On a live connection the request
// is queued at once; otherwise (no connection up yet, bad request, closed
// client) a goroutine runs Call and hands its result to done.
func (c *Client) Go(ctx context.Context, addr string, op byte, req []byte, done func([]byte, error)) {
	if c.cfgErr == nil && len(req) <= c.cfg.MaxFrame && c.ctx.Err() == nil && ctx.Err() == nil {
		if cc := c.peer(addr).ready(); cc != nil {
			cc.goCall(ctx, op, req, done)
			return
		}
	}
	if !c.spawn(func() { done(c.Call(ctx, addr, op, req)) }) {
		go done(nil, ErrClosed)
	}
}

// ready returns the next connection in turn if it is up, without dialling
// or waiting; nil otherwise.
func (p *peerConns) ready() *clientConn {
	i := int(p.next.Add(1) % uint32(len(p.slots)))
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slots[i].conn
}

// Go runs Call in a goroutine: the in-process network has no connection to
// queue on.
func (e *memEndpoint) Go(ctx context.Context, addr string, op byte, req []byte, done func([]byte, error)) {
	go func() { done(e.Call(ctx, addr, op, req)) }()
}
