package node

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/redis/go-redis/v9"
)

// TestKeyspaceNotificationsAcrossThreeNodes: with notify_keyspace_events
// set at start, a subscriber on node 3 gets the events of writes made
// through node 1, once each and in command order, over the TCP peer
// transport; the replicas that store the writes publish nothing of their
// own.
func TestKeyspaceNotificationsAcrossThreeNodes(t *testing.T) {
	var nodes []*Node
	var cl []*redis.Client
	for i := range 3 {
		cfg := testConfig(t)
		cfg.NodeID = fmt.Sprint("kn-", i+1)
		cfg.PeerListen = "127.0.0.1:0"
		cfg.AntiEntropyInterval = 0
		cfg.NotifyKeyspaceEvents = "KEA"
		if i > 0 {
			cfg.Seeds = []string{nodes[0].GossipAddr()}
		}
		n, c := startNode(t, cfg)
		nodes = append(nodes, n)
		cl = append(cl, c)
	}
	poll.Until(t, 30*time.Second, "every node to see the three members alive", func() bool {
		for _, n := range nodes {
			m := n.cluster.members()
			if m == nil || len(m.Set().Members()) != len(nodes) {
				return false
			}
			for _, o := range nodes {
				if m.Liveness(o.cfg.NodeID) != membership.LiveAlive {
					return false
				}
			}
		}
		return true
	})
	ctx := context.Background()
	if got := cl[2].ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]; got != "AKE" {
		t.Fatalf("CONFIG GET notify-keyspace-events on node 3 = %q, want AKE", got)
	}
	sub := cl[2].PSubscribe(ctx, "__key*__:*", "marker")
	defer sub.Close()
	for range 2 {
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// One connection to node 1, so its writes are published in order.
	c1 := cl[0].Conn()
	defer c1.Close()
	for _, args := range [][]any{
		{"SET", "k", "v"}, {"SADD", "s", "a", "b"}, {"HSET", "h", "f", "1"},
		{"EXPIRE", "k", "100"}, {"SREM", "s", "a", "b"}, {"DEL", "k", "h"},
	} {
		if err := c1.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if err := c1.Publish(ctx, "marker", "end").Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		m, err := sub.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if m.Channel == "marker" {
			break
		}
		got = append(got, m.Channel+" "+m.Payload)
	}
	var want []string
	for _, e := range [][2]string{
		{"k", "set"}, {"s", "sadd"}, {"h", "hset"}, {"k", "expire"}, {"s", "srem"}, {"s", "del"}, {"k", "del"}, {"h", "del"},
	} {
		want = append(want, "__keyspace@0__:"+e[0]+" "+e[1], "__keyevent@0__:"+e[1]+" "+e[0])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("node 3's subscriber got\n%q\nwant\n%q", got, want)
	}
	// CONFIG SET is per node, as in Redis Cluster: node 2 with
	// notifications off publishes nothing for its writes.
	if err := cl[1].ConfigSet(ctx, "notify-keyspace-events", "").Err(); err != nil {
		t.Fatal(err)
	}
	// dynakv's own setting shows the value now, not the one at start.
	if got := cl[1].ConfigGet(ctx, "notify_keyspace_events").Val(); len(got) != 1 || got["notify_keyspace_events"] != "" {
		t.Fatalf("CONFIG GET notify_keyspace_events on node 2 = %q, want it empty", got)
	}
	if err := cl[1].Set(ctx, "quiet", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := cl[1].Publish(ctx, "marker", "end2").Err(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if m, err := sub.ReceiveMessage(rctx); err != nil || m.Channel != "marker" || m.Payload != "end2" {
		t.Fatalf("after a write through node 2 with notifications off: %v, %v", m, err)
	}
}
