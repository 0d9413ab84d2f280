package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	// Now is the clock; default time.Now. Tests inject their own.
	Now func() time.Time
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
}

// Coordinator runs Dynamo's request coordination for the keys this node
// coordinates: it mints versions locally, replicates them to the key's
// preference list and acknowledges after W replicas; it reads from N
// replicas, answers after R and repairs the stale ones in the background.
// All methods are safe for concurrent use.
type Coordinator struct {
	cfg  Config
	log  *slog.Logger
	wg   sync.WaitGroup
	done chan struct{}
	once sync.Once
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
	if cfg.Now == nil {
		cfg.Now = time.Now
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
	c.wg.Wait()
	return nil
}

// Quorum returns the N, R and W that a request for key would use, after
// clamping to the length of its preference list.
func (c *Coordinator) Quorum(key []byte) (n, r, w int) {
	n = min(c.cfg.N, len(c.cfg.Router.PreferenceList(key)))
	return n, min(c.cfg.R, n), min(c.cfg.W, n)
}

// Now returns the coordinator's clock reading.
func (c *Coordinator) Now() time.Time { return c.cfg.Now() }

// Get reads key from its replicas, waits for R of them, and returns the
// merge of their states (nil when none has the key). Replicas seen to be
// stale are repaired in the background, without delaying the reply.
func (c *Coordinator) Get(ctx context.Context, key []byte, opt ReadOptions) (*Object, error) {
	if c.closed() {
		return nil, ErrClosed
	}
	targets, _, r := c.targets(key, opt.R)
	if len(targets) == 1 && targets[0] == Replica(c.cfg.Local) {
		return c.cfg.Local.Read(ctx, key)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	type answer struct {
		rep Replica
		obj *Object
		err error
	}
	answers := make(chan answer, len(targets))
	for _, rep := range targets {
		c.goTracked(func() {
			o, err := rep.Read(ctx, key)
			answers <- answer{rep, o, err}
		})
	}
	var (
		merged *Object
		got    []answer
		failed int
		errs   []error
	)
	for ok := 0; ok < r; {
		select {
		case a := <-answers:
			if a.err != nil {
				failed++
				errs = append(errs, fmt.Errorf("%s: %w", a.rep.Name(), a.err))
				if len(targets)-failed < r {
					return nil, fmt.Errorf("%w: read needs R=%d, %d of %d replicas failed: %w",
						ErrUnavailable, r, failed, len(targets), errors.Join(errs...))
				}
				continue
			}
			ok++
			got = append(got, a)
			merged = merged.Merge(a.obj)
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: read needs R=%d, got %d before the deadline: %w",
				ErrUnavailable, r, ok, ctx.Err())
		case <-c.done:
			return nil, ErrClosed
		}
	}
	// Read repair: send the merged state to every replica that answered
	// with less, and to the stragglers once they answer.
	pending := len(targets) - len(got) - failed
	c.goTracked(func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		final := merged
		for range pending {
			select {
			case a := <-answers:
				if a.err == nil {
					got = append(got, a)
					final = final.Merge(a.obj)
				}
			case <-rctx.Done():
			case <-c.done:
				return
			}
		}
		for _, a := range got {
			if !a.obj.Equal(final) {
				if err := a.rep.Merge(rctx, key, final); err != nil {
					c.log.Debug("read repair failed", "replica", a.rep.Name(), "err", err)
				}
			}
		}
	})
	return merged, nil
}

// GetLocal returns this node's own replica of key, uncoordinated.
func (c *Coordinator) GetLocal(ctx context.Context, key []byte) (*Object, error) {
	if c.closed() {
		return nil, ErrClosed
	}
	return c.cfg.Local.Read(ctx, key)
}

// Update is the write path. It calls fn with this node's current state of
// key (under the key's lock); if fn returns a Write, the coordinator mints a
// new dot for it, applies it locally, replicates the result to the key's
// other replicas and returns it once W replicas stored it. If fn returns a
// nil Write, nothing is written and Update returns nil and fn's error.
//
// A plain Redis write passes cur.Context() as the write's context, so it
// replaces everything this node knows of the key; a VSET passes the
// client's context.
func (c *Coordinator) Update(ctx context.Context, key []byte, fn func(cur *Object) (*Write, error), opt WriteOptions) (*Object, error) {
	if c.closed() {
		return nil, ErrClosed
	}
	targets, w, _ := c.targets(key, opt.W)
	obj, err := c.cfg.Local.Mutate(ctx, key, func(cur *Object) (*Object, error) {
		wr, err := fn(cur)
		if wr == nil || err != nil {
			return nil, err
		}
		ctr, err := c.cfg.Local.NextCounter()
		if err != nil {
			return nil, err
		}
		if seen := cur.Context().Get(c.cfg.Actor); ctr <= seen {
			// Cannot happen with a durable sequence; stay safe anyway.
			ctr = seen + 1
		}
		return cur.Apply(Dot{Actor: c.cfg.Actor, Counter: ctr}, c.cfg.Now().UnixNano(), *wr, c.cfg.PruneThreshold), nil
	})
	if obj == nil || err != nil {
		return nil, err
	}
	acks := 0
	var others []Replica
	for _, rep := range targets {
		if rep == Replica(c.cfg.Local) {
			acks++
		} else {
			others = append(others, rep)
		}
	}
	if acks >= w && len(others) == 0 {
		return obj, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	results := make(chan error, len(others))
	for _, rep := range others {
		c.goTracked(func() {
			err := rep.Merge(ctx, key, obj)
			if err != nil {
				err = fmt.Errorf("%s: %w", rep.Name(), err)
			}
			results <- err
		})
	}
	var errs []error
	for acks < w {
		select {
		case err := <-results:
			if err != nil {
				errs = append(errs, err)
				if len(others)-len(errs)+acks < w {
					return nil, fmt.Errorf("%w: write needs W=%d, %d of %d replicas failed: %w",
						ErrUnavailable, w, len(errs), len(targets), errors.Join(errs...))
				}
				continue
			}
			acks++
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: write needs W=%d, got %d before the deadline: %w",
				ErrUnavailable, w, acks, ctx.Err())
		case <-c.done:
			return nil, ErrClosed
		}
	}
	return obj, nil
}

// Scan walks the keys in hash-position order from position from, calling fn
// with each key's state, until fn returns false. It returns the position to
// resume from, or 0 at the end. On one node it reads the local store; the
// cluster extends it to walk every partition's replicas.
func (c *Coordinator) Scan(ctx context.Context, from uint64, fn func(key []byte, o *Object) bool) (uint64, error) {
	if c.closed() {
		return 0, ErrClosed
	}
	return c.cfg.Local.Scan(ctx, from, fn)
}

// targets returns the first N replicas of key's preference list and the
// quorum q (override when > 0, else def) clamped to them, for both reads
// and writes.
func (c *Coordinator) targets(key []byte, override int) ([]Replica, int, int) {
	prefs := c.cfg.Router.PreferenceList(key)
	if len(prefs) == 0 {
		// Never empty: the local node is always a member.
		prefs = []Replica{c.cfg.Local}
	}
	n := min(c.cfg.N, len(prefs))
	w, r := c.cfg.W, c.cfg.R
	if override > 0 {
		w, r = override, override
	}
	return prefs[:n], max(1, min(w, n)), max(1, min(r, n))
}

func (c *Coordinator) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Coordinator) goTracked(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}
