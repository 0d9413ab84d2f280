package node

import (
	"context"
	"fmt"
	"github.com/dynakv/dynakv/node/membership"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// clusterView answers the RING commands and INFO's cluster figures from the
// node's ring view, the failure detector and the replication counters.
type clusterView struct {
	c      *cluster
	now    func() time.Time
	health *store.Health
	damage *storageDamage // found at start (nil: none); set before serving
}

var _ resp.NodeView = (*clusterView)(nil)

// liveness returns the state RING shows for id: alive, suspect, dead or
// removed.
func (v *clusterView) liveness(id string) string {
	if rec, ok := v.c.state.Load().set.Get(id); ok && rec.Removed != 0 && id != v.c.self {
		return "removed"
	}
	return v.c.livenessOf(id).String()
}

// addr returns id's client address.
func (v *clusterView) addr(id string) string {
	if m := v.c.members(); m != nil {
		if a, _, ok := m.Addrs(id); ok {
			return a
		}
	}
	if r, ok := v.c.state.Load().set.Get(id); ok {
		return r.Addr
	}
	return ""
}

// Members lists every record of the member set, removed ones included,
// with the keys each live node holds (asked of it, in parallel, with a
// short deadline; -1 when it did not answer).
func (v *clusterView) Members() []resp.Member {
	st := v.c.state.Load()
	recs := st.set.Records()
	out := make([]resp.Member, len(recs))
	var wg sync.WaitGroup
	for i, r := range recs {
		primaries, _ := st.ring.Load(r.ID)
		state := v.liveness(r.ID)
		out[i] = resp.Member{ID: r.ID, Addr: v.addr(r.ID), State: state, Weight: r.Weight, Partitions: int64(primaries), Keys: -1}
		if state == "removed" || state == "dead" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			var (
				n   int64
				err error
			)
			if r.ID == v.c.self {
				n, err = v.c.local.LiveKeys(ctx, v.now().UnixMilli())
			} else {
				n, err = v.c.replica(r.ID).(*remoteReplica).keyCount(ctx)
			}
			if err == nil {
				out[i].Keys = n
			}
		}()
	}
	wg.Wait()
	return out
}

func (v *clusterView) KeyInfo(key []byte) (int, []resp.PrefEntry) {
	st := v.c.state.Load()
	pl := st.ring.KeyPreferenceList(key)
	n := len(pl.Replicas())
	var out []resp.PrefEntry
	for i, id := range pl.All() {
		out = append(out, resp.PrefEntry{ID: id, Addr: v.addr(id), Up: v.liveness(id) != "dead", Replica: i < n})
	}
	return pl.Partition(), out
}

func (v *clusterView) Partitions() []resp.PartitionInfo {
	rg := v.c.state.Load().ring
	q := rg.Q()
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
			Replicas: slices.Clone(rg.Replicas(p)),
		}
	}
	return out
}

// counts returns the member counts by liveness.
func (v *clusterView) counts() (members, alive, suspect, dead int) {
	for _, r := range v.c.state.Load().set.Members() {
		members++
		switch v.liveness(r.ID) {
		case "alive":
			alive++
		case "suspect":
			suspect++
		default:
			dead++
		}
	}
	return
}

