package resp

import (
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// partitionOf is the partition fakeView.KeyInfo reports for key.
func partitionOf(key string) int { return ring.HashKey([]byte(key)).Partition(8) }

// check sends one command on c now and checks its reply.
func check(t *testing.T, c *rawConn, want string, args ...string) {
	t.Helper()
	if got := c.do(args...); got != want {
		t.Errorf("%q:\n got %q\nwant %q", args, got, want)
	}
}

// context returns the context VGET hands out for key now.
func (e *testEnv) context(key string) string {
	return replication.EncodeContext(e.local.object(key).Context())
}

func TestVersionedSiblings(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	check(t, c, array(), "VGET", "k")
	check(t, c, okReply, "VSET", "k", "", "v1")
	ctx1 := e.context("k")
	if ctx1 == "" {
		t.Fatal("empty context after a write")
	}
	check(t, c, bulks(ctx1, "v1"), "VGET", "k")

	// A write with the empty context is concurrent with v1: both stay,
	// oldest write first; GET answers with the newest.
	e.clock.Advance(time.Millisecond)
	check(t, c, okReply, "VSET", "k", "", "v2")
	check(t, c, bulks(e.context("k"), "v1", "v2"), "VGET", "k")
	check(t, c, bulk("v2"), "GET", "k")
	// A write with v1's context replaces v1 only.
	e.clock.Advance(time.Millisecond)
	check(t, c, okReply, "VSET", "k", ctx1, "v3")
	check(t, c, bulks(e.context("k"), "v2", "v3"), "VGET", "k")
	// A write with the context of both replaces both: the client merged.
	check(t, c, okReply, "VSET", "k", e.context("k"), "merged")
	check(t, c, bulks(e.context("k"), "merged"), "VGET", "k")
	check(t, c, bulk("merged"), "GET", "k")
	// A plain SET replaces every sibling too.
	check(t, c, okReply, "VSET", "k", "", "again")
	check(t, c, okReply, "SET", "k", "plain")
	check(t, c, bulks(e.context("k"), "plain"), "VGET", "k")
	// VDEL with the current context deletes the key; the state keeps one
	// tombstone.
	check(t, c, okReply, "VDEL", "k", e.context("k"))
	check(t, c, array(), "VGET", "k")
	check(t, c, nullBulk, "GET", "k")
	check(t, c, integer(0), "EXISTS", "k")
	if o := e.local.object("k"); o.Len() != 1 || !o.Siblings[0].Tombstone {
		t.Fatalf("state after VDEL: %+v", o)
	}
	// VDEL with a stale context leaves the writes it has not seen.
	check(t, c, okReply, "VSET", "d", "", "a")
	ctxA := e.context("d")
	check(t, c, okReply, "VSET", "d", ctxA, "b")
	check(t, c, okReply, "VDEL", "d", ctxA)
	check(t, c, bulks(e.context("d"), "b"), "VGET", "d")
}

func TestVersionedOptions(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	check(t, c, okReply, "VSET", "k", "", "v", "W", "1")
	check(t, c, okReply, "VSET", "k", "", "v", "w", "5") // clamped to N
	both := bulks(e.context("k"), "v", "v")
	runRaw(t, c, []rawCase{
		{cmd("VGET", "k", "R", "1"), both},
		{cmd("VGET", "k", "r", "3", "LOCAL"), both},
		{cmd("VGET", "k", "LOCAL"), both},
		{cmd("VGET", "nokey", "LOCAL"), array()},

		{cmd("VSET", "e", "", "v", "EX", "10"), okReply},
		{cmd("PTTL", "e"), integer(10000)},
		{cmd("VSET", "p", "", "v", "PX", "1500", "W", "1"), okReply},
		{cmd("PTTL", "p"), integer(1500)},

		{cmd("VGET", "k", "R", "0"), errReply("ERR quorum must be at least 1")},
		{cmd("VGET", "k", "R", "65537"), errReply("ERR quorum must be at least 1")},
		{cmd("VGET", "k", "R", "x"), errReply(errNotInteger)},
		{cmd("VGET", "k", "R"), errReply(errSyntax)},
		{cmd("VGET", "k", "BOGUS"), errReply(errSyntax)},
		{cmd("VSET", "k", "", "v", "W", "0"), errReply("ERR quorum must be at least 1")},
		{cmd("VSET", "k", "", "v", "W", "x"), errReply(errNotInteger)},
		{cmd("VSET", "k", "", "v", "W"), errReply(errSyntax)},
		{cmd("VSET", "k", "", "v", "EX", "0"), errReply("ERR invalid expire time in 'vset' command")},
		{cmd("VSET", "k", "", "v", "PX", "x"), errReply(errNotInteger)},
		{cmd("VSET", "k", "", "v", "EX", "10", "PX", "10"), errReply(errSyntax)},
		{cmd("VSET", "k", "", "v", "EXAT", "10"), errReply(errSyntax)},
		{cmd("VSET", "k", "not a context", "v"), errReply(errInvalidCtx)},
		{cmd("VSET", "k", "AAAA", "v"), errReply(errInvalidCtx)},
		{cmd("VDEL", "k", "!"), errReply(errInvalidCtx)},
		{cmd("VDEL", "k", "", "EX", "10"), errReply(errSyntax)},
		{cmd("VDEL", "k", "", "W", "0"), errReply("ERR quorum must be at least 1")},
		{cmd("VSET", "k", ""), errReply("ERR wrong number of arguments for 'vset' command")},
		{cmd("VDEL", "k"), errReply("ERR wrong number of arguments for 'vdel' command")},
		{cmd("VGET"), errReply("ERR wrong number of arguments for 'vget' command")},
		// Failed writes wrote nothing.
		{cmd("VGET", "k"), both},
	})
	check(t, c, okReply, "VDEL", "k", e.context("k"), "W", "1")
	check(t, c, array(), "VGET", "k")

	// Expired siblings are not live.
	check(t, c, okReply, "VSET", "x", "", "short", "PX", "100")
	check(t, c, okReply, "VSET", "x", "", "long")
	check(t, c, bulks(e.context("x"), "short", "long"), "VGET", "x")
	e.clock.Advance(100 * time.Millisecond)
	check(t, c, bulks(e.context("x"), "long"), "VGET", "x")
	check(t, c, integer(1400), "PTTL", "p")
	e.clock.Advance(1400 * time.Millisecond)
	check(t, c, array(), "VGET", "p")
}

// TestVersionedGoRedis reads siblings and writes back their context as a
// go-redis application would, with Do.
func TestVersionedGoRedis(t *testing.T) {
	e := newTestEnv(t)
	rdb := e.client()
	for _, v := range []string{"a", "b"} {
		if err := rdb.Do(ctx, "VSET", "k", "", v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := rdb.Do(ctx, "VGET", "k").StringSlice()
	if err != nil || len(got) != 3 || got[1] != "a" || got[2] != "b" {
		t.Fatalf("VGET = %q, %v", got, err)
	}
	if err := rdb.Do(ctx, "VSET", "k", got[0], strings.Join(got[1:], "+")).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); v != "a+b" || err != nil {
		t.Fatalf("GET after resolving = %q, %v", v, err)
	}
	if got, err := rdb.Do(ctx, "VGET", "k").StringSlice(); err != nil || len(got) != 2 || got[1] != "a+b" {
		t.Fatalf("VGET after resolving = %q, %v", got, err)
	}
}

func TestRing(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("RING", "KEY", "user:1"), array(bulk("key"), bulk("user:1"), bulk("partition"), integer(int64(partitionOf("user:1"))), bulk("preference_list"),
			array(bulks("n1", "10.0.0.1:7379", "up", "replica"), bulks("n2", "10.0.0.2:7379", "down", "fallback")))},
		{cmd("RING", "PARTITIONS"), array(
			array(integer(0), bulk("0000000000000000"), bulk("7fffffffffffffff"), bulks("n1", "n2")),
			array(integer(1), bulk("8000000000000000"), bulk("ffffffffffffffff"), bulks("n2")))},
		{cmd("RING", "MEMBERS"), array(
			array(bulk("id"), bulk("n1"), bulk("addr"), bulk("10.0.0.1:7379"), bulk("state"), bulk("up"),
				bulk("weight"), integer(1), bulk("partitions"), integer(8), bulk("keys"), integer(3)),
			array(bulk("id"), bulk("n2"), bulk("addr"), bulk("10.0.0.2:7379"), bulk("state"), bulk("down"),
				bulk("weight"), integer(2), bulk("partitions"), integer(16), bulk("keys"), integer(0)))},
		{cmd("RING", "STATUS"), bulks("ring_version", "7", "transfers_pending", "0")},
		{cmd("RING", "REMOVE", "n9"), errReply(`ERR no node "n9" in the ring`)},
		{cmd("RING", "REMOVE", "n2"), okReply},
		{cmd("RING"), errReply("ERR wrong number of arguments for 'ring' command")},
		{cmd("RING", "KEY"), errReply("ERR wrong number of arguments for 'ring|key' command")},
		{cmd("RING", "JOIN"), errReply("ERR unknown subcommand 'JOIN'. Try RING HELP.")},
	})
	if len(e.view.removed) != 1 || e.view.removed[0] != "n2" {
		t.Errorf("removed %q, want n2", e.view.removed)
	}
	help := strs(t, decode(t, c.do("RING", "HELP")))
	if len(help) != 13 || help[0] != "RING <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[1] != "KEY <key>" {
		t.Errorf("RING HELP = %q", help)
	}
	// In RESP3 the entries are maps.
	c.do("HELLO", "3")
	if got := c.do("RING", "STATUS"); got != "%2\r\n"+bulk("ring_version")+bulk("7")+bulk("transfers_pending")+bulk("0") {
		t.Errorf("RING STATUS in RESP3: %q", got)
	}
	members := decode(t, c.do("RING", "MEMBERS")).([]any)
	if m := fields(t, members[1]); len(members) != 2 || m["id"] != "n2" || m["weight"] != int64(2) {
		t.Errorf("RING MEMBERS in RESP3: %#v", members)
	}
}
