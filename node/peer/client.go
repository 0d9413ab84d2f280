package peer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// failFastWindow is how long after a failed dial calls to the same address
// fail at once instead of dialling again: a dead peer must cost the
// coordinator nothing.
const failFastWindow = 200 * time.Millisecond

// Client calls Servers over TCP. It keeps Config.ConnsPerPeer connections
// to each address it has called, dialled lazily and redialled after they
// break. All methods are safe for concurrent use.
type Client struct {
	cfg    Config
	cfgErr error
	log    *slog.Logger
	rnd    io.Reader        // nonces
	tls    *secretTLS       // nil for the empty secret
	now    func() time.Time // clock for the fail-fast window
	dialer net.Dialer

	ctx    context.Context // cancelled by Close; bounds dials and handshakes
	cancel context.CancelFunc

	peers sync.Map // addr -> *peerConns

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // every goroutine the client started
}

// NewClient returns a Client. It dials nothing until the first Call. cfg
// is copied; zero fields take their defaults. If cfg is invalid (see
// Config.Validate) every Call returns the error.
func NewClient(cfg Config) *Client {
	ctx, cancel := context.WithCancel(context.Background())
	cfg = cfg.withDefaults()
	t, err := newSecretTLS(cfg.Secret)
	return &Client{
		cfg:    cfg,
		cfgErr: errors.Join(cfg.Validate(), err),
		log:    cfg.Logger,
		rnd:    rand.Reader,
		tls:    t,
		now:    time.Now,
		dialer: net.Dialer{Timeout: cfg.DialTimeout, KeepAliveConfig: keepAlive},
		ctx:    ctx,
		cancel: cancel,
	}
}

// Call sends op and req to the Server at addr and waits for the response;
// see Transport.Call for ownership and errors. Calls take the peer's
// connections in turn; if the one picked is down, Call dials it, using
// another live connection to addr meanwhile if there is one. If a dial to
// addr failed less than 200 ms ago, Call fails at once with that dial's
// error (ErrUnreachable, or ErrAuth if the peer refused our secret).
//
// Call blocks until the response arrives, ctx ends, the connection breaks
// or the Client is closed; ctx's deadline is the request's only deadline.
// The peer's handler does not see ctx: a call abandoned by its caller still
// runs to completion there, and its response is discarded.
func (c *Client) Call(ctx context.Context, addr string, op byte, req []byte) ([]byte, error) {
	if c.cfgErr != nil {
		return nil, c.cfgErr
	}
	if len(req) > c.cfg.MaxFrame {
		return nil, fmt.Errorf("%w: request of %d bytes to %s, limit %d", ErrFrameTooLarge, len(req), addr, c.cfg.MaxFrame)
	}
	if c.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cc, err := c.peer(addr).conn(ctx)
	if err != nil {
		return nil, err
	}
	return cc.call(ctx, op, req)
}

// Close closes every connection, fails pending calls with ErrClosed and
// waits for the client's goroutines. Later Calls return ErrClosed. It is
// safe to call more than once; later calls return nil at once.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.peers.Range(func(_, v any) bool {
		v.(*peerConns).closeAll()
		return true
	})
	c.wg.Wait()
	return nil
}

