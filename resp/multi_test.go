package resp

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestMultiExecOneKey: the commands of a transaction on one key are queued,
// then run against one read of the key, each seeing the ones before, and
// stored as one new version.
func TestMultiExecOneKey(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "k", "old"), okReply},
		{cmd("MULTI"), okReply},
		{cmd("GET", "k"), simple("QUEUED")},
		{cmd("SET", "k", "a"), simple("QUEUED")},
		{cmd("APPEND", "k", "b"), simple("QUEUED")},
		{cmd("GET", "k"), simple("QUEUED")},
		{cmd("PING"), simple("QUEUED")},
		{cmd("EXEC"), array(bulk("old"), okReply, integer(2), bulk("ab"), simple("PONG"))},
		{cmd("GET", "k"), bulk("ab")},
	})
	// One version replaced the old one: the transaction wrote once.
	if o := e.local.object("k"); o.Len() != 1 || string(o.Siblings[0].Value) != "ab" {
		t.Fatalf("stored state after EXEC: %+v", o)
	}
	before := e.local.object("k").Clock
	runRaw(t, c, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("SET", "k", "1"), simple("QUEUED")},
		{cmd("SET", "k", "2"), simple("QUEUED")},
		{cmd("DEL", "k"), simple("QUEUED")},
		{cmd("SET", "k", "3", "PX", "100000"), simple("QUEUED")},
		{cmd("EXEC"), array(okReply, okReply, integer(1), okReply)},
		{cmd("GET", "k"), bulk("3")},
	})
	o := e.local.object("k")
	if o.Len() != 1 || o.Siblings[0].ExpireAt == 0 {
		t.Fatalf("stored state after EXEC: %+v", o)
	}
	if added := len(o.Clock.Entries()) - len(before.Entries()); added > 1 {
		t.Errorf("four writes in one transaction added %d clock entries", added)
	}
	// A transaction that only reads writes nothing; one with no key runs
	// its commands.
	runRaw(t, c, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("STRLEN", "k"), simple("QUEUED")},
		{cmd("EXISTS", "k"), simple("QUEUED")},
		{cmd("EXEC"), array(integer(1), integer(1))},
		{cmd("MULTI"), okReply},
		{cmd("ECHO", "hi"), simple("QUEUED")},
		{cmd("EXEC"), array(bulk("hi"))},
		{cmd("MULTI"), okReply},
		{cmd("EXEC"), array()},
	})
}

// TestMultiPipelinedAsClientsSendIt: clients send MULTI, the commands and
// EXEC without waiting. Before transactions were supported MULTI was
// refused and the commands ran anyway, so a client told the transaction
// failed had its writes applied (and applied them again on retry).
func TestMultiPipelinedAsClientsSendIt(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send(string(rdEncode([]string{"MULTI"})) + string(rdEncode([]string{"SET", "a", "1"})) +
		string(rdEncode([]string{"SET", "b", "2"})) + string(rdEncode([]string{"EXEC"})))
	for i, want := range []string{okReply, simple("QUEUED"), simple("QUEUED"),
		errReply(`ERR a dynakv transaction must touch one key; this one touches 2 keys ("a", "b"): nothing was applied`)} {
		if got := c.read(); got != want {
			t.Fatalf("reply %d: got %q, want %q", i, got, want)
		}
	}
	runRaw(t, c, []rawCase{{cmd("EXISTS", "a", "b"), integer(0)}})

	c.send(string(rdEncode([]string{"MULTI"})) + string(rdEncode([]string{"SET", "a", "1"})) +
		string(rdEncode([]string{"GET", "a"})) + string(rdEncode([]string{"EXEC"})))
	for i, want := range []string{okReply, simple("QUEUED"), simple("QUEUED"), array(okReply, bulk("1"))} {
		if got := c.read(); got != want {
			t.Fatalf("reply %d: got %q, want %q", i, got, want)
		}
	}
}

