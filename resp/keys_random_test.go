package resp

import (
	"strconv"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// TestRandomKey: nil on an empty keyspace and on one of tombstones and
// expired keys; every live key comes up (collections too, elements never),
// within a bounded number of draws.
func TestRandomKey(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	check(t, c, nullBulk, "RANDOMKEY")
	runRaw(t, c, []rawCase{
		{cmd("SET", "x", "10"), okReply},
		{cmd("DEL", "x"), integer(1)},
		{cmd("SET", "gone", "v", "PX", "10"), okReply},
	})
	e.clock.Advance(20 * time.Millisecond)
	check(t, c, nullBulk, "RANDOMKEY")
	check(t, c, errReply("ERR wrong number of arguments for 'randomkey' command"), "RANDOMKEY", "x")
	want := map[string]bool{"foo": true, "bar": true, "s": true}
	runRaw(t, c, []rawCase{
		{cmd("SET", "foo", "x"), okReply},
		{cmd("SET", "bar", "y"), okReply},
		{cmd("SADD", "s", "a", "b", "c"), integer(3)},
	})
	seen := map[string]bool{}
	for i := 0; i < 1000 && len(seen) < len(want); i++ {
		k, ok := decode(t, c.do("RANDOMKEY")).(string)
		if !ok || !want[k] {
			t.Fatalf("RANDOMKEY = %q, not a live key", k)
		}
		seen[k] = true
	}
	if len(seen) != len(want) {
		t.Errorf("1000 RANDOMKEYs answered only %v", seen)
	}
}

// TestRandomKeyManyKeys: with more keys than one draw looks at, the walk
// from a random position still reaches every part of the ring, wrapping at
// its end.
func TestRandomKeyManyKeys(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	const n = 200
	for i := range n {
		e.writeRaw([]byte("k"+strconv.Itoa(i)), replication.Write{Value: []byte("v")})
	}
	// The key at the highest ring position is reached only by a walk that
	// starts past the one before it, or by the wrap from a start beyond it:
	// some of 3000 draws do.
	last, lastPos := "", uint64(0)
	for i := range n {
		k := "k" + strconv.Itoa(i)
		if p := ring.HashKey([]byte(k)).Hi; p >= lastPos {
			last, lastPos = k, p
		}
	}
	seen := map[string]bool{}
	for i := 0; i < 3000 && !(seen[last] && len(seen) > n/2); i++ {
		seen[decode(t, c.do("RANDOMKEY")).(string)] = true
	}
	if !seen[last] || len(seen) <= n/2 {
		t.Errorf("3000 RANDOMKEYs answered %d of %d keys (the last on the ring: %v)", len(seen), n, seen[last])
	}
}

// TestTouchExpireTimeObject: TOUCH, EXPIRETIME, PEXPIRETIME and OBJECT
// FREQ, IDLETIME and REFCOUNT, answered as redis-server 7.0 answers them.
func TestTouchExpireTimeObject(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	now := e.clock.Now().UnixMilli()
	noLFU := errReply("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	runRaw(t, c, []rawCase{
		{cmd("SET", "foo", "bar"), okReply},
		{cmd("SADD", "s", "m"), integer(1)},
		{cmd("TOUCH", "foo", "nokey", "foo", "s"), integer(3)},
		{cmd("TOUCH"), errReply("ERR wrong number of arguments for 'touch' command")},
		{cmd("EXPIRETIME", "foo"), integer(-1)},
		{cmd("EXPIRETIME", "nokey"), integer(-2)},
		{cmd("PEXPIRETIME", "nokey"), integer(-2)},
		{cmd("PEXPIREAT", "foo", strconv.FormatInt(now+1499, 10)), integer(1)},
		{cmd("PEXPIRETIME", "foo"), integer(now + 1499)},
		{cmd("EXPIRETIME", "foo"), integer((now + 1499 + 500) / 1000)},
		{cmd("EXPIRE", "s", "100"), integer(1)},
		{cmd("EXPIRETIME", "s"), integer((now + 100_000 + 500) / 1000)},
		{cmd("OBJECT", "FREQ", "foo"), noLFU},
		{cmd("OBJECT", "FREQ", "nokey"), nullBulk},
		{cmd("OBJECT", "FREQ"), errReply("ERR wrong number of arguments for 'object|freq' command")},
		{cmd("OBJECT", "REFCOUNT", "foo"), integer(1)},
		{cmd("OBJECT", "REFCOUNT", "s"), integer(1)},
		{cmd("OBJECT", "REFCOUNT", "nokey"), nullBulk},
		{cmd("SET", "n", "0"), okReply},
		{cmd("OBJECT", "REFCOUNT", "n"), integer(2147483647)}, // a shared integer in Redis
		{cmd("SET", "n", "9999"), okReply},
		{cmd("OBJECT", "REFCOUNT", "n"), integer(2147483647)},
		{cmd("SET", "n", "10000"), okReply},
		{cmd("OBJECT", "REFCOUNT", "n"), integer(1)},
		{cmd("SET", "n", "-1"), okReply},
		{cmd("OBJECT", "REFCOUNT", "n"), integer(1)},
		{cmd("OBJECT", "IDLETIME", "nokey"), nullBulk},
		{cmd("OBJECT", "IDLETIME", "foo"), integer(0)},
	})
	e.clock.Advance(2500 * time.Millisecond)
	runRaw(t, c, []rawCase{
		{cmd("OBJECT", "IDLETIME", "s"), integer(2)}, // since EXPIRE wrote its head
		{cmd("SADD", "s", "m2"), integer(1)},
		{cmd("OBJECT", "IDLETIME", "s"), integer(2)}, // elements do not count
		{cmd("SET", "foo", "again"), okReply},
		{cmd("OBJECT", "IDLETIME", "foo"), integer(0)},
	})
	help := strs(t, decode(t, c.do("OBJECT", "HELP")))
	if len(help) != len(objectHelp) || help[3] != "FREQ <key>" {
		t.Errorf("OBJECT HELP = %q", help)
	}
}