// spawn starts f in a goroutine counted by c.wg, unless the client is
// closed. Goroutines started by a goroutine that spawn started (whose
// count holds the WaitGroup above zero) use c.wg directly.
func (c *Client) spawn(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// peer returns the connection set for addr, creating it on first use.
func (c *Client) peer(addr string) *peerConns {
	if p, ok := c.peers.Load(addr); ok {
		return p.(*peerConns)
	}
	p, _ := c.peers.LoadOrStore(addr, &peerConns{
		c:     c,
		addr:  addr,
		slots: make([]connSlot, c.cfg.ConnsPerPeer),
	})
	return p.(*peerConns)
}

// connect dials addr and runs the client handshake, both bounded by
// DialTimeout and by Close.
func (c *Client) connect(addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
	defer cancel()
	nc, err := c.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("%w: dial %s: %v", ErrUnreachable, addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(c.ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	err = clientHandshake(nc, c.cfg.Secret, c.rnd)
	var conn net.Conn
	if err == nil {
		conn, err = c.tls.upgrade(ctx, nc, false)
	}
	stop()
	switch {
	case err == nil:
		_ = nc.SetDeadline(time.Time{})
		return conn, nil
	case c.ctx.Err() != nil:
		err = ErrClosed
	case errors.Is(err, ErrAuth):
		err = fmt.Errorf("%w (peer %s)", err, addr)
	default:
		err = fmt.Errorf("%w: handshake with %s: %v", ErrUnreachable, addr, err)
	}
	_ = nc.Close()
	return nil, err
}

// peerConns is the set of connections to one address.
type peerConns struct {
	c    *Client
	addr string
	next atomic.Uint32 // round-robin cursor over slots

	mu       sync.Mutex
	slots    []connSlot
	failedAt time.Time // last failed dial
	failErr  error     // its error; nil after a successful dial
}

// connSlot is one of a peer's ConnsPerPeer connections: up, being dialled,
// or neither.
type connSlot struct {
	conn *clientConn
	dial *pendingDial
}

// pendingDial is a dial in progress; done is closed when conn or err is set.
type pendingDial struct {
	done chan struct{}
	conn *clientConn
	err  error
}

// conn returns a connection for one call. It takes the next slot in turn;
// if that slot is down it starts dialling it (unless a dial failed within
// failFastWindow) and meanwhile uses any other live connection, or waits
// for the dial if there is none.
func (p *peerConns) conn(ctx context.Context) (*clientConn, error) {
	i := int(p.next.Add(1) % uint32(len(p.slots)))
	p.mu.Lock()
	s := &p.slots[i]
	if cc := s.conn; cc != nil {
		p.mu.Unlock()
		return cc, nil
	}
	failing := p.failErr != nil && p.c.now().Sub(p.failedAt) < failFastWindow
	if s.dial == nil && !failing {
		d := &pendingDial{done: make(chan struct{})}
		if !p.c.spawn(func() { p.dial(i, d) }) {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		s.dial = d
	}
	for j := range p.slots {
		if cc := p.slots[j].conn; cc != nil {
			p.mu.Unlock()
			return cc, nil
		}
	}
	d, err := s.dial, p.failErr
	p.mu.Unlock()
	if d == nil {
		return nil, err
	}
	select {
	case <-d.done:
		return d.conn, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dial connects slot i and publishes the outcome in d and in the slot.
func (p *peerConns) dial(i int, d *pendingDial) {
	nc, err := p.c.connect(p.addr)
	var cc *clientConn
	p.mu.Lock()
	p.slots[i].dial = nil
	switch {
	case err != nil:
		if errors.Is(err, ErrAuth) && !errors.Is(p.failErr, ErrAuth) {
			// Once per run of refusals, not on every redial.
			p.c.log.Warn("peer: handshake refused", "peer", p.addr, "err", err)
		}
		if !errors.Is(err, ErrClosed) {
			p.failedAt, p.failErr = p.c.now(), err
		}
	case p.c.ctx.Err() != nil:
		// Close has run (or is running) closeAll; don't publish.
		_ = nc.Close()
		err = ErrClosed
	default:
		cc = newClientConn(p, i, nc)
		p.slots[i].conn = cc
		p.failErr = nil
	}
	p.mu.Unlock()
	d.conn, d.err = cc, err
	close(d.done)
}

// drop forgets cc if it still occupies its slot, so the next call redials.
func (p *peerConns) drop(cc *clientConn) {
	p.mu.Lock()
	if p.slots[cc.slot].conn == cc {
		p.slots[cc.slot].conn = nil
	}
	p.mu.Unlock()
}

// closeAll closes every live connection with ErrClosed.
func (p *peerConns) closeAll() {
	p.mu.Lock()
	var live []*clientConn
	for i := range p.slots {
		if cc := p.slots[i].conn; cc != nil {
			live = append(live, cc)
			p.slots[i].conn = nil
		}
	}
	p.mu.Unlock()
	for _, cc := range live {
		cc.w.close(ErrClosed)
	}
}
