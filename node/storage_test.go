package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/node/store/storetest"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// startOnStore starts a node over st (the node owns it) and returns it, a
// client, and its log.
func startOnStore(t *testing.T, st store.Store) (*Node, *redis.Client, *syncbuf.Buffer) {
	t.Helper()
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := testConfig(t)
	cfg.NodeID, cfg.PeerListen = "n1", "127.0.0.1:0"
	n, err := build(cfg.Resolve(), log, st, knobs{})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	c := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return n, c, &logs
}

// infoField returns field name of INFO section sec.
func infoField(t *testing.T, c *redis.Client, sec, name string) string {
	t.Helper()
	txt, err := c.Info(context.Background(), sec).Result()
	if err != nil {
		t.Fatalf("INFO %s: %v", sec, err)
	}
	for line := range strings.SplitSeq(txt, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s:\n%s", sec, name, txt)
	return ""
}

// A full disk: writes fail with an error that says so, reads go on, INFO
// persistence says aof_last_write_status:err, the log says it once; once
// the disk has room writes work again without a restart, INFO says ok and
// the log says so.
func TestNodeDiskFullRecovers(t *testing.T) {
	f := store.NewFaulty(store.NewMem())
	_, c, logs := startOnStore(t, f)
	ctx := context.Background()
	if err := c.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := infoField(t, c, "persistence", "aof_last_write_status"); got != "ok" {
		t.Fatalf("aof_last_write_status = %s before the fault, want ok", got)
	}

	f.SetCapacity(0)
	for range 3 {
		err := c.Set(ctx, "b", "2", 0).Err()
		if err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("SET on a full disk: %v, want an error naming the full disk", err)
		}
	}
	if got, err := c.Get(ctx, "a").Result(); err != nil || got != "1" {
		t.Fatalf("GET on a full disk = %q, %v; reads must go on", got, err)
	}
	if got := infoField(t, c, "persistence", "aof_last_write_status"); got != "err" {
		t.Fatalf("aof_last_write_status = %s on a full disk, want err", got)
	}
	if got := infoField(t, c, "persistence", "store_last_write_error"); !strings.Contains(got, "no space left on device") {
		t.Fatalf("store_last_write_error = %q", got)
	}
	if n := strings.Count(logs.String(), "writes are failing"); n != 1 {
		t.Fatalf("the failure was logged %d times, want once:\n%s", n, logs)
	}

	f.Heal() // space freed
	// no client write needed: the node notices by itself
	poll.Until(t, 5*time.Second, "aof_last_write_status to say ok again", func() bool {
		return infoField(t, c, "persistence", "aof_last_write_status") == "ok"
	})
	if err := c.Set(ctx, "b", "2", 0).Err(); err != nil {
		t.Fatalf("SET after recovery: %v", err)
	}
	if got := c.Get(ctx, "b").Val(); got != "2" {
		t.Fatalf("GET b = %q after recovery", got)
	}
	if got := infoField(t, c, "persistence", "store_write_recoveries"); got != "1" {
		t.Fatalf("store_write_recoveries = %s, want 1", got)
	}
	if !strings.Contains(logs.String(), "level=INFO msg=\"store: writes work again\"") {
		t.Fatalf("the recovery was not logged at info:\n%s", logs)
	}
}

// The same on the real goleveldb, with the disk faults injected below it:
// goleveldb stays failed after a failed journal write (see
// store.TestGoleveldbStaysFailedAfterDiskFull); the node writes again by
// itself within seconds of the disk having room.
func TestNodeDiskFullRecoversOnLevelDB(t *testing.T) {
	d := &store.DiskFaults{}
	o := store.DefaultLevelDBOptions()
	o.Faults = d
	ldb, err := store.OpenLevelDB(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, c, logs := startOnStore(t, ldb)
	ctx := context.Background()
	if err := c.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	d.SetFull(true)
	if err := c.Set(ctx, "b", "2", 0).Err(); err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("SET on a full disk: %v", err)
	}
	if got, err := c.Get(ctx, "a").Result(); err != nil || got != "1" {
		t.Fatalf("GET on a full disk = %q, %v", got, err)
	}
	d.SetFull(false)
	took := poll.Until(t, 10*time.Second, "aof_last_write_status to say ok again, with no client write", func() bool {
		return infoField(t, c, "persistence", "aof_last_write_status") == "ok"
	})
	t.Logf("writes worked again %v after the disk had room", took)
	if err := c.Set(ctx, "b", "2", 0).Err(); err != nil {
		t.Fatalf("SET after recovery: %v", err)
	}
	if got := c.Get(ctx, "b").Val(); got != "2" {
		t.Fatalf("GET b = %q", got)
	}
	if ldb.Recoveries() != 1 || !strings.Contains(logs.String(), "store: writes work again") {
		t.Fatalf("recoveries %d; log:\n%s", ldb.Recoveries(), logs)
	}
}

