package resp

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

func TestDelExistsType(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("MSET", "a", "1", "b", "2", "c", "3"), okReply},
		{cmd("EXISTS", "a"), integer(1)},
		{cmd("EXISTS", "a", "b", "nokey", "a"), integer(3)},
		{cmd("TYPE", "a"), simple("string")},
		{cmd("TYPE", "nokey"), simple("none")},
		{cmd("DEL", "a", "nokey", "a"), integer(1)},
		{cmd("EXISTS", "a"), integer(0)},
		{cmd("TYPE", "a"), simple("none")},
		{cmd("UNLINK", "b", "c"), integer(2)},
		{cmd("DEL", "b"), integer(0)},
		{cmd("EXISTS", "a", "b", "c"), integer(0)},
		{cmd("DEL"), errReply("ERR wrong number of arguments for 'del' command")},
		{cmd("EXISTS"), errReply("ERR wrong number of arguments for 'exists' command")},
		{cmd("TYPE"), errReply("ERR wrong number of arguments for 'type' command")},
	})
	// DEL writes a tombstone through the coordinator: the key's state
	// holds one sibling, a tombstone, whose context covers the value.
	o := e.local.object("a")
	if o.Len() != 1 || !o.Siblings[0].Tombstone {
		t.Fatalf("state of a deleted key: %+v, want one tombstone", o)
	}
}

func TestExpireCommands(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	nowMs := e.clock.Now().UnixMilli()
	sec := func(d int64) string { return strconv.FormatInt(nowMs/1000+d, 10) }
	ms := func(d int64) string { return strconv.FormatInt(nowMs+d, 10) }
	runRaw(t, c, []rawCase{
		{cmd("EXPIRE", "nokey", "10"), integer(0)},
		{cmd("SET", "k", "v"), okReply},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("PTTL", "k"), integer(-1)},
		{cmd("TTL", "nokey"), integer(-2)},
		{cmd("PTTL", "nokey"), integer(-2)},

		{cmd("EXPIRE", "k", "100"), integer(1)},
		{cmd("TTL", "k"), integer(100)},
		{cmd("PEXPIRE", "k", "1500"), integer(1)},
		{cmd("PTTL", "k"), integer(1500)},
		// TTL rounds to the nearest second, as Redis does.
		{cmd("TTL", "k"), integer(2)},
		{cmd("PEXPIRE", "k", "1499"), integer(1)},
		{cmd("TTL", "k"), integer(1)},
		{cmd("EXPIREAT", "k", sec(50)), integer(1)},
		{cmd("TTL", "k"), integer(50)},
		{cmd("PEXPIREAT", "k", ms(2345)), integer(1)},
		{cmd("PTTL", "k"), integer(2345)},
		{cmd("GET", "k"), bulk("v")},

		{cmd("PERSIST", "k"), integer(1)},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("PERSIST", "k"), integer(0)},
		{cmd("PERSIST", "nokey"), integer(0)},
		{cmd("GET", "k"), bulk("v")},

		// NX: only without an expiry; XX: only with one.
		{cmd("EXPIRE", "k", "100", "XX"), integer(0)},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("EXPIRE", "k", "100", "NX"), integer(1)},
		{cmd("EXPIRE", "k", "200", "NX"), integer(0)},
		{cmd("TTL", "k"), integer(100)},
		{cmd("EXPIRE", "k", "200", "xx"), integer(1)},
		{cmd("TTL", "k"), integer(200)},
		// GT: only a later expiry; LT: only an earlier one. No expiry
		// counts as infinite.
		{cmd("EXPIRE", "k", "100", "GT"), integer(0)},
		{cmd("EXPIRE", "k", "200", "GT"), integer(0)},
		{cmd("EXPIRE", "k", "300", "GT"), integer(1)},
		{cmd("TTL", "k"), integer(300)},
		{cmd("EXPIRE", "k", "400", "LT"), integer(0)},
		{cmd("EXPIRE", "k", "300", "LT"), integer(0)},
		{cmd("EXPIRE", "k", "250", "LT"), integer(1)},
		{cmd("TTL", "k"), integer(250)},
		{cmd("EXPIRE", "k", "300", "XX", "GT"), integer(1)},
		{cmd("TTL", "k"), integer(300)},
		{cmd("PERSIST", "k"), integer(1)},
		{cmd("EXPIRE", "k", "100", "GT"), integer(0)},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("EXPIRE", "k", "100", "LT"), integer(1)},
		{cmd("TTL", "k"), integer(100)},

		// Errors.
		{cmd("EXPIRE", "k", "10", "NX", "XX"), errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{cmd("EXPIRE", "k", "10", "NX", "GT"), errReply("ERR NX and XX, GT or LT options at the same time are not compatible")},
		{cmd("EXPIRE", "k", "10", "GT", "LT"), errReply("ERR GT and LT options at the same time are not compatible")},
		{cmd("EXPIRE", "k", "10", "FOO"), errReply("ERR Unsupported option FOO")},
		{cmd("EXPIRE", "k", "ten"), errReply(errNotInteger)},
		{cmd("EXPIRE", "k", "9223372036854775807"), errReply("ERR invalid expire time in 'expire' command")},
		{cmd("PEXPIRE", "k", "9223372036854775807"), errReply("ERR invalid expire time in 'pexpire' command")},
		{cmd("EXPIREAT", "k", "-9223372036854775808"), errReply("ERR invalid expire time in 'expireat' command")},
		{cmd("EXPIRE", "k"), errReply("ERR wrong number of arguments for 'expire' command")},
		{cmd("TTL", "k", "x"), errReply("ERR wrong number of arguments for 'ttl' command")},
		{cmd("PERSIST"), errReply("ERR wrong number of arguments for 'persist' command")},
		{cmd("TTL", "k"), integer(100)},

		// An expiry at or before now deletes the key.
		{cmd("EXPIRE", "k", "0"), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("SET", "k", "v"), okReply},
		{cmd("PEXPIRE", "k", "-1"), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("SET", "k", "v"), okReply},
		{cmd("PEXPIREAT", "k", ms(0)), integer(1)},
		{cmd("EXISTS", "k"), integer(0)},
	})
}

