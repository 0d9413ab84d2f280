package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnavailable is returned (wrapped) when fewer replicas than the quorum
// answered before the deadline.
var ErrUnavailable = errors.New("replication: not enough replicas")

// ErrClosed is returned by a coordinator after Close.
var ErrClosed = errors.New("replication: coordinator closed")

// Config builds a Coordinator. The zero values of the optional fields take
// the defaults noted beside them.
type Config struct {
	// Local is this node's own replica. Required.
	Local Local
	// Router gives preference lists. Required.
	Router Router
	// Actor is this node's identity in the dots it mints. Required.
	Actor ActorID
	// N, R and W are the replica count and the read and write quorums.
	// Each request clamps them to the preference list's length. Defaults
	// 3, 2, 2.
	N, R, W int
	// PruneThreshold is the most clock entries a write keeps (oldest pruned
	// first). Default 10, the Dynamo paper's figure.
	PruneThreshold int
	// Timeout bounds a request that waits on other replicas when its
	// context has no earlier deadline; default 2s. Requests served by the
	// local replica alone never start a timer.
	Timeout time.Duration
	// SloppyAfter is how long a write waits for a replica before it also
	// sends the version to a stand-in with a hint (sloppy quorum), without
	// giving up on the slow replica; default Timeout/4.
	SloppyAfter time.Duration
	// ReadRepairChance is the share of reads that ask all N replicas
	// instead of R, so that read repair reaches the replicas a quorum did
	// not need (Cassandra's read_repair_chance). Default 0.1; negative
	// means never, 1 always.
	ReadRepairChance float64
	// Now is the clock that timestamps the versions a write mints; default
	// time.Now. Tests inject their own. (Deadlines and the SloppyAfter
	// timers run on the runtime's clock, which testing/synctest fakes.)
	Now func() time.Time
	// Rand is the source of the coordinator's random choices (which reads
	// ask all N, see ReadRepairChance). The coordinator takes it over and
	// serialises its use: nothing else may use it once NewCoordinator
	// returned. Default: a source seeded at random. Tests seed their own
	// for repeatable runs.
	Rand *rand.Rand
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
}

// ReadOptions tune one coordinated read.
type ReadOptions struct {
	// R overrides the configured read quorum when > 0.
	R int
}

// WriteOptions tune one coordinated write.
type WriteOptions struct {
	// W overrides the configured write quorum when > 0.
	W int
	// NoForward makes this node coordinate the write even when it is not
	// one of the key's home replicas: set for writes another node forwarded
	// here, so that differing ring views cannot bounce a write around.
	NoForward bool
}

// Coordinator runs Dynamo's request coordination for the keys this node
// coordinates: it mints versions locally, replicates them to the key's
// preference list and acknowledges after W replicas; it reads from N
// replicas, answers after R and repairs the stale ones in the background.
// All methods are safe for concurrent use.
type Coordinator struct {
	repairs  atomic.Int64 // read repairs sent
	forwards atomic.Int64 // writes forwarded to a home replica
	standIns atomic.Int64 // writes coordinated as a stand-in (no home reachable)
	sloppy   atomic.Int64 // versions stored on a stand-in with a hint

	cfg  Config
	log  *slog.Logger
	rmu  sync.Mutex // guards cfg.Rand, which is not safe for concurrent use
	done chan struct{}
	once sync.Once

	wmu     sync.Mutex // orders goTracked's wg.Add before Close's wg.Wait
	stopped bool       // set by Close: goTracked starts nothing more
	wg      sync.WaitGroup
}

