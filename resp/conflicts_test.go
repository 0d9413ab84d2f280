package resp

import (
	"context"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// TestTypeConflictNewestWins: a key written concurrently as a string and
// as a set (VSET with an empty context stands for the other side of a
// partition) reads as the type of its newest version; VGET shows both; a
// write that covers both replaces the set and its members.
func TestTypeConflictNewestWins(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	wrong := errReply("WRONGTYPE Operation against a key holding the wrong kind of value")
	runRaw(t, c, []rawCase{
		{cmd("SADD", "k", "a"), integer(1)},
		{cmd("VSET", "k", "", "str"), okReply}, // concurrent with the set
		{cmd("TYPE", "k"), simple("string")},
		{cmd("GET", "k"), bulk("str")},
		{cmd("SMEMBERS", "k"), wrong},
	})
	v := decode(t, c.do("VGET", "k")).([]any)
	if len(v) != 3 || v[2] != "str" || len(v[1].([]any)) != 2 || v[1].([]any)[0] != "set" || v[1].([]any)[1] != "a" {
		t.Fatalf("VGET shows %q, want the context, the set [set a] and the string", v)
	}
	if got := c.do("VSET", "k", v[0].(string), "resolved"); got != okReply {
		t.Fatalf("VSET: %q", got)
	}
	if got := decode(t, c.do("VGET", "k")).([]any); len(got) != 2 || got[1] != "resolved" {
		t.Fatalf("VGET after the resolving VSET: %q", got)
	}
	runRaw(t, c, []rawCase{
		{cmd("GET", "k"), bulk("resolved")},
		{cmd("DEL", "k"), integer(1)},
		{cmd("SADD", "k", "b"), integer(1)},
		{cmd("SMEMBERS", "k"), array(bulk("b"))}, // a went with the set's version
		// The other way round: the set is newer.
		{cmd("SET", "j", "old"), okReply},
	})
	// A set head concurrent with the string, written after it.
	_, err := e.coord.Update(context.Background(), ring.ElementKey(typeSet, []byte("j"), []byte("m")), func(cur *replication.Object) (*replication.Write, error) {
		return &replication.Write{}, nil
	}, replication.WriteOptions{})
	if err == nil {
		_, err = e.coord.Update(context.Background(), []byte("j"), func(cur *replication.Object) (*replication.Write, error) {
			return &replication.Write{Type: typeSet}, nil
		}, replication.WriteOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	runRaw(t, c, []rawCase{
		{cmd("TYPE", "j"), simple("set")},
		{cmd("SMEMBERS", "j"), array(bulk("m"))},
		{cmd("GET", "j"), wrong},
		{cmd("DEL", "j"), integer(1)},
		{cmd("EXISTS", "j"), integer(0)},
	})
}

// TestAddSurvivesConcurrentDel: a member added concurrently with a DEL of
// its set (a version the DEL did not read) keeps the set alive without a
// head; the next DEL, which reads it, removes it.
func TestAddSurvivesConcurrentDel(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SADD", "s", "a", "b"), integer(2)},
		{cmd("DEL", "s"), integer(1)},
		{cmd("EXISTS", "s"), integer(0)},
	})
	// The add the DEL did not see: a version of b beside its tombstone.
	_, err := e.coord.Update(context.Background(), ring.ElementKey(typeSet, []byte("s"), []byte("b")), func(cur *replication.Object) (*replication.Write, error) {
		return &replication.Write{}, nil
	}, replication.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runRaw(t, c, []rawCase{
		{cmd("EXISTS", "s"), integer(1)},
		{cmd("TYPE", "s"), simple("set")},
		{cmd("SMEMBERS", "s"), array(bulk("b"))},
		{cmd("SCARD", "s"), integer(1)},
		{cmd("GET", "s"), "$-1\r\n"}, // string commands do not look for outliving members
		{cmd("SADD", "s", "c"), integer(1)},
		{cmd("SCARD", "s"), integer(2)},
		{cmd("DEL", "s"), integer(1)},
		{cmd("EXISTS", "s"), integer(0)},
		{cmd("SCARD", "s"), integer(0)},
	})
	// Outliving members without a head, deleted by the next DEL.
	_, err = e.coord.Update(context.Background(), ring.ElementKey(typeSet, []byte("s"), []byte("z")), func(cur *replication.Object) (*replication.Write, error) {
		return &replication.Write{}, nil
	}, replication.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runRaw(t, c, []rawCase{
		{cmd("SMEMBERS", "s"), array(bulk("z"))},
		{cmd("DEL", "s"), integer(1)},
		{cmd("SMEMBERS", "s"), array()},
		{cmd("SET", "s", "v"), okReply},
		{cmd("DEL", "s"), integer(1)},
		{cmd("EXISTS", "s"), integer(0)},
	})
}

// TestCreationKeepsElementsAheadOfTheirHead: an element that reached this
// node before its collection's head (a write through another node) is not
// deleted when this node creates the head for its own add; only an
// expired collection's elements are.
func TestCreationKeepsElementsAheadOfTheirHead(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	_, err := e.coord.Update(context.Background(), ring.ElementKey(typeSet, []byte("s"), []byte("early")), func(cur *replication.Object) (*replication.Write, error) {
		return &replication.Write{}, nil
	}, replication.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runRaw(t, c, []rawCase{
		{cmd("SADD", "s", "mine"), integer(1)},
		{cmd("SCARD", "s"), integer(2)},
		{cmd("EXPIRE", "s", "1"), integer(1)},
	})
	e.clock.Advance(2 * time.Second)
	runRaw(t, c, []rawCase{
		{cmd("SCARD", "s"), integer(0)},
		{cmd("SADD", "s", "new"), integer(1)},
		{cmd("SMEMBERS", "s"), array(bulk("new"))},
	})
}