func TestExpiryOnTheClock(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "k", "v"), okReply},
		{cmd("EXPIRE", "k", "10"), integer(1)},
	})
	e.clock.Advance(4 * time.Second)
	runRaw(t, c, []rawCase{{cmd("TTL", "k"), integer(6)}, {cmd("PTTL", "k"), integer(6000)}})
	e.clock.Advance(6 * time.Second)
	runRaw(t, c, []rawCase{
		{cmd("TTL", "k"), integer(-2)},
		{cmd("EXISTS", "k"), integer(0)},
		{cmd("TYPE", "k"), simple("none")},
		{cmd("DEL", "k"), integer(0)},
		{cmd("EXPIRE", "k", "10"), integer(0)},
		{cmd("PERSIST", "k"), integer(0)},
	})
}

// ringOrder returns keys sorted by ring position, as SCAN visits them.
func ringOrder(keys []string) []string {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(ring.HashKey([]byte(a)).Hi, ring.HashKey([]byte(b)).Hi), cmp.Compare(a, b))
	})
	return out
}

func TestScan(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	var keys []string
	for i := range 25 {
		k := fmt.Sprintf("key:%02d", i)
		keys = append(keys, k)
		if got := c.do("SET", k, "v"); got != okReply {
			t.Fatalf("SET %s: %q", k, got)
		}
	}
	// Deleted and expired keys are not listed.
	runRaw(t, c, []rawCase{
		{cmd("SET", "gone", "v"), okReply},
		{cmd("DEL", "gone"), integer(1)},
		{cmd("SET", "expired", "v", "PX", "10"), okReply},
	})
	e.clock.Advance(10 * time.Millisecond)
	order := ringOrder(keys)

	// COUNT 4 returns the keys in ring order, 4 live keys a call (the
	// tombstone and the expired key do not count), and a cursor that is
	// the bucket (the top 53 bits of the ring position) of the next key.
	var got []string
	cursor := "0"
	for calls := 0; ; calls++ {
		if calls > 20 {
			t.Fatal("SCAN does not end")
		}
		reply := c.do("SCAN", cursor, "COUNT", "4")
		next, page := parseScanReply(t, reply)
		if len(page) != 4 && next != "0" {
			t.Fatalf("SCAN COUNT 4 returned %d keys and cursor %s", len(page), next)
		}
		got = append(got, page...)
		if next == "0" {
			break
		}
		all := ringOrder(append(slices.Clone(keys), "gone", "expired"))
		b, _ := strconv.ParseUint(next, 10, 64)
		i := slices.IndexFunc(all, func(k string) bool { return ring.HashKey([]byte(k)).Hi>>cursorShift == b })
		if i < 0 {
			t.Fatalf("SCAN cursor %s is no key's bucket", next)
		}
		cursor = next
	}
	if !slices.Equal(got, order) {
		t.Fatalf("SCAN visited\n%q\nwant, in ring order,\n%q", got, order)
	}

	// One call with a large COUNT sees everything; MATCH and TYPE filter.
	_, all := parseScanReply(t, c.do("SCAN", "0", "COUNT", "1000"))
	if !slices.Equal(all, order) {
		t.Fatalf("SCAN 0 COUNT 1000 = %q, want %q", all, order)
	}
	_, matched := parseScanReply(t, c.do("SCAN", "0", "MATCH", "key:1?", "COUNT", "1000"))
	if want := ringOrder(keys[10:20]); !slices.Equal(matched, want) {
		t.Fatalf("SCAN MATCH key:1? = %q, want %q", matched, want)
	}
	_, typed := parseScanReply(t, c.do("SCAN", "0", "TYPE", "string", "count", "1000", "match", "*"))
	if !slices.Equal(typed, order) {
		t.Fatalf("SCAN TYPE string = %q, want %q", typed, order)
	}
	runRaw(t, c, []rawCase{
		{cmd("SCAN", "0", "TYPE", "hash", "COUNT", "1000"), array(bulk("0"), array())},
		{cmd("SCAN", "x"), errReply(errInvalidCurs)},
		{cmd("SCAN", "-1"), errReply(errInvalidCurs)},
		{cmd("SCAN", "0", "COUNT"), errReply(errSyntax)},
		{cmd("SCAN", "0", "COUNT", "0"), errReply(errSyntax)},
		{cmd("SCAN", "0", "COUNT", "x"), errReply(errNotInteger)},
		{cmd("SCAN", "0", "FOO", "bar"), errReply(errSyntax)},
		{cmd("SCAN"), errReply("ERR wrong number of arguments for 'scan' command")},
	})
}

