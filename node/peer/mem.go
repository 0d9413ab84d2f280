package peer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"sync"
	"time"
)

// MemNetwork is the in-process twin of Client and Server, for tests: a
// network of handlers addressed by strings, with fault injection
// (crashed nodes, partitions, delays, dropped calls). Payloads are copied
// in both directions, so "nodes" share no memory. Drops are drawn from a
// random source seeded by NewMemNetwork, so a sequence of calls made in the
// same order gives the same faults. All methods are safe for concurrent
// use.
//
// A call runs the handler on the caller's goroutine, with a context derived
// from the caller's; a handler that ignores its context delays the caller.
// At an address registered with ListenBatch, a call of a batchable op runs
// the BatchHandler instead, with a batch of that one request.
type MemNetwork struct {
	mu     sync.Mutex
	rng    *rand.Rand
	nodes  map[string]memService
	groups map[string]int // address -> partition group; absent: reaches all
	delays map[link]time.Duration
	drops  map[link]float64
	calls  map[link]int64
	lost   map[link]int64 // calls the network lost, per link
}

// memService is what serves one address of a MemNetwork.
type memService struct {
	h Handler
	b BatchHandler // nil: h serves every op
}

// serve runs the request on the service, recovering a panic as an error.
func (s memService) serve(ctx context.Context, op byte, req []byte) ([]byte, error) {
	if s.b == nil || !s.b.Batchable(op) {
		return safeCall(ctx, s.h, op, req)
	}
	reqs := []Request{{Op: op, Payload: req}}
	if p := safeServeBatch(ctx, s.b, reqs); p != nil {
		return nil, p
	}
	return reqs[0].Resp, reqs[0].Err
}

// link is a directed pair of addresses; "" in a rule matches any address.
type link struct{ from, to string }

// NewMemNetwork returns an empty network whose drops are drawn from a
// random source seeded with seed.
func NewMemNetwork(seed int64) *MemNetwork {
	return &MemNetwork{
		rng:    rand.New(rand.NewSource(seed)),
		nodes:  make(map[string]memService),
		groups: make(map[string]int),
		delays: make(map[link]time.Duration),
		drops:  make(map[link]float64),
		calls:  make(map[link]int64),
		lost:   make(map[link]int64),
	}
}

// Listen registers h as the node at addr, replacing any previous handler
// and bringing the address back up after Down.
func (n *MemNetwork) Listen(addr string, h Handler) {
	n.ListenBatch(addr, h, nil)
}

// ListenBatch is Listen with a BatchHandler, the twin of a Server with
// Config.Batch set: b serves the calls of the ops it declares batchable,
// each in a batch of its own, and h serves the others. A nil b is Listen.
func (n *MemNetwork) ListenBatch(addr string, h Handler, b BatchHandler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nodes[addr] = memService{h: h, b: b}
}

// Down marks the node at addr as crashed: calls to it fail at once with
// ErrUnreachable until Listen registers it again. Calls already running
// its handler are not interrupted.
func (n *MemNetwork) Down(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.nodes, addr)
}

// Endpoint returns the Transport used by the node at from. Endpoints are
// cheap; any number may exist for the same address.
func (n *MemNetwork) Endpoint(from string) Transport {
	return &memEndpoint{n: n, from: from}
}

// Partition splits the network: addresses in different groups cannot reach
// each other, and a call across groups blocks until its context ends, like
// one over a blackholed TCP connection, then returns ctx.Err() wrapped with
// ErrUnreachable. Addresses named in no group reach every group. A new
// Partition replaces the previous one.
func (n *MemNetwork) Partition(groups ...[]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.groups)
	for i, g := range groups {
		for _, addr := range g {
			n.groups[addr] = i
		}
	}
}

// Heal removes partitions, delays and drops. Registered nodes and the call
// counts stay.
func (n *MemNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.groups)
	clear(n.delays)
	clear(n.drops)
}

