package resp

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Publish/subscribe. A node's subscriptions live in its Server's hub: which
// connections listen to which channel, pattern and shard channel. PUBLISH
// delivers to the node's own subscribers at once (Deliver) and hands the
// message to Config.Relay, which carries it to every other live node of the
// cluster, where the node calls Deliver in turn. The reply counts the
// receivers on the publishing node only, as Redis Cluster's does: the
// others are reached after the reply, fire-and-forget. PUBSUB CHANNELS,
// NUMSUB, NUMPAT, SHARDCHANNELS and SHARDNUMSUB also answer for the node
// they are sent to, as in Redis Cluster.
//
// A connection's subscriptions and the messages waiting for it are its
// subscriber (below); how the messages reach its socket without holding up
// the publisher is pubsub_out.go.

// Message kinds, as the frames name them.
const (
	kindMessage  = "message"
	kindPMessage = "pmessage"
	kindSMessage = "smessage"
)

// pubsubHub is a node's subscriptions, by channel, pattern and shard
// channel. Lock order: a subscriber's mu, then the hub's mu, then a
// subscriber's pushMu.
type pubsubHub struct {
	mu       sync.RWMutex
	channels map[string]map[*subscriber]struct{}
	shards   map[string]map[*subscriber]struct{}
	patterns map[string]*patternSubs
}

// patternSubs is one pattern's subscribers, with the pattern as bytes for
// the matcher.
type patternSubs struct {
	pat  []byte
	subs map[*subscriber]struct{}
}

// subKind is one of the three subscription spaces.
type subKind int

const (
	subChannel subKind = iota
	subPattern
	subShard
)

// subscriber is a connection's pub/sub state, created at its first
// subscription and kept for the connection's life. Its subscriptions are
// guarded by mu; its counts are atomic, for CLIENT LIST and the
// subscriber-mode check; its output (pubsub_out.go) has locks of its own.
type subscriber struct {
	c *client

	mu     sync.Mutex
	closed bool                 // the connection ended: no more subscriptions
	sets   [3]map[string]uint64 // per subKind: name -> subscription order
	seq    uint64
	counts [3]atomic.Int64 // per subKind: len(sets[k])

	out pushOutput // pubsub_out.go
}

// sub returns c's subscriber, creating it (and its writer) on first use.
// Connection goroutine only.
func (c *client) sub() *subscriber {
	if p := c.ps.Load(); p != nil {
		return p
	}
	p := &subscriber{c: c}
	for k := range p.sets {
		p.sets[k] = map[string]uint64{}
	}
	p.out.init(c.main.out.proto)
	c.ps.Store(p)
	p.startWriter()
	return p
}

// subscribed reports whether c is in Redis's pub/sub context: it has at
// least one subscription of any kind. Safe for concurrent use.
func (c *client) subscribed() bool {
	p := c.ps.Load()
	return p != nil && p.counts[subChannel].Load()+p.counts[subPattern].Load()+p.counts[subShard].Load() > 0
}

// subCounts returns c's channel, pattern and shard channel subscription
// counts. Safe for concurrent use.
func (c *client) subCounts() (sub, psub, ssub int64) {
	if p := c.ps.Load(); p != nil {
		return p.counts[subChannel].Load(), p.counts[subPattern].Load(), p.counts[subShard].Load()
	}
	return 0, 0, 0
}

// replyCount is the number a (un)subscribe reply carries: channels plus
// patterns for the classic kinds, shard channels alone for the shard kind,
// as in Redis 7.0.
func (p *subscriber) replyCount(k subKind) int64 {
	if k == subShard {
		return p.counts[subShard].Load()
	}
	return p.counts[subChannel].Load() + p.counts[subPattern].Load()
}

// add subscribes p to name in space k; it reports whether that is new.
func (p *subscriber) add(h *pubsubHub, k subKind, name []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if _, ok := p.sets[k][string(name)]; ok {
		return false
	}
	key := string(name)
	p.seq++
	p.sets[k][key] = p.seq
	p.counts[k].Store(int64(len(p.sets[k])))
	h.mu.Lock()
	defer h.mu.Unlock()
	switch k {
	case subPattern:
		if h.patterns == nil {
			h.patterns = map[string]*patternSubs{}
		}
		ps := h.patterns[key]
		if ps == nil {
			ps = &patternSubs{pat: []byte(key), subs: map[*subscriber]struct{}{}}
			h.patterns[key] = ps
		}
		ps.subs[p] = struct{}{}
	default:
		m := h.space(k, true)
		subs := m[key]
		if subs == nil {
			subs = map[*subscriber]struct{}{}
			m[key] = subs
		}
		subs[p] = struct{}{}
	}
	return true
}

