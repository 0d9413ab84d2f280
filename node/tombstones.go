package node

// Tombstone collection. A delete is a version (a tombstone) so that it
// travels through merge, handoff and anti-entropy and covers the value it
// deleted on every replica. Kept forever, tombstones fill the store; dropped
// too early, a replica that still holds the old value brings it back. A
// home replica therefore collects a key whose state is only tombstones
// when both hold:
//
//   - its newest tombstone is older than tombstone_grace, and
//   - every other home replica of the key, asked at that moment, holds the
//     same state or nothing (a home that collected it already).
//
// So no home replica still holds a version the tombstones cover. Versions
// elsewhere are hints on stand-ins, and a hint older than the grace period
// is neither delivered nor read (hints.go); a removed node sends nothing
// (cluster.isRemoved). Anti-entropy, for its part, neither pulls nor
// pushes a collectable tombstone to a replica that lacks the key, so one
// home's collection is not undone by another's exchange.

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// tombIndex remembers the keys whose state is only tombstones, with the
// time of the newest one, so collection does not scan the store.
type tombIndex struct {
	mu sync.Mutex
	m  map[string]int64 // key -> newest tombstone, Unix ns
	n  atomic.Int64     // len(m), so a write of a value skips the lock when there are none
}

// deadSince reports whether o is only tombstones, and the newest one's
// write time (Unix ns).
func deadSince(o *replication.Object) (int64, bool) {
	if o == nil || len(o.Siblings) == 0 {
		return 0, false
	}
	var newest int64
	for i := range o.Siblings {
		if !o.Siblings[i].Tombstone {
			return 0, false
		}
		newest = max(newest, o.Siblings[i].Time)
	}
	return newest, true
}

// note records key's new state o.
func (t *tombIndex) note(key []byte, o *replication.Object) {
	at, dead := deadSince(o)
	if !dead && t.n.Load() == 0 {
		return // the common case: a value written, no tombstones indexed
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !dead {
		delete(t.m, string(key))
	} else {
		if t.m == nil {
			t.m = make(map[string]int64)
		}
		t.m[string(key)] = at
	}
	t.n.Store(int64(len(t.m)))
}

// older returns up to limit keys whose newest tombstone is before cutoff
// (Unix ns).
func (t *tombIndex) older(cutoff int64, limit int) [][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out [][]byte
	for k, at := range t.m {
		if len(out) == limit {
			break
		}
		if at < cutoff {
			out = append(out, []byte(k))
		}
	}
	return out
}

func (t *tombIndex) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// collectable reports whether o is a state a replica may collect at nowNs
// with grace: only tombstones, the newest older than grace.
func collectable(o *replication.Object, nowNs int64, grace time.Duration) bool {
	at, dead := deadSince(o)
	return dead && grace > 0 && at < nowNs-int64(grace)
}

// Tombstones returns how many keys this replica holds only tombstones of.
func (l *LocalReplica) Tombstones() int { return l.tombs.len() }

// CollectTombstone deletes key from the store if its state is still
// exactly expect (a write since keeps it). It reports whether it did.
func (l *LocalReplica) CollectTombstone(ctx context.Context, key []byte, expect *replication.Object) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	h := ring.HashKey(key)
	dk := store.AppendDataKey(nil, h, key)
	mu := &l.locks[h.Lo%lockStripes]
	mu.Lock()
	defer mu.Unlock()
	cur, _, err := l.current(h, key, dk)
	if err != nil {
		return false, err
	}
	if cur == nil || !cur.Equal(expect) {
		return false, nil
	}
	if err := l.store.Apply(store.Op{Key: dk, Delete: true}); err != nil {
		return false, err
	}
	l.cache.put(h.Lo, key, nil)
	l.treeUpdate(h.Hi, key, cur, nil)
	l.tombs.note(key, nil)
	return true, nil
}

// tombstoneBatch bounds the candidates one round checks.
const tombstoneBatch = 1000

// collectTombstones collects, of the keys this node holds only old
// tombstones of, those every other home holds the same state of, or
// nothing. It returns how many it collected.
func (c *cluster) collectTombstones(ctx context.Context) int {
	if c.grace <= 0 {
		return 0
	}
	now := c.nowNs()
	cands := c.local.tombs.older(now-int64(c.grace), tombstoneBatch)
	if len(cands) == 0 {
		return 0
	}
	st := c.state.Load()
	// The other homes of each candidate, grouped so that each home is
	// asked once about all its keys.
	type cand struct {
		key    []byte
		mine   *replication.Object
		others []string
		agreed int
	}
	var list []*cand
	asks := map[string][]*cand{}
	for _, k := range cands {
		mine, err := c.local.readQuiet(ctx, k)
		if err != nil || !collectable(mine, now, c.grace) {
			continue
		}
		homes, self := c.homes(st, ring.HashKey(k).Partition(c.q))
		if !self { // a partition this node does not replicate is handed off, not collected
			continue
		}
		cd := &cand{key: k, mine: mine}
		for _, r := range homes {
			if r.Name() != c.self {
				cd.others = append(cd.others, r.Name())
				asks[r.Name()] = append(asks[r.Name()], cd)
			}
		}
		list = append(list, cd)
	}
	for id, cs := range asks {
		r := c.replica(id)
		if !c.Alive(r) {
			continue
		}
		remote := &aeRemote{r: r.(*remoteReplica)}
		for len(cs) > 0 {
			n := min(len(cs), aeReadBatch)
			keys := make([][]byte, n)
			for i := range n {
				keys[i] = cs[i].key
			}
			ms, err := remote.readMany(ctx, keys)
			if err != nil {
				break
			}
			for i, m := range ms {
				if m.obj == nil || m.obj.Equal(cs[i].mine) {
					cs[i].agreed++
				}
			}
			cs = cs[n:]
		}
		c.account(remote)
	}
	collected := 0
	for _, cd := range list {
		if cd.agreed < len(cd.others) {
			continue
		}
		if ok, err := c.local.CollectTombstone(ctx, cd.key, cd.mine); err == nil && ok {
			collected++
		}
	}
	c.ae.tombsCollected.Add(int64(collected))
	return collected
}

// nowNs is the cluster's clock for grace periods, in Unix ns; tests set
// cluster.now.
func (c *cluster) nowNs() int64 {
	if c.now != nil {
		return c.now().UnixNano()
	}
	return time.Now().UnixNano()
}

// nowNs is the replica's clock for grace periods, in Unix ns.
func (l *LocalReplica) nowNs() int64 {
	if l.now != nil {
		return l.now().UnixNano()
	}
	return time.Now().UnixNano()
}
