package resp

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// TestKeyCommands2MatchRedis: arity and key positions as Redis 7.0's
// COMMAND INFO gives them.
func TestKeyCommands2MatchRedis(t *testing.T) {
	table := commandTable()
	for _, want := range []struct {
		name                  string
		arity, first, last, s int
	}{
		{"copy", -3, 1, 2, 1}, {"rename", 3, 1, 2, 1}, {"renamenx", 3, 1, 2, 1}, {"randomkey", 1, 0, 0, 0},
		{"touch", -2, 1, -1, 1}, {"expiretime", 2, 1, 1, 1}, {"pexpiretime", 2, 1, 1, 1}, {"dump", 2, 1, 1, 1}, {"restore", -4, 1, 1, 1},
	} {
		cmd := table[want.name]
		if cmd == nil {
			t.Errorf("%s: not in the table", want.name)
			continue
		}
		if cmd.arity != want.arity || cmd.firstKey != want.first || cmd.lastKey != want.last || cmd.step != want.s {
			t.Errorf("%s: arity %d keys %d,%d,%d; Redis has %d keys %d,%d,%d",
				want.name, cmd.arity, cmd.firstKey, cmd.lastKey, cmd.step, want.arity, want.first, want.last, want.s)
		}
	}
}

// TestCopyAndRenameReplies: Redis 7.0's replies and errors, checked
// against redis-server.
func TestCopyAndRenameReplies(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "a", "1"), okReply},
		{cmd("COPY", "a", "a"), errReply("ERR source and destination objects are the same")},
		{cmd("COPY", "missing", "b"), integer(0)},
		{cmd("COPY", "a", "b"), integer(1)},
		{cmd("GET", "b"), bulk("1")},
		{cmd("SET", "a", "2"), okReply},
		{cmd("COPY", "a", "b"), integer(0)}, // b exists
		{cmd("GET", "b"), bulk("1")},
		{cmd("COPY", "a", "b", "REPLACE"), integer(1)},
		{cmd("GET", "b"), bulk("2")},
		{cmd("COPY", "a", "b", "DB", "0", "replace"), integer(1)},
		{cmd("COPY", "a", "b", "DB", "1"), errReply("ERR DB index is out of range")},
		{cmd("COPY", "a", "b", "DB", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("COPY", "a", "b", "DB"), errReply("ERR syntax error")},
		{cmd("COPY", "a", "b", "bogus"), errReply("ERR syntax error")},
		{cmd("COPY", "a"), errReply("ERR wrong number of arguments for 'copy' command")},
		// RENAME and RENAMENX.
		{cmd("RENAME", "nokey", "x"), errReply("ERR no such key")},
		{cmd("RENAMENX", "nokey", "x"), errReply("ERR no such key")},
		{cmd("RENAME", "nokey", "nokey"), errReply("ERR no such key")},
		{cmd("RENAME", "a", "a"), okReply},
		{cmd("RENAMENX", "a", "a"), integer(0)},
		{cmd("RENAMENX", "a", "b"), integer(0)},
		{cmd("RENAME", "a", "c"), okReply},
		{cmd("EXISTS", "a"), integer(0)},
		{cmd("GET", "c"), bulk("2")},
		{cmd("RENAMENX", "c", "d"), integer(1)},
		{cmd("MGET", "c", "d"), bulks2(nil, "2")},
		// The TTL moves with the key; the destination's does not stay.
		{cmd("SET", "v", "x", "EX", "100"), okReply},
		{cmd("SET", "w", "y", "EX", "50"), okReply},
		{cmd("SET", "p", "z"), okReply},
		{cmd("RENAME", "v", "p"), okReply},
		{cmd("TTL", "p"), integer(100)},
		{cmd("RENAME", "w", "v"), okReply},
		{cmd("SET", "q", "plain"), okReply},
		{cmd("RENAME", "q", "v"), okReply},
		{cmd("TTL", "v"), integer(-1)},
		{cmd("COPY", "p", "cp"), integer(1)},
		{cmd("TTL", "cp"), integer(100)},
	})
}

