package node

// Anti-entropy between replicas: each node, every anti_entropy_interval,
// compares its hash trees with each other replica of the partitions they
// share (antientropy.Compare) and merges the differing keys both ways.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/node/replica"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/replication"
)

// Repair batches: keys per read, and keys and bytes per push.
const (
	aeReadBatch      = 512
	aePushBatch      = 512
	aePushBatchBytes = 4 << 20
	aeExchangeTime   = time.Minute // deadline of one exchange with one peer
)

// aeStats are a node's anti-entropy counters, for RING STATUS and INFO.
type aeStats struct {
	rounds         atomic.Int64 // rounds finished
	lastRound      atomic.Int64 // Unix ms of the last round's end, 0 never
	lastRepaired   atomic.Int64 // keys the last round repaired
	repaired       atomic.Int64 // keys repaired in all: pulled plus pushed
	messages       atomic.Int64 // requests sent for exchanges and repairs
	bytes          atomic.Int64 // bytes sent and received for them
	treeKeys       atomic.Int64 // keys found by the last tree rebuild
	rebuildMs      atomic.Int64 // how long it took
	orphans        atomic.Int64 // partitions held but no longer replicated, at the last round
	handedOff      atomic.Int64 // such partitions handed off to their homes and dropped
	dropped        atomic.Int64 // keys dropped with them
	tombsCollected atomic.Int64 // tombstones collected
	hintsExpired   atomic.Int64 // hints dropped undelivered, older than the grace period
}

// aeRemote is a peer's side of an exchange: antientropy.Replica over the
// peer transport. It counts the requests and bytes of one exchange; it is
// used by one goroutine.
type aeRemote struct {
	r               *remoteReplica
	q, width, per   int
	messages, bytes int64
}

var _ antientropy.Replica = (*aeRemote)(nil)

func (a *aeRemote) call(ctx context.Context, op byte, req []byte) ([]byte, error) {
	a.messages++
	a.bytes += int64(len(req))
	resp, err := a.r.call(ctx, op, req)
	a.bytes += int64(len(resp))
	return resp, err
}

func (a *aeRemote) Roots(ctx context.Context, parts []int) ([]uint64, error) {
	resp, err := a.call(ctx, opAERoots, appendParts(nil, parts))
	if err != nil {
		return nil, err
	}
	return decodeHashes(resp)
}

func (a *aeRemote) Branches(ctx context.Context, parts []int) ([][]uint64, error) {
	resp, err := a.call(ctx, opAEBranches, appendParts(nil, parts))
	if err != nil {
		return nil, err
	}
	return decodeHashLists(resp)
}

func (a *aeRemote) Leaves(ctx context.Context, branches []antientropy.Ref) ([][]uint64, error) {
	resp, err := a.call(ctx, opAELeaves, appendRefs(nil, branches))
	if err != nil {
		return nil, err
	}
	return decodeHashLists(resp)
}

func (a *aeRemote) Keys(ctx context.Context, leaves []antientropy.Ref) ([][]antientropy.KeyHash, error) {
	resp, err := a.call(ctx, opAEKeys, appendRefs(nil, leaves))
	if err != nil {
		return nil, err
	}
	return decodeKeyHashLists(resp)
}

// readMany returns the peer's own states of keys.
func (a *aeRemote) readMany(ctx context.Context, keys [][]byte) ([]keyObjectMsg, error) {
	resp, err := a.call(ctx, opReadMany, appendKeys(nil, keys))
	if err != nil {
		return nil, err
	}
	ms, err := decodeHandoff(resp)
	if err == nil && len(ms) != len(keys) {
		err = fmt.Errorf("%w: %d states for %d keys", errBadFrame, len(ms), len(keys))
	}
	return ms, err
}

// push merges states into the peer's own copies.
func (a *aeRemote) push(ctx context.Context, hs []replica.Hinted) error {
	_, err := a.call(ctx, opHandoff, appendHandoff(nil, hs))
	return err
}

// aeLimits bounds one exchange: antientropy.DefaultLimits unless a test
// set cluster.limits.
func (c *cluster) aeLimits() antientropy.Limits {
	if c.limits != nil {
		return *c.limits
	}
	return antientropy.DefaultLimits()
}