// TestMultiErrors: queueing errors abort the transaction at EXEC
// (EXECABORT), with nothing applied; errors of commands that ran are
// replies like any other.
func TestMultiErrors(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("EXEC"), errReply("ERR EXEC without MULTI")},
		{cmd("DISCARD"), errReply("ERR DISCARD without MULTI")},
		{cmd("MULTI"), okReply},
		{cmd("MULTI"), errReply("ERR MULTI calls can not be nested")},
		{cmd("SET", "k", "v"), simple("QUEUED")},
		{cmd("NOSUCH"), errReply("ERR unknown command 'NOSUCH', with args beginning with: ")},
		{cmd("GET", "k", "extra"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("EXEC"), errReply("EXECABORT Transaction discarded because of previous errors.")},
		{cmd("EXISTS", "k"), integer(0)},

		{cmd("MULTI"), okReply},
		{cmd("SET", "k", "v"), simple("QUEUED")},
		{cmd("SCAN", "0"), errReply("ERR 'scan' cannot run inside a transaction: a dynakv transaction works on one key's coordinated state")},
		{cmd("EXEC"), errReply("EXECABORT Transaction discarded because of previous errors.")},
		{cmd("MULTI"), okReply},
		{cmd("VGET", "k"), errReply("ERR 'vget' cannot run inside a transaction: a dynakv transaction works on one key's coordinated state")},
		{cmd("DISCARD"), okReply},
		{cmd("EXISTS", "k"), integer(0)},

		// DISCARD drops the queue.
		{cmd("MULTI"), okReply},
		{cmd("SET", "k", "v"), simple("QUEUED")},
		{cmd("DISCARD"), okReply},
		{cmd("EXISTS", "k"), integer(0)},

		// A command that fails when it runs fails alone.
		{cmd("MULTI"), okReply},
		{cmd("SET", "k", "v"), simple("QUEUED")},
		{cmd("SET", "k", "w", "EX", "0"), simple("QUEUED")},
		{cmd("GET", "k"), simple("QUEUED")},
		{cmd("EXEC"), array(okReply, errReply("ERR invalid expire time in 'set' command"), bulk("v"))},

		// Several keys, also within one command, are refused whole.
		{cmd("MULTI"), okReply},
		{cmd("MSET", "x", "1", "y", "2"), simple("QUEUED")},
		{cmd("EXEC"), errReply(`ERR a dynakv transaction must touch one key; this one touches 2 keys ("x", "y"): nothing was applied`)},
		{cmd("EXISTS", "x", "y"), integer(0)},

		// RESET leaves the transaction.
		{cmd("MULTI"), okReply},
		{cmd("RESET"), simple("RESET")},
		{cmd("EXEC"), errReply("ERR EXEC without MULTI")},

		// WATCH is refused, never accepted and ignored.
		{cmd("WATCH", "k"), errReply("ERR " + noWatch)},
		{cmd("UNWATCH"), okReply},
		{cmd("MULTI"), okReply},
		{cmd("WATCH", "k"), errReply("ERR WATCH inside MULTI is not allowed")},
		{cmd("GET", "k"), simple("QUEUED")},
		{cmd("EXEC"), array(bulk("v"))},
	})
}

// TestMultiGoRedis: go-redis's TxPipelined (MULTI, commands, EXEC in one
// write) on one key works; on two keys it fails and applies nothing.
func TestMultiGoRedis(t *testing.T) {
	e := newTestEnv(t)
	r := e.client()
	cmds, err := r.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "cart", "apple", 0)
		p.Append(ctx, "cart", ",pear")
		p.Get(ctx, "cart")
		return nil
	})
	if err != nil || len(cmds) != 3 || cmds[2].(*redis.StringCmd).Val() != "apple,pear" {
		t.Fatalf("TxPipelined on one key: %v, %v", cmds, err)
	}
	_, err = r.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "1", 0)
		p.Set(ctx, "b", "1", 0)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "must touch one key") {
		t.Fatalf("TxPipelined on two keys: %v, want the refusal", err)
	}
	if n, err := r.Exists(ctx, "a", "b").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS a b after the refused transaction = %d, %v", n, err)
	}
	if v, err := r.Get(ctx, "cart").Result(); err != nil || v != "apple,pear" {
		t.Fatalf("GET cart = %q, %v", v, err)
	}
}