// NewCoordinator validates cfg and returns a coordinator. It does not modify
// cfg.
func NewCoordinator(cfg Config) (*Coordinator, error) {
	if cfg.Local == nil || cfg.Router == nil {
		return nil, errors.New("replication: config needs Local and Router")
	}
	if cfg.Actor == 0 {
		return nil, errors.New("replication: config needs a non-zero Actor")
	}
	if cfg.N == 0 {
		cfg.N = 3
	}
	if cfg.R == 0 {
		cfg.R = 2
	}
	if cfg.W == 0 {
		cfg.W = 2
	}
	if cfg.N < 1 || cfg.R < 1 || cfg.W < 1 || cfg.R > cfg.N || cfg.W > cfg.N {
		return nil, fmt.Errorf("replication: bad quorum N=%d R=%d W=%d", cfg.N, cfg.R, cfg.W)
	}
	if cfg.PruneThreshold == 0 {
		cfg.PruneThreshold = 10
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.SloppyAfter <= 0 {
		cfg.SloppyAfter = cfg.Timeout / 4
	}
	if cfg.ReadRepairChance == 0 {
		cfg.ReadRepairChance = 0.1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Coordinator{cfg: cfg, log: cfg.Logger, done: make(chan struct{})}, nil
}

// Close stops background repairs and replication and waits for them. It is
// safe to call more than once.
func (c *Coordinator) Close() error {
	c.once.Do(func() { close(c.done) })
	c.wmu.Lock()
	c.stopped = true
	c.wmu.Unlock()
	c.wg.Wait()
	return nil
}

// Quorum returns the N, R and W that a request for key would use, after
// clamping to the length of its preference list.
func (c *Coordinator) Quorum(key []byte) (n, r, w int) {
	n = min(c.cfg.N, len(c.cfg.Router.PreferenceList(key)))
	return n, min(c.cfg.R, n), min(c.cfg.W, n)
}

// Stats are the coordinator's counters since it started.
type Stats struct {
	ReadRepairs int64 // stale replicas sent a merged state by a read
	Forwarded   int64 // writes forwarded to a home replica of their key
	StandIns    int64 // writes coordinated with no home replica reachable
	Hinted      int64 // versions stored on a stand-in with a hint
}

// Stats returns the coordinator's counters.
func (c *Coordinator) Stats() Stats {
	return Stats{
		ReadRepairs: c.repairs.Load(),
		Forwarded:   c.forwards.Load(),
		StandIns:    c.standIns.Load(),
		Hinted:      c.sloppy.Load(),
	}
}

// Now returns the coordinator's clock reading.
func (c *Coordinator) Now() time.Time { return c.cfg.Now() }

// GetLocal returns this node's own replica of key, uncoordinated.
func (c *Coordinator) GetLocal(ctx context.Context, key []byte) (*Object, error) {
	if c.closed() {
		return nil, ErrClosed
	}
	return c.cfg.Local.Read(ctx, key)
}

// float64 returns a pseudo-random number in [0, 1) from Config.Rand.
func (c *Coordinator) float64() float64 {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.cfg.Rand.Float64()
}

func (c *Coordinator) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// goTracked runs f in a goroutine that Close waits for. Once Close has
// begun it starts nothing and returns false: a WaitGroup must not be added
// to while it is being waited on with a zero count, and requests still
// arrive (forwarded by peers) while a node closes.
func (c *Coordinator) goTracked(f func()) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.stopped {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// store starts storing obj under key on s.rep (a merge, or a hint for
// s.owner) and hands the outcome to done, from another goroutine: without
// one of its own when the replica is an AsyncReplica.
func (c *Coordinator) store(ctx context.Context, s slot, key []byte, obj *Object, done func(error)) {
	if a, ok := s.rep.(AsyncReplica); ok {
		if s.owner == nil {
			a.MergeAsync(ctx, key, obj, done)
		} else {
			a.HintAsync(ctx, s.owner.Name(), key, obj, done)
		}
		return
	}
	started := c.goTracked(func() {
		if s.owner == nil {
			done(s.rep.Merge(ctx, key, obj))
		} else {
			done(s.rep.Hint(ctx, s.owner.Name(), key, obj))
		}
	})
	if !started {
		go done(ErrClosed)
	}
}

// read starts reading key from rep and hands the outcome to done, from
// another goroutine; see store.
func (c *Coordinator) read(ctx context.Context, rep Replica, key []byte, done func(*Object, error)) {
	if a, ok := rep.(AsyncReplica); ok {
		a.ReadAsync(ctx, key, done)
		return
	}
	if !c.goTracked(func() { done(rep.Read(ctx, key)) }) {
		go done(nil, ErrClosed)
	}
}
