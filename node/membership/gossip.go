package membership

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Gossip is one node's Membership over memberlist: the gossiped, persisted
// member set the ring is computed from, and the liveness of each node. All methods are safe for concurrent use.
type Gossip struct {
	cfg  Config
	log  *slog.Logger
	tm   memberTiming
	list *memberlist.Memberlist // set once Create returned; delegates never use it

	gossipAddr atomic.Pointer[string]
	queue      *memberlist.TransmitLimitedQueue // record broadcasts
	numLive    atomic.Int64                     // nodes memberlist lists, for the queue

	mu    sync.Mutex                     // serialises changes of cur and meta
	cur   atomic.Pointer[memberSnapshot] // the member set
	meta  atomic.Pointer[[]byte]         // NodeMeta: the own record, current addresses
	own   atomic.Bool                    // the set holds this node's record
	live  atomic.Pointer[map[string]Liveness]
	liveM sync.Mutex // serialises refreshLiveness

	removed    atomic.Bool
	removedLog sync.Once
	metaWarn   sync.Once

	peersMu sync.Mutex
	peers   map[string]MemberRecord // last record each node advertised in its metadata
	idents  map[string]ident        // last identity each node advertised in its metadata

	staleSelf     atomic.Bool         // a peer holds this node at an older gossip address
	refMu         sync.Mutex          // guards mergeRefusals and warned
	mergeRefusals map[string]*refusal // by text: what the MergeDelegate refused lately
	warned        map[string]bool     // refusals logged at warn level
	refusedCh     chan struct{}       // closed once the cluster refused this node
	refuseOnce    sync.Once           // closes refusedCh
	refusal       *refusal            // why; set before refusedCh is closed
	secretWarn    secretWarn          // rate of the "another secret" warning

	saveMu sync.Mutex
	saved  []byte // encoding last persisted, guarded by saveMu

	saveCh, changeCh, liveCh chan struct{} // coalescing wake-ups
	joinedCh                 chan struct{} // closed once another node was met
	joinedOnce               sync.Once
	done                     chan struct{}
	closeOnce                sync.Once
	closeErr                 error
	wg                       sync.WaitGroup
}

// memberSnapshot is an immutable member set with its encoding.
type memberSnapshot struct {
	set MemberSet
	enc []byte
}

func newSnapshot(s MemberSet) *memberSnapshot {
	return &memberSnapshot{set: s, enc: AppendMemberSet(nil, s)}
}

