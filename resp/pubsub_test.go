package resp

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Pub/sub on one node: frames byte for byte as redis-server 7.0 sends them
// (recorded from it), subscriber mode, the order of confirmations and
// messages, CLIENT LIST, and the output buffer limit of a subscriber that
// does not read.

// subFrame is a RESP2 (un)subscribe confirmation.
func subFrame(kind, name string, n int64) string {
	return array(bulk(kind), bulk(name), integer(n))
}

// msgFrame is a RESP2 message; pushMsg is its RESP3 form.
func msgFrame(ch, msg string) string { return array(bulk("message"), bulk(ch), bulk(msg)) }
func pushMsg(ch, msg string) string {
	return ">3\r\n" + bulk("message") + bulk(ch) + bulk(msg)
}

func TestPubSubSubscriberModeRESP2(t *testing.T) {
	e := newTestEnv(t)
	sub, pub := e.dial(), e.dial()
	sub.send(string(rdEncode([]string{"SUBSCRIBE", "a", "b", "a"})))
	for _, want := range []string{subFrame("subscribe", "a", 1), subFrame("subscribe", "b", 2), subFrame("subscribe", "a", 2)} {
		if got := sub.read(); got != want {
			t.Fatalf("SUBSCRIBE: got %q, want %q", got, want)
		}
	}
	refusal := func(name string) string {
		return errReply("ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
	}
	runRaw(t, sub, []rawCase{
		{cmd("PING"), bulks("pong", "")},
		{cmd("PING", "x"), bulks("pong", "x")},
		{cmd("GET", "k"), refusal("get")},
		{cmd("CLIENT", "LIST"), refusal("client|list")},
		{cmd("HELLO", "3"), refusal("hello")},
		{cmd("PSUBSCRIBE", "p*"), subFrame("psubscribe", "p*", 3)},
		{cmd("SSUBSCRIBE", "s"), subFrame("ssubscribe", "s", 1)},
	})
	runRaw(t, pub, []rawCase{
		{cmd("PUBLISH", "a", "hello"), integer(1)},
		{cmd("PUBLISH", "pa", "hi"), integer(1)},
		{cmd("SPUBLISH", "s", "shard"), integer(1)},
		{cmd("SPUBLISH", "a", "not a shard subscriber"), integer(0)},
		{cmd("PUBSUB", "NUMSUB", "a", "b", "c"), array(bulk("a"), integer(1), bulk("b"), integer(1), bulk("c"), integer(0))},
		{cmd("PUBSUB", "NUMPAT"), integer(1)},
		{cmd("PUBSUB", "CHANNELS"), bulks("a", "b")},
		{cmd("PUBSUB", "CHANNELS", "[a]"), bulks("a")},
		{cmd("PUBSUB", "SHARDCHANNELS"), bulks("s")},
		{cmd("PUBSUB", "SHARDNUMSUB", "s"), array(bulk("s"), integer(1))},
	})
	for _, want := range []string{
		msgFrame("a", "hello"),
		array(bulk("pmessage"), bulk("p*"), bulk("pa"), bulk("hi")),
		array(bulk("smessage"), bulk("s"), bulk("shard")),
	} {
		if got := sub.read(); got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
	}
	// UNSUBSCRIBE without arguments: every channel, in subscription order;
	// then a null name once there is none.
	sub.send(string(rdEncode([]string{"UNSUBSCRIBE"})))
	for _, want := range []string{subFrame("unsubscribe", "a", 2), subFrame("unsubscribe", "b", 1)} {
		if got := sub.read(); got != want {
			t.Fatalf("UNSUBSCRIBE: got %q, want %q", got, want)
		}
	}
	runRaw(t, sub, []rawCase{
		{cmd("UNSUBSCRIBE"), array(bulk("unsubscribe"), nullBulk, integer(1))},
		{cmd("PUNSUBSCRIBE", "p*"), subFrame("punsubscribe", "p*", 0)},
		{cmd("PUNSUBSCRIBE", "q*"), subFrame("punsubscribe", "q*", 0)},
		// A shard subscription alone keeps the connection in subscriber mode.
		{cmd("GET", "k"), refusal("get")},
		{cmd("RESET"), simple("RESET")},
		{cmd("GET", "k"), nullBulk},
		{cmd("PING"), simple("PONG")},
	})
	runRaw(t, pub, []rawCase{{cmd("PUBLISH", "a", "gone"), integer(0)}, {cmd("PUBSUB", "SHARDNUMSUB", "s"), array(bulk("s"), integer(0))}})
}

func TestPubSubPushFramesRESP3(t *testing.T) {
	e := newTestEnv(t)
	sub, pub := e.dial(), e.dial()
	sub.do("HELLO", "3")
	runRaw(t, sub, []rawCase{
		{cmd("SUBSCRIBE", "r"), ">3\r\n" + bulk("subscribe") + bulk("r") + integer(1)},
		{cmd("PING"), simple("PONG")}, // any command runs in RESP3
		{cmd("GET", "k"), nullResp3},
	})
	runRaw(t, pub, []rawCase{{cmd("PUBLISH", "r", "hi"), integer(1)}})
	if got := sub.read(); got != pushMsg("r", "hi") {
		t.Fatalf("push: got %q", got)
	}
	// A subscriber publishing to itself gets the message before the reply,
	// as from redis-server.
	sub.send(string(rdEncode([]string{"PUBLISH", "r", "self"})))
	if got, want := sub.read()+sub.read(), pushMsg("r", "self")+integer(1); got != want {
		t.Fatalf("self publish: got %q, want %q", got, want)
	}
	// HELLO 2 while subscribed: subscriber mode, and messages as arrays.
	sub.do("HELLO", "2")
	runRaw(t, pub, []rawCase{{cmd("PUBLISH", "r", "two"), integer(1)}})
	if got := sub.read(); got != msgFrame("r", "two") {
		t.Fatalf("after HELLO 2: got %q", got)
	}
	runRaw(t, sub, []rawCase{{cmd("UNSUBSCRIBE"), subFrame("unsubscribe", "r", 0)}})
	sub.do("HELLO", "3")
	runRaw(t, sub, []rawCase{{cmd("SUNSUBSCRIBE"), ">3\r\n" + bulk("sunsubscribe") + nullResp3 + integer(0)}})
}

func TestPubSubMessagesFollowTheConfirmationInOrder(t *testing.T) {
	e := newTestEnv(t)
	// A publisher hammers the channel while the subscriber subscribes: the
	// first frame must be the confirmation, then messages in publish order
	// with no gap once they start.
	pub := e.dial()
	const total, chunk = 3000, 100
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < total; i += chunk {
			if i == 5*chunk {
				close(started)
			}
			var b strings.Builder
			for j := i; j < i+chunk; j++ {
				b.Write(rdEncode([]string{"PUBLISH", "ord", fmt.Sprint(j)}))
			}
			pub.send(b.String())
			for range chunk {
				if _, err := readReply(pub.r); err != nil {
					return
				}
			}
		}
	}()
	<-started // subscribe while messages are being published
	sub := e.dial()
	sub.send(string(rdEncode([]string{"SUBSCRIBE", "ord"})))
	if got := sub.read(); got != subFrame("subscribe", "ord", 1) {
		t.Fatalf("first frame %q, want the confirmation", got)
	}
	<-done
	sub.send(string(rdEncode([]string{"PING", "end"})))
	last := -1
	for {
		got := sub.read()
		if got == bulks("pong", "end") {
			break
		}
		v := strs(t, decode(t, got))
		var n int
		fmt.Sscan(v[2], &n)
		if last >= 0 && n != last+1 {
			t.Fatalf("message %d after %d", n, last)
		}
		last = n
	}
	if last != total-1 {
		t.Fatalf("the last message received is %d, want %d", last, total-1)
	}
}