// homes returns partition p's home replicas in st, and whether this node
// is one of them.
func (c *cluster) homes(st *clusterState, p int) ([]replication.Replica, bool) {
	homes := st.prefs[p][:min(c.n, len(st.prefs[p]))]
	return homes, slices.ContainsFunc(homes, func(r replication.Replica) bool { return r.Name() == c.self })
}

// account adds what remote sent and received to the anti-entropy counters.
func (c *cluster) account(remote *aeRemote) {
	c.ae.messages.Add(remote.messages)
	c.ae.bytes.Add(remote.bytes)
}

// aeLocal is this node's side of exchanges, and what answers its peers'.
func (c *cluster) aeLocal() *antientropy.Local {
	return &antientropy.Local{Trees: c.local.Trees(), Scan: c.local.ScanLeaf}
}

// aeKickDelay is how long a round waits after a ring change, for the
// change to reach the other nodes by gossip first; aeRetry, how soon a
// round that left work (a transfer in progress, a peer not ready) is
// followed by the next.
const (
	aeKickDelay = 300 * time.Millisecond
	aeRetry     = time.Second
)

// antiEntropyLoop rebuilds the trees from the store, then runs a round of
// exchanges every interval, and soon after every ring change (kick), until
// done.
func (c *cluster) antiEntropyLoop(done <-chan struct{}, kick <-chan struct{}, interval time.Duration) {
	ctx, cancel := doneContext(done)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if !c.local.TreesReady() {
			if err := c.rebuildTrees(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("anti-entropy: rebuilding the hash trees failed", "err", err)
			}
		}
		// The first round follows the rebuild at once: a node that restarts
		// empty asks for its data without waiting an interval. A round that
		// left work is followed by another within aeRetry.
		settled := true
		if c.local.TreesReady() && !c.isRemoved() {
			_, settled = c.antiEntropyRoundSettled(ctx)
		}
		var soon <-chan time.Time
		if !settled && interval > aeRetry {
			soon = time.After(aeRetry)
		}
		select {
		case <-done:
			return
		case <-t.C:
		case <-soon:
		case <-kick:
			select {
			case <-done:
				return
			case <-time.After(aeKickDelay):
			}
		}
	}
}

// rebuildTrees rebuilds the trees and logs what it found.
func (c *cluster) rebuildTrees(ctx context.Context) error {
	start := time.Now()
	n, err := c.local.RebuildTrees(ctx)
	if err != nil {
		return err
	}
	took := time.Since(start)
	c.ae.treeKeys.Store(n)
	c.ae.rebuildMs.Store(took.Milliseconds())
	c.log.Info("anti-entropy: hash trees built", "keys", n, "took", took.Round(time.Millisecond))
	return nil
}

// aePartners returns, for every other node, the partitions it replicates
// together with this node (both among the partition's first N).
func (c *cluster) aePartners() map[string][]int {
	st := c.state.Load()
	out := map[string][]int{}
	for p := range st.prefs {
		homes, mine := c.homes(st, p)
		if !mine {
			continue
		}
		for _, r := range homes {
			if r.Name() != c.self {
				out[r.Name()] = append(out[r.Name()], p)
			}
		}
	}
	return out
}

// antiEntropyRound exchanges with every live partner in turn and returns
// the keys repaired.
func (c *cluster) antiEntropyRound(ctx context.Context) int {
	n, _ := c.antiEntropyRoundSettled(ctx)
	return n
}

