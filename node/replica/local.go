package replica

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// lockStripes is the number of key-lock stripes of a LocalReplica.
const lockStripes = 1024

// counterBlock is how many dot counters one durable reservation covers.
const counterBlock = 1 << 20

// Meta entries of a node's store.
const (
	metaActor   = "actor"   // 8 bytes: the ActorID this data directory writes as
	metaCounter = "counter" // 8 bytes: every counter below it may have been used
)

// LocalReplica is this node's own replica: sibling sets stored in a Store
// under their data keys, with a lock per key stripe so that a mutation's
// read-modify-write is atomic against every other mutation and merge of the
// same key. It implements replication.Local and is safe for concurrent use.
type Local struct {
	name       string
	store      store.Store
	cache      *objectCache
	cacheBytes int64
	actor      atomic.Uint64 // replication.ActorID; see Actor
	locks      [lockStripes]sync.Mutex
	hints      hintIndex
	// trees are the anti-entropy hash trees (nil: not kept), set before the
	// first write; treesReady is set once they cover the whole store.
	trees      *antientropy.Trees
	treesReady atomic.Bool
	// holding counts, per partition of the trees, the keys whose state
	// holds a value (a sibling that is no tombstone, expired or not): the
	// walks of live keys skip the partitions at 0. Kept where the trees
	// are, and valid when they are (TreesReady).
	holding []atomic.Int64
	// adm observes foreground operations and paces the tree rebuild (nil:
	// neither).
	adm *Admission
	// tombs indexes the keys stored as tombstones only, for collection.
	tombs tombIndex
	// damage records the partitions with keys this node cannot read.
	damage damage
	// actorMu serialises actor changes.
	actorMu sync.Mutex
	// grace is tombstone_grace: hints older than it are ignored (0: never);
	// now is the node's clock.
	grace time.Duration
	now   func() time.Time

	mu       sync.Mutex // guards next and reserved
	next     uint64
	reserved uint64
}

var _ replication.Local = (*Local)(nil)

// LocalConfig builds a LocalReplica.
type Config struct {
	// Name is the replica's name: the node id.
	Name string
	// Store holds the replica's data; the replica does not close it.
	Store store.Store
	// CacheBytes bounds the cache of hot keys' decoded states (0: no cache).
	CacheBytes int64
	// Grace is tombstone_grace: hints older than it are ignored (0: never).
	Grace time.Duration
	// Now is the node's clock (nil: time.Now).
	Now func() time.Time
	// Admission observes foreground operations and paces the tree rebuild
	// (nil: neither).
	Admission *Admission
}

// NewLocalReplica returns the local replica cfg describes. It loads, or on
// first use creates, the data directory's actor id and reserves a block of
// dot counters durably.
func Open(cfg Config) (*Local, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Local{name: cfg.Name, store: cfg.Store, cache: newObjectCache(cfg.CacheBytes), cacheBytes: cfg.CacheBytes,
		grace: cfg.Grace, now: cfg.Now, adm: cfg.Admission}
	l.damage.init()
	raw, err := cfg.Store.Get(store.MetaKey(metaActor))
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := l.newActor(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("replica: reading actor id: %w", err)
	case len(raw) != 8:
		return nil, fmt.Errorf("replica: corrupt actor id (%d bytes)", len(raw))
	default:
		l.actor.Store(binary.BigEndian.Uint64(raw))
	}
	raw, err = cfg.Store.Get(store.MetaKey(metaCounter))
	switch {
	case errors.Is(err, store.ErrNotFound):
		l.next = 1
	case err != nil:
		return nil, fmt.Errorf("replica: reading counter: %w", err)
	case len(raw) != 8:
		return nil, fmt.Errorf("replica: corrupt counter (%d bytes)", len(raw))
	default:
		l.next = binary.BigEndian.Uint64(raw)
	}
	l.reserved = l.next
	if err := l.loadHints(); err != nil {
		return nil, fmt.Errorf("replica: counting hints: %w", err)
	}
	if _, err := l.ensureIndex(); err != nil {
		return nil, err
	}
	return l, nil
}

