package membership

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/node/store"

	"github.com/hashicorp/memberlist"

	"github.com/dynakv/dynakv/ring"
)

// Liveness is what the failure detector currently believes about a node.
// It is not part of the member set: a dead node keeps its record and its
// partitions, and traffic is only routed around it.
type Liveness uint8

const (
	LiveDead    Liveness = iota // not heard from: failed, left, or never seen
	LiveSuspect                 // missed probes; not reported with memberlist v0.7.0 (see refreshLiveness)
	LiveAlive                   // answering probes
)

// String returns "dead", "suspect" or "alive".
func (l Liveness) String() string {
	switch l {
	case LiveDead:
		return "dead"
	case LiveSuspect:
		return "suspect"
	case LiveAlive:
		return "alive"
	}
	return "Liveness(" + strconv.Itoa(int(l)) + ")"
}

// Errors returned by Membership.Remove. Their text is meant to be sent to a
// Redis client as is; match them with errors.Is.
var (
	ErrUnknownMember  = errors.New("no such node")
	ErrAlreadyRemoved = errors.New("node already removed")
	ErrRemoveSelf     = errors.New("cannot remove this node itself")
)

// memberError carries a sentinel and a message naming the node.
type memberError struct {
	err error
	msg string
}

func (e *memberError) Error() string { return e.msg }
func (e *memberError) Unwrap() error { return e.err }

// Config configures Start (and Hub.Join). Start copies it;
// the caller may reuse it.
type Config struct {
	// Self is this node's record. The caller sets ID, Addr (client),
	// PeerAddr and Weight; GossipAddr and Joined are filled in by the
	// membership. On a restart the stored record wins (see Start).
	Self MemberRecord

	// GossipListen is the host:port memberlist binds for UDP and TCP. Port 0
	// takes any free port (tests); GossipAddr reports the one bound.
	GossipListen string

	// Seeds are gossip addresses (host:port) of nodes to join. This node's
	// own address may be among them; it is skipped.
	Seeds []string

	// Secret is the cluster secret. When non-empty, gossip is encrypted and
	// authenticated with AES-256 under SHA-256(Secret), both ways: nodes with
	// another secret cannot exchange anything with this one.
	Secret string

	// Store persists the member set (SaveMemberSet, LoadMemberSet).
	Store store.Store

	// Logger receives the membership's log, and memberlist's own at Debug
	// level. Nil discards it.
	Logger *slog.Logger

	// JoinTimeout bounds how long a first start (no stored record for this
	// node) waits for a seed before it goes on alone; 0 means 5s. Seeds are
	// retried in the background afterwards until another node is met.
	JoinTimeout time.Duration

	// OnChange, when set, is called after the member set or the liveness of
	// any node changed. Calls come from one goroutine, never concurrently and
	// never while the membership holds a lock; bursts are coalesced. The
	// first call may come as soon as Start returns. OnChange must
	// not call Close.
	OnChange func()

	// Fast shortens failure detection to about 1-2 s (tests) instead of the
	// default 3-6 s.
	Fast bool
}

// memberTiming holds the membership's own periods; see timingFor.
type memberTiming struct {
	poll         time.Duration // liveness poll of memberlist
	joinRetry    time.Duration // first wait between join attempts
	joinRetryMax time.Duration // bound of the join backoff
	reconnect    time.Duration // period of the attempts to rejoin dead members
	tcpTimeout   time.Duration // memberlist's TCP timeout (joins, push/pull)
}

func timingFor(fast bool) memberTiming {
	if fast {
		return memberTiming{poll: 100 * time.Millisecond, joinRetry: 200 * time.Millisecond,
			joinRetryMax: 2 * time.Second, reconnect: time.Second, tcpTimeout: time.Second}
	}
	return memberTiming{poll: 250 * time.Millisecond, joinRetry: time.Second,
		joinRetryMax: 10 * time.Second, reconnect: 10 * time.Second, tcpTimeout: 3 * time.Second}
}

const (
	defaultJoinTimeout = 5 * time.Second
	leaveTimeout       = time.Second // Close waits this long for its leave to go out
	updateTimeout      = time.Second // bound on re-advertising the own record
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
		cfg:      cfg,
		log:      cfg.Logger.With("component", "membership"),
		tm:       timingFor(cfg.Fast),
		peers:    make(map[string]MemberRecord),
		saveCh:   make(chan struct{}, 1),
		changeCh: make(chan struct{}, 1),
		liveCh:   make(chan struct{}, 1),
		joinedCh: make(chan struct{}),
		done:     make(chan struct{}),
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
	self := m.Self()
	m.log.Info("membership started", "id", self.ID, "gossip", addr, "joined", self.Joined,
		"members", len(m.Set().Members()))
	return m, nil
}

