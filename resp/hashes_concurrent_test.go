package resp

import (
	"context"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
)

// secondNode starts another node beside e's: a server over its own
// coordinator (actor 2) and its own in-memory replica, on e's clock. The
// two replicas exchange nothing until exchange is called, so writes
// through the two are concurrent, as through two nodes on either side of a
// partition.
func secondNode(t *testing.T, e *testEnv) *testEnv {
	t.Helper()
	local := newMemLocal("n2")
	coord, err := replication.NewCoordinator(replication.Config{
		Local:  local,
		Router: replication.RouterFunc(func([]byte) []replication.Replica { return []replication.Replica{local} }),
		Actor:  2, N: 1, R: 1, W: 1,
		Now:    e.clock.Now,
		Logger: quietLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	backend := &testBackend{Coordinator: coord}
	view := &fakeView{local: local, clock: e.clock}
	return startEnv(t, Config{Backend: backend, View: view, NodeID: "n2", Version: "0.0.0-test", Logger: quietLogger},
		&testEnv{t: t, clock: e.clock, local: local, coord: coord, backend: backend, view: view})
}

// exchange merges every key's state of each replica into the other, as
// anti-entropy between them would.
func exchange(t *testing.T, a, b *memLocal) {
	t.Helper()
	snapshot := func(m *memLocal) map[string]*replication.Object {
		m.mu.Lock()
		defer m.mu.Unlock()
		out := make(map[string]*replication.Object, len(m.data))
		for k, o := range m.data {
			out[k] = o
		}
		return out
	}
	fromA, fromB := snapshot(a), snapshot(b)
	for k, o := range fromA {
		if err := b.Merge(context.Background(), []byte(k), o); err != nil {
			t.Fatal(err)
		}
	}
	for k, o := range fromB {
		if err := a.Merge(context.Background(), []byte(k), o); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHashConcurrentFieldWrites: HSETs of one field through two nodes at
// once are both kept, as siblings VHGET shows and plain reads resolve to
// the newest; an HSET that read them both replaces them; an HDEL removes
// only the versions it read, so a concurrent HSET survives it, even when
// the HDEL took the hash's last field and its head.
func TestHashConcurrentFieldWrites(t *testing.T) {
	e := newTestEnv(t)
	n2 := secondNode(t, e)
	c1, c2 := e.dial(), n2.dial()
	runRaw(t, c1, []rawCase{{cmd("HSET", "h", "f", "one"), integer(1)}})
	e.clock.Advance(time.Millisecond)
	runRaw(t, c2, []rawCase{{cmd("HSET", "h", "f", "two", "g", "x"), integer(2)}})
	exchange(t, e.local, n2.local)
	for _, c := range []*rawConn{c1, c2} {
		ctxF := decode(t, c.do("VHGET", "h", "f")).([]any)[0].(string)
		runRaw(t, c, []rawCase{
			{cmd("VHGET", "h", "f"), bulks(ctxF, "one", "two")}, // oldest write first
			{cmd("HGET", "h", "f"), bulk("two")},                // the newest
			{cmd("HMGET", "h", "f", "g"), bulks("two", "x")},
			{cmd("HLEN", "h"), integer(2)},
			{cmd("HSTRLEN", "h", "f"), integer(3)},
			{cmd("VHGET", "h", "f", "R", "1", "LOCAL"), bulks(ctxF, "one", "two")},
			{cmd("VHGET", "h", "f", "NOSUCH"), errReply("ERR syntax error")},
			{cmd("VHGET", "h", "nope"), array()},
		})
	}
	// Both nodes created the hash: two heads, one hash.
	runRaw(t, c1, []rawCase{{cmd("TYPE", "h"), simple("hash")}, {cmd("EXISTS", "h"), integer(1)}})
	// An HSET that read both versions replaces them.
	runRaw(t, c1, []rawCase{{cmd("HSET", "h", "f", "merged"), integer(0)}})
	ctxF := decode(t, c1.do("VHGET", "h", "f")).([]any)[0].(string)
	runRaw(t, c1, []rawCase{{cmd("VHGET", "h", "f"), bulks(ctxF, "merged")}})
	exchange(t, e.local, n2.local)

	// Node 2 writes f again while node 1, not having seen it, deletes f
	// and g, the hash's last fields; the head goes with them on node 1.
	e.clock.Advance(time.Millisecond)
	runRaw(t, c2, []rawCase{{cmd("HSET", "h", "f", "late"), integer(0)}})
	runRaw(t, c1, []rawCase{
		{cmd("HDEL", "h", "f", "g"), integer(2)},
		{cmd("EXISTS", "h"), integer(0)},
	})
	exchange(t, e.local, n2.local)
	// The write node 1 did not see survives its delete and keeps the hash
	// alive (without a head); g, which nobody wrote again, stays deleted.
	for _, c := range []*rawConn{c1, c2} {
		ctxF := decode(t, c.do("VHGET", "h", "f")).([]any)[0].(string)
		runRaw(t, c, []rawCase{
			{cmd("HGETALL", "h"), bulks("f", "late")},
			{cmd("VHGET", "h", "f"), bulks(ctxF, "late")},
			{cmd("EXISTS", "h"), integer(1)},
			{cmd("TYPE", "h"), simple("hash")},
			{cmd("TTL", "h"), integer(-1)},
			{cmd("SADD", "h", "m"), errReply(errWrongType)},
		})
	}
	// Once that write is seen, HDEL removes it, and the hash is gone.
	runRaw(t, c1, []rawCase{
		{cmd("HDEL", "h", "f"), integer(1)},
		{cmd("EXISTS", "h"), integer(0)},
		{cmd("HSET", "h", "new", "1"), integer(1)},
		{cmd("HGETALL", "h"), bulks("new", "1")},
	})
}

// TestHashCounterThroughTwoNodes: HINCRBYs of one field through two nodes
// are both counted; VHGET shows one contribution per node; an HSET that
// read them replaces them, and an increment it did not see stays on top.
func TestHashCounterThroughTwoNodes(t *testing.T) {
	e := newTestEnv(t)
	n2 := secondNode(t, e)
	c1, c2 := e.dial(), n2.dial()
	runRaw(t, c1, []rawCase{{cmd("HINCRBY", "h", "visits", "5"), integer(5)}})
	runRaw(t, c2, []rawCase{{cmd("HINCRBY", "h", "visits", "3"), integer(3)}})
	exchange(t, e.local, n2.local)
	ctxV := decode(t, c1.do("VHGET", "h", "visits")).([]any)[0].(string)
	runRaw(t, c1, []rawCase{
		{cmd("HGET", "h", "visits"), bulk("8")},
		{cmd("VHGET", "h", "visits"), bulks(ctxV, "5", "3")},
		{cmd("HINCRBY", "h", "visits", "1"), integer(9)},
	})
	// Node 2 sets the field having seen 8, not node 1's last increment;
	// node 1 increments again meanwhile. Both of those count on top.
	runRaw(t, c2, []rawCase{{cmd("HSET", "h", "visits", "100"), integer(0)}})
	runRaw(t, c1, []rawCase{{cmd("HINCRBY", "h", "visits", "2"), integer(11)}})
	exchange(t, e.local, n2.local)
	for _, c := range []*rawConn{c1, c2} {
		runRaw(t, c, []rawCase{
			{cmd("HGET", "h", "visits"), bulk("103")},
			{cmd("HINCRBYFLOAT", "h", "visits", "0.5"), bulk("103.5")},
		})
	}
	exchange(t, e.local, n2.local)
	runRaw(t, c1, []rawCase{{cmd("HGET", "h", "visits"), bulk("104")}})
}