// Actor returns the actor id this replica's node writes as now. The
// coordinator reads it under the key's lock when it mints a dot; it
// changes only while every key lock is held (newActor).
func (l *Local) Actor() replication.ActorID { return replication.ActorID(l.actor.Load()) }

// newActor gives the data directory a new random actor id, stored durably
// before it is used. A node must mint under an actor whose every earlier
// dot for a key it still holds (a clock entry covers all the actor's
// counters below it): when it deletes keys it may replicate again (a
// partition handed off), it writes as a new actor from then on. The caller
// holds every key lock, or the replica is not in use yet.
func (l *Local) newActor() error {
	l.actorMu.Lock()
	defer l.actorMu.Unlock()
	var b [8]byte
	old := l.actor.Load()
	next := old
	for next == 0 || next == old {
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		next = binary.BigEndian.Uint64(b[:])
	}
	if err := l.putMetaSync(metaActor, next); err != nil {
		return err
	}
	l.actor.Store(next)
	return nil
}

// Name returns the node id.
func (l *Local) Name() string { return l.name }

// Store returns the store under the replica.
func (l *Local) Store() store.Store { return l.store }

// NextCounter returns a dot counter never returned before by this data
// directory. Counters are reserved in durable (fsynced) blocks, so a crash
// or power loss can skip counters but never repeat one.
func (l *Local) NextCounter() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next >= l.reserved {
		top := l.next + counterBlock
		if err := l.putMetaSync(metaCounter, top); err != nil {
			return 0, err
		}
		l.reserved = top
	}
	c := l.next
	l.next++
	return c, nil
}

func (l *Local) putMetaSync(name string, v uint64) error {
	if err := l.store.Apply(store.Op{Key: store.MetaKey(name), Value: binary.BigEndian.AppendUint64(nil, v)}); err != nil {
		return fmt.Errorf("replica: storing %s: %w", name, err)
	}
	if err := l.store.Sync(); err != nil {
		return fmt.Errorf("replica: syncing %s: %w", name, err)
	}
	return nil
}

// Read returns the node's state of key: its own copy merged with any hints
// it holds for the key, or nil when there is none.
func (l *Local) Read(ctx context.Context, key []byte) (*replication.Object, error) {
	o, err := l.ReadOwn(ctx, key)
	if err != nil {
		return nil, err
	}
	return l.HintedState(key, o)
}

// ReadForWrite returns the node's own copy of key (no hints): the state a
// write it coordinates applies to.
func (l *Local) ReadForWrite(ctx context.Context, key []byte) (*replication.Object, error) {
	return l.ReadOwn(ctx, key)
}

// current returns key's stored state from the cache, or else from the
// store at data key dk, and whether it came from the cache. The writers
// call it under the key's lock.
func (l *Local) current(h ring.Hash, key, dk []byte) (*replication.Object, bool, error) {
	if o, ok := l.cache.get(h.Lo, key); ok {
		return o, true, nil
	}
	o, err := l.read(dk)
	return o, false, err
}

// ReadQuiet returns the node's own copy of key for background work: from
// the cache if it holds the key, else from the store, without filling the
// cache (a transfer must not evict the hot keys) and without counting as
// foreground latency.
func (l *Local) ReadQuiet(ctx context.Context, key []byte) (*replication.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := ring.HashKey(key)
	o, _, err := l.current(h, key, store.AppendDataKey(nil, h, key))
	return o, err
}

// ReadOwn returns the node's own stored copy of key, without hints, or nil.
func (l *Local) ReadOwn(ctx context.Context, key []byte) (*replication.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := ring.HashKey(key)
	if o, ok := l.cache.get(h.Lo, key); ok {
		return o, nil
	}
	kb := getBuf()
	defer putBuf(kb)
	*kb = store.AppendDataKey((*kb)[:0], h, key)
	if l.cache == nil {
		return l.read(*kb)
	}
	// Fill the cache under the key's lock, so a concurrent Mutate cannot
	// store a newer state between our read and our put.
	defer l.adm.since(time.Now())
	mu := &l.locks[h.Lo%lockStripes]
	mu.Lock()
	defer mu.Unlock()
	if o, ok := l.cache.get(h.Lo, key); ok {
		return o, nil
	}
	o, err := l.read(*kb)
	if err == nil {
		l.cache.put(h.Lo, key, o)
	}
	return o, err
}