// TestScanCursorsBelow2p53: every cursor survives a float64 (node-redis
// 4 holds cursors as JavaScript numbers; above 2^53 they round and its
// scanIterator skipped 499 of 500 keys), and a walk returns every key once.
func TestScanCursorsBelow2p53(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	want := map[string]bool{}
	for i := range 2000 {
		k := fmt.Sprintf("k%d", i)
		want[k] = true
		if got := c.do("SET", k, "v"); got != okReply {
			t.Fatalf("SET %s: %q", k, got)
		}
	}
	seen := map[string]int{}
	cursor, pages := "0", 0
	for {
		pages++
		if pages > 2000 {
			t.Fatal("SCAN does not end")
		}
		next, page := parseScanReply(t, c.do("SCAN", cursor, "COUNT", "7"))
		for _, k := range page {
			seen[k]++
		}
		if next == "0" {
			break
		}
		u, err := strconv.ParseUint(next, 10, 64)
		if err != nil || u >= 1<<53 || strconv.FormatFloat(float64(u), 'f', -1, 64) != next {
			t.Fatalf("cursor %s does not survive a float64 (want below 2^53)", next)
		}
		if len(page) != 7 {
			t.Fatalf("page %d: %d keys with COUNT 7 and keys left", pages, len(page))
		}
		cursor = next
	}
	for k := range want {
		if seen[k] != 1 {
			t.Errorf("key %s returned %d times", k, seen[k])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("SCAN returned %d distinct keys, want %d", len(seen), len(want))
	}
	// A cursor past the last bucket ends the walk.
	runRaw(t, c, []rawCase{{cmd("SCAN", "18446744073709551615"), array(bulk("0"), array())}})
}

// TestScanPagesPassTombstones: deleted keys do not make pages short. Over
// 3 live keys among 500 deleted ones, SCAN 0 returns all 3 and ends (it
// returned 1 key and a cursor); over 500 live keys it returns COUNT of
// them (a one-shot scan() saw an empty page).
func TestScanPagesPassTombstones(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	for i := range 500 {
		k := fmt.Sprintf("dead:%d", i)
		c.do("SET", k, "v")
		if got := c.do("DEL", k); got != integer(1) {
			t.Fatalf("DEL %s: %q", k, got)
		}
	}
	live := []string{"a", "b", "c"}
	for _, k := range live {
		c.do("SET", k, "v")
	}
	next, page := parseScanReply(t, c.do("SCAN", "0"))
	if next != "0" || !slices.Equal(page, ringOrder(live)) {
		t.Fatalf("SCAN 0 over 3 live keys and 500 tombstones = %s %q, want 0 %q", next, page, ringOrder(live))
	}
	for i := range 500 {
		c.do("SET", fmt.Sprintf("live:%d", i), "v")
	}
	next, page = parseScanReply(t, c.do("SCAN", "0"))
	if next == "0" || len(page) != 10 {
		t.Fatalf("SCAN 0 over 503 live keys = cursor %s, %d keys; want 10 and a cursor", next, len(page))
	}
}

// parseScanReply splits a SCAN reply into its cursor and keys.
func parseScanReply(t *testing.T, reply string) (string, []string) {
	t.Helper()
	arr, ok := decode(t, reply).([]any)
	if !ok || len(arr) != 2 {
		t.Fatalf("SCAN reply %q", reply)
	}
	cursor, ok := arr[0].(string)
	if !ok {
		t.Fatalf("SCAN reply %q: cursor is not a string", reply)
	}
	return cursor, strs(t, arr[1])
}

func TestKeysDBSizeFlush(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("KEYS", "*"), array()},
		{cmd("DBSIZE"), integer(0)},
		{cmd("MSET", "user:1", "a", "user:2", "b", "item:1", "c"), okReply},
		{cmd("SET", "user:3", "d", "PX", "5"), okReply},
		{cmd("DBSIZE"), integer(4)},
		{cmd("KEYS", "user:*"), bulks(ringOrder([]string{"user:1", "user:2", "user:3"})...)},
	})
	e.clock.Advance(5 * time.Millisecond)
	runRaw(t, c, []rawCase{
		{cmd("DBSIZE"), integer(3)},
		{cmd("KEYS", "*"), bulks(ringOrder([]string{"user:1", "user:2", "item:1"})...)},
		{cmd("KEYS", "user:[2-9]"), bulks("user:2")},
		{cmd("KEYS", "nothing*"), array()},
		{cmd("KEYS"), errReply("ERR wrong number of arguments for 'keys' command")},
		{cmd("DBSIZE", "x"), errReply("ERR wrong number of arguments for 'dbsize' command")},
		{cmd("FLUSHDB", "LATER"), errReply(errSyntax)},
		{cmd("FLUSHALL", "ASYNC", "SYNC"), errReply(errSyntax)},
		{cmd("DBSIZE"), integer(3)},
		{cmd("FLUSHDB"), okReply},
		{cmd("DBSIZE"), integer(0)},
		{cmd("GET", "user:1"), nullBulk},
		{cmd("SET", "x", "1"), okReply},
		{cmd("FLUSHALL", "sync"), okReply},
		{cmd("SET", "x", "1"), okReply},
		{cmd("FLUSHALL", "ASYNC"), okReply},
		{cmd("KEYS", "*"), array()},
	})
}