// antiEntropyRoundSettled is antiEntropyRound; settled is false when the
// round left work it knows of: an exchange failed or repaired keys (there
// may be more), or partitions wait to be handed off.
func (c *cluster) antiEntropyRoundSettled(ctx context.Context) (repaired int, settled bool) {
	settled = true
	partners := c.aePartners()
	ids := make([]string, 0, len(partners))
	for id := range partners {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := c.replica(id)
		if !c.Alive(r) {
			continue
		}
		n, err := c.exchange(ctx, r.(*remoteReplica), partners[id])
		repaired += n
		if n > 0 || err != nil {
			settled = false
		}
		if err != nil {
			if ctx.Err() != nil {
				return repaired, false
			}
			lvl := c.log.Warn
			if errors.Is(err, replication.ErrReplicaDown) || errors.Is(err, replica.ErrTreesNotReady) {
				lvl = c.log.Debug
			}
			lvl("anti-entropy exchange failed", "peer", id, "err", err)
		}
	}
	pushed, left := c.handOffOrphans(ctx)
	repaired += pushed
	if left > 0 {
		settled = false
	}
	c.collectTombstones(ctx)
	c.ae.rounds.Add(1)
	c.ae.lastRound.Store(c.now().UnixMilli())
	c.ae.lastRepaired.Store(int64(repaired))
	return repaired, settled
}

// orphans returns the partitions this node holds keys of but is not a
// home of (after a join or a removal moved them), each with its homes.
func (c *cluster) orphans() map[int][]string {
	st := c.state.Load()
	trees := c.local.Trees()
	out := map[int][]string{}
	for p := range st.prefs {
		homes, mine := c.homes(st, p)
		if mine {
			continue
		}
		if trees.Keys(p) == 0 && trees.Root(p) == 0 {
			continue
		}
		for _, r := range homes {
			out[p] = append(out[p], r.Name())
		}
	}
	return out
}

// handOffOrphans pushes the keys of the partitions this node no longer
// replicates to their homes, and drops a partition once every one of its
// homes holds all of it: the end of a transfer after a join or a removal.
// It returns the keys pushed and the partitions still to hand off.
func (c *cluster) handOffOrphans(ctx context.Context) (int, int) {
	orphans := c.orphans()
	c.ae.orphans.Store(int64(len(orphans)))
	if len(orphans) == 0 {
		return 0, 0
	}
	byHome := map[string][]int{}
	for p, homes := range orphans {
		for _, h := range homes {
			byHome[h] = append(byHome[h], p)
		}
	}
	pushed := 0
	confirmed := map[int]int{} // partition -> homes that hold all of it
	for _, h := range slices.Sorted(maps.Keys(byHome)) {
		parts := byHome[h]
		slices.Sort(parts)
		r := c.replica(h)
		if !c.Alive(r) {
			continue
		}
		rr := r.(*remoteReplica)
		n, err := c.exchangeWith(ctx, rr, parts, false)
		pushed += n
		if err != nil {
			c.log.Debug("anti-entropy: handing off partitions failed", "peer", h, "partitions", len(parts), "err", err)
			continue
		}
		for _, p := range parts {
			if ok, err := c.covered(ctx, rr, p); err == nil && ok {
				confirmed[p]++
			}
		}
	}
	left := 0
	for p, homes := range orphans {
		if confirmed[p] < len(homes) {
			left++
			continue
		}
		n, err := c.local.DropPartition(ctx, p)
		if err != nil {
			left++
			c.log.Warn("anti-entropy: dropping a handed-off partition failed", "partition", p, "err", err)
			continue
		}
		c.ae.dropped.Add(int64(n))
		c.ae.handedOff.Add(1)
		c.log.Info("partition handed off to its homes and dropped", "partition", p, "keys", n, "homes", homes)
	}
	c.ae.orphans.Store(int64(left))
	return pushed, left
}

// covered reports whether peer r holds everything this node holds of
// partition p: for every key that differs, the peer's state already
// includes this node's.
func (c *cluster) covered(ctx context.Context, r *remoteReplica, p int) (bool, error) {
	l := c.aeLocal()
	remote := &aeRemote{r: r}
	defer c.account(remote)
	lim := antientropy.DefaultLimits()
	diffs, st, err := antientropy.Compare(ctx, l.Trees.Shape(), l, remote, []int{p}, lim)
	if err != nil || st.Truncated {
		return false, err
	}
	var keys [][]byte
	now := c.nowNs()
	for _, d := range diffs {
		if d.Local == 0 {
			continue
		}
		if d.Remote == 0 {
			// A tombstone old enough to collect covers nothing the peer
			// has: the peer may have collected it already.
			mine, err := c.local.ReadQuiet(ctx, d.Key)
			if err != nil || !replica.Collectable(mine, now, c.grace) {
				return false, err
			}
			continue
		}
		keys = append(keys, d.Key)
	}
	for len(keys) > 0 {
		n := min(len(keys), aeReadBatch)
		ms, err := remote.readMany(ctx, keys[:n])
		if err != nil {
			return false, err
		}
		for _, m := range ms {
			mine, err := c.local.ReadQuiet(ctx, m.key)
			if err != nil {
				return false, err
			}
			if !m.obj.Merge(mine).Equal(m.obj) {
				return false, nil
			}
		}
		keys = keys[n:]
	}
	return true, nil
}

