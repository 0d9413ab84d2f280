package node

// Anti-entropy between replicas: each node, every anti_entropy_interval,
// compares its hash trees with each other replica of the partitions they
// share (antientropy.Compare) and merges the differing keys both ways.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/replica"
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

func (a *aeRemote) Keys(ctx context.Context, leaves []antientropy.Ref) ([]antientropy.LeafKeys, error) {
	resp, err := a.call(ctx, opAEKeys, appendRefs(nil, leaves))
	if err != nil {
		return nil, err
	}
	return decodeLeafKeys(resp)
}

func (a *aeRemote) BucketKeys(ctx context.Context, buckets []antientropy.BucketRef) ([][]antientropy.KeyHash, error) {
	resp, err := a.call(ctx, opAEBucketKeys, appendBucketRefs(nil, buckets))
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
	ms, err := decodeKeyObjects(resp)
	if err == nil && len(ms) != len(keys) {
		err = fmt.Errorf("%w: %d states for %d keys", errBadFrame, len(ms), len(keys))
	}
	return ms, err
}

// push merges states into the peer's own copies.
func (a *aeRemote) push(ctx context.Context, hs []replica.Hinted) error {
	_, err := a.call(ctx, opDeliverHints, appendKeyObjects(nil, hs))
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
		if errors.Is(err, replica.ErrUnreadable) {
			continue // lost here: the pull brought the peer's, if it has one
		}
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