// read returns the state stored under data key dk, nil when absent, or an
// ErrUnreadable error when the store cannot read it back or it does not
// decode (damaged storage; the key's partition is marked damaged).
func (l *Local) read(dk []byte) (*replication.Object, error) {
	raw, err := l.store.Get(dk)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	pos, key, _ := store.ParseDataKey(dk)
	if errors.Is(err, store.ErrCorrupt) {
		return nil, l.unreadable(pos, key, err)
	}
	if err != nil {
		return nil, err
	}
	o, err := replication.DecodeObject(raw)
	if err != nil {
		return nil, l.unreadable(pos, key, err)
	}
	return o, nil
}

// currentOrLost is current, except that a state that cannot be read is
// taken as absent (lost true): what a write that replaces it starts from.
// Its partition is marked damaged (by read) and its tree stale, so the
// tree is rebuilt after the write (an older version of the key may have
// shown through to the last rebuild).
func (l *Local) currentOrLost(h ring.Hash, key, dk []byte) (o *replication.Object, cached, lost bool, err error) {
	o, cached, err = l.current(h, key, dk)
	if isUnreadable(err) {
		return nil, false, true, nil
	}
	return o, cached, false, err
}

// Merge joins o into the stored state of key and stores the result when it
// differs.
func (l *Local) Merge(ctx context.Context, key []byte, o *replication.Object) error {
	_, err := l.mutate(ctx, key, func(cur *replication.Object) (*replication.Object, error) {
		m := cur.Merge(o)
		if m.Equal(cur) {
			return nil, nil
		}
		return m, nil
	}, false)
	return err
}

// KeyObject is one key's state, an item of MergeBatch.
type KeyObject struct {
	Key []byte
	Obj *replication.Object
}

