package node

// Partition transfer: after a join or a removal, the partitions this node
// no longer replicates are pushed to their homes and dropped once every home
// covers every version.

import (
	"context"
	"maps"
	"slices"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/replica"
)

// leftPartitions returns the partitions this node holds keys of but is not a
// home of (after a join or a removal moved them), each with its homes.
func (c *cluster) leftPartitions() map[int][]string {
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

// transferPartitions pushes the keys of the partitions this node no longer
// replicates to their homes, and drops a partition once every one of its
// homes holds all of it: the end of a transfer after a join or a removal.
// It returns the keys pushed and the partitions still to hand off.
func (c *cluster) transferPartitions(ctx context.Context) (int, int) {
	orphans := c.leftPartitions()
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
