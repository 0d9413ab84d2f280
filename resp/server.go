// Package resp is dynakv's Redis front end: it reads client requests under
// Redis's input limits, dispatches them through a command table, and maps
// each command onto the coordinator below (replication.Coordinator), whose
// quorums and versions it never reasons about beyond calling it.
//
// Requests are read by this package's own bounded Reader rather than
// redcon's, which has no input limits (a crafted bulk length panics its
// connection goroutine, a huge argument count spins a core); replies are
// encoded with redcon's Append* functions.
package resp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/replication"
)

// Backend is what the front end needs from the node: the coordinator's read,
// write and scan paths. *replication.Coordinator implements it.
type Backend interface {
	Get(ctx context.Context, key []byte, opt replication.ReadOptions) (*replication.Object, error)
	GetLocal(ctx context.Context, key []byte) (*replication.Object, error)
	Update(ctx context.Context, key []byte, fn func(cur *replication.Object) (*replication.Write, error), opt replication.WriteOptions) (*replication.Object, error)
	Scan(ctx context.Context, from uint64, fn func(key []byte, o *replication.Object) bool) (uint64, error)
	ScanKeys(ctx context.Context, routeKey []byte, pos uint64, start, end []byte, batch int, fn func(key []byte, o *replication.Object) bool) error
	ScanKeysReverse(ctx context.Context, routeKey []byte, pos uint64, start, end []byte, batch int, fn func(key []byte, o *replication.Object) bool) error
	// WalkIndex and CountIndex read a sorted set's score index (zset.go).
	WalkIndex(ctx context.Context, w replication.IndexWalk, fn func(sort, key []byte, o *replication.Object) bool) (int64, error)
	CountIndex(ctx context.Context, w replication.IndexWalk) (int64, error)
	Now() time.Time
}

var _ Backend = (*replication.Coordinator)(nil)

// Field is one "name:value" line of INFO or row of RING STATUS.
type Field struct{ Name, Value string }

// Member is one row of RING MEMBERS.
type Member struct {
	ID, Addr, State  string
	Weight           int
	Partitions, Keys int64
}

// PrefEntry is one node of a key's preference list, for RING KEY.
type PrefEntry struct {
	ID, Addr string
	Up       bool
	Replica  bool // among the first N
}

// PartitionInfo is one row of RING PARTITIONS.
type PartitionInfo struct {
	Index      int
	Start, End string // hash range, hex, End inclusive
	Replicas   []string
}

// NodeView is what the front end shows of the node and its ring: the RING
// commands and INFO's # Cluster and # Keyspace sections. Safe for concurrent
// use.
type NodeView interface {
	Members() []Member
	KeyInfo(key []byte) (partition int, prefs []PrefEntry)
	Partitions() []PartitionInfo
	Status() []Field
	Remove(id string) error
	ClusterInfo() []Field
	// LocalKeys counts the live keys this node holds and how many of them
	// have an expiry.
	LocalKeys(ctx context.Context) (keys, expires int64, err error)
}