// bulks2 is an array of bulk strings, nil ones null.
func bulks2(ss ...any) string {
	elems := make([]string, len(ss))
	for i, s := range ss {
		if s == nil {
			elems[i] = nullBulk
		} else {
			elems[i] = bulk(s.(string))
		}
	}
	return array(elems...)
}

// writeRaw writes a version of internal key ikey straight through the
// coordinator: with an empty context it is concurrent with what is there,
// as a write through another node would be.
func (e *testEnv) writeRaw(ikey []byte, w replication.Write) {
	e.t.Helper()
	_, err := e.coord.Update(context.Background(), ikey, func(*replication.Object) (*replication.Write, error) { return &w, nil }, replication.WriteOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
}

// elementVersions returns the live versions of every element of type t of
// the collection key in the replica, by member.
func (e *testEnv) elementVersions(t byte, key string) map[string][]string {
	now := e.clock.Now().UnixMilli()
	prefix := ring.ElementPrefix(t, []byte(key))
	e.local.mu.Lock()
	defer e.local.mu.Unlock()
	out := map[string][]string{}
	for k, o := range e.local.data {
		if !bytes.HasPrefix([]byte(k), prefix) {
			continue
		}
		_, _, m, ok := ring.ParseElementKey([]byte(k))
		if !ok {
			continue
		}
		for _, s := range o.Live(now) {
			out[string(m)] = append(out[string(m)], string(s.Value))
		}
	}
	return out
}

// fillTypes writes one key of every type dynakv has, with siblings where a
// type has them: a string with two concurrent versions, a counter, a
// HyperLogLog, a set and a hash with more members than one copy batch
// holds, a hash field with two concurrent versions, a counter field, and
// two concurrent HyperLogLog sketches.
func fillTypes(t *testing.T, e *testEnv, c *rawConn) {
	t.Helper()
	runRaw(t, c, []rawCase{
		{cmd("SET", "str", "one", "EX", "1000"), okReply},
		{cmd("VSET", "str", "", "two"), okReply}, // concurrent with one
		{cmd("SET", "cnt", "10"), okReply},
		{cmd("INCRBY", "cnt", "5"), integer(15)},
		{cmd("PFADD", "hll", "a", "b", "c"), integer(1)},
		{cmd("HSET", "h", "f", "v1", "n", "1"), integer(2)},
		{cmd("HINCRBY", "h", "n", "4"), integer(5)},
	})
	e.writeRaw(ring.ElementKey(typeHash, []byte("h"), []byte("f")), replication.Write{Value: []byte("v2")}) // a sibling of v1
	sketch := &crdt.HLL{}
	sketch.Add([]byte("d"), []byte("e"))
	e.writeRaw([]byte("hll"), replication.Write{Value: sketch.AppendBinary(nil), HLL: true}) // a sibling sketch
	check(t, c, integer(5), "PFCOUNT", "hll")
	members := make([]string, 0, copyBatch+50)
	for i := range copyBatch + 50 {
		members = append(members, fmt.Sprint("m", i))
	}
	if got := c.do(append([]string{"SADD", "s"}, members...)...); got != integer(int64(len(members))) {
		t.Fatalf("SADD: %q", got)
	}
	if got := c.do("EXPIRE", "s", "500"); got != integer(1) {
		t.Fatalf("EXPIRE: %q", got)
	}
}

// sameKey checks that key b reads as key a does, every version included
// (a counter's as its value).
func sameKey(t *testing.T, e *testEnv, c *rawConn, a, b string) {
	t.Helper()
	typ := c.do("TYPE", a)
	if got := c.do("TYPE", b); got != typ {
		t.Fatalf("TYPE %s = %q, %s's %q", b, got, a, typ)
	}
	reads := [][]string{{"TTL"}}
	switch typ {
	case simple("string"):
		reads = append(reads, []string{"GET"}, []string{"PFCOUNT"})
		if strings.HasPrefix(a, "cnt") {
			break // a counter is copied as its value: one version
		}
		if va, vb := decode(t, c.do("VGET", a)).([]any), decode(t, c.do("VGET", b)).([]any); !slices.Equal(strs(t, va[1:]), strs(t, vb[1:])) {
			t.Errorf("VGET %s shows %q, %s %q", b, vb[1:], a, va[1:])
		}
	case simple("set"):
		reads = append(reads, []string{"SCARD"})
		ma, mb := strs(t, decode(t, c.do("SMEMBERS", a))), strs(t, decode(t, c.do("SMEMBERS", b)))
		slices.Sort(ma)
		slices.Sort(mb)
		if !slices.Equal(ma, mb) {
			t.Errorf("SMEMBERS %s has %d members, %s %d", b, len(mb), a, len(ma))
		}
	case simple("hash"):
		reads = append(reads, []string{"HLEN"}, []string{"HGET", "n"}, []string{"HGET", "f"}, []string{"VHGET", "f"})
	}
	for _, r := range reads {
		args := func(k string) []string { return append([]string{r[0], k}, r[1:]...) }
		want := c.do(args(a)...)
		if r[0] == "VHGET" { // the contexts differ; the values must not
			va, vb := decode(t, want).([]any), decode(t, c.do(args(b)...)).([]any)
			if !slices.Equal(strs(t, va[1:]), strs(t, vb[1:])) {
				t.Errorf("VHGET %s f = %q, %s's %q", b, vb[1:], a, va[1:])
			}
			continue
		}
		if got := c.do(args(b)...); got != want {
			t.Errorf("%q = %q, %s's %q", args(b), got, a, want)
		}
	}
}

// TestCopyEveryType: COPY writes every type's data, siblings included, and
// the copy is independent of its source.
func TestCopyEveryType(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	fillTypes(t, e, c)
	for _, k := range []string{"str", "cnt", "hll", "s", "h"} {
		check(t, c, integer(1), "COPY", k, k+"-copy")
		sameKey(t, e, c, k, k+"-copy")
	}
	for _, k := range []string{"str-copy", "hll-copy"} {
		if got := len(decode(t, c.do("VGET", k)).([]any)); got != 3 {
			t.Errorf("VGET %s has %d entries, want the context and two siblings", k, got)
		}
	}
	if got := e.elementVersions(typeHash, "h-copy")["f"]; !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("h-copy's field f holds %q, want both versions", got)
	}
	// Independent: changing the copy leaves the source.
	runRaw(t, c, []rawCase{
		{cmd("SADD", "s-copy", "extra"), integer(1)},
		{cmd("SISMEMBER", "s", "extra"), integer(0)},
		{cmd("INCR", "cnt-copy"), integer(16)},
		{cmd("GET", "cnt"), bulk("15")},
		// COPY REPLACE of a set by a string drops the set's members.
		{cmd("COPY", "str", "s-copy", "REPLACE"), integer(1)},
		{cmd("TYPE", "s-copy"), simple("string")},
	})
	if n := len(e.elementVersions(typeSet, "s-copy")); n != 0 {
		t.Errorf("%d members of s-copy live after a string replaced it", n)
	}
	// A set over an expired set does not bring its members back.
	runRaw(t, c, []rawCase{
		{cmd("SADD", "old", "gone"), integer(1)},
		{cmd("PEXPIRE", "old", "10"), integer(1)},
	})
	e.clock.Advance(20 * time.Millisecond)
	runRaw(t, c, []rawCase{
		{cmd("SADD", "tiny", "x"), integer(1)},
		{cmd("COPY", "tiny", "old"), integer(1)},
		{cmd("SMEMBERS", "old"), array(bulk("x"))},
	})
}

