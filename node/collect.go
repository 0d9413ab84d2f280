package node

import (
	"context"
	"github.com/dynakv/dynakv/node/replica"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

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
	cands := c.local.TombstonesOlder(now-int64(c.grace), tombstoneBatch)
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
		mine, err := c.local.ReadQuiet(ctx, k)
		if err != nil || !replica.Collectable(mine, now, c.grace) {
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

// nowNs is the node's clock in Unix ns.
func (c *cluster) nowNs() int64 {
	return c.now().UnixNano()
}
