package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

func testConfig(t *testing.T) conf.Config {
	cfg := conf.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.GossipListen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	return cfg
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNode opens and starts a node on a real goleveldb in a temp dir,
// listening on a free port.
func startNode(t *testing.T, cfg conf.Config) (*Node, *redis.Client) {
	t.Helper()
	n, err := Open(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	c := redis.NewClient(&redis.Options{Addr: n.Addr()})
	t.Cleanup(func() { c.Close() })
	return n, c
}

func TestNodeSiblingsThroughGoRedis(t *testing.T) {
	_, c := startNode(t, testConfig(t))
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v0", 0).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := c.Do(ctx, "VGET", "k").StringSlice()
	if err != nil || len(res) != 2 || res[1] != "v0" {
		t.Fatalf("VGET = %v, %v", res, err)
	}
	stale := res[0]
	for _, v := range []string{"a", "b"} {
		if err := c.Do(ctx, "VSET", "k", stale, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	res, _ = c.Do(ctx, "VGET", "k").StringSlice()
	if len(res) != 3 || res[1] != "a" || res[2] != "b" {
		t.Fatalf("VGET after two writes with the same stale context = %v, want [ctx a b]", res)
	}
	if got := c.Get(ctx, "k").Val(); got != "b" {
		t.Fatalf("GET = %q, want the newest sibling b", got)
	}
	if err := c.Do(ctx, "VSET", "k", res[0], "ab").Err(); err != nil {
		t.Fatal(err)
	}
	res, _ = c.Do(ctx, "VGET", "k").StringSlice()
	if len(res) != 2 || res[1] != "ab" {
		t.Fatalf("VGET after merge = %v", res)
	}
	if err := c.Do(ctx, "VSET", "k", "garbage!", "x").Err(); err == nil || err.Error() != "ERR invalid context" {
		t.Fatalf("bad context: err = %v", err)
	}
	if err := c.Do(ctx, "VDEL", "k", res[0]).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, "k").Result(); n != 0 {
		t.Fatal("key exists after VDEL")
	}
	if res, _ := c.Do(ctx, "VGET", "k").StringSlice(); len(res) != 0 {
		t.Fatalf("VGET after VDEL = %v, want empty", res)
	}
}

// TestNodeRestartKeepsVersionsAndCounters: after a clean restart the data,
// siblings, actor id and dot counters survive, so new writes never reuse a
// dot.
func TestNodeRestartKeepsVersionsAndCounters(t *testing.T) {
	cfg := testConfig(t)
	n, c := startNode(t, cfg)
	ctx := context.Background()
	c.Do(ctx, "VSET", "cart", "", "x")
	c.Do(ctx, "VSET", "cart", "", "y")
	actor := n.local.Actor()
	c.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2, c2 := startNode(t, cfg)
	if n2.local.Actor() != actor {
		t.Fatal("actor id changed across restart")
	}
	res, _ := c2.Do(ctx, "VGET", "cart").StringSlice()
	if len(res) != 3 {
		t.Fatalf("VGET after restart = %v, want two siblings", res)
	}
	c2.Do(ctx, "VSET", "cart", "", "z")
	o, err := n2.local.Read(ctx, []byte("cart"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[replication.Dot]bool{}
	for _, s := range o.Siblings {
		if seen[s.Dot] {
			t.Fatalf("dot %v reused after restart", s.Dot)
		}
		seen[s.Dot] = true
	}
	if len(seen) != 3 {
		t.Fatalf("%d siblings, want 3", len(seen))
	}
}

func TestNodeConcurrentClients(t *testing.T) {
	_, c := startNode(t, testConfig(t))
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				key := fmt.Sprintf("w%d:%d", w, i)
				if err := c.Set(ctx, key, key, 0).Err(); err != nil {
					t.Error(err)
					return
				}
				if got := c.Get(ctx, key).Val(); got != key {
					t.Errorf("GET %s = %q", key, got)
					return
				}
				// Everyone also writes one shared key with an empty context.
				c.Do(ctx, "VSET", "shared", "", key)
			}
		}()
	}
	wg.Wait()
	if n := c.DBSize(ctx).Val(); n != 8*200+1 {
		t.Fatalf("DBSIZE = %d, want %d", n, 8*200+1)
	}
	res, _ := c.Do(ctx, "VGET", "shared").StringSlice()
	if len(res) != 8*200+1 {
		t.Fatalf("shared key has %d siblings, want %d: no blind write may be lost", len(res)-1, 8*200)
	}
	info := c.Info(ctx, "keyspace").Val()
	if !strings.Contains(info, "db0:keys=1601,") {
		t.Fatalf("INFO keyspace = %q", info)
	}
}

// TestNodeRingCommands: RING KEY, PARTITIONS and MEMBERS answer from the
// ring package on a single node.
func TestNodeRingCommands(t *testing.T) {
	cfg := testConfig(t)
	cfg.Partitions = 64
	n, c := startNode(t, cfg)
	ctx := context.Background()
	id := n.cfg.NodeID
	res, err := c.Do(ctx, "RING", "KEY", "user:42").Result()
	if err != nil {
		t.Fatal(err)
	}
	// A RESP3 map (go-redis sends HELLO 3): key, partition, preference_list.
	m, ok := res.(map[any]any)
	if !ok {
		t.Fatalf("RING KEY reply %T, want a map", res)
	}
	if got, want := m["partition"], int64(ring.HashKey([]byte("user:42")).Partition(64)); got != want {
		t.Fatalf("RING KEY partition = %v, want %d", got, want)
	}
	prefs, _ := m["preference_list"].([]any)
	if len(prefs) != 1 || fmt.Sprint(prefs[0].([]any)[0]) != id || fmt.Sprint(prefs[0].([]any)[3]) != "replica" {
		t.Fatalf("RING KEY preference_list = %v", m["preference_list"])
	}
	parts, err := c.Do(ctx, "RING", "PARTITIONS").Slice()
	if err != nil || len(parts) != 64 {
		t.Fatalf("RING PARTITIONS: %d rows, %v", len(parts), err)
	}
	for _, row := range parts {
		r := row.([]any)
		if reps := r[3].([]any); len(reps) != 1 || reps[0] != id {
			t.Fatalf("partition %v replicas %v", r[0], reps)
		}
	}
	members, err := c.Do(ctx, "RING", "MEMBERS").Slice()
	if err != nil || len(members) != 1 {
		t.Fatalf("RING MEMBERS = %v, %v", members, err)
	}
	status, err := c.Do(ctx, "RING", "STATUS").Result()
	if err != nil || !strings.Contains(fmt.Sprint(status), "ring_version") {
		t.Fatalf("RING STATUS = %v, %v", status, err)
	}
}

// TestNodePartitionsFixedAtCreation: a data directory keeps the partition
// count it was created with, and a node started with another refuses to
// open, naming the setting.
func TestNodePartitionsFixedAtCreation(t *testing.T) {
	cfg := testConfig(t)
	cfg.Partitions = 256
	n, err := Open(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	cfg.Partitions = 512
	if n, err := Open(cfg, quiet); err == nil {
		n.Close()
		t.Fatal("opened a 256-partition data directory with partitions=512")
	} else if !strings.Contains(err.Error(), "partitions") {
		t.Fatalf("error does not name the setting: %v", err)
	}
	cfg.Partitions = 256
	n, err = Open(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
}

// TestNodeCommandInfoParsesInGoRedis: go-redis parses COMMAND's reply into
// CommandInfo (cluster and ring clients call it at start), in RESP3 and
// RESP2, with Redis 7's arity and key positions.
func TestNodeCommandInfoParsesInGoRedis(t *testing.T) {
	n, c := startNode(t, testConfig(t))
	ctx := context.Background()
	for _, cl := range []*redis.Client{c, redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 2})} {
		cmds, err := cl.Command(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		get, ok := cmds["get"]
		if !ok || get.Arity != 2 || get.FirstKeyPos != 1 || get.LastKeyPos != 1 || !get.ReadOnly {
			t.Fatalf("COMMAND get = %+v", get)
		}
		if mset := cmds["mset"]; mset == nil || mset.Arity != -3 || mset.LastKeyPos != -1 || mset.StepCount != 2 {
			t.Fatalf("COMMAND mset = %+v", mset)
		}
		if vset := cmds["vset"]; vset == nil || vset.Arity != -4 {
			t.Fatalf("COMMAND vset = %+v", vset)
		}
		if cl != c {
			cl.Close()
		}
	}
}
