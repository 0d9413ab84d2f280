package resp

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// The backend of the in-process tests is the real coordinator
// (replication.Coordinator) over memLocal, an in-memory local replica, on a
// single node (N=R=W=1): every write goes through the coordinator's Update
// and Object.Apply exactly as on a node, and SCAN walks the keys in ring
// position order as the node's store does. testBackend wraps it to inject
// failures; testClock is the coordinator's clock and the front end's.

// testClock is a settable clock, safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Unix(1_700_000_000, 0)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// memLocal is an in-memory replication.Local: the node's local replica
// without the disk. Scan visits keys by ring position (ring.HashKey's Hi,
// ties broken by key), as node.LocalReplica does over its store.
type memLocal struct {
	name    string
	mu      sync.Mutex
	data    map[string]*replication.Object
	hints   map[string]map[string]*replication.Object // owner -> key -> state
	counter atomic.Uint64                             // apart from mu: the coordinator mints under Mutate
	err     error                                     // when set, every call fails with it (a replica that is down)
}

var _ replication.Local = (*memLocal)(nil)

func newMemLocal(name string) *memLocal {
	return &memLocal{name: name, data: map[string]*replication.Object{}, hints: map[string]map[string]*replication.Object{}}
}

func (m *memLocal) Name() string { return m.name }

// setErr makes every later call fail with err (nil: succeed again).
func (m *memLocal) setErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

func (m *memLocal) Read(ctx context.Context, key []byte) (*replication.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	o := m.data[string(key)]
	for _, h := range m.hints {
		o = o.Merge(h[string(key)])
	}
	return o, nil
}

func (m *memLocal) Merge(ctx context.Context, key []byte, o *replication.Object) error {
	_, err := m.Mutate(ctx, key, func(cur *replication.Object) (*replication.Object, error) { return cur.Merge(o), nil })
	return err
}

func (m *memLocal) Hint(ctx context.Context, owner string, key []byte, o *replication.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.hints[owner] == nil {
		m.hints[owner] = map[string]*replication.Object{}
	}
	m.hints[owner][string(key)] = m.hints[owner][string(key)].Merge(o)
	return nil
}

func (m *memLocal) Mutate(ctx context.Context, key []byte, fn func(cur *replication.Object) (*replication.Object, error)) (*replication.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	next, err := fn(m.data[string(key)])
	if next == nil || err != nil {
		return nil, err
	}
	m.data[string(key)] = next
	return next, nil
}

func (m *memLocal) NextCounter() (uint64, error) { return m.counter.Add(1), nil }