// prepareMembership validates cfg, fills in defaults and resolves the
// gossip address.
func prepareMembership(cfg Config) (_ Config, bindIP, advertiseIP string, port int, _ error) {
	fail := func(format string, args ...any) (Config, string, string, int, error) {
		return cfg, "", "", 0, fmt.Errorf("membership: "+format, args...)
	}
	switch {
	case cfg.Self.ID == "" || len(cfg.Self.ID) > MaxIDLen:
		return fail("Self.ID must be 1 to %d bytes", MaxIDLen)
	case cfg.Self.Weight < 1 || cfg.Self.Weight > ring.MaxWeight:
		return fail("Self.Weight %d is not in [1, %d]", cfg.Self.Weight, ring.MaxWeight)
	case len(cfg.Self.Addr) > MaxIDLen || len(cfg.Self.PeerAddr) > MaxIDLen:
		return fail("Self.Addr and Self.PeerAddr must be at most %d bytes", MaxIDLen)
	case cfg.Store == nil:
		return fail("Store is nil")
	}
	host, portStr, err := net.SplitHostPort(cfg.GossipListen)
	if err != nil {
		return fail("GossipListen %q: %v", cfg.GossipListen, err)
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return fail("GossipListen %q: bad port", cfg.GossipListen)
	}
	switch ip := net.ParseIP(host); {
	case host == "":
		bindIP = "0.0.0.0"
	case ip != nil:
		bindIP = ip.String()
		if !ip.IsUnspecified() {
			advertiseIP = bindIP
		}
	default:
		// memberlist binds every interface when BindAddr is not an IP
		// literal, so resolve the name here.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err != nil || len(ips) == 0 {
			return fail("GossipListen %q: resolving %s: %v", cfg.GossipListen, host, err)
		}
		pick := ips[0]
		for _, a := range ips {
			if a.Unmap().Is4() {
				pick = a
				break
			}
		}
		bindIP = pick.Unmap().String()
		advertiseIP = bindIP
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = defaultJoinTimeout
	}
	var seeds []string
	for _, s := range cfg.Seeds {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	cfg.Seeds = seeds
	cfg.Self.GossipAddr, cfg.Self.Joined, cfg.Self.Removed = "", 0, 0
	return cfg, bindIP, advertiseIP, port, nil
}

// memberlistConfig tunes memberlist for failure detection in seconds.
func (m *Gossip) memberlistConfig(bindIP, advertiseIP string, port int) *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.Name = m.cfg.Self.ID
	c.BindAddr, c.BindPort = bindIP, port
	c.AdvertiseAddr, c.AdvertisePort = advertiseIP, port
	c.TCPTimeout = m.tm.tcpTimeout
	c.ProbeInterval = time.Second           // a node is probed every N seconds
	c.ProbeTimeout = 500 * time.Millisecond // a LAN round trip, generously
	c.SuspicionMult = 3                     // suspect for >= 3 probe intervals
	c.GossipInterval = 100 * time.Millisecond
	c.PushPullInterval = 10 * time.Second // full set exchange, the backstop of gossip
	c.DeadNodeReclaimTime = 2 * time.Second
	if m.cfg.Fast {
		c.ProbeInterval = 200 * time.Millisecond
		c.ProbeTimeout = 100 * time.Millisecond
		c.SuspicionMult = 2
		c.GossipToTheDeadTime = 2 * time.Second
		c.PushPullInterval = 2 * time.Second
	}
	if m.cfg.Secret != "" {
		key := sha256.Sum256([]byte(m.cfg.Secret))
		c.SecretKey = key[:]
		c.GossipVerifyIncoming, c.GossipVerifyOutgoing = true, true
	}
	c.Delegate = memberDelegate{m}
	c.Events = memberEvents{m}
	// Logger rather than LogOutput: the same io.Writer, without a second
	// timestamp in front of slog's.
	c.Logger = log.New(memberlistLog{m.cfg.Logger.With("component", "memberlist")}, "", 0)
	return c
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

