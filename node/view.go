package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// ErrNoSuchNode is returned by RING REMOVE for an unknown node id.
var ErrNoSuchNode = errors.New("ring: no such node")

// singleView answers the RING commands and INFO's cluster figures for a
// node that is its own whole ring: one member owning every partition. The
// cluster replaces it with the gossiped membership.
type singleView struct {
	cfg   conf.Config
	local *LocalReplica
	ring  *ring.Ring
	now   func() time.Time
}

// newSingleRing is the ring of a node that is its own cluster: one member,
// joined at generation 1.
func newSingleRing(cfg conf.Config) (*ring.Ring, error) {
	return ring.New(cfg.Partitions, cfg.N, []ring.Member{{ID: cfg.NodeID, Weight: cfg.Weight, Joined: 1}})
}

var _ resp.NodeView = (*singleView)(nil)

// addr is a member's client address; on one node, only this node's.
func (v *singleView) addr(id string) string {
	if id == v.cfg.NodeID {
		return v.cfg.Listen
	}
	return ""
}

func (v *singleView) Members() []resp.Member {
	keys, _, _ := v.LocalKeys(context.Background())
	var out []resp.Member
	for _, m := range v.ring.Members() {
		primaries, _ := v.ring.Load(m.ID)
		out = append(out, resp.Member{
			ID: m.ID, Addr: v.addr(m.ID), State: "alive", Weight: m.Weight,
			Partitions: int64(primaries), Keys: keys,
		})
	}
	return out
}

func (v *singleView) KeyInfo(key []byte) (int, []resp.PrefEntry) {
	pl := v.ring.KeyPreferenceList(key)
	n := len(pl.Replicas())
	var out []resp.PrefEntry
	for i, id := range pl.All() {
		out = append(out, resp.PrefEntry{ID: id, Addr: v.addr(id), Up: true, Replica: i < n})
	}
	return pl.Partition(), out
}

func (v *singleView) Partitions() []resp.PartitionInfo {
	q := v.ring.Q()
	out := make([]resp.PartitionInfo, q)
	for p := range q {
		end := ^uint64(0)
		if p < q-1 {
			end = ring.PartitionStart(p+1, q) - 1
		}
		out[p] = resp.PartitionInfo{
			Index:    p,
			Start:    fmt.Sprintf("%016x", ring.PartitionStart(p, q)),
			End:      fmt.Sprintf("%016x", end),
			Replicas: slices.Clone(v.ring.Replicas(p)),
		}
	}
	return out
}

func (v *singleView) Status() []resp.Field {
	return []resp.Field{
		{Name: "ring_version", Value: fmt.Sprintf("%016x", v.ring.Version())},
		{Name: "members", Value: "1"},
		{Name: "partitions", Value: strconv.Itoa(v.cfg.Partitions)},
		{Name: "transfers_in_progress", Value: "0"},
		{Name: "hints_pending", Value: "0"},
		{Name: "anti_entropy_last_round", Value: "never"},
		{Name: "anti_entropy_repaired", Value: "0"},
	}
}

func (v *singleView) Remove(id string) error {
	if id == v.cfg.NodeID {
		return fmt.Errorf("cannot remove %q: it is the only member of the ring", id)
	}
	return fmt.Errorf("%w: %q", ErrNoSuchNode, id)
}

func (v *singleView) ClusterInfo() []resp.Field {
	return []resp.Field{
		{Name: "cluster_ring_version", Value: fmt.Sprintf("%016x", v.ring.Version())},
		{Name: "cluster_members", Value: "1"},
		{Name: "cluster_members_alive", Value: "1"},
		{Name: "cluster_members_suspect", Value: "0"},
		{Name: "cluster_members_dead", Value: "0"},
		{Name: "cluster_partitions", Value: strconv.Itoa(v.cfg.Partitions)},
		{Name: "cluster_n", Value: strconv.Itoa(min(v.cfg.N, 1))},
		{Name: "cluster_r", Value: strconv.Itoa(min(v.cfg.R, 1))},
		{Name: "cluster_w", Value: strconv.Itoa(min(v.cfg.W, 1))},
		{Name: "hints_pending", Value: "0"},
		{Name: "transfers_in_progress", Value: "0"},
	}
}

// LocalKeys counts the live keys in the local store, and those with an
// expiry, by scanning it.
func (v *singleView) LocalKeys(ctx context.Context) (keys, expires int64, err error) {
	now := v.now().UnixMilli()
	_, err = v.local.Scan(ctx, 0, func(_ []byte, o *replication.Object) bool {
		if s := o.Newest(now); s != nil {
			keys++
			if s.ExpireAt != 0 {
				expires++
			}
		}
		return true
	})
	return keys, expires, err
}