// MergeBatch merges each item's state into the stored state of its key, as
// Merge does for one, with one store write for all the changed keys: the
// replica side of many concurrent replicated writes costs one journal
// write. Items of one key are merged in order. It holds the lock stripes
// of every key meanwhile (taken in stripe order, so batches and single
// mutations never deadlock) and returns the first error, which then
// applies to every item.
func (l *Local) MergeBatch(ctx context.Context, items []KeyObject) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type pending struct {
		hash  ring.Hash
		dk    []byte
		orig  *replication.Object // the stored state
		cur   *replication.Object // the merged state so far
		dirty bool
		lost  bool // the stored state was unreadable
	}
	byKey := make(map[string]*pending, len(items))
	order := make([]string, 0, len(items))
	stripes := make([]int, 0, len(items))
	for _, it := range items {
		if _, ok := byKey[string(it.Key)]; ok {
			continue
		}
		h := ring.HashKey(it.Key)
		byKey[string(it.Key)] = &pending{hash: h, dk: store.AppendDataKey(nil, h, it.Key)}
		order = append(order, string(it.Key))
		stripes = append(stripes, int(h.Lo%lockStripes))
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, i := range stripes {
		l.locks[i].Lock()
	}
	defer func() {
		for _, i := range stripes {
			l.locks[i].Unlock()
		}
	}()
	for _, k := range order {
		p := byKey[k]
		cur, _, lost, err := l.currentOrLost(p.hash, []byte(k), p.dk)
		if err != nil {
			return err
		}
		p.orig, p.cur, p.lost = cur, cur, lost
	}
	for _, it := range items {
		p := byKey[string(it.Key)]
		m := p.cur.Merge(it.Obj)
		if !m.Equal(p.cur) || p.lost {
			p.cur, p.dirty = m, true
		}
	}
	ops := make([]store.Op, 0, len(order))
	for _, k := range order {
		if p := byKey[k]; p.dirty {
			ops = append(ops, store.Op{Key: p.dk, Value: replication.AppendObject(nil, p.cur)})
			var err error
			if ops, err = l.indexOps(ops, p.hash.Hi, []byte(k), p.orig, p.cur, p.lost); err != nil {
				return err
			}
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if err := l.store.Apply(ops...); err != nil {
		// A store of several shards may have applied some of the ops:
		// the cache must not hide them, and the trees must be rebuilt.
		for _, k := range order {
			if p := byKey[k]; p.dirty {
				l.cache.drop(p.hash.Lo, []byte(k))
			}
		}
		l.treesReady.Store(false)
		return err
	}
	for _, k := range order {
		if p := byKey[k]; p.dirty {
			l.cache.put(p.hash.Lo, []byte(k), p.cur)
			l.treeUpdate(p.hash.Hi, []byte(k), p.orig, p.cur)
			l.tombs.note([]byte(k), p.cur)
			if p.lost {
				l.damage.rewritten.Add(1)
			}
		}
	}
	return nil
}

// Mutate runs fn on key's stored state under the key's lock and stores fn's
// result unless it is nil. When the stored state cannot be read (damaged
// storage), fn gets nil, after the replica took a new actor id: fn may
// mint a dot, and the lost state may have held dots of the current actor
// that the other replicas still have, which a new dot of the same actor
// would claim to cover.
func (l *Local) Mutate(ctx context.Context, key []byte, fn func(cur *replication.Object) (*replication.Object, error)) (*replication.Object, error) {
	return l.mutate(ctx, key, fn, true)
}

// mutate is Mutate; mints says whether fn may mint a dot (Merge's does not:
// over an unreadable state it needs no new actor).
func (l *Local) mutate(ctx context.Context, key []byte, fn func(cur *replication.Object) (*replication.Object, error), mints bool) (*replication.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := ring.HashKey(key)
	kb := getBuf()
	defer putBuf(kb)
	*kb = store.AppendDataKey((*kb)[:0], h, key)
	dk := *kb
	mu := &l.locks[h.Lo%lockStripes]
	defer l.adm.since(time.Now()) // the lock wait included
	mu.Lock()
	defer mu.Unlock()
	cur, cached, lost, err := l.currentOrLost(h, key, dk)
	if err != nil {
		return nil, err
	}
	if lost && mints {
		if err := l.newActor(); err != nil {
			return nil, fmt.Errorf("replica: a new actor id before writing over unreadable key %q: %w", key, err)
		}
	}
	if !cached && !lost {
		l.cache.put(h.Lo, key, cur) // also when fn changes nothing
	}
	next, err := fn(cur)
	if next == nil || err != nil {
		return nil, err
	}
	vb := getBuf()
	defer putBuf(vb)
	*vb = replication.AppendObject((*vb)[:0], next)
	var opsBuf [3]store.Op
	ops, err := l.indexOps(append(opsBuf[:0], store.Op{Key: dk, Value: *vb}), h.Hi, key, cur, next, lost)
	if err != nil {
		return nil, err
	}
	if err := l.store.Apply(ops...); err != nil {
		return nil, err
	}
	l.cache.put(h.Lo, key, next)
	l.treeUpdate(h.Hi, key, cur, next)
	l.tombs.note(key, next)
	if lost {
		l.damage.rewritten.Add(1)
	}
	return next, nil
}

// bufPool recycles the key and value encoding buffers of the hot path (the
// store copies what it keeps).
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 { // don't pin big values in the pool
		bufPool.Put(b)
	}
}

// SetAdmission replaces the pacing of background work (nil: none); for
// benchmarks comparing paced and unpaced repair while the replica is idle.
func (l *Local) SetAdmission(a *Admission) { l.adm = a }

// ForgetCaches drops the cached states and marks the trees unready, as a
// restart leaves them (tests whose store changed underneath the replica).
func (l *Local) ForgetCaches() {
	l.cache = newObjectCache(l.cacheBytes)
	l.treesReady.Store(false)
}
