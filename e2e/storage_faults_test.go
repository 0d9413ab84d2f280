package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/node/store/storetest"

	"github.com/dynakv/dynakv/internal/poll"
)

// Storage faults on one of three nodes (N=3): the node is stopped, its
// data directory damaged, and restarted; every acknowledged key must be
// back in its own copy (VGET key LOCAL) within a bounded time, fetched from
// the other replicas, and the node must say what it lost.

// largestFile returns the largest file matching pattern (e.g. "*.log") of
// dataDir's data-only store shards (store-1..3; store-0 also holds the
// node's metadata), and its size.
func largestFile(t *testing.T, dataDir, pattern string) (string, int64) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "store-[123]", pattern))
	big, size := "", int64(0)
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			big, size = p, fi.Size()
		}
	}
	if big == "" {
		t.Fatalf("no %s file in %s/store-*", pattern, dataDir)
	}
	return big, size
}

func TestE2EStorageFaultsHealFromReplicas(t *testing.T) {
	for _, tc := range []struct {
		name  string
		field string // the RING STATUS / INFO field that names the damage
		// damage damages the stopped node's data directory.
		damage func(t *testing.T, p *proc)
	}{
		{"lost shard", "storage_lost_shards", func(t *testing.T, p *proc) {
			if err := os.RemoveAll(filepath.Join(p.dataDir, "store-2")); err != nil {
				t.Fatal(err)
			}
		}},
		{"lost metadata shard", "storage_lost_shards", func(t *testing.T, p *proc) {
			// store-0 also holds the node's metadata: its member set,
			// hints, actor id; node-3 finds the cluster again through its
			// seeds.
			if err := os.RemoveAll(filepath.Join(p.dataDir, "store-0")); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated journal", "storage_journal_damage", func(t *testing.T, p *proc) {
			log, size := largestFile(t, p.dataDir, "*.log")
			cut := storetest.JournalCutInsideRecord(t, log, size/2)
			if err := os.Truncate(log, cut); err != nil {
				t.Fatal(err)
			}
			t.Logf("truncated %s from %d to %d bytes", log, size, cut)
		}},
		{"corrupted table", "storage_partitions_repaired", func(t *testing.T, p *proc) {
			// A restart flushes the journals into tables.
			p.Restart()
			p.Stop()
			table, size := largestFile(t, p.dataDir, "*.ldb")
			b, err := os.ReadFile(table)
			if err != nil {
				t.Fatal(err)
			}
			for i := size / 3; i < size/3+32; i++ {
				b[i] ^= 0xff
			}
			if err := os.WriteFile(table, b, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("corrupted 32 bytes of %s (%d bytes)", table, size)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			procs := startCluster(t, 3, "--anti-entropy-interval", "1s")
			c := procs[0].Shared(t)
			const count = 3000
			loadKeys(t, c, "sf:", count) // acknowledged at W=2
			victim := procs[2]
			poll.Until(t, 30*time.Second, "node-3 to hold every key", func() bool { return localKeyCount(t, victim) == count })
			victim.Stop()
			tc.damage(t, victim)
			victim.Restart()
			vc := victim.Shared(t)
			ctx := testCtx(t, 2*time.Minute)
			missing := func() int {
				n := 0
				for i := range count {
					if _, ok, _ := holdsLocally(ctx, vc, fmt.Sprint("sf:", i), fmt.Sprint("v", i)); !ok {
						n++
					}
				}
				return n
			}
			took := poll.Until(t, 60*time.Second, "every acknowledged key back in node-3's own copy", func() bool { return missing() == 0 })
			out := victim.Output()
			if !strings.Contains(out, "level=WARN msg=\"storage damage") {
				t.Fatalf("node-3 did not log the damage at warn:\n%s", tail(out, 16<<10))
			}
			status := info(t, vc, "persistence")
			if v := status[tc.field]; v == "" || v == "0" {
				t.Fatalf("INFO persistence %s = %q after the repair; fields: %v", tc.field, v, status)
			}
			if r := info(t, vc, "cluster")["anti_entropy_repaired"]; r == "" || r == "0" {
				t.Fatalf("node-3's exchanges repaired %q keys; the damage must have lost some", r)
			}
			poll.Until(t, 30*time.Second, "no damaged partition left", func() bool {
				return info(t, vc, "persistence")["storage_damaged_partitions"] == "0"
			})
			waitClusterAlive(t, procs, 3) // node-3 is one member again, under its id
			t.Logf("%s: every key back in node-3's own copy %v after it answered PING; %s=%s", tc.name, took, tc.field, status[tc.field])
		})
	}
}

// A single node has no replica to heal from: on a lost shard it refuses to
// start with a message naming the damage and --repair-storage; with
// --repair-storage yes it starts with what is left and says what was lost.
func TestE2EStorageFaultSingleNodeRefuses(t *testing.T) {
	dynakvOnly(t)
	p := startNode(t)
	c := p.Shared(t)
	loadKeys(t, c, "one:", 1000)
	p.Stop()
	if err := os.RemoveAll(filepath.Join(p.dataDir, "store-1")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.name, p.args...).CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("dynakv on a lost shard with no replica: %v (want a non-zero exit)\n%s", err, out)
	}
	for _, want := range []string{"store-1 is missing or empty", "--repair-storage yes"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the refusal does not say %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(p.dataDir, "store-1")); err == nil {
		t.Fatal("the refusal recreated store-1")
	}
	p.args = append(p.args, "--repair-storage", "yes")
	p.Restart()
	f := info(t, p.Shared(t), "persistence")
	if f["storage_lost_shards"] != "store-1" {
		t.Fatalf("INFO persistence storage_lost_shards = %q, want store-1", f["storage_lost_shards"])
	}
	left := localKeyCount(t, p)
	if left == 0 || left >= 1000 {
		t.Fatalf("%d of 1000 keys left after losing one shard of four", left)
	}
	if err := c.Set(testCtx(t, 5*time.Second), "after", "x", 0).Err(); err != nil {
		t.Fatalf("SET after the repair: %v", err)
	}
	t.Logf("single node: refused, then started with --repair-storage yes and %d of 1000 keys", left)
}