// Config builds a Server.
type Config struct {
	// Backend serves the data commands. Required.
	Backend Backend
	// View serves RING and INFO's cluster figures. Required.
	View NodeView
	// NodeID names this node in INFO and HELLO.
	NodeID string
	// RequirePass, when set, makes every command but AUTH, HELLO, QUIT and
	// RESET answer -NOAUTH until the client authenticates.
	RequirePass string
	// Refuse, when set and returning a message, makes every command that
	// reads or writes data (the command table's readonly and write
	// commands) reply that message as its error; the others still work.
	// A node that was removed from the ring uses it. Called once per data
	// command; must be quick and safe for concurrent use.
	Refuse func() string
	// Limits bound what a client may send; zero fields take DefaultLimits.
	Limits Limits
	// MaxClients is the most connections served at once; default 10000.
	MaxClients int
	// OutputLimit bounds each client's replies waiting to be written
	// (Redis's client-output-buffer-limit normal); zero fields: no limit.
	OutputLimit OutputLimit
	// PubSubOutputLimit bounds the output buffer of a connection with
	// subscriptions (Redis's client-output-buffer-limit pubsub); nil:
	// DefaultPubSubOutputLimit, Redis's default.
	PubSubOutputLimit *OutputLimit
	// Relay, when set, carries a message published on this node to the
	// other nodes of the cluster (shard: an SPUBLISH), without blocking;
	// they call Deliver. Nil: the node is alone (pubsub.go).
	Relay func(shard bool, channel, message []byte)
	// NotifyKeyspaceEvents is Redis's notify-keyspace-events flag string at
	// start ("" off; CONFIG SET changes it at runtime). See notify.go.
	NotifyKeyspaceEvents string
	// ExpireSweep is how often the keys whose expiry this node wrote are
	// checked for the background "expired" event (notify_sweep.go);
	// default 100ms, negative: never (they are notified on access).
	ExpireSweep time.Duration
	// RequestTimeout is the deadline of one coordinated request; default 2s.
	RequestTimeout time.Duration
	// Settings answers CONFIG GET: setting name to value (read-only).
	Settings func() []Field
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// Version is dynakv's version string for INFO.
	Version string
}

// Server serves the Redis protocol on listeners. Serve and Close may be
// called from any goroutine.
type Server struct {
	cfg   Config
	log   *slog.Logger
	table map[string]*command
	start time.Time

	mu      sync.Mutex
	lns     map[net.Listener]struct{}
	conns   map[*client]struct{}
	closed  bool
	wg      sync.WaitGroup
	workers *workerPool // runs pipelined commands
	nextID  atomic.Int64
	addr    atomic.Value // string: the first listener's address
	stats   stats
	cmdStat map[string]*cmdStat
	spare   spareFile  // to refuse clients when out of file descriptors
	pause   pauseState // CLIENT PAUSE (clients.go)
	pubsub  pubsubHub  // the subscriptions (pubsub.go)
	// notifyFlags are the keyspace notification classes on (notify.go).
	notifyFlags atomic.Int32
	sweep       expirySweep // the expiries for background "expired" events (notify_sweep.go)
	lists       listWaiters // the clients blocked on lists (list_block.go)

	encodingMu sync.Mutex
	encoding   map[string]string // CONFIG SET of Redis's encoding thresholds (cmdConfigSet)
}

type stats struct {
	connsReceived atomic.Int64
	connsRejected atomic.Int64
	commands      atomic.Int64
	hits, misses  atomic.Int64
	netIn, netOut atomic.Int64
	protoErrors   atomic.Int64
	// obufDisconnects counts clients closed for an output buffer limit;
	// peakOutput is the largest output buffer a client has had (outbuf.go).
	obufDisconnects, peakOutput atomic.Int64
	paused                      atomic.Int64 // commands held by CLIENT PAUSE now
	blocked                     atomic.Int64 // blocking commands waiting now (BZPOPMIN, ...)
	rejected                    atomic.Int64 // commands refused before they ran (unknown, arity, NOAUTH, ...)
	expired                     atomic.Int64 // keys deleted when found expired (notify_expire.go)
}

type cmdStat struct {
	calls, usec, failed, rejected atomic.Int64
}

