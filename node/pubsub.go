package node

// Pub/sub across the cluster. A message PUBLISHed through any node is
// delivered to that node's subscribers by the front end (resp.Server) and
// handed here (relay.publish), which sends it to every other live member
// over the peer transport; a member that receives it delivers it to its own
// subscribers (servePublish). Delivery is at most once, as in Redis: a
// message is never sent twice, and one that cannot be sent is dropped.
//
//   - Fire-and-forget: PUBLISH never waits for another node. Each peer has a
//     bounded queue (maxRelayQueue messages, maxRelayBytes bytes); a message
//     that does not fit is dropped and counted, so a slow or stopped peer
//     costs a bounded amount of memory and never blocks a publisher.
//   - Order: one sender goroutine per peer sends the queue in batches, one
//     batch at a time, and waits for each batch's answer (or relayTimeout)
//     before the next, so messages reach a peer in the order they were
//     published on this node, and so from one publisher connection to one
//     subscriber. A batch that timed out may still arrive late (a stopped
//     peer resumes and reads its socket); every batch carries this process's
//     incarnation and a sequence number, and a receiver drops a batch older
//     than one it has delivered, so a late batch never overtakes a newer one.
//   - Liveness: messages go to the members the failure detector does not
//     hold dead. Queued messages for a peer found dead are dropped.
//
// A sender goroutine ends after relayIdle without messages, so only peers
// recently published to have one.

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/replication/codec"
	"github.com/dynakv/dynakv/resp"
)

const (
	// maxRelayQueue and maxRelayBytes bound the messages waiting for one
	// peer.
	maxRelayQueue = 8192
	maxRelayBytes = 16 << 20
	// maxRelayBatch is the most message bytes sent in one request.
	maxRelayBatch = 1 << 20
	// relayTimeout bounds the wait for a peer's answer to a batch.
	relayTimeout = time.Second
	// relayIdle ends a peer's sender after this long without messages.
	relayIdle = 30 * time.Second
	// maxWireChannel bounds a channel or message in a peer message (the
	// client port's proto_max_bulk_len bounds them first).
	maxWireChannel = 512 << 20
)

// pubMsg is one published message.
type pubMsg struct {
	shard            bool
	channel, message []byte
}

// relayStats are the relay's counters, for RING STATUS.
type relayStats struct {
	sent, dropped, failed, received, stale atomic.Int64
}

// relay carries published messages between nodes. Safe for concurrent use.
type relay struct {
	c           *cluster
	log         *slog.Logger
	incarnation uint64
	deliver     func(shard bool, channel, message []byte) int // the front end's Deliver; set before serving
	stats       relayStats

	ctx    context.Context // cancelled by close: the senders stop
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	peers  map[string]*relayQueue
	wg     sync.WaitGroup

	rmu     sync.Mutex
	senders map[string]*senderState // receiving side: the last batch delivered per sender
}

// relayQueue is the messages waiting for one peer.
type relayQueue struct {
	id    string
	mu    sync.Mutex
	q     []pubMsg
	bytes int
	wake  chan struct{}
	seq   uint64 // the last batch's sequence number (sender goroutine only)
}

// senderState is what a receiver remembers of one sending node.
type senderState struct {
	mu          sync.Mutex
	incarnation uint64
	seq         uint64
}

