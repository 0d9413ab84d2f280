package replication

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memReplica is an in-memory replica for coordinator tests, with switches to
// fail or block its calls. The real local replica (goleveldb underneath) is
// node.LocalReplica, tested in package node.
type memReplica struct {
	name    string
	mu      sync.Mutex
	data    map[string]*Object
	hints   map[string]map[string]*Object // owner -> key -> state
	coord   *Coordinator                  // set: the replica coordinates forwarded writes
	counter atomic.Uint64
	fail    atomic.Bool
	block   chan struct{} // when non-nil, calls wait for it to close
}

var _ Local = (*memReplica)(nil)

func newMem(name string) *memReplica {
	return &memReplica{name: name, data: map[string]*Object{}, hints: map[string]map[string]*Object{}}
}

func (m *memReplica) Name() string { return m.name }

func (m *memReplica) gate(ctx context.Context) error {
	if b := m.block; b != nil {
		select {
		case <-b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if m.fail.Load() {
		return errors.New("injected failure")
	}
	return nil
}

func (m *memReplica) Read(ctx context.Context, key []byte) (*Object, error) {
	if err := m.gate(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.data[string(key)]
	for _, h := range m.hints {
		o = o.Merge(h[string(key)])
	}
	return o, nil
}

func (m *memReplica) ReadForWrite(ctx context.Context, key []byte) (*Object, error) {
	if err := m.gate(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[string(key)], nil
}

func (m *memReplica) Coordinate(ctx context.Context, key []byte, w *Write, basis Clock, check bool, opt WriteOptions) (*Object, error) {
	if err := m.gate(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReplicaDown, err)
	}
	return m.coord.Update(ctx, key, func(cur *Object) (*Write, error) {
		if check && !cur.Context().Equal(basis) {
			return nil, ErrConflict
		}
		return w, nil
	}, opt)
}

func (m *memReplica) Hint(ctx context.Context, owner string, key []byte, o *Object) error {
	if err := m.gate(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hints[owner] == nil {
		m.hints[owner] = map[string]*Object{}
	}
	m.hints[owner][string(key)] = m.hints[owner][string(key)].Merge(o)
	return nil
}

func (m *memReplica) hint(owner, key string) *Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hints[owner][key]
}

func (m *memReplica) Merge(ctx context.Context, key []byte, o *Object) error {
	_, err := m.Mutate(ctx, key, func(cur *Object) (*Object, error) { return cur.Merge(o), nil })
	return err
}

func (m *memReplica) Mutate(ctx context.Context, key []byte, fn func(*Object) (*Object, error)) (*Object, error) {
	if err := m.gate(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next, err := fn(m.data[string(key)])
	if next == nil || err != nil {
		return nil, err
	}
	m.data[string(key)] = next
	return next, nil
}

func (m *memReplica) NextCounter() (uint64, error) { return m.counter.Add(1), nil }

func (m *memReplica) Scan(ctx context.Context, from uint64, fn func([]byte, *Object) bool) (uint64, error) {
	return 0, errors.New("not used")
}

func (m *memReplica) get(key string) *Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[key]
}

func newTestCoordinator(t *testing.T, n, r, w int, reps ...*memReplica) *Coordinator {
	t.Helper()
	list := make([]Replica, len(reps))
	for i, rep := range reps {
		list[i] = rep
	}
	c, err := NewCoordinator(Config{
		Local: reps[0], Router: RouterFunc(func([]byte) []Replica { return list }),
		Actor: 42, N: n, R: r, W: w,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func put(c *Coordinator, key, val string, ctx Clock, w int) (*Object, error) {
	tctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Update(tctx, []byte(key), func(*Object) (*Write, error) {
		return &Write{Context: ctx, Value: []byte(val)}, nil
	}, WriteOptions{W: w})
}

func TestWriteQuorum(t *testing.T) {
	for _, tc := range []struct {
		name           string
		n, w, failures int
		ok             bool
	}{
		{"all up", 3, 2, 0, true},
		{"one replica down, W=2", 3, 2, 1, true},
		{"two replicas down, W=2", 3, 2, 2, false},
		{"two replicas down, W=1", 3, 1, 2, true},
		{"one down, W=3", 3, 3, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reps := []*memReplica{newMem("a"), newMem("b"), newMem("c")}
			for i := 0; i < tc.failures; i++ {
				reps[len(reps)-1-i].fail.Store(true)
			}
			c := newTestCoordinator(t, tc.n, 2, tc.w, reps...)
			_, err := put(c, "k", "v", Clock{}, 0)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestWriteTimesOutOnSlowReplicas(t *testing.T) {
	reps := []*memReplica{newMem("a"), newMem("b"), newMem("c")}
	block := make(chan struct{})
	defer close(block)
	reps[1].block, reps[2].block = block, block
	c := newTestCoordinator(t, 3, 2, 2, reps...)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Update(ctx, []byte("k"), func(*Object) (*Write, error) { return &Write{Value: []byte("v")}, nil }, WriteOptions{})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable after the deadline", err)
	}
	// W=1 needs only the local replica.
	if _, err := put(c, "k2", "v", Clock{}, 1); err != nil {
		t.Fatalf("W=1 write: %v", err)
	}
}

func TestReadQuorumAndRepair(t *testing.T) {
	reps := []*memReplica{newMem("a"), newMem("b"), newMem("c")}
	c := newTestCoordinator(t, 3, 2, 3, reps...)
	if _, err := put(c, "k", "v1", Clock{}, 0); err != nil {
		t.Fatal(err)
	}
	// Replica c misses a concurrent write that a and b have.
	var other *Object
	other = other.Apply(Dot{Actor: 7, Counter: 1}, 1, Write{Value: []byte("v2")}, 10)
	for _, r := range reps[:2] {
		if err := r.Merge(context.Background(), []byte("k"), other); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Get(context.Background(), []byte("k"), ReadOptions{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Live(0)) != 2 {
		t.Fatalf("read returned %d siblings, want 2", len(got.Live(0)))
	}
	deadline := time.Now().Add(5 * time.Second)
	for !reps[2].get("k").Equal(got) {
		if time.Now().After(deadline) {
			t.Fatal("read repair did not bring replica c up to date")
		}
		time.Sleep(time.Millisecond)
	}
	// R=2 with two replicas failing is unavailable; with one, it answers.
	reps[2].fail.Store(true)
	if _, err := c.Get(context.Background(), []byte("k"), ReadOptions{}); err != nil {
		t.Fatalf("R=2 with one failure: %v", err)
	}
	reps[1].fail.Store(true)
	if _, err := c.Get(context.Background(), []byte("k"), ReadOptions{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("R=2 with two failures: err = %v", err)
	}
}

func TestQuorumClampedToMembers(t *testing.T) {
	a := newMem("a")
	c := newTestCoordinator(t, 3, 2, 2, a)
	if n, r, w := c.Quorum([]byte("k")); n != 1 || r != 1 || w != 1 {
		t.Fatalf("quorum = %d/%d/%d, want 1/1/1", n, r, w)
	}
	if _, err := put(c, "k", "v", Clock{}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), []byte("k"), ReadOptions{R: 3}); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentWritersSameContext: many clients write through one
// coordinator with the same stale context at once; every write survives.
func TestConcurrentWritersSameContext(t *testing.T) {
	a := newMem("a")
	c := newTestCoordinator(t, 1, 1, 1, a)
	base, err := put(c, "cart", "base", Clock{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := base.Context()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := put(c, "cart", fmt.Sprint("item", i), ctx, 0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(a.get("cart").Live(0)); n != 20 {
		t.Fatalf("%d siblings, want 20 (base replaced, every concurrent write kept)", n)
	}
}

// TestReadNotFoundDoesNotCount: replicas that do not hold a key (new homes
// after a join, not yet filled) do not make an R=2 read answer "absent"
// while a replica of the N still holds it; an absent key is read from all
// N before the answer.
func TestReadNotFoundDoesNotCount(t *testing.T) {
	reps := []*memReplica{newMem("a"), newMem("b"), newMem("c")}
	c := newTestCoordinator(t, 3, 2, 3, reps...)
	var o *Object
	o = o.Apply(Dot{Actor: 7, Counter: 1}, 1, Write{Value: []byte("only-on-c")}, 10)
	if err := reps[2].Merge(context.Background(), []byte("k"), o); err != nil {
		t.Fatal(err)
	}
	for range 20 { // whichever two replicas are asked first
		got, err := c.Get(context.Background(), []byte("k"), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if s := got.Newest(0); s == nil || string(s.Value) != "only-on-c" {
			t.Fatalf("R=2 read with the key on one replica of three = %v", got)
		}
	}
	if got, err := c.Get(context.Background(), []byte("absent"), ReadOptions{}); err != nil || got != nil {
		t.Fatalf("absent key = %v, %v", got, err)
	}
	// Those reads repaired the others: with the first holder down, the key
	// is still there.
	deadline := time.Now().Add(5 * time.Second)
	for reps[0].get("k") == nil || reps[1].get("k") == nil {
		if time.Now().After(deadline) {
			t.Fatal("read repair did not copy the key to a and b")
		}
		time.Sleep(time.Millisecond)
	}
	reps[2].fail.Store(true)
	if got, err := c.Get(context.Background(), []byte("k"), ReadOptions{}); err != nil || got.Newest(0) == nil {
		t.Fatalf("with c down after the repair: %v, %v", got, err)
	}
}

// TestCloseWhileRequestsArrive closes the coordinator while reads and
// writes keep coming (as forwarded writes do while a node shuts down):
// nothing may start after Close began waiting, every request returns, and
// the race detector sees no WaitGroup Add concurrent with Wait.
func TestCloseWhileRequestsArrive(t *testing.T) {
	reps := []*memReplica{newMem("a"), newMem("b"), newMem("c")}
	c := newTestCoordinator(t, 3, 2, 2, reps...)
	var wg sync.WaitGroup
	var started atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				started.Add(1)
				key := fmt.Sprint("k", g, ":", i%10)
				if _, err := put(c, key, "v", Clock{}, 2); errors.Is(err, ErrClosed) {
					return
				}
				if _, err := c.Get(context.Background(), []byte(key), ReadOptions{}); errors.Is(err, ErrClosed) {
					return
				}
			}
		})
	}
	for started.Load() < 200 {
		runtime.Gosched()
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// TestNothingStartsAfterClose: a replica call that reaches the coordinator
// after Close began (a request already past its closed check) is answered
// ErrClosed without touching the replica, so no work outlives Close.
func TestNothingStartsAfterClose(t *testing.T) {
	rep := newMem("a")
	rep.fail.Store(true) // a call that reaches the replica fails otherwise
	c := newTestCoordinator(t, 1, 1, 1, rep)
	c.Close()
	readErr := make(chan error, 1)
	c.read(context.Background(), rep, []byte("k"), func(_ *Object, err error) { readErr <- err })
	if err := <-readErr; !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v, want ErrClosed", err)
	}
	storeErr := make(chan error, 1)
	c.store(context.Background(), slot{rep: rep}, []byte("k"), &Object{}, func(err error) { storeErr <- err })
	if err := <-storeErr; !errors.Is(err, ErrClosed) {
		t.Errorf("store after Close: %v, want ErrClosed", err)
	}
}