// Start starts gossip for cfg.Self and returns once the node has
// its own record in the member set, persisted.
//
// A restarted node (its record is in the stored set) keeps the join
// generation it had, so it computes the same ring before it hears from
// anyone, and joins its seeds and known members in the background. A node
// seen for the first time joins its seeds first, waiting up to JoinTimeout,
// and takes the generation after every event it learned from them (1 on a
// fresh cluster); if the cluster already holds a live record for its id
// (its data was wiped), it takes that record back instead. It blocks for at
// most about JoinTimeout.
func Start(cfg Config) (*Gossip, error) {
	cfg, bindIP, advertiseIP, port, err := prepareMembership(cfg)
	if err != nil {
		return nil, err
	}
	stored, err := LoadMemberSet(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("membership: loading the member set: %w", err)
	}
	m := &Gossip{
		cfg:           cfg,
		log:           cfg.Logger.With("component", "membership"),
		tm:            timingFor(cfg.Fast),
		peers:         make(map[string]MemberRecord),
		idents:        make(map[string]ident),
		warned:        make(map[string]bool),
		refusedCh:     make(chan struct{}),
		mergeRefusals: make(map[string]*refusal),
		saveCh:        make(chan struct{}, 1),
		changeCh:      make(chan struct{}, 1),
		liveCh:        make(chan struct{}, 1),
		joinedCh:      make(chan struct{}),
		done:          make(chan struct{}),
	}
	m.cur.Store(newSnapshot(stored))
	m.live.Store(&map[string]Liveness{cfg.Self.ID: LiveAlive})
	m.numLive.Store(1)
	empty := ""
	m.gossipAddr.Store(&empty)
	m.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return max(1, int(m.numLive.Load())) },
		RetransmitMult: 4,
	}
	if own, ok := stored.Get(cfg.Self.ID); ok {
		m.restored(own)
	}
	m.mu.Lock()
	m.refreshMetaLocked() // the identity is advertised from the first alive message on
	m.mu.Unlock()

	m.list, err = memberlist.Create(m.memberlistConfig(bindIP, advertiseIP, port))
	if err != nil {
		return nil, fmt.Errorf("membership: starting gossip on %s: %w", cfg.GossipListen, err)
	}
	ln := m.list.LocalNode()
	addr := net.JoinHostPort(ln.Addr.String(), strconv.Itoa(int(ln.Port)))
	m.gossipAddr.Store(&addr)

	m.goTracked(m.livenessLoop)
	m.goTracked(m.saveLoop)
	m.goTracked(m.joinLoop)
	if !m.own.Load() {
		if len(m.joinTargets(false)) > 0 {
			select {
			case <-m.joinedCh:
			case <-m.refusedCh:
				return nil, errors.Join(m.refusal, m.stop(false))
			case <-time.After(cfg.JoinTimeout):
				m.log.Warn("no seed answered; starting alone and still trying in the background",
					"seeds", cfg.Seeds, "waited", cfg.JoinTimeout)
			}
		}
		m.claimGeneration()
	}
	m.mu.Lock()
	m.refreshMetaLocked()
	m.mu.Unlock()
	if err := m.saveNow(); err != nil {
		return nil, errors.Join(err, m.Close())
	}
	m.goTracked(func() {
		if err := m.list.UpdateNode(updateTimeout); err != nil {
			m.log.Debug("advertising the own record", "err", err)
		}
	})
	m.refreshLiveness()
	if cfg.OnChange != nil {
		m.goTracked(m.changeLoop)
	}
	m.goTracked(m.reportRefusal)
	self := m.Self()
	m.log.Info("membership started", "id", self.ID, "gossip", addr, "joined", self.Joined,
		"members", len(m.Set().Members()))
	return m, nil
}

// restored handles the own record found in the stored set.
func (m *Gossip) restored(own MemberRecord) {
	m.own.Store(true)
	self := m.cfg.Self
	if own.Addr != self.Addr || own.PeerAddr != self.PeerAddr {
		m.log.Warn("node restarted with different addresses; peers will use the new ones from gossip metadata",
			"stored_addr", own.Addr, "stored_peer_addr", own.PeerAddr, "addr", self.Addr, "peer_addr", self.PeerAddr)
	}
	if own.Weight != self.Weight {
		m.log.Warn("node restarted with a different weight; the ring keeps the stored one",
			"stored_weight", own.Weight, "weight", self.Weight)
	}
	m.checkRemoved(m.Set())
}

// claimGeneration gives a first-started node its record: the one the
// cluster already holds for its id if it is live (a node whose data was
// wiped takes its place back), else a new one at the next generation.
func (m *Gossip) claimGeneration() {
	m.update(func(cur MemberSet) MemberSet {
		if old, ok := cur.Get(m.cfg.Self.ID); ok && old.Removed == 0 {
			m.log.Info("taking back the record the cluster holds for this node", "joined", old.Joined)
			m.own.Store(true)
			return MemberSet{}
		}
		rec := m.cfg.Self
		rec.GossipAddr = m.GossipAddr()
		rec.Joined = cur.NextGeneration()
		m.own.Store(true)
		return NewMemberSet(rec)
	})
}