func newRelay(c *cluster, log *slog.Logger) *relay {
	r := &relay{c: c, log: log, incarnation: rand.Uint64(), peers: map[string]*relayQueue{}, senders: map[string]*senderState{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// publish queues a message for every other live member. It never blocks.
func (r *relay) publish(shard bool, channel, message []byte) {
	m := r.c.members()
	if m == nil || r.c.isRemoved() {
		return
	}
	var msg pubMsg
	for _, rec := range m.Set().Members() {
		if rec.ID == r.c.self || m.Liveness(rec.ID) == membership.LiveDead {
			continue
		}
		if msg.channel == nil { // the caller's buffers are reused after it returns: one copy for every peer
			msg = pubMsg{shard: shard, channel: append([]byte{}, channel...), message: append([]byte{}, message...)}
		}
		q := r.queue(rec.ID)
		if q == nil {
			return // closing
		}
		q.push(r, msg)
	}
}

// queue returns the queue of peer id, starting its sender if needed.
func (r *relay) queue(id string) *relayQueue {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	q := r.peers[id]
	if q == nil {
		q = &relayQueue{id: id, wake: make(chan struct{}, 1)}
		r.peers[id] = q
		r.wg.Add(1)
		go r.send(q)
	}
	return q
}

// push adds m to the queue, or drops it when the queue is full.
func (q *relayQueue) push(r *relay, m pubMsg) {
	size := len(m.channel) + len(m.message)
	q.mu.Lock()
	if len(q.q) >= maxRelayQueue || q.bytes+size > maxRelayBytes {
		q.mu.Unlock()
		r.stats.dropped.Add(1)
		return
	}
	q.q = append(q.q, m)
	q.bytes += size
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take removes the oldest messages, up to maxRelayBatch bytes (at least
// one message).
func (q *relayQueue) take() []pubMsg {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, size := 0, 0
	for n < len(q.q) && (n == 0 || size+len(q.q[n].channel)+len(q.q[n].message) <= maxRelayBatch) {
		size += len(q.q[n].channel) + len(q.q[n].message)
		n++
	}
	batch := q.q[:n:n]
	q.q = q.q[n:]
	q.bytes -= size
	if len(q.q) == 0 {
		q.q = nil // let the backing array go
	}
	return batch
}

// send is the sender goroutine of one peer.
func (r *relay) send(q *relayQueue) {
	defer r.wg.Done()
	idle := time.NewTimer(relayIdle)
	defer idle.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-idle.C:
			if r.retire(q) {
				return
			}
			idle.Reset(relayIdle)
			continue
		case <-q.wake:
		}
		for batch := q.take(); len(batch) > 0; batch = q.take() {
			r.sendBatch(r.ctx, q, batch)
		}
		if !idle.Stop() {
			select {
			case <-idle.C:
			default:
			}
		}
		idle.Reset(relayIdle)
	}
}

// retire removes an idle queue; it reports false if messages arrived.
func (r *relay) retire(q *relayQueue) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) > 0 {
		return false
	}
	delete(r.peers, q.id)
	return true
}

// sendBatch sends one batch and waits for the answer or relayTimeout.
func (r *relay) sendBatch(ctx context.Context, q *relayQueue, batch []pubMsg) {
	addr, ok := r.c.peerAddr(q.id)
	if !ok || r.c.livenessOf(q.id) == membership.LiveDead {
		r.stats.dropped.Add(int64(len(batch)))
		return
	}
	q.seq++
	req := appendPublish(nil, publishMsg{sender: r.c.self, incarnation: r.incarnation, seq: q.seq, msgs: batch})
	cctx, cancel := context.WithTimeout(ctx, relayTimeout)
	_, err := r.c.transport.Call(cctx, addr, opPublish, req)
	cancel()
	if err != nil {
		// Not resent: it may have arrived (at most once).
		r.stats.failed.Add(int64(len(batch)))
		if !errors.Is(err, context.Canceled) {
			r.log.Debug("pub/sub relay: a batch was not acknowledged; not resent", "peer", q.id, "messages", len(batch), "err", err)
		}
		return
	}
	r.stats.sent.Add(int64(len(batch)))
}

// close stops the senders, dropping what they hold, and waits for them.
func (r *relay) close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		r.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// servePublish delivers a peer's batch to this node's subscribers, unless a
// newer batch of the same sender was delivered already.
func (c *cluster) servePublish(_ context.Context, req []byte) ([]byte, error) {
	m, err := decodePublish(req)
	if err != nil {
		return nil, err
	}
	r := c.relay
	if r == nil || r.deliver == nil {
		return nil, nil
	}
	r.rmu.Lock()
	st := r.senders[m.sender]
	if st == nil {
		st = &senderState{}
		r.senders[m.sender] = st
	}
	r.rmu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.incarnation == m.incarnation && m.seq <= st.seq {
		r.stats.stale.Add(int64(len(m.msgs)))
		return nil, nil
	}
	st.incarnation, st.seq = m.incarnation, m.seq
	for _, msg := range m.msgs {
		r.deliver(msg.shard, msg.channel, msg.message)
	}
	r.stats.received.Add(int64(len(m.msgs)))
	return nil, nil
}

// publishMsg is the request of opPublish: the sending node, its
// incarnation, the batch's sequence number, and the messages in order.
type publishMsg struct {
	sender      string
	incarnation uint64
	seq         uint64
	msgs        []pubMsg
}

// Message flags of a publishMsg entry.
const pubFlagShard byte = 1

func appendPublish(dst []byte, m publishMsg) []byte {
	dst = codec.AppendString(dst, m.sender)
	dst = codec.AppendU64(dst, m.incarnation)
	dst = codec.AppendUvarint(dst, m.seq)
	dst = codec.AppendUvarint(dst, uint64(len(m.msgs)))
	for _, msg := range m.msgs {
		var flags byte
		if msg.shard {
			flags = pubFlagShard
		}
		dst = append(dst, flags)
		dst = codec.AppendBytes(dst, msg.channel)
		dst = codec.AppendBytes(dst, msg.message)
	}
	return dst
}

func decodePublish(b []byte) (publishMsg, error) {
	r := codec.NewReader(b, errBadFrame)
	var m publishMsg
	m.sender = r.String(maxWireKey)
	m.incarnation = r.U64()
	m.seq = r.Uvarint()
	n := r.Count(3)
	if n > 0 {
		m.msgs = make([]pubMsg, 0, n)
	}
	for range n {
		flags := r.Byte()
		if flags&^pubFlagShard != 0 {
			r.Fail("unknown message flags")
		}
		ch := r.Bytes(maxWireChannel)
		msg := r.Bytes(maxWireChannel)
		if r.Err() != nil {
			break
		}
		m.msgs = append(m.msgs, pubMsg{shard: flags&pubFlagShard != 0, channel: ch, message: msg})
	}
	if err := r.Done(); err != nil {
		return publishMsg{}, err
	}
	return m, nil
}

// pubsubOutputLimit is the pubsub class of client_output_buffer_limit
// (Redis's form: "normal ... pubsub <hard> <soft> <seconds>"), or Redis's
// default for it (32mb 8mb 60) when the setting names no pubsub class.
// conf validated the setting at load.
func pubsubOutputLimit(setting string) resp.OutputLimit {
	f := strings.Fields(setting)
	for i := 0; i+3 < len(f); i += 4 {
		if !strings.EqualFold(f[i], "pubsub") {
			continue
		}
		hard, err1 := conf.ParseMemory(f[i+1])
		soft, err2 := conf.ParseMemory(f[i+2])
		secs, err3 := strconv.ParseInt(f[i+3], 10, 64)
		if err1 == nil && err2 == nil && err3 == nil {
			return resp.OutputLimit{Hard: hard, Soft: soft, SoftSeconds: time.Duration(secs) * time.Second}
		}
	}
	return resp.DefaultPubSubOutputLimit
}

// fields are the relay's counters for RING STATUS: messages sent to peers
// (acknowledged), dropped (a full queue, or a peer dead or unknown),
// failed (a batch not acknowledged in time: maybe delivered, never
// resent), received from peers, and received too late (a stale batch).
func (r *relay) fields() []resp.Field {
	if r == nil {
		return nil
	}
	f := func(name string, v *atomic.Int64) resp.Field {
		return resp.Field{Name: name, Value: strconv.FormatInt(v.Load(), 10)}
	}
	return []resp.Field{
		f("pubsub_relay_sent", &r.stats.sent), f("pubsub_relay_dropped", &r.stats.dropped),
		f("pubsub_relay_failed", &r.stats.failed), f("pubsub_relay_received", &r.stats.received),
		f("pubsub_relay_stale", &r.stats.stale),
	}
}