// TestFlushManyKeys flushes more keys than one page of the flush's scan.
func TestFlushManyKeys(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	const n = 2500
	args := []string{"MSET"}
	for i := range n {
		args = append(args, "k"+strconv.Itoa(i), "v")
	}
	runRaw(t, c, []rawCase{
		{args, okReply},
		{cmd("DBSIZE"), integer(n)},
		{cmd("FLUSHALL"), okReply},
		{cmd("DBSIZE"), integer(0)},
	})
	keys, _ := e.local.liveKeys(e.clock.Now().UnixMilli())
	if keys != 0 {
		t.Fatalf("%d live keys stored after FLUSHALL", keys)
	}
}

// TestFlushSkipsKeysGoneMeanwhile: FLUSHALL deletes the keys its scan saw
// live; one deleted in between is left as it is, with no second tombstone.
func TestFlushSkipsKeysGoneMeanwhile(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("MSET", "a", "1", "b", "2"), okReply}})
	var once sync.Once
	e.backend.setHook(func(op string, key []byte) {
		if op == "update" && string(key) == "b" {
			once.Do(func() {
				_, err := e.coord.Update(context.Background(), key, func(cur *replication.Object) (*replication.Write, error) {
					return &replication.Write{Context: cur.Context(), Tombstone: true}, nil
				}, replication.WriteOptions{})
				if err != nil {
					t.Error(err)
				}
			})
		}
	})
	runRaw(t, c, []rawCase{{cmd("FLUSHALL"), okReply}})
	deleted := e.local.object("b")
	runRaw(t, c, []rawCase{{cmd("FLUSHALL"), okReply}, {cmd("DBSIZE"), integer(0)}})
	if deleted.Len() != 1 || !deleted.Siblings[0].Tombstone || e.local.object("b") != deleted {
		t.Errorf("b after FLUSHALL: %+v, want the one tombstone written before", e.local.object("b"))
	}
	if a := e.local.object("a"); a.Len() != 1 || !a.Siblings[0].Tombstone {
		t.Errorf("a after FLUSHALL: %+v", a)
	}
}