// fieldOf returns field name of a RING STATUS / INFO field list.
func fieldOf(fields []resp.Field, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return "<missing>"
}

// A damaged table on one of three replicas (keys its store cannot read):
// its trees still build, over what is readable; reads of the unreadable
// keys through it are served by the other replicas (R=2); RING STATUS
// names the damaged partitions; one exchange round brings every key back
// into its own copy, and it reads them locally again.
func TestDamagedKeysServedAndRepairedFromReplicas(t *testing.T) {
	faulty := map[string]*store.Faulty{}
	mc := newMemClusterWith(t, memOpts{q: 64, store: func(id string, st store.Store) store.Store {
		f := store.NewFaulty(st)
		faulty[id] = f
		return f
	}}, 3, 2, 2, "a", "b", "c")
	const n = 300
	for i := range n {
		if err := mc.set("a", fmt.Sprint("k", i), fmt.Sprint("v", i), 3); err != nil {
			t.Fatal(err)
		}
	}
	c := mc.nodes["c"]
	var bad []string
	for i := 0; i < n; i += 7 {
		k := fmt.Sprint("k", i)
		bad = append(bad, k)
		faulty["c"].Corrupt(store.DataKey(ring.HashKey([]byte(k)), []byte(k)))
	}
	c.local.ForgetCaches() // as a restart leaves it
	mc.buildTrees()        // failed on main: "rebuilding the tree of partition N: ... corrupted"
	damaged := c.local.Damaged()
	if len(damaged) == 0 {
		t.Fatal("no partition marked damaged")
	}
	status := c.view.Status()
	if got := fieldOf(status, "storage_damaged_partitions"); got != fmt.Sprint(len(damaged)) {
		t.Fatalf("RING STATUS storage_damaged_partitions = %s, want %d", got, len(damaged))
	}
	if got := fieldOf(status, "storage_damaged_partition_list"); got != partList(damaged) {
		t.Fatalf("RING STATUS storage_damaged_partition_list = %s, want %s", got, partList(damaged))
	}
	for _, k := range bad {
		o, err := mc.get("c", k, 2)
		if err != nil || o == nil || string(o.Newest(0).Value) != "v"+k[1:] {
			t.Fatalf("GET %s through the damaged node = %v, %v", k, o, err)
		}
		if _, err := c.local.ReadOwn(context.Background(), []byte(k)); !errors.Is(err, replica.ErrUnreadable) {
			t.Fatalf("c's own %s: %v, want unreadable before the repair", k, err)
		}
	}

	poll.Until(t, 5*time.Second, "c to repair its damaged partitions", func() bool {
		if err := c.cluster.rebuildDamaged(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.cluster.antiEntropyRound(context.Background())
		return len(c.local.Damaged()) == 0
	})
	for _, k := range bad {
		if o := mc.own("c", k); o == nil || string(o.Newest(0).Value) != "v"+k[1:] {
			t.Fatalf("c's own %s after the repair = %v", k, o)
		}
	}
	if got := faulty["c"].Corrupted(); got != 0 {
		t.Fatalf("%d keys still unreadable on c", got)
	}
	status = c.view.Status()
	if fieldOf(status, "storage_damaged_partitions") != "0" || fieldOf(status, "storage_partitions_repaired") != fmt.Sprint(len(damaged)) {
		t.Fatalf("after the repair: storage_damaged_partitions %s, storage_partitions_repaired %s (want 0, %d)",
			fieldOf(status, "storage_damaged_partitions"), fieldOf(status, "storage_partitions_repaired"), len(damaged))
	}
}

// A node with no replica to heal from refuses to start on a lost shard or
// a damaged journal, saying what is damaged and how to proceed; with
// repair_storage yes it starts and shows what was lost.
func TestSingleNodeRefusesDamagedStorage(t *testing.T) {
	for _, tc := range []struct {
		name, want, field string
		damage            func(t *testing.T, dir string)
	}{
		{"lost shard", "store-2 is missing or empty", "storage_lost_shards", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "store-2")); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated journal", "journal damaged", "storage_journal_damage", func(t *testing.T, dir string) {
			logs, _ := filepath.Glob(filepath.Join(dir, "store-1", "*.log"))
			big, size := "", int64(0)
			for _, p := range logs {
				if fi, err := os.Stat(p); err == nil && fi.Size() > size {
					big, size = p, fi.Size()
				}
			}
			if size < 4000 {
				t.Fatalf("journal of store-1 holds %d bytes", size)
			}
			if err := os.Truncate(big, storetest.JournalCutInsideRecord(t, big, size-3000)); err != nil {
				t.Fatal(err)
			}
		}},
		{"damaged table", "a table is damaged", "storage_table_damage", func(t *testing.T, dir string) {
			// opening flushes the journals into tables
			cfg := testConfig(t)
			cfg.DataDir, cfg.N, cfg.R, cfg.W = dir, 1, 1, 1
			n, err := Open(cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			n.Close()
			tables, _ := filepath.Glob(filepath.Join(dir, "store-1", "*.ldb"))
			if len(tables) != 1 {
				t.Fatalf("store-1 has tables %v, want one", tables)
			}
			b, err := os.ReadFile(tables[0])
			if err != nil {
				t.Fatal(err)
			}
			for i := len(b) / 3; i < len(b)/3+16; i++ {
				b[i] ^= 0xff
			}
			if err := os.WriteFile(tables[0], b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.N, cfg.R, cfg.W = 1, 1, 1
			n, err := Open(cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 400 {
				if _, err := n.coord.Update(context.Background(), fmt.Appendf(nil, "k%d", i), func(cur *replication.Object) (*replication.Write, error) {
					return &replication.Write{Context: cur.Context(), Value: make([]byte, 64)}, nil
				}, replication.WriteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			n.Close()
			tc.damage(t, cfg.DataDir)
			_, err = Open(cfg, quiet)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--repair-storage yes") {
				t.Fatalf("Open on damaged storage: %v; want a refusal naming %q and --repair-storage yes", err, tc.want)
			}
			// refusing changed nothing: it refuses again
			if _, err = Open(cfg, quiet); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("second Open: %v", err)
			}
			cfg.RepairStorage = "yes"
			n, err = Open(cfg, quiet)
			if err != nil {
				t.Fatalf("Open with repair_storage yes: %v", err)
			}
			defer n.Close()
			if got := fieldOf(n.view.Persistence(), tc.field); got == "" {
				t.Fatalf("INFO persistence %s is empty after starting on damaged storage", tc.field)
			}
			if got := n.local.Damaged(); len(got) != 0 {
				t.Fatalf("partitions %v marked for repair on a node with no replica", got)
			}
			// what is left reads cleanly
			if err := n.local.Store().Iterate(nil, nil, func(k, v []byte) bool { return true }); err != nil {
				t.Fatalf("reading what is left: %v", err)
			}
		})
	}
}

// Losing store-0 used to lose the node's metadata with it: its identity (a
// generated node id), member set and actor; the node came back as a new
// node. The metadata is mirrored in every shard, and restored from a
// mirror: the node keeps its id and its member set, takes a new actor id
// (it lost data it may have minted), and says what it lost.
func TestLostMetadataShardKeepsIdentity(t *testing.T) {
	cfg := testConfig(t)
	cfg.NodeID = ""                     // generated, kept in the data directory
	cfg.Seeds = []string{"127.0.0.1:9"} // a cluster to heal from (not contacted by Open)
	n, err := Open(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	id, actor := n.cfg.NodeID, n.local.Actor()
	members := len(n.cluster.state.Load().set.Members())
	n.Close()
	if err := os.RemoveAll(filepath.Join(cfg.DataDir, "store-0")); err != nil {
		t.Fatal(err)
	}
	n, err = Open(cfg, quiet)
	if err != nil {
		t.Fatalf("Open after losing store-0: %v", err)
	}
	defer n.Close()
	if n.cfg.NodeID != id {
		t.Fatalf("node id after losing store-0 = %q, want %q (the node came back as a new node)", n.cfg.NodeID, id)
	}
	if got := len(n.cluster.state.Load().set.Members()); got != members || members == 0 {
		t.Fatalf("member set after losing store-0 has %d members, want %d", got, members)
	}
	if n.local.Actor() == actor {
		t.Fatal("the actor id was kept after losing store-0")
	}
	if got := fieldOf(n.view.Persistence(), "storage_lost_shards"); got != "store-0" {
		t.Fatalf("storage_lost_shards = %q, want store-0", got)
	}
	if got := len(n.local.Damaged()); got != cfg.Partitions/storeShards {
		t.Fatalf("%d partitions marked damaged, want store-0's %d", got, cfg.Partitions/storeShards)
	}
}