func TestPubSubClientListAndKill(t *testing.T) {
	e := newTestEnv(t)
	sub, other := e.dial(), e.dial()
	sub.do("SUBSCRIBE", "x", "y")
	sub.read()
	sub.do("PSUBSCRIBE", "z*")
	sub.do("SSUBSCRIBE", "s")
	list := decode(t, other.do("CLIENT", "LIST", "TYPE", "pubsub")).(string)
	if strings.Count(list, "\n") != 1 || !strings.Contains(list, " flags=P ") || !strings.Contains(list, " sub=2 psub=1 ssub=1 ") {
		t.Fatalf("CLIENT LIST TYPE pubsub = %q", list)
	}
	normal := decode(t, other.do("CLIENT", "LIST", "TYPE", "normal")).(string)
	if strings.Contains(normal, "flags=P") || strings.Count(normal, "\n") != 1 {
		t.Fatalf("CLIENT LIST TYPE normal = %q", normal)
	}
	if got := other.do("CLIENT", "KILL", "TYPE", "pubsub"); got != integer(1) {
		t.Fatalf("CLIENT KILL TYPE pubsub = %q", got)
	}
	sub.expectClosed()
	// The subscriptions go with the connection.
	waitFor(t, "the killed subscriber's subscriptions to go", func() bool {
		return other.do("PUBSUB", "NUMSUB", "x") == array(bulk("x"), integer(0)) && other.do("PUBSUB", "NUMPAT") == integer(0)
	})
}

