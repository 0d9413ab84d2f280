package node

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/peer"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/resp"
)

// Version is dynakv's version, reported by INFO.
const Version = "0.1.0"

// Node is one running dynakv node: its store, its local replica, the
// coordinator, and the Redis front end. Build it with Open, start serving
// with Start, stop with Close.
type Node struct {
	cfg   conf.Config
	log   *slog.Logger
	store store.Store
	local *replica.Local
	coord *replication.Coordinator
	srv   *resp.Server
	view  *clusterView

	cluster    *cluster
	client     *peer.Client
	peerSrv    *peer.Server
	members    membership.Membership
	kick       chan struct{} // wakes the hint delivery loop
	aeKick     chan struct{} // starts an anti-entropy round early (the ring changed)
	quorumMu   sync.Mutex
	lastQuorum [3]int     // the last N, R, W logged
	instance   string     // the data directory's instance token (identity.go)
	refused    chan error // the cluster refused this node (see Refused)

	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	ln        net.Listener
	peerLn    net.Listener
	tlsLn     net.Listener // the TLS client port, if on
	tlsCfg    *tls.Config  // its configuration; nil when off
}

// Open opens (creating if needed) the node's data directory and builds its
// parts from cfg, which must be valid (conf.Load returns it so). It listens
// on nothing yet.
func Open(cfg conf.Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckExposure(); err != nil {
		return nil, err
	}
	cfg = cfg.Resolve()
	if log == nil {
		log = slog.Default()
	}
	tlsCfg, err := clientTLS(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	tableFiles, err := fitOpenFiles(&cfg, log) // may lower cfg.MaxClients (fdlimit.go)
	if err != nil {
		return nil, err
	}
	st, damage, err := openStore(cfg, log, tableFiles)
	if err != nil {
		return nil, err
	}
	id, err := loadIdentity(st, cfg.NodeID, cfg.Listen, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	cfg.NodeID = id.ID
	n, err := build(cfg, log, st, knobs{})
	if err != nil {
		st.Close()
		return nil, err
	}
	n.tlsCfg = tlsCfg
	n.instance = id.Instance
	if !damage.empty() {
		// What was lost may hold dots of this node's actor (or the
		// reservation of its counters): mint under a new one from here on.
		if err := n.local.RotateActor(); err != nil {
			n.Close()
			return nil, err
		}
		parts := damage.partitions(cfg.Partitions)
		n.view.damage = damage
		if damage.replicas {
			n.local.MarkDamaged(parts...)
			n.log.Warn("storage damage found at start: the lost keys are fetched from the other replicas at once",
				"damage", damage.String(), "partitions", partList(parts))
		} else {
			n.log.Warn("storage damage found at start, and no replica to heal from: starting with what is left (repair_storage yes)",
				"damage", damage.String(), "partitions", partList(parts))
		}
	}
	return n, nil
}

// knobs are a node's test-only settings, kept out of conf.Config: the
// zero value is what production runs.
type knobs struct {
	// now is the node's one clock, handed to every part that reads time
	// (nil: time.Now).
	now func() time.Time
	// rand is the node's one random source, handed to the coordinator
	// (nil: seeded at random).
	rand *rand.Rand
}

// build wires a node over an open store; the store is the node's from here
// on. The node routes by the member set persisted in the store (or, on a
// first start, by a ring of itself alone) until Start joins the gossip.
func build(cfg conf.Config, log *slog.Logger, st store.Store, k knobs) (*Node, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("node: build needs a node id (Open reads it from the data directory)")
	}
	now := k.now
	if now == nil {
		now = time.Now
	}
	health := store.NewHealth(st, log) // what INFO persistence shows
	st = health
	adm := replica.NewAdmission(replica.DefaultLatencyTarget, now)
	local, err := replica.Open(replica.Config{Name: cfg.NodeID, Store: st, CacheBytes: cfg.CacheSize,
		Grace: cfg.TombstoneGrace, Now: now, Admission: adm})
	if err != nil {
		return nil, err
	}
	if err := checkPartitions(st, cfg.Partitions); err != nil {
		return nil, err
	}
	shape, err := antientropy.NewShape(cfg.Partitions)
	if err != nil {
		return nil, err
	}
	local.EnableTrees(shape)
	set, err := membership.LoadMemberSet(st)
	if err != nil {
		return nil, err
	}
	if rec, ok := set.Get(cfg.NodeID); !ok || rec.Removed != 0 {
		set = membership.NewMemberSet(membership.MemberRecord{ID: cfg.NodeID, Addr: cfg.Listen, PeerAddr: cfg.PeerListen, GossipAddr: cfg.GossipListen, Weight: cfg.Weight, Joined: 1})
	}
	client := peer.NewClient(peer.Config{Secret: cfg.ClusterSecret, Logger: log})
	cl := newCluster(cfg.NodeID, cfg.Partitions, cfg.N, local, client, log)
	cl.r, cl.w = cfg.R, cfg.W
	cl.adm = adm
	cl.grace, cl.now = cfg.TombstoneGrace, now
	if err := cl.setMembers(set); err != nil {
		client.Close()
		return nil, err
	}
	coord, err := replication.NewCoordinator(replication.Config{
		Local:          local,
		Router:         cl,
		Actor:          local.Actor(),
		N:              cfg.N,
		R:              cfg.R,
		W:              cfg.W,
		PruneThreshold: cfg.PruneThreshold,
		Timeout:        cfg.RequestTimeout,
		Logger:         log,
		Now:            now,
		Rand:           k.rand,
	})
	if err != nil {
		client.Close()
		return nil, err
	}
	cl.coord.Store(coord)
	view := &clusterView{c: cl, now: now, health: health}
	cl.relay = newRelay(cl, log)
	psLimit := pubsubOutputLimit(cfg.ClientOutputBufferLimit)
	srv, err := resp.NewServer(resp.Config{
		Backend:     coord,
		View:        view,
		NodeID:      cfg.NodeID,
		RequirePass: cfg.RequirePass,
		Refuse:      cl.refusal,
		Limits: resp.Limits{
			MaxBulkLen:   cfg.ProtoMaxBulkLen,
			MaxArgs:      cfg.MaxMultibulkLen,
			MaxInlineLen: cfg.MaxInlineLen,
			MaxQueryLen:  cfg.ClientQueryBufferLimit,
		},
		MaxClients:        cfg.MaxClients,
		OutputLimit:       resp.OutputLimit(cfg.OutputBufferLimit()),
		PubSubOutputLimit: &psLimit,
		Relay:             cl.relay.publish,
		RequestTimeout:    cfg.RequestTimeout,
		// Keyspace notifications are published through the relay, as
		// PUBLISH is.
		NotifyKeyspaceEvents: cfg.NotifyKeyspaceEvents,
		Settings:             func() []resp.Field { return settings(cfg) },
		Logger:               log,
		Version:              Version,
	})
	if err != nil {
		coord.Close()
		client.Close()
		return nil, err
	}
	cl.relay.deliver = srv.Deliver
	n := &Node{
		cfg: cfg, log: log, store: st, local: local, coord: coord,
		srv: srv, view: view, cluster: cl, client: client, done: make(chan struct{}),
		refused: make(chan error, 1),
		kick:    make(chan struct{}, 1),
		aeKick:  make(chan struct{}, 1),
	}
	n.logQuorum(set)
	return n, nil
}

// logQuorum says in the log when N, R or W are clamped to the member count.
func (n *Node) logQuorum(set membership.MemberSet) {
	members := len(set.Members())
	qn := min(n.cfg.N, members)
	qr, qw := min(n.cfg.R, qn), min(n.cfg.W, qn)
	key := [3]int{qn, qr, qw}
	n.quorumMu.Lock()
	defer n.quorumMu.Unlock()
	if n.lastQuorum == key {
		return
	}
	n.lastQuorum = key
	if qn != n.cfg.N || qr != n.cfg.R || qw != n.cfg.W {
		n.log.Info("quorum clamped to the member count", "members", members,
			"n", n.cfg.N, "r", n.cfg.R, "w", n.cfg.W, "effective_n", qn, "effective_r", qr, "effective_w", qw)
	} else {
		n.log.Info("quorum", "members", members, "n", qn, "r", qr, "w", qw)
	}
}

// metaPartitions is the meta entry holding Q, written when the data
// directory is created.
const metaPartitions = "partitions"

// checkPartitions records Q in a new data directory and refuses a different
// one later: the partition count is fixed when the cluster is created.
func checkPartitions(st store.Store, q int) error {
	raw, err := st.Get(store.MetaKey(metaPartitions))
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := st.Apply(store.Op{Key: store.MetaKey(metaPartitions), Value: binary.BigEndian.AppendUint64(nil, uint64(q))}); err != nil {
			return err
		}
		return st.Sync()
	case err != nil:
		return err
	case len(raw) != 8:
		return fmt.Errorf("node: corrupt partitions entry (%d bytes)", len(raw))
	}
	if stored := binary.BigEndian.Uint64(raw); stored != uint64(q) {
		return fmt.Errorf("conf: partitions: this data directory was created with %d partitions, got %d (the partition count is fixed when the cluster is created)", stored, q)
	}
	return nil
}