// NewServer returns a server for cfg. It does not modify cfg.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Backend == nil || cfg.View == nil {
		return nil, errors.New("resp: config needs Backend and View")
	}
	def := DefaultLimits()
	if cfg.Limits.MaxBulkLen <= 0 {
		cfg.Limits.MaxBulkLen = def.MaxBulkLen
	}
	if cfg.Limits.MaxArgs <= 0 {
		cfg.Limits.MaxArgs = def.MaxArgs
	}
	if cfg.Limits.MaxInlineLen <= 0 {
		cfg.Limits.MaxInlineLen = def.MaxInlineLen
	}
	if cfg.Limits.MaxQueryLen <= 0 {
		cfg.Limits.MaxQueryLen = def.MaxQueryLen
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 10000
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Settings == nil {
		cfg.Settings = func() []Field { return nil }
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		start:   time.Now(),
		lns:     make(map[net.Listener]struct{}),
		conns:   make(map[*client]struct{}),
		cmdStat: make(map[string]*cmdStat),
	}
	s.sweep.stop = make(chan struct{})
	if !s.setNotifyFlags(cfg.NotifyKeyspaceEvents) {
		return nil, errors.New("resp: notify-keyspace-events: " + errNotifyFlags)
	}
	s.spare.open()
	s.workers = newWorkerPool(&s.wg)
	s.table = commandTable()
	for name := range s.table {
		s.cmdStat[name] = &cmdStat{}
	}
	s.addr.Store("")
	return s, nil
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("resp: server closed")

// Serve accepts connections on ln until Close, serving each on its own
// goroutine. It always closes ln and returns ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.addr.CompareAndSwap("", ln.Addr().String())
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return ErrServerClosed
			}
			if outOfFiles(err) {
				if ok, n := s.spare.refuse(ln); ok {
					s.stats.connsRejected.Add(1)
					if n > 0 {
						s.log.Warn("out of file descriptors: refused clients with 'max number of clients reached'", "err", err, "refused", n, "clients", s.numConns())
					}
					continue
				}
			}
			// Out of file descriptors and the like: back off and retry,
			// as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "backoff", backoff)
			t := time.NewTimer(backoff)
			<-t.C
			continue
		}
		backoff = 0
		s.stats.connsReceived.Add(1)
		c := s.newConn(nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		if len(s.conns) >= s.cfg.MaxClients {
			s.mu.Unlock()
			s.stats.connsRejected.Add(1)
			nc.Write([]byte(errMaxClients))
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

// Addr returns the address of the first listener Serve was given, or "".
func (s *Server) Addr() string { return s.addr.Load().(string) }

// Close stops accepting, closes every connection and waits for their
// goroutines. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.sweep.stop)
		s.workers.stop()
		for ln := range s.lns {
			ln.Close()
		}
		for c := range s.conns {
			c.nc.Close()
			c.cancel() // a command still running (a blocking pop) stops
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.spare.close()
	return nil
}

func (s *Server) numConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// serveConn reads commands and writes replies, flushing whenever no more
// input is buffered, so pipelined requests are answered in one write.
// Commands run in dispatch; pipelined data commands may run concurrently
// (see pipeline), and serveConn waits for them before it returns.
func (s *Server) serveConn(c *client) {
	defer func() {
		c.cancel() // the queued commands do not run, those running stop
		c.pipe.drain()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.nc.Close()
	}()
	for {
		c.rd.RequireAuth(!c.authed)
		args, err := c.rd.ReadCommand()
		if err != nil {
			// The replies of the commands before the error go out first.
			c.pipe.drain()
			var pe *ProtocolError
			if errors.As(err, &pe) {
				s.stats.protoErrors.Add(1)
				c.main.out.Error("ERR " + pe.Error())
				s.log.Debug("protocol error; closing client", "client", c.addr, "err", pe)
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && pe == nil {
				s.log.Debug("client read failed", "client", c.addr, "err", err)
			}
			c.flush()
			return
		}
		s.dispatch(c, args)
		c.publishMulti()
		c.publishOut()
		if c.quit {
			c.flush()
			return
		}
		c.pipe.collect()
		c.flushIfFull()
		if c.werr != nil {
			return
		}
	}
}

// newConn wraps an accepted connection.
func (s *Server) newConn(nc net.Conn) *client {
	c := &client{
		srv:     s,
		nc:      nc,
		id:      s.nextID.Add(1),
		addr:    nc.RemoteAddr().String(),
		laddr:   nc.LocalAddr().String(),
		created: time.Now(),
		authed:  s.cfg.RequirePass == "",
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.main.client = c
	c.main.out.proto = 2
	c.pipe.c = c
	c.rd = NewReader(flushingReader{c}, s.cfg.Limits)
	c.lastCmd.Store("NULL")
	c.lastActive.Store(c.created.UnixNano())
	return c
}

// flushingReader is the reader under a connection's Reader: before it
// reads from the network (which may block) it waits for the commands in
// flight and writes out the replies buffered so far. Replies to pipelined
// commands thus go out in one write, and a client never waits for a reply
// while the server waits for input.
type flushingReader struct{ c *client }

func (f flushingReader) Read(p []byte) (int, error) {
	f.c.pipe.drain()
	if err := f.c.flush(); err != nil {
		return 0, err
	}
	n, err := f.c.nc.Read(p)
	f.c.srv.stats.netIn.Add(int64(n))
	return n, err
}

// client is one client connection's state. Its fields are owned by the
// connection's goroutine, except the few read by CLIENT LIST from others,
// which are atomic or guarded by mu. Commands see it through a Conn.
type client struct {
	srv     *Server
	nc      net.Conn
	rd      *Reader
	id      int64
	addr    string
	laddr   string
	created time.Time
	authed  bool
	quit    bool
	werr    error        // the first failed write; replies are discarded after it
	main    Conn         // the commands run inline; main.out buffers the replies to write
	pipe    pipeline     // the commands running concurrently
	multi   *multiState  // the transaction being queued, after MULTI (multi.go)
	stats   clientStats  // what CLIENT LIST shows (clients.go)
	watched []watchedKey // the keys WATCH read, until EXEC, DISCARD or UNWATCH
	gate    replyGate    // CLIENT REPLY's mode (client_reply.go)
	// ctx is the context of the connection's commands, cancelled when the
	// connection closes.
	ctx    context.Context
	cancel context.CancelFunc
	ob     outputBuffer // the replies waiting to be written, and their limits
	// ps is the connection's pub/sub state from its first subscription;
	// from then on its writes go through ps (pubsub_out.go).
	ps atomic.Pointer[subscriber]

	mu         sync.Mutex // guards name, libName, libVer
	name       string
	libName    string
	libVer     string
	lastCmd    atomic.Value // string
	lastActive atomic.Int64 // unix nanos
}

// Conn is what one command's handler sees of its connection: the
// connection's state (client), and the command's own reply buffer, error
// count and time snapshot. Commands run inline on the connection's main
// Conn, whose out is the connection's reply buffer; pipelined commands
// running concurrently each have their own (see op). A Conn is used by one
// goroutine at a time; only commands run inline may change the client.
type Conn struct {
	*client
	out      Reply   // the reply, in the connection's protocol version
	errCount int     // errors replied, for the per-command stats
	cmdTime  int64   // the running command's time snapshot, Unix ms
	tx       *txView // inside EXEC: the transaction's key, which get and update use
	inExec   bool    // inside EXEC: a blocking command does not block (as in Redis)
	// noNewEvent: a write creating a key now replaces one the command
	// deleted, so it notifies no "new" event (notify_expire.go).
	noNewEvent bool
	ltx        *listTx // inside EXEC: the lists pushed to, whose blocked clients are served after it (list_multi.go)
}

// flushThreshold is how many bytes of replies make serveConn write them
// out without waiting for the pipeline to be read to its end.
const flushThreshold = 64 << 10

// flushIfFull writes the buffered replies once they reach flushThreshold,
// so a long pipeline is answered in pieces.
func (c *client) flushIfFull() {
	if len(c.main.out.b) >= flushThreshold {
		c.flush()
	}
}

// flush writes the buffered replies. After a failed write it discards
// replies and returns the first error.
func (c *client) flush() error {
	if p := c.ps.Load(); p != nil {
		return p.flush() // messages share the socket (pubsub_out.go)
	}
	if c.werr == nil && len(c.main.out.b) > 0 {
		c.werr = c.writeOut(c.main.out.b)
	}
	if cap(c.main.out.b) > 1<<20 {
		c.main.out.b = nil
	} else {
		c.main.out.Reset()
	}
	c.publishOut()
	return c.werr
}