// update merges what fn returns (given the current set) into the set. If
// that changed the set, it broadcasts each changed record and schedules
// persistence, a liveness refresh and OnChange. It never blocks on I/O and
// is called from memberlist's callbacks.
func (m *Gossip) update(fn func(cur MemberSet) MemberSet) bool {
	m.mu.Lock()
	old := m.cur.Load()
	next := old.set.Merge(fn(old.set))
	enc := AppendMemberSet(nil, next)
	if bytes.Equal(enc, old.enc) {
		m.mu.Unlock()
		return false
	}
	m.cur.Store(&memberSnapshot{set: next, enc: enc})
	for _, r := range next.Records() {
		if o, ok := old.set.Get(r.ID); !ok || o != r {
			m.queue.QueueBroadcast(recordBroadcast{id: r.ID, msg: AppendMemberSet(nil, NewMemberSet(r))})
		}
	}
	m.refreshMetaLocked()
	m.mu.Unlock()

	m.checkRemoved(next)
	kick(m.saveCh)
	kick(m.liveCh)
	kick(m.changeCh)
	return true
}

// merge merges a set received from a peer.
func (m *Gossip) merge(s MemberSet) bool {
	return m.update(func(MemberSet) MemberSet { return s })
}

// refreshMetaLocked recomputes what NodeMeta advertises: the identity
// (instance token, partition count) and, once the node has it, the own
// record as in the set with the addresses this process actually uses.
// m.mu is held.
func (m *Gossip) refreshMetaLocked() {
	nm := NodeMeta{Instance: m.cfg.Instance, Partitions: m.cfg.Partitions}
	if own, ok := m.cur.Load().set.Get(m.cfg.Self.ID); ok && m.own.Load() {
		own.Addr, own.PeerAddr, own.GossipAddr = m.cfg.Self.Addr, m.cfg.Self.PeerAddr, m.GossipAddr()
		nm.Record = &own
	}
	meta := AppendNodeMeta(nil, nm)
	if len(meta) > memberlist.MetaMaxSize {
		m.metaWarn.Do(func() {
			m.log.Warn("own record too large for gossip metadata; peers learn it by push/pull only",
				"bytes", len(meta), "limit", memberlist.MetaMaxSize)
		})
		nm.Record = nil
		meta = AppendNodeMeta(nil, nm)
	}
	m.meta.Store(&meta)
}

// checkRemoved notes, once, that the set carries the removal of this node.
func (m *Gossip) checkRemoved(s MemberSet) {
	if !m.own.Load() {
		return
	}
	if own, ok := s.Get(m.cfg.Self.ID); ok && own.Removed != 0 {
		m.removed.Store(true)
		m.removedLog.Do(func() {
			m.log.Error("this node was removed from the ring by an operator; wipe its data directory to join again",
				"id", own.ID, "removed", own.Removed)
		})
	}
}

// observe handles a node's memberlist entry. memberlist calls it with its
// node lock held: only here may n's fields be read without racing its
// in-place updates, so the metadata is taken now.
func (m *Gossip) observe(n *memberlist.Node) {
	kick(m.liveCh)
	if n.Name == m.cfg.Self.ID {
		return
	}
	nm, err := DecodeNodeMeta(n.Meta)
	if err != nil || (nm.Record != nil && nm.Record.ID != n.Name) {
		m.log.Debug("dropping invalid gossip metadata", "node", n.Name, "err", err)
		return
	}
	m.peersMu.Lock()
	m.idents[n.Name] = ident{instance: nm.Instance, addr: nodeAddr(n)}
	if nm.Record != nil {
		m.peers[n.Name] = *nm.Record
	}
	m.peersMu.Unlock()
	if nm.Record == nil {
		return // a node still joining advertises no record yet
	}
	rec := *nm.Record
	s := NewMemberSet(rec)
	// Merge only news about the node's join or removal: the set keeps the
	// addresses it holds for an incarnation, Addrs serves the newer ones.
	m.update(func(cur MemberSet) MemberSet {
		if old, ok := cur.Get(rec.ID); ok && rec.Joined <= old.Joined && rec.Removed <= old.Removed {
			return MemberSet{}
		}
		return s
	})
}