// settings is CONFIG GET's view of dynakv's own settings.
func settings(cfg conf.Config) []resp.Field {
	var out []resp.Field
	for _, k := range conf.Keys() {
		v, _ := cfg.Get(k)
		out = append(out, resp.Field{Name: k, Value: v})
	}
	return out
}

// Start listens on the client and peer addresses, joins the gossip through
// the seeds and serves in the background. It returns once the listeners are
// open, so a client may connect right away.
func (n *Node) Start() error {
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("node: listen %s: %w", n.cfg.Listen, err)
	}
	pln, err := net.Listen("tcp", n.cfg.PeerListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("node: peer_listen %s: %w", n.cfg.PeerListen, err)
	}
	var tln net.Listener
	if n.tlsCfg != nil {
		if tln, err = net.Listen("tcp", n.cfg.TLSListen()); err != nil {
			ln.Close()
			pln.Close()
			return fmt.Errorf("node: tls_port %s: %w", n.cfg.TLSListen(), err)
		}
		tln = tls.NewListener(tln, n.tlsCfg)
	}
	n.ln, n.peerLn, n.tlsLn = ln, pln, tln
	n.peerSrv = peer.NewServer(peer.Config{Secret: n.cfg.ClusterSecret, Logger: n.log, Batch: n.cluster}, n.cluster.handle)
	n.goTracked(func() {
		if err := n.peerSrv.Serve(pln); err != nil && !errors.Is(err, peer.ErrClosed) {
			n.log.Error("peer listener failed", "err", err)
		}
	})
	m, err := membership.Start(membership.Config{
		Self: membership.MemberRecord{
			ID: n.cfg.NodeID, Addr: ln.Addr().String(), PeerAddr: pln.Addr().String(), Weight: n.cfg.Weight,
		},
		GossipListen: n.cfg.GossipListen,
		Seeds:        n.cfg.Seeds,
		Secret:       n.cfg.ClusterSecret,
		Store:        n.store,
		Logger:       n.log,
		OnChange:     n.onMembership,
		Instance:     n.instance,
		Partitions:   n.cfg.Partitions,
		OnRefused:    n.onRefused,
	})
	if err != nil {
		n.peerSrv.Close()
		ln.Close()
		if tln != nil {
			tln.Close()
		}
		return err
	}
	n.members = m
	n.cluster.setMembership(m)
	n.onMembership()
	n.log.Info("dynakv node serving", "node_id", n.cfg.NodeID, "listen", ln.Addr().String(),
		"peer_listen", pln.Addr().String(), "gossip_listen", m.GossipAddr(), "seeds", n.cfg.Seeds,
		"data_dir", n.cfg.DataDir, "actor", fmt.Sprintf("%016x", uint64(n.local.Actor())), "fsync", n.cfg.Fsync)
	n.goTracked(func() {
		if err := n.srv.Serve(ln); err != nil && !errors.Is(err, resp.ErrServerClosed) {
			n.log.Error("client listener failed", "err", err)
		}
	})
	if tln != nil {
		n.log.Info("TLS client port serving", "tls_port", tln.Addr().String(), "tls_auth_clients", n.cfg.TLSAuthClients)
		n.goTracked(func() {
			if err := n.srv.Serve(tln); err != nil && !errors.Is(err, resp.ErrServerClosed) {
				n.log.Error("TLS client listener failed", "err", err)
			}
		})
	}
	n.goTracked(func() { n.cluster.hintDeliveryLoop(n.done, n.kick, time.Second) })
	if iv := n.cfg.AntiEntropyInterval; iv > 0 {
		n.goTracked(func() { n.cluster.antiEntropyLoop(n.done, n.aeKick, iv) })
	}
	if n.cfg.Fsync == "everysec" {
		n.goTracked(n.syncLoop)
	}
	return nil
}

