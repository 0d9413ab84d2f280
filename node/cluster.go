package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/peer"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// cluster is a node's view of the other nodes: the ring built from the
// gossiped member set, a replica handle per member, the failure detector's
// verdicts, and the internode transport. It implements replication's
// Router and RangeRouter, serves peers' requests (handle), and hands hints
// back to their owners (hintDeliveryLoop).
type cluster struct {
	self      string
	q, n      int
	r, w      int
	log       *slog.Logger
	local     *replica.Local
	transport peer.Transport
	coord     atomic.Pointer[replication.Coordinator]

	// mem is nil until the node joined its cluster's membership (gossip,
	// or a Hub in in-process tests); until then the node is its own ring.
	mem atomic.Pointer[membership.Membership]

	state atomic.Pointer[clusterState]

	mu      sync.Mutex
	remotes map[string]*remoteReplica

	hintsDelivered atomic.Int64 // hints delivered to their owners
	lastDelivery   atomic.Int64 // Unix ms of the last delivery, 0 never

	ae    aeStats            // anti-entropy counters
	adm   *replica.Admission // paces background work (nil: unpaced)
	grace time.Duration      // tombstone_grace: tombstones and hints older than it are collected, 0 never
	now   func() time.Time   // the node's clock

	limits *antientropy.Limits // bounds of one exchange (nil: the defaults), for tests

	relay *relay // carries published messages to the other nodes (pubsub.go)
}

// clusterState is one immutable ring view: swapped whole when the member
// set changes.
type clusterState struct {
	set   membership.MemberSet
	ring  *ring.Ring
	prefs [][]replication.Replica // per partition: the extended preference list
	shift uint                    // a position's partition is pos >> shift
}

// maxStandIns bounds the stand-ins kept per partition beyond the N homes.
const maxStandIns = 16

func newCluster(self string, q, n int, local *replica.Local, tr peer.Transport, log *slog.Logger) *cluster {
	return &cluster{self: self, q: q, n: n, local: local, transport: tr, log: log, remotes: map[string]*remoteReplica{}}
}

// replica returns the handle of node id.
func (c *cluster) replica(id string) replication.Replica {
	if id == c.self {
		return c.local
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.remotes[id]
	if !ok {
		r = &remoteReplica{id: id, c: c}
		c.remotes[id] = r
	}
	return r
}

// setMembers rebuilds the ring view from set. An invalid set (which gossip
// validation should make impossible) keeps the previous view.
func (c *cluster) setMembers(set membership.MemberSet) error {
	if cur := c.state.Load(); cur != nil && cur.set.Equal(set) {
		return nil
	}
	rg, err := set.Ring(c.q, c.n)
	if err != nil {
		return fmt.Errorf("node: building the ring: %w", err)
	}
	st := &clusterState{set: set, ring: rg, prefs: make([][]replication.Replica, c.q), shift: uint(64 - bits.TrailingZeros(uint(c.q)))}
	if c.q == 1 {
		st.shift = 64
	}
	limit := c.n + maxStandIns
	for p := range c.q {
		pl := rg.PreferenceList(p)
		list := make([]replication.Replica, 0, min(pl.Len(), limit))
		for _, id := range pl.All() {
			if len(list) == limit {
				break
			}
			list = append(list, c.replica(id))
		}
		st.prefs[p] = list
	}
	c.state.Store(st)
	return nil
}

// PreferenceList implements replication.Router.
func (c *cluster) PreferenceList(key []byte) []replication.Replica {
	st := c.state.Load()
	return st.prefs[ring.HashKey(key).Partition(c.q)]
}

// members returns the node's membership, or nil before it joined one.
func (c *cluster) members() membership.Membership {
	if p := c.mem.Load(); p != nil {
		return *p
	}
	return nil
}

// setMembership makes m the node's membership.
func (c *cluster) setMembership(m membership.Membership) { c.mem.Store(&m) }

// Alive implements replication.Router: a node is alive unless the failure
// detector declared it dead (a suspect still gets requests; the
// coordinator's per-request deadlines and stand-ins cover a slow one).
func (c *cluster) Alive(r replication.Replica) bool {
	return c.livenessOf(r.Name()) != membership.LiveDead
}

// livenessOf returns the failure detector's verdict on id: this node is
// always alive; before the node joined the gossip every other is dead.
func (c *cluster) livenessOf(id string) membership.Liveness {
	switch {
	case id == c.self:
		return membership.LiveAlive
	}
	if m := c.members(); m != nil {
		return m.Liveness(id)
	}
	return membership.LiveDead
}

// RangePreferenceList implements replication.RangeRouter.
func (c *cluster) RangePreferenceList(pos uint64) (uint64, []replication.Replica) {
	st := c.state.Load()
	p := 0
	if st.shift < 64 {
		p = int(pos >> st.shift)
	}
	end := ^uint64(0)
	if p < c.q-1 {
		end = ring.PartitionStart(p+1, c.q) - 1
	}
	return end, st.prefs[p]
}

// peerAddr returns the internode address of node id.
func (c *cluster) peerAddr(id string) (string, bool) {
	if m := c.members(); m != nil {
		if _, p, ok := m.Addrs(id); ok && p != "" {
			return p, true
		}
	}
	if r, ok := c.state.Load().set.Get(id); ok && r.PeerAddr != "" {
		return r.PeerAddr, true
	}
	return "", false
}

// errRemoved refuses service on a node an operator removed from the ring.
var errRemoved = errors.New("this node was removed from the ring (RING REMOVE); wipe its data directory and start it again to rejoin")

// isRemoved reports whether an operator removed this node from the ring.
// A removed node serves no data, to clients or peers, and sends none: its
// copies may be older than what the cluster has since forgotten (collected
// tombstones), so they must not flow back.
func (c *cluster) isRemoved() bool {
	m := c.members()
	return m != nil && m.Removed()
}

// refusal is the error a removed node answers data commands with, or "".
func (c *cluster) refusal() string {
	if c.isRemoved() {
		return "ERR " + errRemoved.Error()
	}
	return ""
}

// doneContext returns a context cancelled when done closes or cancel is
// called, for the background loops that watch the node's done channel.
func doneContext(done <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
