package resp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStringCommands(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("GET", "k"), nullBulk},
		{cmd("SET", "k", "v1"), okReply},
		{cmd("GET", "k"), bulk("v1")},
		{cmd("get", "k"), bulk("v1")},
		{cmd("SET", "k", ""), okReply},
		{cmd("GET", "k"), bulk("")},
		{cmd("SET", "bin", "a\x00b\r\nc"), okReply},
		{cmd("GET", "bin"), bulk("a\x00b\r\nc")},
		{cmd("STRLEN", "bin"), integer(6)},
		{cmd("STRLEN", "nokey"), integer(0)},

		{cmd("SETNX", "n", "1"), integer(1)},
		{cmd("SETNX", "n", "2"), integer(0)},
		{cmd("GET", "n"), bulk("1")},

		{cmd("GETSET", "n", "3"), bulk("1")},
		{cmd("GETSET", "fresh", "x"), nullBulk},
		{cmd("GET", "n"), bulk("3")},

		{cmd("GETDEL", "n"), bulk("3")},
		{cmd("GETDEL", "n"), nullBulk},
		{cmd("GET", "n"), nullBulk},

		{cmd("MSET", "a", "1", "b", "2", "a", "3"), okReply},
		{cmd("MGET", "a", "b", "nokey", "a"), array(bulk("3"), bulk("2"), nullBulk, bulk("3"))},

		{cmd("APPEND", "ap", "abc"), integer(3)},
		{cmd("APPEND", "ap", "de"), integer(5)},
		{cmd("GET", "ap"), bulk("abcde")},

		// Arity and option errors, in Redis's words.
		{cmd("GET"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("GET", "a", "b"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("SET", "k"), errReply("ERR wrong number of arguments for 'set' command")},
		{cmd("MSET", "a"), errReply("ERR wrong number of arguments for 'mset' command")},
		{cmd("MSET", "a", "1", "b"), errReply("ERR wrong number of arguments for 'mset' command")},
		{cmd("MGET"), errReply("ERR wrong number of arguments for 'mget' command")},
		{cmd("SETNX", "k"), errReply("ERR wrong number of arguments for 'setnx' command")},
		{cmd("APPEND", "k"), errReply("ERR wrong number of arguments for 'append' command")},
		{cmd("GETEX"), errReply("ERR wrong number of arguments for 'getex' command")},
	})
}

func TestSetOptions(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		// NX and XX.
		{cmd("SET", "k", "1", "XX"), nullBulk},
		{cmd("GET", "k"), nullBulk},
		{cmd("SET", "k", "1", "NX"), okReply},
		{cmd("SET", "k", "2", "nx"), nullBulk},
		{cmd("GET", "k"), bulk("1")},
		{cmd("SET", "k", "2", "XX"), okReply},
		{cmd("GET", "k"), bulk("2")},
		{cmd("SET", "k", "2", "NX", "NX"), nullBulk},

		// GET returns the old value, also when NX or XX stop the write.
		{cmd("SET", "k", "3", "GET"), bulk("2")},
		{cmd("SET", "k", "4", "NX", "GET"), bulk("3")},
		{cmd("GET", "k"), bulk("3")},
		{cmd("SET", "new", "x", "XX", "GET"), nullBulk},
		{cmd("GET", "new"), nullBulk},
		{cmd("SET", "new", "x", "GET"), nullBulk},
		{cmd("GET", "new"), bulk("x")},

		// Errors.
		{cmd("SET", "k", "v", "NX", "XX"), errReply(errSyntax)},
		{cmd("SET", "k", "v", "XX", "NX"), errReply(errSyntax)},
		{cmd("SET", "k", "v", "BOGUS"), errReply(errSyntax)},
		{cmd("SET", "k", "v", "EX"), errReply(errSyntax)},
		{cmd("SET", "k", "v", "EX", "10", "PX", "100"), errReply(errSyntax)},
		{cmd("SET", "k", "v", "EX", "10", "KEEPTTL"), errReply(errSyntax)},
		{cmd("SET", "k", "v", "KEEPTTL", "EX", "10"), errReply(errSyntax)},
		{cmd("SET", "k", "v", "EX", "abc"), errReply(errNotInteger)},
		{cmd("SET", "k", "v", "PX", "1.5"), errReply(errNotInteger)},
		{cmd("SET", "k", "v", "EX", "0"), errReply("ERR invalid expire time in 'set' command")},
		{cmd("SET", "k", "v", "PX", "-1"), errReply("ERR invalid expire time in 'set' command")},
		{cmd("SET", "k", "v", "EX", "9223372036854775807"), errReply("ERR invalid expire time in 'set' command")},
		{cmd("SET", "k", "v", "PX", "9223372036854775807"), errReply("ERR invalid expire time in 'set' command")},
		{cmd("SET", "k", "v", "EXAT", "0"), errReply("ERR invalid expire time in 'set' command")},
		// A failed SET writes nothing.
		{cmd("GET", "k"), bulk("3")},
	})
}