// TestRenameEveryType: RENAME moves every type's data, siblings included,
// and leaves nothing live at the source.
func TestRenameEveryType(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	fillTypes(t, e, c)
	for _, k := range []string{"str", "cnt", "hll", "s", "h"} {
		check(t, c, integer(1), "COPY", k, k+"-ref")
		check(t, c, okReply, "RENAME", k, k+"-moved")
		sameKey(t, e, c, k+"-ref", k+"-moved")
		check(t, c, integer(0), "EXISTS", k)
	}
	for _, typ := range []byte{typeSet, typeHash} {
		for _, k := range []string{"s", "h"} {
			if n := len(e.elementVersions(typ, k)); n != 0 {
				t.Errorf("%d elements of %s live after its RENAME", n, k)
			}
		}
	}
	// RENAME over a collection replaces it, members and all.
	runRaw(t, c, []rawCase{
		{cmd("SADD", "x", "1", "2"), integer(2)},
		{cmd("SET", "y", "str"), okReply},
		{cmd("RENAME", "y", "x"), okReply},
		{cmd("GET", "x"), bulk("str")},
		{cmd("SADD", "x2", "3"), integer(1)},
		{cmd("RENAME", "x2", "x"), okReply},
		{cmd("SMEMBERS", "x"), array(bulk("3"))},
	})
}

