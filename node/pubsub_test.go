package node

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/node/membership"
)

// Pub/sub across three real nodes in one process: goleveldb stores, the
// TCP peer transport, memberlist gossip on 127.0.0.1.

// startPubSubCluster starts three nodes that gossip with each other and
// waits until each sees the three alive.
func startPubSubCluster(t *testing.T) ([]*Node, []*redis.Client) {
	t.Helper()
	var nodes []*Node
	var clients []*redis.Client
	for i := range 3 {
		cfg := testConfig(t)
		cfg.NodeID = fmt.Sprint("ps-", i+1)
		cfg.PeerListen = "127.0.0.1:0"
		cfg.AntiEntropyInterval = 0
		if i > 0 {
			cfg.Seeds = []string{nodes[0].GossipAddr()}
		}
		n, c := startNode(t, cfg)
		nodes = append(nodes, n)
		clients = append(clients, c)
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
	return nodes, clients
}

func TestPubSubAcrossThreeNodes(t *testing.T) {
	nodes, cl := startPubSubCluster(t)
	ctx := context.Background()
	// A subscriber on node 3 (go-redis speaks RESP3 and reads push frames).
	sub := cl[2].Subscribe(ctx, "news")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	psub := cl[2].PSubscribe(ctx, "n*")
	defer psub.Close()
	if _, err := psub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	local := cl[0].Subscribe(ctx, "news") // and one on node 1
	defer local.Close()
	if _, err := local.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	// PUBLISH answers the receivers on the node it is sent to.
	for i, want := range []int64{1, 0, 2} {
		n, err := cl[i].Publish(ctx, "news", fmt.Sprint("from node ", i+1)).Result()
		if err != nil || n != want {
			t.Fatalf("PUBLISH through node %d = %d, %v; want %d (its local receivers)", i+1, n, err, want)
		}
	}
	// PUBSUB counts are the node's own.
	if got := cl[0].PubSubNumSub(ctx, "news").Val()["news"]; got != 1 {
		t.Fatalf("NUMSUB on node 1 = %d", got)
	}
	if got := cl[2].PubSubNumPat(ctx).Val(); got != 1 {
		t.Fatalf("NUMPAT on node 3 = %d", got)
	}
	receive := func(ps *redis.PubSub, what string) *redis.Message {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		m, err := ps.ReceiveMessage(rctx)
		if err != nil {
			for i, n := range nodes {
				st := &n.cluster.relay.stats
				t.Logf("node %d relay: sent %d dropped %d failed %d received %d stale %d", i+1, st.sent.Load(), st.dropped.Load(), st.failed.Load(), st.received.Load(), st.stale.Load())
			}
			t.Fatalf("%s: %v", what, err)
		}
		return m
	}
	// Every subscriber gets every message once, whichever node it went
	// through (messages of different publishers in any order).
	for _, ps := range []struct {
		ps   *redis.PubSub
		what string
	}{{sub, "node 3's subscriber"}, {psub, "node 3's pattern subscriber"}, {local, "node 1's subscriber"}} {
		seen := map[string]int{}
		for range 3 {
			seen[receive(ps.ps, ps.what).Payload]++
		}
		for i := range 3 {
			if from := fmt.Sprint("from node ", i+1); seen[from] != 1 {
				t.Fatalf("%s got %v", ps.what, seen)
			}
		}
	}
	// Order: one publisher connection's messages arrive in order, pipelined.
	const total = 500
	pipe := cl[1].Pipeline()
	for i := range total {
		pipe.Publish(ctx, "news", fmt.Sprint(i))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range total {
		if m := receive(sub, "ordered messages"); m.Payload != fmt.Sprint(i) {
			t.Fatalf("message %d is %q", i, m.Payload)
		}
	}
	// Shard channels travel too.
	ssub := cl[2].SSubscribe(ctx, "orders")
	defer ssub.Close()
	if _, err := ssub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl[0].SPublish(ctx, "orders", "o1").Err(); err != nil {
		t.Fatal(err)
	}
	if m := receive(ssub, "shard subscriber"); m.Payload != "o1" || m.Channel != "orders" {
		t.Fatalf("shard message %+v", m)
	}
	st := &nodes[1].cluster.relay.stats
	if st.dropped.Load() != 0 || st.failed.Load() != 0 || st.sent.Load() < total {
		t.Fatalf("node 2 relay: sent %d dropped %d failed %d", st.sent.Load(), st.dropped.Load(), st.failed.Load())
	}
}

// TestPubSubRelayDropsStaleBatches: a batch older than one delivered from
// the same sender process is dropped, so a late batch cannot overtake.
func TestPubSubRelayDropsStaleBatches(t *testing.T) {
	c := &cluster{}
	c.relay = newRelay(c, quiet)
	var got []string
	c.relay.deliver = func(shard bool, ch, msg []byte) int {
		got = append(got, fmt.Sprintf("%v %v %s", shard, ch != nil, msg))
		return 1
	}
	send := func(inc, seq uint64, msg string) {
		t.Helper()
		req := appendPublish(nil, publishMsg{sender: "a", incarnation: inc, seq: seq, msgs: []pubMsg{{channel: []byte("c"), message: []byte(msg)}}})
		if _, err := c.servePublish(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	send(1, 1, "one")
	send(1, 3, "three")
	send(1, 2, "two, late") // dropped
	send(1, 3, "three again")
	send(2, 1, "restarted sender") // a new incarnation starts over
	if want := "false true one|false true three|false true restarted sender"; strings.Join(got, "|") != want {
		t.Fatalf("delivered %q, want %q", strings.Join(got, "|"), want)
	}
	if n := c.relay.stats.stale.Load(); n != 2 {
		t.Fatalf("stale = %d, want 2", n)
	}
}

// TestPubSubRelayQueueIsBounded: a peer's queue drops what does not fit,
// by count and by bytes, and batches keep the order.
func TestPubSubRelayQueueIsBounded(t *testing.T) {
	r := newRelay(&cluster{}, quiet)
	q := &relayQueue{id: "p", wake: make(chan struct{}, 1)}
	for i := range maxRelayQueue + 10 {
		q.push(r, pubMsg{channel: []byte("c"), message: []byte(fmt.Sprint(i))})
	}
	if len(q.q) != maxRelayQueue || r.stats.dropped.Load() != 10 {
		t.Fatalf("queue %d, dropped %d", len(q.q), r.stats.dropped.Load())
	}
	next := 0
	for b := q.take(); len(b) > 0; b = q.take() {
		for _, m := range b {
			if string(m.message) != fmt.Sprint(next) {
				t.Fatalf("message %q, want %d", m.message, next)
			}
			next++
		}
	}
	big := bytes.Repeat([]byte("x"), maxRelayBytes/2)
	q.push(r, pubMsg{channel: []byte("c"), message: big})
	q.push(r, pubMsg{channel: []byte("c"), message: big})
	if len(q.q) != 1 || r.stats.dropped.Load() != 11 {
		t.Fatalf("by bytes: queue %d, dropped %d", len(q.q), r.stats.dropped.Load())
	}
}

func TestPubSubOutputLimitSetting(t *testing.T) {
	for setting, want := range map[string]string{
		"normal 256mb 64mb 60":                      "{33554432 8388608 1m0s}",
		"normal 0 0 0 pubsub 1mb 512kb 10":          "{1048576 524288 10s}",
		"pubsub 0 0 0":                              "{0 0 0s}",
		"normal 1gb 0 0 slave 1 1 1 PUBSUB 2kb 0 5": "{2048 0 5s}",
	} {
		if got := fmt.Sprint(pubsubOutputLimit(setting)); got != want {
			t.Errorf("%q: %s, want %s", setting, got, want)
		}
	}
}