func TestPubSubRelayAndDeliver(t *testing.T) {
	var mu sync.Mutex
	var relayed []string
	e := newTestEnv(t, func(cfg *Config) {
		cfg.Relay = func(shard bool, ch, msg []byte) {
			mu.Lock()
			relayed = append(relayed, fmt.Sprint(shard, " ", string(ch), " ", string(msg)))
			mu.Unlock()
		}
	})
	sub, pub := e.dial(), e.dial()
	sub.do("SUBSCRIBE", "c")
	runRaw(t, pub, []rawCase{{cmd("PUBLISH", "c", "m1"), integer(1)}, {cmd("SPUBLISH", "c", "m2"), integer(0)}})
	mu.Lock()
	if strings.Join(relayed, "|") != "false c m1|true c m2" {
		t.Fatalf("relayed %q", relayed)
	}
	mu.Unlock()
	// A message from another node reaches the subscriber.
	if n := e.srv.Deliver(false, []byte("c"), []byte("remote")); n != 1 {
		t.Fatalf("Deliver = %d", n)
	}
	if got := sub.read() + sub.read(); got != msgFrame("c", "m1")+msgFrame("c", "remote") {
		t.Fatalf("got %q", got)
	}
}

func TestPubSubGoRedis(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	ps := c.Subscribe(ctx, "news")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	psp := c.PSubscribe(ctx, "n*")
	defer psp.Close()
	if _, err := psp.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Publish(ctx, "news", "hello").Result(); err != nil || n != 2 {
		t.Fatalf("PUBLISH = %d, %v", n, err)
	}
	m, err := ps.ReceiveMessage(ctx)
	if err != nil || m.Channel != "news" || m.Payload != "hello" {
		t.Fatalf("message %+v, %v", m, err)
	}
	m, err = psp.ReceiveMessage(ctx)
	if err != nil || m.Pattern != "n*" || m.Payload != "hello" {
		t.Fatalf("pmessage %+v, %v", m, err)
	}
	if got, err := c.PubSubNumSub(ctx, "news").Result(); err != nil || got["news"] != 1 {
		t.Fatalf("NUMSUB = %v, %v", got, err)
	}
}

// TestPubSubSlowSubscriberIsClosed: a subscriber that does not read is
// closed when its output buffer reaches the pubsub class's hard limit;
// its buffer never grows far past it, and publishers never wait for it.
func TestPubSubSlowSubscriberIsClosed(t *testing.T) {
	const hard = 256 << 10
	e := newTestEnv(t, func(cfg *Config) { cfg.PubSubOutputLimit = &OutputLimit{Hard: hard} })
	sub := e.dial()
	sub.do("SUBSCRIBE", "flood")
	sub.nc.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4 << 10)
	pub := e.client()
	msg := strings.Repeat("x", 16<<10)
	var peak int64
	start := time.Now()
	closed := false
	for i := 0; i < 10000 && time.Since(start) < 20*time.Second; i++ {
		if err := pub.Publish(ctx, "flood", msg).Err(); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, e.srv.stats.peakOutput.Load())
		if e.srv.stats.obufDisconnects.Load() == 1 {
			closed = true
			break
		}
	}
	if !closed {
		t.Fatalf("the subscriber was not closed (peak output buffer %d)", peak)
	}
	if peak > hard+int64(len(msg))+1024 {
		t.Fatalf("peak output buffer %d, over the hard limit %d by more than a message", peak, hard)
	}
	waitFor(t, "the closed subscriber to leave the channel", func() bool {
		n, _ := pub.PubSubNumSub(ctx, "flood").Result()
		return n["flood"] == 0
	})
	if n := pub.Publish(ctx, "flood", "x").Val(); n != 0 {
		t.Fatalf("PUBLISH after the close reached %d", n)
	}
}

func TestPubSubInfoStats(t *testing.T) {
	e := newTestEnv(t)
	sub, other := e.dial(), e.dial()
	sub.do("SUBSCRIBE", "a")
	sub.do("PSUBSCRIBE", "p*")
	sub.do("SSUBSCRIBE", "s")
	stats := decode(t, other.do("INFO", "stats")).(string)
	for _, want := range []string{"pubsub_channels:1\r\n", "pubsub_patterns:1\r\n", "pubsubshard_channels:1\r\n"} {
		if !strings.Contains(stats, want) {
			t.Errorf("INFO stats lacks %q:\n%s", want, stats)
		}
	}
}
