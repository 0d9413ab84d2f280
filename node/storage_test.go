package node

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/dynakv/dynakv/node/store"
)

// startOnStore starts a node over st (the node owns it) and returns it, a
// client, and its log.
func startOnStore(t *testing.T, st store.Store) (*Node, *redis.Client, *syncbuf.Buffer) {
	t.Helper()
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := testConfig(t)
	cfg.PeerListen = "127.0.0.1:0"
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
	poll.Until(t, 5*time.Second, "SET to work again", func() bool { return c.Set(ctx, "b", "2", 0).Err() == nil })
	if got := c.Get(ctx, "b").Val(); got != "2" {
		t.Fatalf("GET b = %q after recovery", got)
	}
	if got := infoField(t, c, "persistence", "aof_last_write_status"); got != "ok" {
		t.Fatalf("aof_last_write_status = %s after recovery, want ok", got)
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
	took := poll.Until(t, 10*time.Second, "SET to work again", func() bool { return c.Set(ctx, "b", "2", 0).Err() == nil })
	t.Logf("writes worked again %v after the disk had room", took)
	if got := infoField(t, c, "persistence", "aof_last_write_status"); got != "ok" {
		t.Fatalf("aof_last_write_status = %s after recovery", got)
	}
	if got := c.Get(ctx, "b").Val(); got != "2" {
		t.Fatalf("GET b = %q", got)
	}
	if ldb.Recoveries() != 1 || !strings.Contains(logs.String(), "store: writes work again") {
		t.Fatalf("recoveries %d; log:\n%s", ldb.Recoveries(), logs)
	}
}