// TestRenameKeepsConcurrentWrites: a RENAME deletes at the source only
// what it read, so writes landing at the source during it survive there:
// a new version of a member it had already copied, and a string's new
// value written before the source's delete.
func TestRenameKeepsConcurrentWrites(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("HSET", "h", "a", "1", "b", "2"), integer(2)},
		{cmd("SET", "k", "old"), okReply},
	})
	// When RENAME writes field a at the destination (it has read a at the
	// source), another client sets a at the source.
	dstA := ring.ElementKey(typeHash, []byte("h2"), []byte("a"))
	srcA := ring.ElementKey(typeHash, []byte("h"), []byte("a"))
	var fired atomic.Bool
	e.backend.setHook(func(op string, key []byte) {
		if op == "update" && bytes.Equal(key, dstA) && fired.CompareAndSwap(false, true) {
			e.writeRaw(srcA, replication.Write{Value: []byte("during")})
		}
	})
	check(t, c, okReply, "RENAME", "h", "h2")
	e.backend.setHook(nil)
	if !fired.Load() {
		t.Fatal("the concurrent write was not made")
	}
	if got := fields(t, decode(t, c.do("HGETALL", "h2"))); len(got) != 2 || got["a"] != "1" || got["b"] != "2" {
		t.Errorf("HGETALL h2 = %v, want a=1 b=2", got)
	}
	runRaw(t, c, []rawCase{
		{cmd("EXISTS", "h"), integer(1)}, // alive through its surviving field
		{cmd("HGETALL", "h"), array(bulk("a"), bulk("during"))},
	})
	// A string's new value, written just before the source's delete.
	fired.Store(false)
	e.backend.setHook(func(op string, key []byte) {
		if op == "update" && string(key) == "k" && fired.CompareAndSwap(false, true) {
			e.writeRaw([]byte("k"), replication.Write{Value: []byte("new")})
		}
	})
	check(t, c, okReply, "RENAME", "k", "k2")
	e.backend.setHook(nil)
	runRaw(t, c, []rawCase{
		{cmd("GET", "k2"), bulk("old")},
		{cmd("GET", "k"), bulk("new")},
	})
}

// TestCopyFailureStopsAndReplies: a write failing part way through a
// collection's copy is the command's error.
func TestCopyFailureStopsAndReplies(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	check(t, c, integer(3), "SADD", "s", "a", "b", "c")
	e.backend.setHook(func(op string, key []byte) {
		if op == "update" && bytes.HasPrefix(key, ring.ElementPrefix(typeSet, []byte("d"))) {
			e.backend.failAll(replication.ErrUnavailable)
		}
	})
	got := c.do("COPY", "s", "d")
	e.backend.setHook(nil)
	e.backend.failAll(nil)
	if len(got) == 0 || got[0] != '-' {
		t.Fatalf("COPY with its element writes failing = %q, want an error", got)
	}
	check(t, c, integer(3), "SCARD", "s")
}