func TestSetExpiry(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	nowMs := e.clock.Now().UnixMilli()
	runRaw(t, c, []rawCase{
		{cmd("SET", "k", "v", "EX", "10"), okReply},
		{cmd("PTTL", "k"), integer(10000)},
		{cmd("TTL", "k"), integer(10)},
	})
	e.clock.Advance(3 * time.Second)
	runRaw(t, c, []rawCase{
		{cmd("TTL", "k"), integer(7)},
		// KEEPTTL keeps the expiry; a plain SET drops it.
		{cmd("SET", "k", "v2", "KEEPTTL"), okReply},
		{cmd("PTTL", "k"), integer(7000)},
		{cmd("SET", "k", "v3"), okReply},
		{cmd("TTL", "k"), integer(-1)},
		// KEEPTTL on a new key sets none.
		{cmd("SET", "kt", "v", "KEEPTTL"), okReply},
		{cmd("TTL", "kt"), integer(-1)},

		{cmd("SET", "px", "v", "PX", "1500"), okReply},
		{cmd("PTTL", "px"), integer(1500)},
		{cmd("SET", "exat", "v", "EXAT", strconv.FormatInt(nowMs/1000+3+20, 10)), okReply},
		{cmd("TTL", "exat"), integer(20)},
		{cmd("SET", "pxat", "v", "PXAT", strconv.FormatInt(nowMs+3000+2500, 10)), okReply},
		{cmd("PTTL", "pxat"), integer(2500)},
		// An absolute time in the past stores a version that is already
		// expired: the key is gone, as in Redis.
		{cmd("SET", "past", "v", "PXAT", "1"), okReply},
		{cmd("GET", "past"), nullBulk},
		{cmd("EXISTS", "past"), integer(0)},
	})
	e.clock.Advance(1500 * time.Millisecond)
	runRaw(t, c, []rawCase{
		{cmd("GET", "px"), nullBulk},
		{cmd("PTTL", "px"), integer(-2)},
		{cmd("GET", "pxat"), bulk("v")},
		{cmd("PTTL", "pxat"), integer(1000)},
		// An expired key counts as absent for NX.
		{cmd("SET", "px", "again", "NX"), okReply},
		{cmd("GET", "px"), bulk("again")},
	})
}

func TestSetexPsetex(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SETEX", "k", "10", "v"), okReply},
		{cmd("GET", "k"), bulk("v")},
		{cmd("PTTL", "k"), integer(10000)},
		{cmd("PSETEX", "p", "1500", "v"), okReply},
		{cmd("PTTL", "p"), integer(1500)},
		{cmd("SETEX", "k", "0", "v"), errReply("ERR invalid expire time in 'setex' command")},
		{cmd("PSETEX", "k", "-5", "v"), errReply("ERR invalid expire time in 'psetex' command")},
		{cmd("SETEX", "k", "ten", "v"), errReply(errNotInteger)},
		{cmd("SETEX", "k", "10"), errReply("ERR wrong number of arguments for 'setex' command")},
	})
	e.clock.Advance(10 * time.Second)
	runRaw(t, c, []rawCase{{cmd("GET", "k"), nullBulk}})
}