// onMembership follows a change of the member set or of a liveness: it
// rebuilds the ring view and wakes the hint delivery.
func (n *Node) onMembership() {
	m := n.cluster.members()
	if m == nil {
		return
	}
	set := m.Set()
	before := n.cluster.state.Load()
	if err := n.cluster.setMembers(set); err != nil {
		n.log.Error("member set rejected", "err", err)
		return
	}
	if n.cluster.state.Load() != before { // a join or a removal moves data: start a round
		select {
		case n.aeKick <- struct{}{}:
		default:
		}
	}
	n.logQuorum(set)
	n.onLiveness()
}

// onLiveness wakes the hint delivery loop: an owner may be back.
func (n *Node) onLiveness() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// TLSAddr returns the address of the TLS client port once Start has
// opened it, or "" when it is off or before Start.
func (n *Node) TLSAddr() string {
	if n.tlsLn == nil {
		return ""
	}
	return n.tlsLn.Addr().String()
}

// PeerAddr returns the peer listener's address once started.
func (n *Node) PeerAddr() string {
	if n.peerLn == nil {
		return ""
	}
	return n.peerLn.Addr().String()
}

// GossipAddr returns the gossip address once started.
func (n *Node) GossipAddr() string {
	if n.members == nil {
		return ""
	}
	return n.members.GossipAddr()
}

// Addr returns the client listener's address once started.
func (n *Node) Addr() string {
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// syncLoop makes acknowledged writes durable against power loss once a
// second (fsync everysec, as Redis's appendfsync everysec).
func (n *Node) syncLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
			if err := n.store.Sync(); err != nil && !errors.Is(err, store.ErrClosed) {
				n.log.Warn("periodic fsync failed", "err", err)
			}
		}
	}
}

func (n *Node) goTracked(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Close stops serving, waits for every goroutine, syncs and closes the
// store. It is safe to call more than once; later calls return the first
// call's error.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.done)
		n.srv.Close()
		n.cluster.relay.close()
		n.coord.Close()
		var errs []error
		if n.members != nil {
			errs = append(errs, n.members.Close())
		}
		if n.peerSrv != nil {
			n.peerSrv.Close()
		}
		n.client.Close()
		n.wg.Wait()
		err := n.store.Sync()
		n.closeErr = errors.Join(append(errs, err, n.store.Close())...)
	})
	return n.closeErr
}
