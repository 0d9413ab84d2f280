package resp

import (
	"strconv"
	"strings"
	"testing"
)

// CLIENT REPLY, as redis-server 7.0.15 answers it (recorded from it): the
// replies dropped one by one and in pipelines, and the pushes that still
// arrive.

func TestClientReplyOffOn(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	// Nothing answers OFF, the commands after it, their errors, or SKIP
	// while replies are off; ON answers OK.
	c.send(string(rdEncode([]string{"CLIENT", "REPLY", "OFF"})))
	c.send(string(rdEncode([]string{"SET", "k", "v"})))
	c.send(string(rdEncode([]string{"NOSUCHCOMMAND"})))
	c.send(string(rdEncode([]string{"GET", "k"})))
	c.send(string(rdEncode([]string{"CLIENT", "REPLY", "SKIP"})))
	c.send(string(rdEncode([]string{"INCR", "k"})))
	runRaw(t, c, []rawCase{
		{cmd("CLIENT", "REPLY", "ON"), simple("OK")},
		{cmd("GET", "k"), bulk("v")}, // the SET ran
		{cmd("CLIENT", "REPLY", "ON"), simple("OK")},
		{cmd("CLIENT", "REPLY", "MAYBE"), errReply(errSyntax)},
		{cmd("CLIENT", "REPLY"), errReply("ERR wrong number of arguments for 'client|reply' command")},
	})
}

func TestClientReplySkip(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send(string(rdEncode([]string{"CLIENT", "REPLY", "SKIP"})))
	c.send(string(rdEncode([]string{"PING", "skipped"})))
	if got := c.do("PING", "answered"); got != bulk("answered") {
		t.Fatalf("the command after the skipped one: %q", got)
	}
	// SKIP then ON: ON cancels the skip and answers.
	c.send(string(rdEncode([]string{"CLIENT", "REPLY", "SKIP"})))
	if got := c.do("CLIENT", "REPLY", "ON"); got != simple("OK") {
		t.Fatalf("CLIENT REPLY ON after SKIP: %q", got)
	}
	// SKIP of an error.
	c.send(string(rdEncode([]string{"CLIENT", "REPLY", "SKIP"})))
	c.send(string(rdEncode([]string{"INCR", "k", "extra"})))
	if got := c.do("PING"); got != simple("PONG") {
		t.Fatalf("after a skipped error: %q", got)
	}
}

// TestClientReplyPipelined sends whole pipelines in one write: the data
// commands run concurrently, and the replies that go out are exactly those
// of the commands outside OFF and SKIP, in order.
func TestClientReplyPipelined(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	var req []byte
	add := func(args ...string) { req = append(req, rdEncode(args)...) }
	add("SET", "k1", "v1")
	add("CLIENT", "REPLY", "SKIP")
	add("GET", "k1")
	add("SET", "k2", "v2")
	add("GET", "k2")
	add("CLIENT", "REPLY", "OFF")
	const n = 300
	for i := range n {
		add("INCR", "c")
		add("SET", "k"+strconv.Itoa(i), "x")
	}
	add("GET", "c")
	add("CLIENT", "REPLY", "ON")
	add("GET", "c")
	add("CLIENT", "REPLY", "SKIP")
	add("GET", "c")
	add("GET", "k299")
	c.send(string(req))
	want := []string{simple("OK"), simple("OK"), bulk("v2"), simple("OK"), bulk(strconv.Itoa(n)), bulk("x")}
	for i, w := range want {
		if got := c.read(); got != w {
			t.Fatalf("reply %d: %q, want %q", i, got, w)
		}
	}
	// Nothing else came: the next reply is the next command's.
	if got := c.do("PING"); got != simple("PONG") {
		t.Fatalf("after the pipeline: %q", got)
	}
}

// TestClientReplyPubSub: with replies off, (un)subscribe confirmations and
// messages still arrive, and other replies (PING in subscriber mode) do
// not; Redis's "PubSub messages with CLIENT REPLY OFF", and the keyspace
// notification tests that subscribe after OFF or SKIP.
func TestClientReplyPubSub(t *testing.T) {
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			e := newTestEnv(t)
			sub, pub := e.dial(), e.dial()
			sub.do("HELLO", proto)
			frame := func(kind, name string, n int64) string {
				s := subFrame(kind, name, n)
				if proto == "3" {
					s = ">" + strings.TrimPrefix(s, "*")
				}
				return s
			}
			sub.send(string(rdEncode([]string{"CLIENT", "REPLY", "OFF"})))
			if got := sub.do("SUBSCRIBE", "channel"); got != frame("subscribe", "channel", 1) {
				t.Fatalf("SUBSCRIBE with replies off: %q", got)
			}
			if got := sub.do("PSUBSCRIBE", "ch*"); got != frame("psubscribe", "ch*", 2) {
				t.Fatalf("PSUBSCRIBE with replies off: %q", got)
			}
			sub.send(string(rdEncode([]string{"PING"})))
			if got := pub.do("PUBLISH", "channel", "hello"); got != integer(2) {
				t.Fatalf("PUBLISH: %q", got)
			}
			msg := array(bulk("message"), bulk("channel"), bulk("hello"))
			pmsg := array(bulk("pmessage"), bulk("ch*"), bulk("channel"), bulk("hello"))
			if proto == "3" {
				msg, pmsg = ">"+strings.TrimPrefix(msg, "*"), ">"+strings.TrimPrefix(pmsg, "*")
			}
			for _, want := range []string{msg, pmsg, frame("unsubscribe", "channel", 1)} {
				if want == frame("unsubscribe", "channel", 1) {
					sub.send(string(rdEncode([]string{"UNSUBSCRIBE", "channel"})))
				}
				if got := sub.read(); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			sub.send(string(rdEncode([]string{"CLIENT", "REPLY", "SKIP"})))
			if got := sub.do("PUNSUBSCRIBE", "ch*"); got != frame("punsubscribe", "ch*", 0) {
				t.Fatalf("PUNSUBSCRIBE after SKIP: %q", got)
			}
			if got := sub.do("CLIENT", "REPLY", "ON"); got != simple("OK") {
				t.Fatalf("CLIENT REPLY ON: %q", got)
			}
		})
	}
}
