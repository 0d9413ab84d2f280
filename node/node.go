package node

import (
	crand "crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/replica"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node/peer"
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

// storeShards is the number of goleveldb databases a node's data is spread
// over (ShardedStore). It is part of the data directory's layout.
const storeShards = 4

// storageDamage is what openStore found lost: shards missing or empty
// beside the others, and journals that could not be read to their end.
type storageDamage struct {
	lostShards []int
	journals   []string // "store-N: <goleveldb's error>"
	tables     []string // likewise, for tables found unreadable at start
	replicas   bool     // the node has replicas to heal from
	shards     []int    // every damaged shard, lost or with a damaged journal
}

func (d *storageDamage) empty() bool { return d == nil || len(d.shards) == 0 }

// partitions returns the partitions of the damaged shards (shard i holds
// the i-th of storeShards equal hash ranges).
func (d *storageDamage) partitions(q int) []int {
	var out []int
	per := max(q/storeShards, 1)
	for _, i := range d.shards {
		for p := i * per; p < (i+1)*per && p < q; p++ {
			out = append(out, p)
		}
	}
	return out
}

func (d *storageDamage) String() string {
	var parts []string
	for _, i := range d.lostShards {
		parts = append(parts, fmt.Sprintf("store-%d is missing or empty (its keys are lost)", i))
	}
	parts = append(parts, d.journals...)
	parts = append(parts, d.tables...)
	return strings.Join(parts, "; ")
}

// openStore opens the node's store: storeShards goleveldb databases in
// dataDir/store-0 ... store-3, each with an equal part of the memory budget
// of DefaultLevelDBOptions and tableFiles open table files each. Every
// shard records the layout (a marker with
// the shard count, its index and the store's random id), so a shard that
// was deleted or emptied is found at start; every journal is read
// strictly, so one that cannot be read to its end (truncated, damaged) is
// found instead of being cut silently. With damage and no replica to heal
// from (n = 1, or no other member and no seeds) it refuses to start unless
// repairStorage; otherwise it accepts the loss (recreates the shard, opens
// the journal as far as it reads) and returns what was lost.
func openStore(cfg conf.Config, log *slog.Logger, tableFiles int) (store.Store, *storageDamage, error) {
	dataDir := cfg.DataDir
	if _, err := os.Stat(filepath.Join(dataDir, "CURRENT")); err == nil {
		return nil, nil, fmt.Errorf("node: %s holds a single goleveldb database (an older layout); this version keeps its data in %s/store-0..%d", dataDir, dataDir, storeShards-1)
	}
	opts := store.DefaultLevelDBOptions()
	opts.SyncWrites = cfg.Fsync == "always"
	opts.WriteBuffer /= storeShards
	opts.BlockCacheCapacity /= storeShards
	opts.OpenFilesCacheCapacity = tableFiles
	opts.Logger = log
	shards := make([]store.Store, storeShards)
	closeAll := func() {
		for _, o := range shards {
			if o != nil {
				o.Close()
			}
		}
	}
	dir := func(i int) string { return filepath.Join(dataDir, fmt.Sprintf("store-%d", i)) }
	damage := &storageDamage{}
	existed := make([]bool, storeShards)
	journalBad := make([]bool, storeShards)
	for i := range storeShards {
		_, err := os.Stat(filepath.Join(dir(i), "CURRENT"))
		existed[i] = err == nil
		if !existed[i] {
			continue
		}
		strict := opts
		strict.StrictJournal = true
		st, err := store.OpenLevelDB(dir(i), strict)
		if errors.Is(err, store.ErrJournalDamaged) {
			journalBad[i] = true
			damage.journals = append(damage.journals, fmt.Sprintf("store-%d: %v (the writes after the damage are lost)", i, err))
			ro := opts
			ro.ReadOnly = true // look, change nothing yet
			st, err = store.OpenLevelDB(dir(i), ro)
		}
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		shards[i] = st
	}
	// Layout markers: which shards belong, which were lost.
	var id uint64
	marked := make([]bool, storeShards)
	for i, st := range shards {
		if st == nil {
			continue
		}
		l, ok, err := store.ReadShardLayout(st)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("node: %s: %w", dir(i), err)
		}
		if !ok {
			continue
		}
		if l.Shards != storeShards || l.Index != i || (id != 0 && l.ID != id) {
			closeAll()
			return nil, nil, fmt.Errorf("node: %s belongs to another store layout (%v; expected shard %d of %d of the other shards' store): do not mix shards of different data directories", dir(i), l, i, storeShards)
		}
		id, marked[i] = l.ID, true
	}
	legacy := false
	if id == 0 && shards[0] != nil {
		var err error
		if legacy, err = hasMeta(shards[0], metaPartitions); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	for i := range storeShards {
		if (id != 0 && !marked[i]) || (legacy && !existed[i]) {
			damage.lostShards = append(damage.lostShards, i)
		}
		if (id != 0 && !marked[i]) || (legacy && !existed[i]) || journalBad[i] {
			damage.shards = append(damage.shards, i)
		}
	}
	// Whom to heal from: the member set of shard 0, or of a mirror.
	metaSrc := shards[0]
	for i := 1; metaSrc == nil && i < storeShards; i++ {
		if shards[i] != nil {
			if ok, _ := hasMeta(shards[i], metaPartitions); ok {
				metaSrc = shards[i]
			}
		}
	}
	replicas := hasReplicas(cfg, metaSrc)
	// A damaged table shows only when read. A node with replicas finds it
	// when it builds its trees and heals it from them; a node with none
	// reads its whole store once now, to stop before serving from it.
	tableBad := make([]bool, storeShards)
	if !replicas {
		for i, st := range shards {
			if st == nil || journalBad[i] {
				continue
			}
			err := st.Iterate(nil, nil, func(k, v []byte) bool { return true })
			if errors.Is(err, store.ErrCorrupt) {
				tableBad[i] = true
				damage.tables = append(damage.tables, fmt.Sprintf("store-%d: a table is damaged: %v (its unreadable keys are lost)", i, err))
				damage.shards = append(damage.shards, i)
			} else if err != nil {
				closeAll()
				return nil, nil, err
			}
		}
	}
	damage.replicas = replicas
	if !damage.empty() && cfg.RepairStorage != "yes" && !replicas {
		closeAll()
		return nil, nil, fmt.Errorf("node: damaged storage in %s and no replica to heal from (n=%d, no other member, no seeds): %s. "+
			"Restore the data directory from a backup, or start with --repair-storage yes (repair_storage: yes) to accept the loss and start with what is left", dataDir, cfg.N, damage)
	}
	// Accept the loss: open damaged journals for good, create lost shards,
	// rebuild damaged tables without their unreadable blocks.
	for i := range storeShards {
		if shards[i] == nil || journalBad[i] || tableBad[i] {
			if shards[i] != nil {
				shards[i].Close()
			}
			if tableBad[i] {
				kept, damaged, err := store.RebuildLevelDB(dir(i), opts)
				if err != nil {
					shards[i] = nil
					closeAll()
					return nil, nil, err
				}
				log.Warn("storage damage: a shard was rewritten with what is readable of it (repair_storage yes)",
					"shard", dir(i), "keys_kept", kept, "damaged_copy", damaged)
			}
			st, err := store.OpenLevelDB(dir(i), opts)
			if err != nil {
				shards[i] = nil
				closeAll()
				return nil, nil, err
			}
			shards[i] = st
		}
	}
	if err := syncMeta(shards, damage, log); err != nil {
		closeAll()
		return nil, nil, err
	}
	if id == 0 {
		var b [8]byte
		for id == 0 {
			if _, err := crand.Read(b[:]); err != nil {
				closeAll()
				return nil, nil, err
			}
			id = binary.BigEndian.Uint64(b[:])
		}
	}
	for i, st := range shards {
		if !marked[i] {
			if err := store.WriteShardLayout(st, store.ShardLayout{Shards: storeShards, Index: i, ID: id}); err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("node: %s: recording the store layout: %w", dir(i), err)
			}
		}
	}
	st, err := store.NewSharded(shards...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	if damage.empty() {
		return st, nil, nil
	}
	return st, damage, nil
}

// syncMeta keeps the node's metadata (identity, member set, partitions,
// actor), which store.Sharded writes to shard 0 and mirrors in every other
// shard, whole: a damaged shard 0 (lost, or with a damaged journal) takes
// it back from the first undamaged shard holding a mirror; otherwise the
// mirrors are brought up to shard 0 (after a crash between shards, or on
// a data directory from before the mirrors).
func syncMeta(shards []store.Store, damage *storageDamage, log *slog.Logger) error {
	src := 0
	if slices.Contains(damage.shards, 0) {
		src = -1
		for i := 1; i < len(shards) && src < 0; i++ {
			if slices.Contains(damage.shards, i) {
				continue
			}
			if ok, err := hasMeta(shards[i], metaPartitions); err != nil {
				return err
			} else if ok {
				src = i
			}
		}
		if src < 0 {
			log.Warn("storage damage: store-0 held the node's metadata and no other shard has a copy of it")
			return nil
		}
	}
	for i, st := range shards {
		if i == src {
			continue
		}
		n, err := store.RestoreMeta(st, shards[src])
		if err != nil {
			return fmt.Errorf("node: store-%d: copying the node's metadata from store-%d: %w", i, src, err)
		}
		if src != 0 && i == 0 {
			log.Warn("storage damage: the node's metadata was restored into store-0 from its copy", "from", fmt.Sprintf("store-%d", src), "entries", n)
		}
	}
	return nil
}

// hasReplicas reports whether a node with cfg and the metadata shard meta
// (nil: lost) has other replicas to heal from.
func hasReplicas(cfg conf.Config, meta store.Store) bool {
	if cfg.N < 2 {
		return false
	}
	if len(cfg.Seeds) > 0 {
		return true
	}
	if meta == nil {
		return false
	}
	set, err := membership.LoadMemberSet(meta)
	return err == nil && len(set.Members()) > 1
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
		MaxClients:     cfg.MaxClients,
		OutputLimit:    resp.OutputLimit(cfg.OutputBufferLimit()),
		RequestTimeout: cfg.RequestTimeout,
		Settings:       func() []resp.Field { return settings(cfg) },
		Logger:         log,
		Version:        Version,
	})
	if err != nil {
		coord.Close()
		client.Close()
		return nil, err
	}
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