// Scan implements replication.Local.Scan as node.LocalReplica does: keys
// from position from on, in (position, key) order; keys sharing the
// stopping key's position are still visited, and the position of the next
// key is returned (0 at the end).
func (m *memLocal) Scan(ctx context.Context, from uint64, fn func(key []byte, o *replication.Object) bool) (uint64, error) {
	type entry struct {
		pos uint64
		key []byte
		obj *replication.Object
	}
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return 0, m.err
	}
	var es []entry
	for k, o := range m.data {
		if pos := ring.HashKey([]byte(k)).Hi; pos >= from && !ring.IsElementKey([]byte(k)) { // keys, not elements
			es = append(es, entry{pos, []byte(k), o})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(es, func(a, b entry) int { return cmp.Or(cmp.Compare(a.pos, b.pos), bytes.Compare(a.key, b.key)) })
	stopped, stopAt := false, uint64(0)
	for _, e := range es {
		if stopped && e.pos != stopAt {
			return e.pos, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !fn(e.key, e.obj) && !stopped {
			stopped, stopAt = true, e.pos
		}
	}
	return 0, nil
}

// ReadKeys lists the keys at position pos within [start, end) in key
// order, as node.LocalReplica reads them from its store.
func (m *memLocal) ReadKeys(ctx context.Context, pos uint64, start, end []byte, limit int) ([]replication.KeyState, bool, error) {
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return nil, false, m.err
	}
	var out []replication.KeyState
	for k, o := range m.data {
		kb := []byte(k)
		if ring.HashKey(kb).Hi == pos && bytes.Compare(kb, start) >= 0 && (end == nil || bytes.Compare(kb, end) < 0) {
			out = append(out, replication.KeyState{Pos: pos, Key: kb, Obj: o})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b replication.KeyState) int { return bytes.Compare(a.Key, b.Key) })
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// object returns the stored state of key.
func (m *memLocal) object(key string) *replication.Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[key]
}

// liveKeys counts the keys live at nowMs and those of them with an expiry.
func (m *memLocal) liveKeys(nowMs int64) (keys, expires int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, o := range m.data {
		if s := o.Newest(nowMs); s != nil && !ring.IsElementKey([]byte(k)) {
			keys++
			if s.ExpireAt != 0 {
				expires++
			}
		}
	}
	return keys, expires
}

// testBackend is the coordinator, with failures to inject per path and a
// hook run at the start of every read and write.
type testBackend struct {
	*replication.Coordinator
	mu                         sync.Mutex
	getErr, updateErr, scanErr error
	hook                       func(op string, key []byte)           // op: "get", "getlocal" or "update"
	ctxHook                    func(ctx context.Context, key []byte) // run by Get with its context
}

// setCtxHook makes every later Get call hook with its context first.
func (b *testBackend) setCtxHook(hook func(ctx context.Context, key []byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ctxHook = hook
}

// setHook makes every later Get, GetLocal and Update call hook first.
func (b *testBackend) setHook(hook func(op string, key []byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hook = hook
}

// enter runs the hook, then returns the failure injected for the path.
func (b *testBackend) enter(op string, key []byte, which *error) error {
	b.mu.Lock()
	hook, err := b.hook, *which
	b.mu.Unlock()
	if hook != nil {
		hook(op, key)
	}
	return err
}

var _ Backend = (*testBackend)(nil)

// failAll makes every data call fail with err (nil: succeed again).
func (b *testBackend) failAll(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.getErr, b.updateErr, b.scanErr = err, err, err
}

// failUpdates makes Update fail with err, reads and scans still working.
func (b *testBackend) failUpdates(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.updateErr = err
}

func (b *testBackend) injected(which *error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return *which
}

func (b *testBackend) Get(ctx context.Context, key []byte, opt replication.ReadOptions) (*replication.Object, error) {
	if err := b.enter("get", key, &b.getErr); err != nil {
		return nil, err
	}
	b.mu.Lock()
	hook := b.ctxHook
	b.mu.Unlock()
	if hook != nil {
		hook(ctx, key)
	}
	return b.Coordinator.Get(ctx, key, opt)
}

func (b *testBackend) GetLocal(ctx context.Context, key []byte) (*replication.Object, error) {
	if err := b.enter("getlocal", key, &b.getErr); err != nil {
		return nil, err
	}
	return b.Coordinator.GetLocal(ctx, key)
}

func (b *testBackend) Update(ctx context.Context, key []byte, fn func(cur *replication.Object) (*replication.Write, error), opt replication.WriteOptions) (*replication.Object, error) {
	if err := b.enter("update", key, &b.updateErr); err != nil {
		return nil, err
	}
	return b.Coordinator.Update(ctx, key, fn, opt)
}

func (b *testBackend) Scan(ctx context.Context, from uint64, fn func(key []byte, o *replication.Object) bool) (uint64, error) {
	if err := b.injected(&b.scanErr); err != nil {
		return 0, err
	}
	return b.Coordinator.Scan(ctx, from, fn)
}

// fakeView is the NodeView of a two-node ring, with fixed figures, whose
// LocalKeys counts memLocal's live keys at the clock's time.
type fakeView struct {
	local *memLocal
	clock *testClock

	mu      sync.Mutex
	removed []string
	keysErr error
}

var _ NodeView = (*fakeView)(nil)

func (v *fakeView) Members() []Member {
	return []Member{
		{ID: "n1", Addr: "10.0.0.1:7379", State: "up", Weight: 1, Partitions: 8, Keys: 3},
		{ID: "n2", Addr: "10.0.0.2:7379", State: "down", Weight: 2, Partitions: 16, Keys: 0},
	}
}

// KeyInfo answers with the key's partition out of 8 and both nodes, n1 a
// replica and n2 a fallback.
func (v *fakeView) KeyInfo(key []byte) (int, []PrefEntry) {
	return ring.HashKey(key).Partition(8), []PrefEntry{
		{ID: "n1", Addr: "10.0.0.1:7379", Up: true, Replica: true},
		{ID: "n2", Addr: "10.0.0.2:7379", Up: false, Replica: false},
	}
}

func (v *fakeView) Partitions() []PartitionInfo {
	return []PartitionInfo{
		{Index: 0, Start: "0000000000000000", End: "7fffffffffffffff", Replicas: []string{"n1", "n2"}},
		{Index: 1, Start: "8000000000000000", End: "ffffffffffffffff", Replicas: []string{"n2"}},
	}
}

func (v *fakeView) Status() []Field {
	return []Field{{"ring_version", "7"}, {"transfers_pending", "0"}}
}

func (v *fakeView) Remove(id string) error {
	if id != "n2" {
		return fmt.Errorf("no node %q in the ring", id)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.removed = append(v.removed, id)
	return nil
}

func (v *fakeView) ClusterInfo() []Field {
	return []Field{{"cluster_known_nodes", "2"}, {"cluster_size", "1"}}
}

func (v *fakeView) LocalKeys(ctx context.Context) (int64, int64, error) {
	v.mu.Lock()
	err := v.keysErr
	v.mu.Unlock()
	if err != nil {
		return 0, 0, err
	}
	keys, expires := v.local.liveKeys(v.clock.Now().UnixMilli())
	return keys, expires, nil
}

var errInjected = errors.New("injected failure")