func TestGetEx(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	nowMs := e.clock.Now().UnixMilli()
	runRaw(t, c, []rawCase{
		{cmd("GETEX", "nokey", "EX", "10"), nullBulk},
		{cmd("EXISTS", "nokey"), integer(0)},
		{cmd("SET", "k", "v"), okReply},
		{cmd("GETEX", "k"), bulk("v")},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("GETEX", "k", "EX", "10"), bulk("v")},
		{cmd("PTTL", "k"), integer(10000)},
		{cmd("GETEX", "k", "PX", "2500"), bulk("v")},
		{cmd("PTTL", "k"), integer(2500)},
		{cmd("GETEX", "k", "EXAT", strconv.FormatInt(nowMs/1000+100, 10)), bulk("v")},
		{cmd("TTL", "k"), integer(100)},
		{cmd("GETEX", "k", "PXAT", strconv.FormatInt(nowMs+4321, 10)), bulk("v")},
		{cmd("PTTL", "k"), integer(4321)},
		{cmd("GETEX", "k", "PERSIST"), bulk("v")},
		{cmd("TTL", "k"), integer(-1)},
		{cmd("GETEX", "k", "PERSIST"), bulk("v")},
		{cmd("TTL", "k"), integer(-1)},

		{cmd("GETEX", "k", "EX"), errReply(errSyntax)},
		{cmd("GETEX", "k", "BOGUS"), errReply(errSyntax)},
		{cmd("GETEX", "k", "EX", "10", "PX", "10"), errReply(errSyntax)},
		{cmd("GETEX", "k", "PERSIST", "EX", "10"), errReply(errSyntax)},
		{cmd("GETEX", "k", "EX", "10", "PERSIST"), errReply(errSyntax)},
		{cmd("GETEX", "k", "EX", "0"), errReply("ERR invalid expire time in 'getex' command")},
		{cmd("GETEX", "k", "EX", "x"), errReply(errNotInteger)},
		{cmd("TTL", "k"), integer(-1)},

		// An expiry in the past deletes the key after reading it.
		{cmd("GETEX", "k", "PXAT", "1"), bulk("v")},
		{cmd("GET", "k"), nullBulk},
	})
}

func TestGetExpiredAtDeadline(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("SET", "k", "v", "PX", "100"), okReply}})
	e.clock.Advance(99 * time.Millisecond)
	runRaw(t, c, []rawCase{{cmd("GET", "k"), bulk("v")}, {cmd("PTTL", "k"), integer(1)}})
	e.clock.Advance(time.Millisecond)
	runRaw(t, c, []rawCase{
		{cmd("GET", "k"), nullBulk},
		{cmd("MGET", "k"), array(nullBulk)},
		{cmd("STRLEN", "k"), integer(0)},
		{cmd("GETDEL", "k"), nullBulk},
		{cmd("GETSET", "k", "w"), nullBulk},
		{cmd("TTL", "k"), integer(-1)},
	})
}

func TestAppend(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.Limits.MaxBulkLen = 8 })
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "k", "abc", "EX", "100"), okReply},
		{cmd("APPEND", "k", "def"), integer(6)},
		// APPEND keeps the expiry.
		{cmd("TTL", "k"), integer(100)},
		{cmd("APPEND", "k", "ghi"), errReply("ERR string exceeds maximum allowed size (proto-max-bulk-len)")},
		{cmd("GET", "k"), bulk("abcdef")},
		{cmd("APPEND", "k", "gh"), integer(8)},
	})
	e.clock.Advance(100 * time.Second)
	// An expired key appends as a new one, without an expiry.
	runRaw(t, c, []rawCase{
		{cmd("APPEND", "k", "x"), integer(1)},
		{cmd("GET", "k"), bulk("x")},
		{cmd("TTL", "k"), integer(-1)},
	})
}

// TestStringsGoRedis drives the string commands as an application would,
// through go-redis over RESP3.
func TestStringsGoRedis(t *testing.T) {
	e := newTestEnv(t)
	rdb := e.client()
	if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); v != "v" || err != nil {
		t.Fatalf("GET = %q, %v", v, err)
	}
	if d, err := rdb.TTL(ctx, "k").Result(); d != time.Minute || err != nil {
		t.Fatalf("TTL = %v, %v", d, err)
	}
	if _, err := rdb.Get(ctx, "missing").Result(); err == nil || err.Error() != "redis: nil" {
		t.Fatalf("GET missing: err = %v, want redis.Nil", err)
	}
	if ok, err := rdb.SetNX(ctx, "k", "w", 0).Result(); ok || err != nil {
		t.Fatalf("SETNX existing = %v, %v", ok, err)
	}
	if v, err := rdb.SetArgs(ctx, "k", "w", redis.SetArgs{Get: true}).Result(); v != "v" || err != nil {
		t.Fatalf("SET GET = %q, %v", v, err)
	}
	if vals, err := rdb.MGet(ctx, "k", "missing").Result(); err != nil || len(vals) != 2 || vals[0] != "w" || vals[1] != nil {
		t.Fatalf("MGET = %v, %v", vals, err)
	}
	if v, err := rdb.GetEx(ctx, "k", 5*time.Second).Result(); v != "w" || err != nil {
		t.Fatalf("GETEX = %q, %v", v, err)
	}
	if d, err := rdb.PTTL(ctx, "k").Result(); d != 5*time.Second || err != nil {
		t.Fatalf("PTTL after GETEX = %v, %v", d, err)
	}
	big := strings.Repeat("x", 100<<10)
	if err := rdb.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "big").Result(); v != big || err != nil {
		t.Fatalf("GET big: %d bytes, %v", len(v), err)
	}
}