// remove unsubscribes p from name in space k; it reports whether p was
// subscribed.
func (p *subscriber) remove(h *pubsubHub, k subKind, name []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.removeLocked(h, k, string(name))
}

func (p *subscriber) removeLocked(h *pubsubHub, k subKind, key string) bool {
	if _, ok := p.sets[k][key]; !ok {
		return false
	}
	delete(p.sets[k], key)
	p.counts[k].Store(int64(len(p.sets[k])))
	h.mu.Lock()
	defer h.mu.Unlock()
	if k == subPattern {
		if ps := h.patterns[key]; ps != nil {
			delete(ps.subs, p)
			if len(ps.subs) == 0 {
				delete(h.patterns, key)
			}
		}
		return true
	}
	m := h.space(k, false)
	if subs := m[key]; subs != nil {
		delete(subs, p)
		if len(subs) == 0 {
			delete(m, key)
		}
	}
	return true
}

// names returns p's subscriptions in space k, in the order they were
// made (Redis keeps patterns in that order; its channels come in hash
// order, which no client can rely on).
func (p *subscriber) names(k subKind) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.sets[k]))
	for name := range p.sets[k] {
		out = append(out, name)
	}
	slices.SortFunc(out, func(a, b string) int { return int(p.sets[k][a]) - int(p.sets[k][b]) })
	return out
}

// close drops every subscription of p and refuses new ones: its
// connection ended.
func (p *subscriber) close(h *pubsubHub) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for k := range p.sets {
		for key := range p.sets[k] {
			p.removeLocked(h, subKind(k), key)
		}
	}
}

// space returns the hub's map for channels or shard channels, creating it
// if asked. Callers hold h.mu.
func (h *pubsubHub) space(k subKind, create bool) map[string]map[*subscriber]struct{} {
	m := &h.channels
	if k == subShard {
		m = &h.shards
	}
	if *m == nil && create {
		*m = map[string]map[*subscriber]struct{}{}
	}
	return *m
}

// Deliver hands a message published on channel (a shard channel if shard)
// to this node's subscribers: those of the channel, then, for a classic
// channel, those of every pattern it matches. It returns how many
// deliveries it made (a connection subscribed to the channel and to a
// matching pattern counts twice, as in Redis). It never blocks on a
// subscriber's socket. The node calls it for messages published on other
// nodes; safe for concurrent use.
func (s *Server) Deliver(shard bool, channel, message []byte) int {
	h := &s.pubsub
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	kind, k := kindMessage, subChannel
	if shard {
		kind, k = kindSMessage, subShard
	}
	for p := range h.space(k, false)[string(channel)] {
		if p.out.push(p.c, kind, nil, channel, message) {
			n++
		}
	}
	if shard {
		return n
	}
	for _, ps := range h.patterns {
		if !globMatch(ps.pat, channel, false) {
			continue
		}
		for p := range ps.subs {
			if p.out.push(p.c, kindPMessage, ps.pat, channel, message) {
				n++
			}
		}
	}
	return n
}

// publish delivers locally and relays to the cluster; it returns the local
// receivers.
func (s *Server) publish(shard bool, channel, message []byte) int {
	n := s.Deliver(shard, channel, message)
	if s.cfg.Relay != nil {
		s.cfg.Relay(shard, channel, message)
	}
	return n
}

// unsubscribeAll drops every subscription of c without replies (RESET).
// Connection goroutine only.
func (c *client) unsubscribeAll() {
	p := c.ps.Load()
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.sets {
		for key := range p.sets[k] {
			p.removeLocked(&c.srv.pubsub, subKind(k), key)
		}
	}
}

// pubsubInfo is INFO stats's pub/sub fields: this node's channels,
// patterns and shard channels with a subscriber, as Redis names them.
func (s *Server) pubsubInfo() []Field {
	h := &s.pubsub
	h.mu.RLock()
	defer h.mu.RUnlock()
	return []Field{
		{"pubsub_channels", strconv.Itoa(len(h.channels))},
		{"pubsub_patterns", strconv.Itoa(len(h.patterns))},
		{"pubsubshard_channels", strconv.Itoa(len(h.shards))},
	}
}