// exchange compares the trees of parts with peer r and merges the keys
// that differ both ways: the peer's states into this node's, then this
// node's (now the join) into the peer's. It returns the keys repaired.
func (c *cluster) exchange(ctx context.Context, r *remoteReplica, parts []int) (int, error) {
	return c.exchangeWith(ctx, r, parts, true)
}

// exchangeWith is exchange; with pull false it only pushes this node's
// states (for partitions it no longer replicates, whose data it hands to
// their homes and must not gather more of).
func (c *cluster) exchangeWith(ctx context.Context, r *remoteReplica, parts []int, pull bool) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, aeExchangeTime)
	defer cancel()
	l := c.aeLocal()
	remote := &aeRemote{r: r}
	defer c.account(remote)
	diffs, _, err := antientropy.Compare(ctx, l.Trees.Shape(), l, remote, parts, c.aeLimits())
	if err != nil {
		return 0, err
	}
	if len(diffs) == 0 {
		return 0, nil
	}
	// Pull: the peer's states of the keys it holds.
	var pulls [][]byte
	localOf := make(map[string]uint64, len(diffs))
	for _, d := range diffs {
		localOf[string(d.Key)] = d.Local
		if d.Remote != 0 && pull {
			pulls = append(pulls, d.Key)
		}
	}
	repaired := 0
	for len(pulls) > 0 {
		start := time.Now()
		n := min(len(pulls), aeReadBatch)
		ms, err := remote.readMany(ctx, pulls[:n])
		if err != nil {
			return repaired, err
		}
		items := make([]replica.KeyObject, 0, len(ms))
		now := c.nowNs()
		for i, m := range ms {
			if m.obj == nil {
				continue
			}
			// A tombstone old enough to collect is not brought to a replica
			// that lacks the key (which may have collected it already).
			if localOf[string(pulls[i])] == 0 && replica.Collectable(m.obj, now, c.grace) {
				continue
			}
			items = append(items, replica.KeyObject{Key: m.key, Obj: m.obj})
		}
		if err := c.local.MergeBatch(ctx, items); err != nil {
			return repaired, err
		}
		repaired += len(items)
		pulls = pulls[n:]
		if err := c.adm.Pace(ctx, time.Since(start)); err != nil {
			return repaired, err
		}
	}
	// Push: this node's states, which now include the peer's.
	var batch []replica.Hinted
	size := 0
	sliceStart := time.Now()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := remote.push(ctx, batch)
		if err == nil {
			repaired += len(batch)
			err = c.adm.Pace(ctx, time.Since(sliceStart))
		}
		batch, size, sliceStart = batch[:0], 0, time.Now()
		return err
	}
	for _, d := range diffs {
		if d.Local == 0 {
			continue
		}
		o, err := c.local.ReadQuiet(ctx, d.Key)
		if err != nil {
			return repaired, err
		}
		if o == nil || (d.Remote == 0 && replica.Collectable(o, c.nowNs(), c.grace)) {
			continue
		}
		batch = append(batch, replica.Hinted{Key: d.Key, Obj: o})
		size += len(d.Key) + 64
		for i := range o.Siblings {
			size += len(o.Siblings[i].Value)
		}
		if len(batch) == aePushBatch || size >= aePushBatchBytes {
			if err := flush(); err != nil {
				return repaired, err
			}
		}
	}
	if err := flush(); err != nil {
		return repaired, err
	}
	c.ae.repaired.Add(int64(repaired))
	return repaired, nil
}