// Set returns the current member set, this node's record included. It is
// an immutable snapshot; the call does not block.
func (m *Gossip) Set() MemberSet { return m.cur.Load().set }

// Self returns this node's record as the member set holds it, with its
// join generation and gossip address.
func (m *Gossip) Self() MemberRecord {
	if r, ok := m.Set().Get(m.cfg.Self.ID); ok {
		return r
	}
	r := m.cfg.Self
	r.GossipAddr = m.GossipAddr()
	return r
}

// Liveness returns what the failure detector believes about id: LiveAlive
// for this node, LiveDead for an id it never heard of. It is lock-free.
func (m *Gossip) Liveness(id string) Liveness {
	if id == m.cfg.Self.ID {
		return LiveAlive
	}
	return (*m.live.Load())[id]
}

// Addrs returns the client and internode addresses of id: those its live
// memberlist metadata last advertised for its current incarnation, else
// those of its record in the set. ok is false for an unknown id.
func (m *Gossip) Addrs(id string) (client, peer string, ok bool) {
	if id == m.cfg.Self.ID {
		return m.cfg.Self.Addr, m.cfg.Self.PeerAddr, true
	}
	rec, inSet := m.Set().Get(id)
	m.peersMu.Lock()
	adv, advertised := m.peers[id]
	m.peersMu.Unlock()
	if advertised && (!inSet || adv.Joined >= rec.Joined) {
		return adv.Addr, adv.PeerAddr, true
	}
	return rec.Addr, rec.PeerAddr, inSet
}

// Remove removes id from the ring for good (RING REMOVE): it records the
// removal at the next generation, persists it and gossips it. It refuses
// an unknown id, one already removed, and this node itself; the errors'
// text names the node and suits a Redis error reply.
func (m *Gossip) Remove(id string) error {
	if id == m.cfg.Self.ID {
		return ErrRemoveSelf
	}
	var err error
	m.update(func(cur MemberSet) MemberSet {
		rec, ok := cur.Get(id)
		switch {
		case !ok:
			err = &memberError{ErrUnknownMember, fmt.Sprintf("no such node '%s'", id)}
			return MemberSet{}
		case rec.Removed != 0:
			err = &memberError{ErrAlreadyRemoved, fmt.Sprintf("node '%s' is already removed", id)}
			return MemberSet{}
		}
		rec.Removed = cur.NextGeneration()
		return NewMemberSet(rec)
	})
	if err != nil {
		return err
	}
	if err := m.saveNow(); err != nil {
		return err
	}
	m.log.Info("node removed from the ring", "id", id)
	return nil
}

// Removed reports whether an operator removed this node from the ring.
func (m *Gossip) Removed() bool { return m.removed.Load() }

// Counts returns how many current (not removed) members are alive,
// suspect and dead.
func (m *Gossip) Counts() (alive, suspect, dead int) { return counts(m.Set(), m.Liveness) }

// GossipAddr returns the address memberlist is bound to (host:port).
func (m *Gossip) GossipAddr() string { return *m.gossipAddr.Load() }

// Close leaves the gossip (waiting up to a second for the leave to go
// out), shuts memberlist down, waits for the membership's goroutines and
// persists the last set. It is idempotent; later calls return the first
// result.
func (m *Gossip) Close() error { return m.stop(true) }

// stop is Close; without leave, peers are not told and find the node dead
// by probing it, as after a crash.
func (m *Gossip) stop(leave bool) error {
	m.closeOnce.Do(func() {
		close(m.done)
		if leave && !m.refused() { // a refused node's id may be another process's
			if err := m.list.Leave(leaveTimeout); err != nil {
				m.log.Debug("leaving the gossip", "err", err)
			}
		}
		err := m.list.Shutdown()
		m.wg.Wait()
		m.closeErr = errors.Join(err, m.saveNow())
	})
	return m.closeErr
}

// goTracked runs f on a goroutine Close waits for.
func (m *Gossip) goTracked(f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
}

// kick wakes the loop reading ch without blocking; wake-ups coalesce.
func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