// SetDelay makes each call from -> to wait d before the handler runs (or
// until the caller's context ends). "" matches any address; the most
// specific rule applies (exact pair, then from -> any, any -> to, any ->
// any). d <= 0 removes the rule.
func (n *MemNetwork) SetDelay(from, to string, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if d <= 0 {
		delete(n.delays, link{from, to})
		return
	}
	n.delays[link{from, to}] = d
}

// SetDrop makes each call from -> to lost with probability p: a lost call
// blocks until its context ends, like one across a partition. "" matches
// any address, and the most specific rule applies as in SetDelay. p <= 0
// removes the rule; p >= 1 loses every call.
func (n *MemNetwork) SetDrop(from, to string, p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p <= 0 {
		delete(n.drops, link{from, to})
		return
	}
	n.drops[link{from, to}] = p
}

// Calls returns the number of calls attempted from -> to, whatever their
// outcome; "" matches any address.
func (n *MemNetwork) Calls(from, to string) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var sum int64
	for l, c := range n.calls {
		if (from == "" || l.from == from) && (to == "" || l.to == to) {
			sum += c
		}
	}
	return sum
}

// Lost returns the number of calls from -> to the network lost (a
// partition or a drop rule), whatever the caller saw of them; "" matches
// any address.
func (n *MemNetwork) Lost(from, to string) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var sum int64
	for l, c := range n.lost {
		if (from == "" || l.from == from) && (to == "" || l.to == to) {
			sum += c
		}
	}
	return sum
}

// rule returns the most specific rule in m for from -> to.
func rule[V any](m map[link]V, from, to string) (V, bool) {
	for _, l := range [...]link{{from, to}, {from, ""}, {"", to}, {"", ""}} {
		if v, ok := m[l]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// route decides the fate of one call under n.mu: whether it is lost, how
// long it is delayed, and the service, if the destination is up.
func (n *MemNetwork) route(from, to string) (lost bool, delay time.Duration, svc memService, up bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls[link{from, to}]++
	gf, okf := n.groups[from]
	gt, okt := n.groups[to]
	if okf && okt && gf != gt {
		n.lost[link{from, to}]++
		return true, 0, memService{}, false
	}
	if p, ok := rule(n.drops, from, to); ok && (p >= 1 || n.rng.Float64() < p) {
		n.lost[link{from, to}]++
		return true, 0, memService{}, false
	}
	delay, _ = rule(n.delays, from, to)
	svc, up = n.nodes[to]
	return false, delay, svc, up
}

// service returns the service at addr, if it is up.
func (n *MemNetwork) service(addr string) (memService, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	svc, ok := n.nodes[addr]
	return svc, ok
}

// memEndpoint is the Transport of one node on a MemNetwork.
type memEndpoint struct {
	n    *MemNetwork
	from string
}

// Call delivers a copy of req to the handler at addr and returns a copy of
// its response, subject to the network's faults.
func (e *memEndpoint) Call(ctx context.Context, addr string, op byte, req []byte) ([]byte, error) {
	lost, delay, svc, up := e.n.route(e.from, addr) // counts the call
	if lost {
		// Lost whatever the caller's deadline: it sees the network's
		// silence until then, also when it had run out already.
		<-ctx.Done()
		return nil, fmt.Errorf("%w: %s -> %s: %w", ErrUnreachable, e.from, addr, ctx.Err())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !up {
		return nil, fmt.Errorf("%w: %s is down", ErrUnreachable, addr)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		// The node may have crashed while the call was on its way.
		if svc, up = e.n.service(addr); !up {
			return nil, fmt.Errorf("%w: %s is down", ErrUnreachable, addr)
		}
	}

	hctx, cancel := context.WithCancel(ctx)
	resp, err := svc.serve(hctx, op, bytes.Clone(req))
	cancel()
	if ctx.Err() != nil {
		// The caller gave up before the response: it is lost, as on TCP.
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, remoteError(errorPayload(codeOf(err), err.Error()))
	}
	return bytes.Clone(resp), nil
}