func (v *clusterView) lastDelivery() string {
	ms := v.c.lastDelivery.Load()
	if ms == 0 {
		return "never"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

func (v *clusterView) stats() replication.Stats {
	if co := v.c.coord.Load(); co != nil {
		return co.Stats()
	}
	return replication.Stats{}
}

func (v *clusterView) Status() []resp.Field {
	rg := v.c.state.Load().ring
	members, alive, suspect, dead := v.counts()
	st := v.stats()
	p99, rested, slowed := v.c.adm.Stats()
	return append([]resp.Field{
		{Name: "ring_version", Value: fmt.Sprintf("%016x", rg.Version())},
		{Name: "members", Value: strconv.Itoa(members)},
		{Name: "members_alive", Value: strconv.Itoa(alive)},
		{Name: "members_suspect", Value: strconv.Itoa(suspect)},
		{Name: "members_dead", Value: strconv.Itoa(dead)},
		{Name: "partitions", Value: strconv.Itoa(rg.Q())},
		{Name: "n", Value: strconv.Itoa(min(v.c.n, members))},
		{Name: "transfers_in_progress", Value: strconv.FormatInt(v.c.ae.orphans.Load(), 10)},
		{Name: "partitions_handed_off", Value: strconv.FormatInt(v.c.ae.handedOff.Load(), 10)},
		{Name: "keys_handed_off", Value: strconv.FormatInt(v.c.ae.dropped.Load(), 10)},
		{Name: "hints_pending", Value: strconv.FormatInt(v.c.local.HintsTotal(), 10)},
		{Name: "hints_pending_by_owner", Value: v.hintsByOwner()},
		{Name: "hints_delivered", Value: strconv.FormatInt(v.c.hintsDelivered.Load(), 10)},
		{Name: "hints_last_delivery", Value: v.lastDelivery()},
		{Name: "hinted_writes", Value: strconv.FormatInt(st.Hinted, 10)},
		{Name: "forwarded_writes", Value: strconv.FormatInt(st.Forwarded, 10)},
		{Name: "stand_in_writes", Value: strconv.FormatInt(st.StandIns, 10)},
		{Name: "read_repairs", Value: strconv.FormatInt(st.ReadRepairs, 10)},
		{Name: "anti_entropy_trees", Value: v.treesState()},
		{Name: "anti_entropy_tree_keys", Value: strconv.FormatInt(v.c.ae.treeKeys.Load(), 10)},
		{Name: "anti_entropy_tree_rebuild_ms", Value: strconv.FormatInt(v.c.ae.rebuildMs.Load(), 10)},
		{Name: "anti_entropy_rounds", Value: strconv.FormatInt(v.c.ae.rounds.Load(), 10)},
		{Name: "anti_entropy_last_round", Value: unixMsOrNever(v.c.ae.lastRound.Load())},
		{Name: "anti_entropy_repaired", Value: strconv.FormatInt(v.c.ae.lastRepaired.Load(), 10)},
		{Name: "anti_entropy_repaired_total", Value: strconv.FormatInt(v.c.ae.repaired.Load(), 10)},
		{Name: "anti_entropy_messages", Value: strconv.FormatInt(v.c.ae.messages.Load(), 10)},
		{Name: "anti_entropy_bytes", Value: strconv.FormatInt(v.c.ae.bytes.Load(), 10)},
		{Name: "tombstones", Value: strconv.Itoa(v.c.local.Tombstones())},
		{Name: "tombstones_collected", Value: strconv.FormatInt(v.c.ae.tombsCollected.Load(), 10)},
		{Name: "hints_expired", Value: strconv.FormatInt(v.c.ae.hintsExpired.Load(), 10)},
		{Name: "foreground_p99_us", Value: strconv.FormatInt(p99.Microseconds(), 10)},
		{Name: "background_rested_ms", Value: strconv.FormatInt(rested.Milliseconds(), 10)},
		{Name: "background_slowed", Value: strconv.FormatInt(slowed, 10)},
	}, append(v.c.relay.fields(), v.storageDamage()...)...)
}

// storageDamage shows damaged storage: the partitions with keys this node
// lost or cannot read (repaired from the other replicas, see
// antiEntropyRoundSettled) and what was done about them.
func (v *clusterView) storageDamage() []resp.Field {
	d := v.c.local.DamageStats()
	lost, journals, tables := "", "", ""
	if v.damage != nil {
		var l []string
		for _, i := range v.damage.lostShards {
			l = append(l, fmt.Sprintf("store-%d", i))
		}
		lost, journals, tables = strings.Join(l, ","), strings.Join(v.damage.journals, "; "), strings.Join(v.damage.tables, "; ")
	}
	return []resp.Field{
		{Name: "storage_lost_shards", Value: lost},
		{Name: "storage_journal_damage", Value: journals},
		{Name: "storage_table_damage", Value: tables},
		{Name: "storage_damaged_partitions", Value: strconv.Itoa(len(d.Partitions))},
		{Name: "storage_damaged_partition_list", Value: partList(d.Partitions)},
		{Name: "storage_unreadable_reads", Value: strconv.FormatInt(d.UnreadableReads, 10)},
		{Name: "storage_unreadable_keys_rewritten", Value: strconv.FormatInt(d.Rewritten, 10)},
		{Name: "storage_partitions_repaired", Value: strconv.FormatInt(d.Repaired, 10)},
	}
}

// treesState is "ready" once the hash trees cover the store, "building"
// before.
func (v *clusterView) treesState() string {
	if v.c.local.TreesReady() {
		return "ready"
	}
	return "building"
}

// unixMsOrNever renders a Unix ms time as RFC 3339, 0 as "never".
func unixMsOrNever(ms int64) string {
	if ms == 0 {
		return "never"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// hintsByOwner renders the pending hints per owner as "a=3,b=1".
func (v *clusterView) hintsByOwner() string {
	counts := v.c.local.HintsPending()
	var b []byte
	for _, o := range v.c.local.HintOwners() {
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%s=%d", o, counts[o])
	}
	return string(b)
}

func (v *clusterView) Remove(id string) error {
	m := v.c.members()
	if m == nil {
		if id == v.c.self {
			return membership.ErrRemoveSelf
		}
		return fmt.Errorf("%w '%s'", membership.ErrUnknownMember, id)
	}
	return m.Remove(id)
}

func (v *clusterView) ClusterInfo() []resp.Field {
	rg := v.c.state.Load().ring
	members, alive, suspect, dead := v.counts()
	n := min(v.c.n, members)
	st := v.stats()
	return []resp.Field{
		{Name: "cluster_ring_version", Value: fmt.Sprintf("%016x", rg.Version())},
		{Name: "cluster_members", Value: strconv.Itoa(members)},
		{Name: "cluster_members_alive", Value: strconv.Itoa(alive)},
		{Name: "cluster_members_suspect", Value: strconv.Itoa(suspect)},
		{Name: "cluster_members_dead", Value: strconv.Itoa(dead)},
		{Name: "cluster_partitions", Value: strconv.Itoa(rg.Q())},
		{Name: "cluster_n", Value: strconv.Itoa(n)},
		{Name: "cluster_r", Value: strconv.Itoa(min(v.c.r, n))},
		{Name: "cluster_w", Value: strconv.Itoa(min(v.c.w, n))},
		{Name: "hints_pending", Value: strconv.FormatInt(v.c.local.HintsTotal(), 10)},
		{Name: "hints_delivered", Value: strconv.FormatInt(v.c.hintsDelivered.Load(), 10)},
		{Name: "hinted_writes", Value: strconv.FormatInt(st.Hinted, 10)},
		{Name: "forwarded_writes", Value: strconv.FormatInt(st.Forwarded, 10)},
		{Name: "read_repairs", Value: strconv.FormatInt(st.ReadRepairs, 10)},
		{Name: "transfers_in_progress", Value: strconv.FormatInt(v.c.ae.orphans.Load(), 10)},
		{Name: "partitions_handed_off", Value: strconv.FormatInt(v.c.ae.handedOff.Load(), 10)},
		{Name: "anti_entropy_trees", Value: v.treesState()},
		{Name: "anti_entropy_rounds", Value: strconv.FormatInt(v.c.ae.rounds.Load(), 10)},
		{Name: "anti_entropy_repaired", Value: strconv.FormatInt(v.c.ae.repaired.Load(), 10)},
		{Name: "anti_entropy_bytes", Value: strconv.FormatInt(v.c.ae.bytes.Load(), 10)},
		{Name: "tombstones", Value: strconv.Itoa(v.c.local.Tombstones())},
		{Name: "tombstones_collected", Value: strconv.FormatInt(v.c.ae.tombsCollected.Load(), 10)},
	}
}

// LocalKeys counts the live keys in the local store, and those with an
// expiry, by scanning it. Collections' elements are not keys.
func (v *clusterView) LocalKeys(ctx context.Context) (keys, expires int64, err error) {
	now := v.now().UnixMilli()
	_, err = v.c.local.Scan(ctx, 0, func(k []byte, o *replication.Object) bool {
		if ring.IsElementKey(k) {
			return true
		}
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

// Persistence answers INFO persistence: Redis's fields where one fits (the
// journal is dynakv's append-only file: every write goes to it before the
// reply), then the store's own.
func (v *clusterView) Persistence() []resp.Field {
	h := v.health.Status()
	okErr := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "err"
	}
	since := "never"
	if !h.FailingSince.IsZero() {
		since = h.FailingSince.UTC().Format(time.RFC3339)
	}
	return append([]resp.Field{
		{Name: "loading", Value: "0"},
		{Name: "aof_enabled", Value: "1"},
		{Name: "aof_last_write_status", Value: okErr(h.WriteOK)},
		{Name: "store_last_fsync_status", Value: okErr(h.SyncOK)},
		{Name: "store_write_failing_since", Value: since},
		{Name: "store_write_errors", Value: strconv.FormatInt(h.WriteErrors, 10)},
		{Name: "store_last_write_error", Value: h.LastWriteError},
		{Name: "store_write_recoveries", Value: strconv.FormatInt(h.Recoveries, 10)},
	}, v.storageDamage()...)
}