// refreshMetaLocked recomputes what NodeMeta advertises: the own record as
// in the set, with the addresses this process actually uses. m.mu is held.
func (m *Gossip) refreshMetaLocked() {
	own, ok := m.cur.Load().set.Get(m.cfg.Self.ID)
	if !ok || !m.own.Load() {
		return
	}
	own.Addr, own.PeerAddr, own.GossipAddr = m.cfg.Self.Addr, m.cfg.Self.PeerAddr, m.GossipAddr()
	meta := AppendMemberSet(nil, NewMemberSet(own))
	if len(meta) > memberlist.MetaMaxSize {
		m.metaWarn.Do(func() {
			m.log.Warn("own record too large for gossip metadata; peers learn it by push/pull only",
				"bytes", len(meta), "limit", memberlist.MetaMaxSize)
		})
		meta = nil
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
	if n.Name == m.cfg.Self.ID || len(n.Meta) == 0 {
		return // a node still joining advertises nothing yet
	}
	s, err := DecodeMemberSet(n.Meta)
	if err != nil || s.Len() != 1 || s.recs[0].ID != n.Name {
		m.log.Debug("dropping invalid gossip metadata", "node", n.Name, "err", err)
		return
	}
	rec := s.recs[0]
	m.peersMu.Lock()
	m.peers[rec.ID] = rec
	m.peersMu.Unlock()
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
		if leave {
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

// saveNow persists the current set if it is not already. Sets only grow
// (Merge), so the stored one never goes back.
func (m *Gossip) saveNow() error {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	snap := m.cur.Load()
	if bytes.Equal(snap.enc, m.saved) {
		return nil
	}
	if err := SaveMemberSet(m.cfg.Store, snap.set); err != nil {
		return err
	}
	m.saved = snap.enc
	return nil
}

func (m *Gossip) saveLoop() {
	for {
		select {
		case <-m.done:
			return
		case <-m.saveCh:
		}
		if err := m.saveNow(); err != nil {
			m.log.Error("persisting the member set", "err", err)
		}
	}
}

func (m *Gossip) changeLoop() {
	for {
		select {
		case <-m.done:
			return
		case <-m.changeCh:
		}
		m.cfg.OnChange()
	}
}

func (m *Gossip) livenessLoop() {
	t := time.NewTicker(m.tm.poll)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
		case <-m.liveCh:
		}
		m.refreshLiveness()
	}
}

// refreshLiveness recomputes every node's liveness from memberlist: a node
// it lists is alive, a node of the set it does not list is dead.
//
// memberlist v0.7.0 does not tell a suspect node from an alive one:
// Members lists both, and the State of the Nodes it returns is never
// updated (the live state is an unexported field of its node table that
// shadows Node.State), nor does any delegate hear of suspicions. So
// LiveSuspect is not reported; a failed node goes from alive to dead once
// its suspicion times out (about 1 s with Fast, 3-6 s otherwise). Only
// Name, which memberlist never rewrites, is read from the returned Nodes.
func (m *Gossip) refreshLiveness() {
	m.liveM.Lock()
	defer m.liveM.Unlock()
	nodes := m.list.Members()
	m.numLive.Store(int64(len(nodes)))
	next := make(map[string]Liveness, len(nodes)+m.Set().Len())
	for _, r := range m.Set().Records() {
		next[r.ID] = LiveDead
	}
	for _, n := range nodes {
		next[n.Name] = LiveAlive
	}
	next[m.cfg.Self.ID] = LiveAlive
	old := *m.live.Load()
	if maps.Equal(old, next) {
		return
	}
	m.live.Store(&next)
	for id, l := range next {
		if was, ok := old[id]; (ok || l != LiveDead) && was != l {
			m.log.Info("node liveness changed", "id", id, "from", was, "to", l)
		}
	}
	kick(m.changeCh)
}

// joinLoop joins the cluster: until another node is met it tries the seeds
// and the gossip addresses of known members, backing off from
// tm.joinRetry to tm.joinRetryMax; afterwards it periodically tries to
// rejoin members memberlist declared dead, so that two sides of a healed
// partition find each other again. Targets are tried one at a time so
// that Close waits for at most one TCP timeout.
func (m *Gossip) joinLoop() {
	wait := m.tm.joinRetry
	for {
		if !m.joined() {
			m.tryJoin(m.joinTargets(false), true)
			if m.list.NumMembers() > 1 {
				m.joinedOnce.Do(func() { close(m.joinedCh) })
			} else {
				wait = min(wait*3/2, m.tm.joinRetryMax)
			}
		} else {
			wait = m.tm.reconnect
			m.tryJoin(m.joinTargets(true), false)
		}
		t := time.NewTimer(wait)
		select {
		case <-m.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (m *Gossip) joined() bool {
	select {
	case <-m.joinedCh:
		return true
	default:
		return m.list.NumMembers() > 1 && m.own.Load()
	}
}

// tryJoin joins through each of addrs in turn, until memberlist lists
// another node if untilMet: success is judged by that, not by Join's
// answer, because a seed may turn out to be this node under another name
// (localhost). It stops when the membership is closing.
func (m *Gossip) tryJoin(addrs []string, untilMet bool) {
	for _, addr := range addrs {
		select {
		case <-m.done:
			return
		default:
		}
		if _, err := m.list.Join([]string{addr}); err != nil {
			m.log.Debug("joining", "addr", addr, "err", err)
			continue
		}
		m.log.Debug("joined", "addr", addr)
		if untilMet && m.list.NumMembers() > 1 {
			return
		}
	}
}

// joinTargets returns the gossip addresses worth joining, this node's
// excluded: the seeds and the known members, or, when deadOnly, the
// members memberlist does not list.
func (m *Gossip) joinTargets(deadOnly bool) []string {
	self := map[string]bool{m.cfg.GossipListen: true, m.GossipAddr(): true}
	var out []string
	seen := make(map[string]bool)
	add := func(a string) {
		if a != "" && !self[a] && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if !deadOnly {
		for _, s := range m.cfg.Seeds {
			add(s)
		}
	}
	for _, r := range m.Set().Members() {
		if r.ID != m.cfg.Self.ID && (!deadOnly || m.Liveness(r.ID) == LiveDead) {
			add(r.GossipAddr)
		}
	}
	return out
}

// memberDelegate is the memberlist.Delegate of a Membership: the own
// record as node metadata, record broadcasts, the full set by push/pull.
type memberDelegate struct{ m *Gossip }

var _ memberlist.Delegate = memberDelegate{}

func (d memberDelegate) NodeMeta(limit int) []byte {
	p := d.m.meta.Load()
	if p == nil || len(*p) > limit {
		return nil
	}
	return *p
}

func (d memberDelegate) NotifyMsg(buf []byte) {
	s, err := DecodeMemberSet(buf)
	if err != nil {
		d.m.log.Debug("dropping invalid gossip message", "err", err)
		return
	}
	d.m.merge(s)
}

func (d memberDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.m.queue.GetBroadcasts(overhead, limit)
}

func (d memberDelegate) LocalState(join bool) []byte { return d.m.cur.Load().enc }

func (d memberDelegate) MergeRemoteState(buf []byte, join bool) {
	if len(buf) == 0 {
		return
	}
	s, err := DecodeMemberSet(buf)
	if err != nil {
		d.m.log.Debug("dropping invalid pushed member set", "err", err)
		return
	}
	d.m.merge(s)
}

// memberEvents is the memberlist.EventDelegate of a Membership.
type memberEvents struct{ m *Gossip }

var _ memberlist.EventDelegate = memberEvents{}

func (e memberEvents) NotifyJoin(n *memberlist.Node)   { e.m.observe(n) }
func (e memberEvents) NotifyUpdate(n *memberlist.Node) { e.m.observe(n) }
func (e memberEvents) NotifyLeave(*memberlist.Node)    { kick(e.m.liveCh) }

// recordBroadcast gossips one record, as a one-record member set. A newer
// broadcast of the same id replaces an older one still queued: the set's
// record only grows, so the newer covers it.
type recordBroadcast struct {
	id  string
	msg []byte
}

var _ memberlist.NamedBroadcast = recordBroadcast{}

func (b recordBroadcast) Name() string { return "member/" + b.id }
func (b recordBroadcast) Invalidates(o memberlist.Broadcast) bool {
	ob, ok := o.(recordBroadcast)
	return ok && ob.id == b.id
}
func (b recordBroadcast) Message() []byte { return b.msg }
func (b recordBroadcast) Finished()       {}

// memberlistLog writes memberlist's log lines to slog at Debug level.
type memberlistLog struct{ log *slog.Logger }

func (w memberlistLog) Write(p []byte) (int, error) {
	if w.log.Enabled(context.Background(), slog.LevelDebug) {
		w.log.Debug(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}
