package node

// Anti-entropy rounds: the loop that rebuilds the hash trees at start and
// then exchanges them with every co-replica, every interval and soon after a
// ring change.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/replication"
)

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
		} else if err := c.rebuildDamaged(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("anti-entropy: rebuilding the trees of damaged partitions failed", "err", err)
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
		case <-c.local.DamageKick():
			// Keys found unreadable: rebuild their trees and exchange now.
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
	if parts := c.local.Damaged(); len(parts) > 0 {
		c.log.Warn("storage damage: these partitions hold keys this node cannot read; their trees count what is readable and they are exchanged with the other replicas at once",
			"partitions", partList(parts))
	}
	return nil
}

// rebuildDamaged rebuilds the trees of partitions found damaged since their
// last rebuild, over what is readable.
func (c *cluster) rebuildDamaged(ctx context.Context) error {
	parts, err := c.local.RebuildDamaged(ctx)
	if len(parts) > 0 {
		c.log.Warn("storage damage: keys this node cannot read; the partitions' trees were rebuilt over what is readable, exchanging them with the other replicas now",
			"partitions", partList(parts))
	}
	return err
}

// partList renders partitions as "3,17,18", at most 64 of them.
func partList(parts []int) string {
	var b []byte
	for i, p := range parts {
		if i == 64 {
			b = fmt.Appendf(b, ",... (%d in all)", len(parts))
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(p), 10)
	}
	return string(b)
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
	// Damaged partitions are repaired once exchanged with every other home.
	damaged := c.local.Damaged()
	need, done := map[int]int{}, map[int]int{}
	for _, id := range ids {
		for _, p := range partners[id] {
			need[p]++
		}
	}
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
		if err == nil {
			for _, p := range partners[id] {
				done[p]++
			}
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
	if len(damaged) > 0 {
		var healed []int
		for _, p := range damaged {
			if need[p] > 0 && done[p] == need[p] {
				healed = append(healed, p)
			}
		}
		if cleared := c.local.Repaired(healed); len(cleared) > 0 {
			c.log.Info("storage damage repaired from the other replicas", "partitions", partList(cleared))
		}
		for _, p := range c.local.Damaged() {
			if need[p] > 0 {
				settled = false // a replica to heal from: try again soon
				break
			}
		}
	}
	pushed, left := c.transferPartitions(ctx)
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
