package node

import (
	"context"
	"errors"
	"fmt"
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
	now   func() time.Time
}

var _ resp.NodeView = (*singleView)(nil)

func (v *singleView) self() resp.PrefEntry {
	return resp.PrefEntry{ID: v.cfg.NodeID, Addr: v.cfg.Listen, Up: true, Replica: true}
}

func (v *singleView) Members() []resp.Member {
	keys, _, _ := v.LocalKeys(context.Background())
	return []resp.Member{{
		ID: v.cfg.NodeID, Addr: v.cfg.Listen, State: "alive", Weight: v.cfg.Weight,
		Partitions: int64(v.cfg.Partitions), Keys: keys,
	}}
}

func (v *singleView) KeyInfo(key []byte) (int, []resp.PrefEntry) {
	return ring.HashKey(key).Partition(v.cfg.Partitions), []resp.PrefEntry{v.self()}
}

func (v *singleView) Partitions() []resp.PartitionInfo {
	q := v.cfg.Partitions
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
			Replicas: []string{v.cfg.NodeID},
		}
	}
	return out
}

func (v *singleView) Status() []resp.Field {
	return []resp.Field{
		{Name: "ring_version", Value: "1"},
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
