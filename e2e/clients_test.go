package e2e

// End-to-end tests with real clients: go-redis (default options, RESP3), raw RESP, redis-cli and
// Debian's python3-redis. See e2e_test.go for the harness and the DYNAKV_E2E_TARGET switch.

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"

	"github.com/redis/go-redis/v9"
)

// wantErr checks that err is a server error with exactly the text msg.
func wantErr(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", what, msg)
		return
	}
	if err.Error() != msg {
		t.Errorf("%s: error %q, want %q", what, err.Error(), msg)
	}
}

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestE2EGoRedisStrings(t *testing.T) {
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, time.Minute)

	must(t, "FLUSHALL", rdb.FlushAll(ctx).Err())

	t.Run("SET/GET", func(t *testing.T) {
		must(t, "SET", rdb.Set(ctx, "s:k", "v1", 0).Err())
		if v, err := rdb.Get(ctx, "s:k").Result(); err != nil || v != "v1" {
			t.Errorf("GET = %q, %v; want v1", v, err)
		}
		if _, err := rdb.Get(ctx, "s:missing").Result(); err != redis.Nil {
			t.Errorf("GET missing: err %v, want redis.Nil", err)
		}
	})

	t.Run("SET options", func(t *testing.T) {
		must(t, "SET EX", rdb.SetArgs(ctx, "s:ex", "v", redis.SetArgs{TTL: 100 * time.Second}).Err())
		if ttl := rdb.TTL(ctx, "s:ex").Val(); ttl < 98*time.Second || ttl > 100*time.Second {
			t.Errorf("TTL after SET EX 100 = %v", ttl)
		}
		must(t, "SET PX", rdb.SetArgs(ctx, "s:px", "v", redis.SetArgs{TTL: 100500 * time.Millisecond}).Err())
		if pttl := rdb.PTTL(ctx, "s:px").Val(); pttl < 98*time.Second || pttl > 100500*time.Millisecond {
			t.Errorf("PTTL after SET PX 100500 = %v", pttl)
		}
		must(t, "SET EXAT", rdb.SetArgs(ctx, "s:exat", "v", redis.SetArgs{ExpireAt: time.Now().Add(200 * time.Second).Truncate(time.Second)}).Err())
		if ttl := rdb.TTL(ctx, "s:exat").Val(); ttl < 195*time.Second || ttl > 200*time.Second {
			t.Errorf("TTL after SET EXAT now+200 = %v", ttl)
		}
		must(t, "SET PXAT", rdb.SetArgs(ctx, "s:pxat", "v", redis.SetArgs{ExpireAt: time.Now().Add(300*time.Second + 5*time.Millisecond)}).Err())
		if ttl := rdb.TTL(ctx, "s:pxat").Val(); ttl < 295*time.Second || ttl > 300*time.Second {
			t.Errorf("TTL after SET PXAT now+300s = %v", ttl)
		}

		// KEEPTTL keeps the TTL; a plain SET clears it.
		must(t, "SET KEEPTTL", rdb.SetArgs(ctx, "s:ex", "v2", redis.SetArgs{KeepTTL: true}).Err())
		if ttl := rdb.TTL(ctx, "s:ex").Val(); ttl < 98*time.Second {
			t.Errorf("TTL after SET KEEPTTL = %v, want about 100s", ttl)
		}
		if v := rdb.Get(ctx, "s:ex").Val(); v != "v2" {
			t.Errorf("GET after SET KEEPTTL = %q", v)
		}
		must(t, "SET", rdb.Set(ctx, "s:ex", "v3", 0).Err())
		if ttl := rdb.TTL(ctx, "s:ex").Val(); ttl != -1 {
			t.Errorf("TTL after plain SET = %v, want -1 (no expiry)", ttl)
		}

		// NX / XX.
		if ok, err := rdb.SetNX(ctx, "s:k", "other", 0).Result(); err != nil || ok {
			t.Errorf("SET NX on existing key = %v, %v; want false", ok, err)
		}
		if ok, err := rdb.SetNX(ctx, "s:nx", "v", 0).Result(); err != nil || !ok {
			t.Errorf("SET NX on missing key = %v, %v; want true", ok, err)
		}
		if ok, err := rdb.SetXX(ctx, "s:xx", "v", 0).Result(); err != nil || ok {
			t.Errorf("SET XX on missing key = %v, %v; want false", ok, err)
		}
		if ok, err := rdb.SetXX(ctx, "s:k", "v-xx", 0).Result(); err != nil || !ok {
			t.Errorf("SET XX on existing key = %v, %v; want true", ok, err)
		}
		if _, err := rdb.Get(ctx, "s:xx").Result(); err != redis.Nil {
			t.Errorf("SET XX on a missing key created it: %v", err)
		}

		// GET returns the old value, or nil.
		if old, err := rdb.SetArgs(ctx, "s:k", "v-get", redis.SetArgs{Get: true}).Result(); err != nil || old != "v-xx" {
			t.Errorf("SET GET = %q, %v; want v-xx", old, err)
		}
		if _, err := rdb.SetArgs(ctx, "s:get-new", "v", redis.SetArgs{Get: true}).Result(); err != redis.Nil {
			t.Errorf("SET GET of a new key: err %v, want redis.Nil", err)
		}
		wantErr(t, "SET EX 10 PX 10", rdb.Do(ctx, "SET", "s:k", "v", "EX", "10", "PX", "10").Err(), "ERR syntax error")
		wantErr(t, "SET EX 0", rdb.Do(ctx, "SET", "s:k", "v", "EX", "0").Err(), "ERR invalid expire time in 'set' command")
	})

	t.Run("SETNX SETEX PSETEX GETSET GETDEL GETEX", func(t *testing.T) {
		if ok := rdb.Do(ctx, "SETNX", "s:setnx", "a").Val(); ok != int64(1) {
			t.Errorf("SETNX new = %v, want 1", ok)
		}
		if ok := rdb.Do(ctx, "SETNX", "s:setnx", "b").Val(); ok != int64(0) {
			t.Errorf("SETNX existing = %v, want 0", ok)
		}
		must(t, "SETEX", rdb.SetEx(ctx, "s:setex", "v", 50*time.Second).Err())
		if ttl := rdb.TTL(ctx, "s:setex").Val(); ttl < 48*time.Second || ttl > 50*time.Second {
			t.Errorf("TTL after SETEX 50 = %v", ttl)
		}
		must(t, "PSETEX", rdb.Do(ctx, "PSETEX", "s:psetex", "60000", "v").Err())
		if pttl := rdb.PTTL(ctx, "s:psetex").Val(); pttl < 58*time.Second || pttl > 60*time.Second {
			t.Errorf("PTTL after PSETEX 60000 = %v", pttl)
		}
		if old, err := rdb.GetSet(ctx, "s:setnx", "c").Result(); err != nil || old != "a" {
			t.Errorf("GETSET = %q, %v; want a", old, err)
		}
		if _, err := rdb.GetSet(ctx, "s:getset-new", "c").Result(); err != redis.Nil {
			t.Errorf("GETSET new key: err %v, want redis.Nil", err)
		}
		if v, err := rdb.GetDel(ctx, "s:setnx").Result(); err != nil || v != "c" {
			t.Errorf("GETDEL = %q, %v; want c", v, err)
		}
		if _, err := rdb.GetDel(ctx, "s:setnx").Result(); err != redis.Nil {
			t.Errorf("second GETDEL: err %v, want redis.Nil", err)
		}
		if v, err := rdb.GetEx(ctx, "s:setex", 500*time.Second).Result(); err != nil || v != "v" {
			t.Errorf("GETEX EX = %q, %v", v, err)
		}
		if ttl := rdb.TTL(ctx, "s:setex").Val(); ttl < 498*time.Second {
			t.Errorf("TTL after GETEX EX 500 = %v", ttl)
		}
		if v, err := rdb.GetEx(ctx, "s:setex", 0).Result(); err != nil || v != "v" {
			t.Errorf("GETEX PERSIST = %q, %v", v, err)
		}
		if ttl := rdb.TTL(ctx, "s:setex").Val(); ttl != -1 {
			t.Errorf("TTL after GETEX PERSIST = %v, want -1", ttl)
		}
		if _, err := rdb.GetEx(ctx, "s:nokey", time.Minute).Result(); err != redis.Nil {
			t.Errorf("GETEX missing key: err %v, want redis.Nil", err)
		}
	})

	t.Run("MSET MGET STRLEN APPEND", func(t *testing.T) {
		must(t, "MSET", rdb.MSet(ctx, "s:m1", "one", "s:m2", "two", "s:m3", "").Err())
		vals, err := rdb.MGet(ctx, "s:m1", "s:nokey", "s:m2", "s:m3").Result()
		must(t, "MGET", err)
		want := []any{"one", nil, "two", ""}
		if fmt.Sprint(vals) != fmt.Sprint(want) || vals[1] != nil {
			t.Errorf("MGET = %#v, want %#v", vals, want)
		}
		if n := rdb.StrLen(ctx, "s:m1").Val(); n != 3 {
			t.Errorf("STRLEN = %d, want 3", n)
		}
		if n, err := rdb.StrLen(ctx, "s:nokey").Result(); err != nil || n != 0 {
			t.Errorf("STRLEN missing = %d, %v; want 0", n, err)
		}
		if n := rdb.Append(ctx, "s:m1", "-more").Val(); n != 8 {
			t.Errorf("APPEND = %d, want 8", n)
		}
		if n := rdb.Append(ctx, "s:app-new", "abc").Val(); n != 3 {
			t.Errorf("APPEND new key = %d, want 3", n)
		}
		if v := rdb.Get(ctx, "s:m1").Val(); v != "one-more" {
			t.Errorf("GET after APPEND = %q", v)
		}
	})
}

func TestE2EGoRedisKeys(t *testing.T) {
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, time.Minute)
	must(t, "FLUSHALL", rdb.FlushAll(ctx).Err())

	t.Run("DEL UNLINK EXISTS TYPE", func(t *testing.T) {
		must(t, "MSET", rdb.MSet(ctx, "k:a", "1", "k:b", "2", "k:c", "3", "k:d", "4").Err())
		if n := rdb.Exists(ctx, "k:a", "k:a", "k:b", "k:nokey").Val(); n != 3 {
			t.Errorf("EXISTS a a b nokey = %d, want 3 (duplicates count)", n)
		}
		if typ := rdb.Type(ctx, "k:a").Val(); typ != "string" {
			t.Errorf("TYPE = %q, want string", typ)
		}
		if typ := rdb.Type(ctx, "k:nokey").Val(); typ != "none" {
			t.Errorf("TYPE missing = %q, want none", typ)
		}
		if n := rdb.Del(ctx, "k:a", "k:b", "k:nokey").Val(); n != 2 {
			t.Errorf("DEL a b nokey = %d, want 2", n)
		}
		if n := rdb.Unlink(ctx, "k:c", "k:a").Val(); n != 1 {
			t.Errorf("UNLINK c a = %d, want 1", n)
		}
		if n := rdb.Exists(ctx, "k:a", "k:b", "k:c", "k:d").Val(); n != 1 {
			t.Errorf("EXISTS after DEL/UNLINK = %d, want 1", n)
		}
	})

	t.Run("EXPIRE family and TTL rules", func(t *testing.T) {
		must(t, "SET", rdb.Set(ctx, "k:e", "v", 0).Err())
		if ttl := rdb.TTL(ctx, "k:e").Val(); ttl != -1 {
			t.Errorf("TTL without expiry = %v, want -1", ttl)
		}
		if ttl := rdb.TTL(ctx, "k:nokey").Val(); ttl != -2 {
			t.Errorf("TTL of missing key = %v, want -2", ttl)
		}
		if pttl := rdb.PTTL(ctx, "k:e").Val(); pttl != -1 {
			t.Errorf("PTTL without expiry = %v, want -1", pttl)
		}
		if pttl := rdb.PTTL(ctx, "k:nokey").Val(); pttl != -2 {
			t.Errorf("PTTL of missing key = %v, want -2", pttl)
		}
		if ok := rdb.Expire(ctx, "k:nokey", time.Minute).Val(); ok {
			t.Errorf("EXPIRE missing key = true")
		}
		if ok := rdb.Expire(ctx, "k:e", 100*time.Second).Val(); !ok {
			t.Errorf("EXPIRE = false")
		}
		if ttl := rdb.TTL(ctx, "k:e").Val(); ttl < 98*time.Second || ttl > 100*time.Second {
			t.Errorf("TTL after EXPIRE 100 = %v", ttl)
		}
		if ok := rdb.PExpire(ctx, "k:e", 200500*time.Millisecond).Val(); !ok {
			t.Errorf("PEXPIRE = false")
		}
		if pttl := rdb.PTTL(ctx, "k:e").Val(); pttl < 198*time.Second || pttl > 200500*time.Millisecond {
			t.Errorf("PTTL after PEXPIRE 200500 = %v", pttl)
		}
		if ok := rdb.ExpireAt(ctx, "k:e", time.Now().Add(300*time.Second)).Val(); !ok {
			t.Errorf("EXPIREAT = false")
		}
		if ttl := rdb.TTL(ctx, "k:e").Val(); ttl < 297*time.Second || ttl > 300*time.Second {
			t.Errorf("TTL after EXPIREAT now+300 = %v", ttl)
		}
		if ok := rdb.PExpireAt(ctx, "k:e", time.Now().Add(400*time.Second)).Val(); !ok {
			t.Errorf("PEXPIREAT = false")
		}
		if ttl := rdb.TTL(ctx, "k:e").Val(); ttl < 397*time.Second || ttl > 400*time.Second {
			t.Errorf("TTL after PEXPIREAT now+400s = %v", ttl)
		}
		if ok := rdb.Persist(ctx, "k:e").Val(); !ok {
			t.Errorf("PERSIST of a key with a TTL = false")
		}
		if ttl := rdb.TTL(ctx, "k:e").Val(); ttl != -1 {
			t.Errorf("TTL after PERSIST = %v, want -1", ttl)
		}
		if ok := rdb.Persist(ctx, "k:e").Val(); ok {
			t.Errorf("PERSIST of a key without TTL = true")
		}
		wantErr(t, "EXPIRE k abc", rdb.Do(ctx, "EXPIRE", "k:e", "abc").Err(), "ERR value is not an integer or out of range")

		// A key expires: poll until it is gone.
		must(t, "SET PX 200", rdb.Set(ctx, "k:short", "v", 200*time.Millisecond).Err())
		poll.Until(t, 10*time.Second, "k:short to expire", func() bool {
			_, err := rdb.Get(ctx, "k:short").Result()
			return err == redis.Nil
		})
		if n := rdb.Exists(ctx, "k:short").Val(); n != 0 {
			t.Errorf("EXISTS of an expired key = %d", n)
		}
		if ttl := rdb.TTL(ctx, "k:short").Val(); ttl != -2 {
			t.Errorf("TTL of an expired key = %v, want -2", ttl)
		}
		// A past expiry deletes the key.
		must(t, "SET", rdb.Set(ctx, "k:past", "v", 0).Err())
		if ok := rdb.ExpireAt(ctx, "k:past", time.Now().Add(-time.Hour)).Val(); !ok {
			t.Errorf("EXPIREAT in the past = false")
		}
		if _, err := rdb.Get(ctx, "k:past").Result(); err != redis.Nil {
			t.Errorf("GET after EXPIREAT in the past: %v, want redis.Nil", err)
		}
	})

	t.Run("FLUSHDB FLUSHALL DBSIZE", func(t *testing.T) {
		must(t, "FLUSHDB", rdb.FlushDB(ctx).Err())
		if n := rdb.DBSize(ctx).Val(); n != 0 {
			t.Errorf("DBSIZE after FLUSHDB = %d", n)
		}
		must(t, "MSET", rdb.MSet(ctx, "f:1", "a", "f:2", "b", "f:3", "c").Err())
		if n := rdb.DBSize(ctx).Val(); n != 3 {
			t.Errorf("DBSIZE = %d, want 3", n)
		}
		must(t, "FLUSHDB", rdb.FlushDB(ctx).Err())
		if n := rdb.DBSize(ctx).Val(); n != 0 {
			t.Errorf("DBSIZE after FLUSHDB = %d", n)
		}
		if _, err := rdb.Get(ctx, "f:1").Result(); err != redis.Nil {
			t.Errorf("GET after FLUSHDB: %v", err)
		}
		must(t, "SET", rdb.Set(ctx, "f:1", "again", 0).Err())
		if v := rdb.Get(ctx, "f:1").Val(); v != "again" {
			t.Errorf("a key written after FLUSHDB reads %q", v)
		}
		must(t, "FLUSHALL", rdb.FlushAll(ctx).Err())
		if n := rdb.DBSize(ctx).Val(); n != 0 {
			t.Errorf("DBSIZE after FLUSHALL = %d", n)
		}
	})
}

func TestE2EScanKeys(t *testing.T) {
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, 2*time.Minute)
	must(t, "FLUSHALL", rdb.FlushAll(ctx).Err())

	want := map[string]bool{}
	pipe := rdb.Pipeline()
	for i := range 1000 {
		k := fmt.Sprintf("scan:%d", i)
		want[k] = true
		pipe.Set(ctx, k, i, 0)
	}
	for i := range 100 {
		pipe.Set(ctx, fmt.Sprintf("other:%d", i), i, 0)
	}
	_, err := pipe.Exec(ctx)
	must(t, "pipeline of SETs", err)

	scanAll := func(t *testing.T, match string, count int64, typ string) (map[string]int, int) {
		t.Helper()
		seen := map[string]int{}
		var cursor uint64
		calls := 0
		deadline := time.Now().Add(time.Minute)
		for {
			var keys []string
			var err error
			if typ != "" {
				keys, cursor, err = rdb.ScanType(ctx, cursor, match, count, typ).Result()
			} else {
				keys, cursor, err = rdb.Scan(ctx, cursor, match, count).Result()
			}
			must(t, "SCAN", err)
			calls++
			for _, k := range keys {
				seen[k]++
			}
			if cursor == 0 {
				return seen, calls
			}
			if calls > 100000 || time.Now().After(deadline) {
				t.Fatalf("SCAN did not return cursor 0 after %d calls", calls)
			}
		}
	}
	checkSet := func(t *testing.T, seen map[string]int, want map[string]bool) {
		t.Helper()
		dups := 0
		for k, c := range seen {
			if !want[k] {
				t.Errorf("SCAN returned unexpected key %q", k)
			}
			dups += c - 1
		}
		for k := range want {
			if seen[k] == 0 {
				t.Errorf("SCAN never returned %q", k)
			}
		}
		if dups > 0 {
			t.Logf("SCAN returned %d duplicates (allowed by SCAN's contract)", dups)
		}
	}

	t.Run("MATCH COUNT", func(t *testing.T) {
		seen, calls := scanAll(t, "scan:*", 100, "")
		checkSet(t, seen, want)
		t.Logf("%d SCAN calls", calls)
	})
	t.Run("no options", func(t *testing.T) {
		seen, _ := scanAll(t, "", 0, "")
		all := maps.Clone(want)
		for i := range 100 {
			all[fmt.Sprintf("other:%d", i)] = true
		}
		checkSet(t, seen, all)
	})
	t.Run("TYPE string", func(t *testing.T) {
		seen, _ := scanAll(t, "scan:*", 250, "string")
		checkSet(t, seen, want)
	})
	t.Run("TYPE hash", func(t *testing.T) {
		seen, _ := scanAll(t, "*", 250, "hash")
		checkSet(t, seen, map[string]bool{})
	})
	t.Run("KEYS glob", func(t *testing.T) {
		keys, err := rdb.Keys(ctx, "scan:1?").Result()
		must(t, "KEYS", err)
		slices.Sort(keys)
		var exp []string
		for i := 10; i < 20; i++ {
			exp = append(exp, fmt.Sprintf("scan:%d", i))
		}
		slices.Sort(exp)
		if !slices.Equal(keys, exp) {
			t.Errorf("KEYS scan:1? = %v, want %v", keys, exp)
		}
		keys, err = rdb.Keys(ctx, "scan:[12]").Result()
		must(t, "KEYS", err)
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"scan:1", "scan:2"}) {
			t.Errorf("KEYS scan:[12] = %v", keys)
		}
		keys, err = rdb.Keys(ctx, "*").Result()
		must(t, "KEYS", err)
		if len(keys) != 1100 {
			t.Errorf("KEYS * returned %d keys, want 1100", len(keys))
		}
		if n := rdb.DBSize(ctx).Val(); n != 1100 {
			t.Errorf("DBSIZE = %d, want 1100", n)
		}
	})
}

func TestE2EServerCommands(t *testing.T) {
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, time.Minute)

	if v, err := rdb.Ping(ctx).Result(); err != nil || v != "PONG" {
		t.Errorf("PING = %q, %v", v, err)
	}
	if v, err := rdb.Echo(ctx, "hello\x00world").Result(); err != nil || v != "hello\x00world" {
		t.Errorf("ECHO = %q, %v", v, err)
	}
	if tm, err := rdb.Time(ctx).Result(); err != nil || tm.Sub(time.Now()).Abs() > time.Minute {
		t.Errorf("TIME = %v, %v; want about now", tm, err)
	}

	conn := rdb.Conn()
	defer conn.Close()
	must(t, "SELECT 0", conn.Select(ctx, 0).Err())
	wantErr(t, "SELECT 1", conn.Select(ctx, 1).Err(), "ERR DB index is out of range")
	if ok, err := conn.ClientSetName(ctx, "e2e-name").Result(); err != nil || !ok {
		t.Errorf("CLIENT SETNAME = %v, %v", ok, err)
	}
	if name, err := conn.ClientGetName(ctx).Result(); err != nil || name != "e2e-name" {
		t.Errorf("CLIENT GETNAME = %q, %v", name, err)
	}
	id1, err := conn.ClientID(ctx).Result()
	if err != nil || id1 <= 0 {
		t.Errorf("CLIENT ID = %d, %v", id1, err)
	}
	conn2 := rdb.Conn()
	defer conn2.Close()
	if id2, err := conn2.ClientID(ctx).Result(); err != nil || id2 == id1 {
		t.Errorf("CLIENT ID of a second connection = %d, %v; first was %d", id2, err, id1)
	}

	must(t, "SET", rdb.Set(ctx, "info:key", "v", 0).Err())
	info, err := rdb.Info(ctx).Result()
	must(t, "INFO", err)
	sections := []string{"# Server", "# Clients", "# Memory", "# Stats", "# Replication", "# CPU", "# Keyspace"}
	if !onRedis() {
		sections = append(sections, "# Cluster")
	}
	for _, s := range sections {
		if !slices.Contains(strings.Split(info, "\r\n"), s) {
			t.Errorf("INFO has no %q section line", s)
		}
	}
	for _, field := range []string{"redis_version:", "connected_clients:", "db0:keys="} {
		if !strings.Contains(info, "\r\n"+field) {
			t.Errorf("INFO has no %q field", field)
		}
	}
	if ks, err := rdb.Info(ctx, "keyspace").Result(); err != nil || !strings.Contains(ks, "# Keyspace") || strings.Contains(ks, "# Server") {
		t.Errorf("INFO keyspace = %q, %v; want only the Keyspace section", ks, err)
	}

	if cnt, err := rdb.Do(ctx, "COMMAND", "COUNT").Int64(); err != nil || cnt <= 0 {
		t.Errorf("COMMAND COUNT = %d, %v", cnt, err)
	}
	if m, err := rdb.ConfigGet(ctx, "maxclients").Result(); err != nil {
		t.Errorf("CONFIG GET maxclients: %v", err)
	} else if v, ok := m["maxclients"]; !ok {
		t.Errorf("CONFIG GET maxclients = %v", m)
	} else if n, err := strconv.Atoi(v); err != nil || n <= 0 {
		t.Errorf("CONFIG GET maxclients = %q, want a positive integer", v)
	}
	if m, err := rdb.ConfigGet(ctx, "port").Result(); err != nil || m["port"] != n.Port() {
		t.Errorf("CONFIG GET port = %v, %v; want %s", m, err, n.Port())
	}
}

func TestE2EBinarySafe(t *testing.T) {
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, time.Minute)

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	keys := []string{string(all), "k\x00with\r\nnul", "\xff\xfe", "key with spaces"}
	for _, k := range keys {
		must(t, "SET", rdb.Set(ctx, k, all, 0).Err())
		got, err := rdb.Get(ctx, k).Bytes()
		must(t, "GET", err)
		if !bytes.Equal(got, all) {
			t.Errorf("key %q: GET returned %d bytes that differ from the 256 byte values", k, len(got))
		}
	}
	if n := rdb.Exists(ctx, keys...).Val(); n != int64(len(keys)) {
		t.Errorf("EXISTS of binary keys = %d, want %d", n, len(keys))
	}

	big := make([]byte, 1<<20)
	rand.Read(big)
	must(t, "SET 1MB", rdb.Set(ctx, "big", big, 0).Err())
	got, err := rdb.Get(ctx, "big").Bytes()
	must(t, "GET 1MB", err)
	if !bytes.Equal(got, big) {
		t.Errorf("1 MB value: got %d bytes that differ", len(got))
	}
	if n := rdb.StrLen(ctx, "big").Val(); n != 1<<20 {
		t.Errorf("STRLEN of 1 MB value = %d", n)
	}
	if n := rdb.Append(ctx, "big", string(all)).Val(); n != 1<<20+256 {
		t.Errorf("APPEND to 1 MB value = %d", n)
	}
}

func TestE2EPipeline10k(t *testing.T) {
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, 2*time.Minute)
	const count = 10000

	pipe := rdb.Pipeline()
	for i := range count {
		pipe.Set(ctx, fmt.Sprintf("pipe:%d", i), fmt.Sprintf("value-%d", i), 0)
	}
	cmds, err := pipe.Exec(ctx)
	must(t, "pipelined SETs", err)
	if len(cmds) != count {
		t.Fatalf("%d replies to %d SETs", len(cmds), count)
	}
	pipe = rdb.Pipeline()
	gets := make([]*redis.StringCmd, count)
	for i := range count {
		gets[i] = pipe.Get(ctx, fmt.Sprintf("pipe:%d", i))
	}
	_, err = pipe.Exec(ctx)
	must(t, "pipelined GETs", err)
	bad := 0
	for i, c := range gets {
		if v := c.Val(); v != fmt.Sprintf("value-%d", i) {
			if bad++; bad <= 5 {
				t.Errorf("GET pipe:%d = %q, %v", i, v, c.Err())
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d pipelined GETs wrong", bad, count)
	}
}

func TestE2EErrorTable(t *testing.T) {
	n := startNode(t)
	runScript(t, n.Addr(), filepath.Join("testdata", "errors.txt"))
}

func TestE2EHello3(t *testing.T) {
	n := startNode(t)
	rc := dialRaw(t, n.Addr())
	v := rc.Do("HELLO", "3")
	if v.Type != '%' {
		t.Fatalf("HELLO 3 reply type %q, want a RESP3 map: %s", v.Type, v.Wire())
	}
	fields := map[string]respValue{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		fields[v.Elems[i].Str] = v.Elems[i+1]
	}
	for _, k := range []string{"server", "version", "proto", "id", "mode", "role", "modules"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("HELLO 3 map has no %q: %s", k, v.Wire())
		}
	}
	if p := fields["proto"]; p.Type != ':' || p.Str != "3" {
		t.Errorf("HELLO 3 proto = %s, want :3", p.Wire())
	}
	if v := rc.Do("GET", "hello3:missing"); v.Type != '_' {
		t.Errorf("GET missing after HELLO 3 = %s, want _", v.Wire())
	}
	if v := rc.Do("HELLO", "2"); v.Type != '*' || len(v.Elems) != 14 {
		t.Errorf("HELLO 2 = %s, want a flat array of 14", v.Wire())
	}
	if v := rc.Do("GET", "hello3:missing"); v.Type != '$' || !v.Null {
		t.Errorf("GET missing after HELLO 2 = %s, want $-1", v.Wire())
	}
	if v := rc.Do("HELLO", "3", "SETNAME", "hello-client"); v.Type != '%' {
		t.Errorf("HELLO 3 SETNAME = %s", v.Wire())
	}
	if v := rc.Do("CLIENT", "GETNAME"); v.Str != "hello-client" {
		t.Errorf("CLIENT GETNAME after HELLO SETNAME = %s", v.Wire())
	}
}

func TestE2ERequirePass(t *testing.T) {
	n := startNode(t, "--requirepass", "secret", "--cluster-secret", "cs")
	ctx := testCtx(t, time.Minute)

	rc := dialRaw(t, n.Addr())
	for _, cmd := range [][]string{{"GET", "k"}, {"SET", "k", "v"}, {"PING"}} {
		if v := rc.Do(cmd...); v.Wire() != "-NOAUTH Authentication required." {
			t.Errorf("%v before AUTH = %s, want -NOAUTH Authentication required.", cmd, v.Wire())
		}
	}
	if v := rc.Do("AUTH", "wrong"); v.Wire() != "-WRONGPASS invalid username-password pair or user is disabled." {
		t.Errorf("AUTH wrong = %s", v.Wire())
	}
	if v := rc.Do("AUTH", "default", "wrong"); v.Wire() != "-WRONGPASS invalid username-password pair or user is disabled." {
		t.Errorf("AUTH default wrong = %s", v.Wire())
	}
	if v := rc.Do("GET", "k"); v.Wire() != "-NOAUTH Authentication required." {
		t.Errorf("GET after a failed AUTH = %s", v.Wire())
	}
	if v := rc.Do("AUTH", "secret"); v.Wire() != "+OK" {
		t.Errorf("AUTH secret = %s", v.Wire())
	}
	if v := rc.Do("SET", "k", "v"); v.Wire() != "+OK" {
		t.Errorf("SET after AUTH = %s", v.Wire())
	}
	if v := rc.Do("GET", "k"); v.Wire() != `$1\r\nv` {
		t.Errorf("GET after AUTH = %s", v.Wire())
	}

	rc2 := dialRaw(t, n.Addr())
	if v := rc2.Do("AUTH", "default", "secret"); v.Wire() != "+OK" {
		t.Errorf("AUTH default secret = %s", v.Wire())
	}
	rc3 := dialRaw(t, n.Addr())
	if v := rc3.Do("HELLO", "3", "AUTH", "default", "wrong"); !strings.HasPrefix(v.Wire(), "-WRONGPASS") {
		t.Errorf("HELLO 3 AUTH default wrong = %s, want -WRONGPASS", v.Wire())
	}
	if v := rc3.Do("HELLO", "3", "AUTH", "default", "secret"); v.Type != '%' {
		t.Errorf("HELLO 3 AUTH default secret = %s, want a map", v.Wire())
	}
	if v := rc3.Do("GET", "k"); v.Wire() != `$1\r\nv` {
		t.Errorf("GET after HELLO AUTH = %s", v.Wire())
	}
	if v := rc3.Do("GET", "missing"); v.Wire() != "_" {
		t.Errorf("GET missing after HELLO 3 AUTH = %s, want _", v.Wire())
	}

	// go-redis: with the password everything works; without it a command gets NOAUTH.
	good := n.Client(t, func(o *redis.Options) { o.Password = "secret" })
	if v, err := good.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("go-redis with password: GET = %q, %v", v, err)
	}
	bad := n.Client(t, func(o *redis.Options) { o.MaxRetries = -1 })
	if err := bad.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("go-redis without password: GET err %v, want NOAUTH", err)
	}
}

// redisCLI runs redis-cli against n with args and stdin, bounded in time.
func redisCLI(t *testing.T, n *proc, stdin []byte, args ...string) string {
	t.Helper()
	ctx := testCtx(t, 2*time.Minute)
	cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", "127.0.0.1", "-p", n.Port()}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\nstderr: %s\nstdout: %s", args, err, stderr.String(), tail(string(out), 4096))
	}
	return string(out)
}

func TestE2ERedisCli(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("redis-cli not installed (apt-get install redis-tools): %v", err)
	}
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, 2*time.Minute)

	t.Run("SET GET", func(t *testing.T) {
		if out := redisCLI(t, n, nil, "SET", "cli:k", "hello world"); out != "OK\n" {
			t.Errorf("redis-cli SET = %q", out)
		}
		if out := redisCLI(t, n, nil, "GET", "cli:k"); out != "hello world\n" {
			t.Errorf("redis-cli GET = %q", out)
		}
		if out := redisCLI(t, n, nil, "GET", "cli:missing"); out != "\n" {
			t.Errorf("redis-cli GET missing = %q", out)
		}
		if out := redisCLI(t, n, nil, "PING"); out != "PONG\n" {
			t.Errorf("redis-cli PING = %q", out)
		}
	})

	t.Run("-x binary", func(t *testing.T) {
		content := make([]byte, 0, 3*256)
		for r := range 3 {
			for i := range 256 {
				content = append(content, byte(i^r))
			}
		}
		f := filepath.Join(t.TempDir(), "blob")
		must(t, "write blob", os.WriteFile(f, content, 0o600))
		data, err := os.ReadFile(f)
		must(t, "read blob", err)
		if out := redisCLI(t, n, data, "-x", "SET", "cli:blob"); out != "OK\n" {
			t.Errorf("redis-cli -x SET = %q", out)
		}
		got, err := rdb.Get(ctx, "cli:blob").Bytes()
		must(t, "GET blob", err)
		if !bytes.Equal(got, content) {
			t.Errorf("value set by redis-cli -x: %d bytes, differs from the %d byte file", len(got), len(content))
		}
	})

	t.Run("--scan --pattern", func(t *testing.T) {
		pipe := rdb.Pipeline()
		want := []string{}
		for i := range 300 {
			k := fmt.Sprintf("user:%d", i)
			want = append(want, k)
			pipe.Set(ctx, k, i, 0)
			pipe.Set(ctx, fmt.Sprintf("account:%d", i), i, 0)
		}
		pipe.Set(ctx, "xuser:1", "not a user", 0)
		_, err := pipe.Exec(ctx)
		must(t, "SETs", err)
		out := redisCLI(t, n, nil, "--scan", "--pattern", "user:*")
		got := strings.Fields(out)
		seen := map[string]bool{}
		for _, k := range got {
			seen[k] = true
		}
		keys := slices.Sorted(maps.Keys(seen))
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("redis-cli --scan --pattern user:* listed %d distinct keys (%d lines), want the %d user:* keys", len(keys), len(got), len(want))
		}
	})

	t.Run("commands on stdin", func(t *testing.T) {
		var b strings.Builder
		for i := range 5000 {
			fmt.Fprintf(&b, "SET stdin:%d v%d\n", i, i)
		}
		out := redisCLI(t, n, []byte(b.String()))
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		oks := 0
		for _, l := range lines {
			if l == "OK" {
				oks++
			}
		}
		if oks != 5000 || len(lines) != 5000 {
			t.Errorf("redis-cli < file: %d lines, %d OK; want 5000 OK (first lines %q)", len(lines), oks, lines[:min(3, len(lines))])
		}
		if v := rdb.Get(ctx, "stdin:4999").Val(); v != "v4999" {
			t.Errorf("GET stdin:4999 = %q", v)
		}
	})

	t.Run("--pipe", func(t *testing.T) {
		var b bytes.Buffer
		for i := range 5000 {
			b.Write(encodeCommand("SET", fmt.Sprintf("pipe:%d", i), fmt.Sprintf("p%d", i)))
		}
		out := redisCLI(t, n, b.Bytes(), "--pipe")
		if !strings.Contains(out, "errors: 0, replies: 5000") {
			t.Errorf("redis-cli --pipe summary: %q, want errors: 0, replies: 5000", out)
		}
		if v := rdb.Get(ctx, "pipe:4999").Val(); v != "p4999" {
			t.Errorf("GET pipe:4999 = %q", v)
		}
		if n := rdb.Exists(ctx, "pipe:0", "pipe:2500", "pipe:4999").Val(); n != 3 {
			t.Errorf("EXISTS of keys sent by --pipe = %d, want 3", n)
		}
	})
}

func TestE2EPythonClient(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
		t.Fatalf("%s cannot import redis (apt-get install python3-redis): %v", py, err)
	}
	n := startNode(t)
	ctx := testCtx(t, 2*time.Minute)
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "pyclient.py"), n.Port())
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Errorf("pyclient.py: %v\n%s", err, out)
	}
}

// --- dynakv-only ---

// vgetValues runs VGET key [extra...] (extra: LOCAL, R n) through c and returns the context and
// the values, in the order of the reply; a key with no value has context "" and no values.
func vgetValues(ctx context.Context, c *redis.Client, key string, extra ...any) (string, []string, error) {
	v, err := c.Do(ctx, append([]any{"VGET", key}, extra...)...).StringSlice()
	if err != nil {
		return "", nil, err
	}
	if len(v) == 0 {
		return "", nil, nil
	}
	return v[0], v[1:], nil
}

// vget runs VGET and returns the context and the sorted values; an error fails the test.
func vget(t *testing.T, rdb *redis.Client, key string, extra ...any) (string, []string) {
	t.Helper()
	vctx, vals, err := vgetValues(testCtx(t, 30*time.Second), rdb, key, extra...)
	if err != nil {
		t.Fatalf("VGET %s: %v", key, err)
	}
	slices.Sort(vals)
	return vctx, vals
}

func TestE2EVersioned(t *testing.T) {
	dynakvOnly(t)
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, time.Minute)
	const k = "cart:1"

	if st, err := rdb.Do(ctx, "VSET", k, "", "v1").Text(); err != nil || st != "OK" {
		t.Fatalf("VSET k \"\" v1 = %q, %v", st, err)
	}
	ctx1, vals := vget(t, rdb, k)
	if ctx1 == "" || !slices.Equal(vals, []string{"v1"}) {
		t.Fatalf("VGET after one VSET = %q %q, want a context and [v1]", ctx1, vals)
	}
	if lctx, lvals := vget(t, rdb, k, "LOCAL"); lctx == "" || !slices.Equal(lvals, []string{"v1"}) {
		t.Errorf("VGET k LOCAL = %q %q, want a context and [v1]", lctx, lvals)
	}

	// Two writes with the same context: both survive as siblings.
	must(t, "VSET a", rdb.Do(ctx, "VSET", k, ctx1, "a").Err())
	// Not a synchronisation: separates the two writes' wall-clock timestamps so that "newest"
	// is well defined for the plain GET below.
	time.Sleep(5 * time.Millisecond)
	must(t, "VSET b", rdb.Do(ctx, "VSET", k, ctx1, "b").Err())
	ctx2, vals := vget(t, rdb, k)
	if !slices.Equal(vals, []string{"a", "b"}) {
		t.Fatalf("VGET after two VSETs with the same context = %q, want siblings [a b]", vals)
	}
	for i := range 5 {
		if v, err := rdb.Get(ctx, k).Result(); err != nil || v != "b" {
			t.Errorf("GET #%d of a key with siblings a, b = %q, %v; want the newest, b", i, v, err)
		}
	}

	// A write with the context of that read covers both siblings.
	must(t, "VSET merged", rdb.Do(ctx, "VSET", k, ctx2, "merged").Err())
	ctx3, vals := vget(t, rdb, k)
	if !slices.Equal(vals, []string{"merged"}) {
		t.Errorf("VGET after a VSET covering both siblings = %q, want [merged]", vals)
	}
	if v := rdb.Get(ctx, k).Val(); v != "merged" {
		t.Errorf("GET after merge = %q", v)
	}

	wantErr(t, "VSET with a bad context", rdb.Do(ctx, "VSET", k, "notbase64!!", "v").Err(), "ERR invalid context")
	wantErr(t, "VDEL with a bad context", rdb.Do(ctx, "VDEL", k, "notbase64!!").Err(), "ERR invalid context")
	if _, vals := vget(t, rdb, k); !slices.Equal(vals, []string{"merged"}) {
		t.Errorf("VGET after rejected writes = %q, want [merged]", vals)
	}

	if st, err := rdb.Do(ctx, "VDEL", k, ctx3).Text(); err != nil || st != "OK" {
		t.Errorf("VDEL = %q, %v", st, err)
	}
	if res, err := rdb.Do(ctx, "VGET", k).Slice(); err != nil || len(res) != 0 {
		t.Errorf("VGET after VDEL = %v, %v; want an empty array", res, err)
	}
	if _, err := rdb.Get(ctx, k).Result(); err != redis.Nil {
		t.Errorf("GET after VDEL: %v, want redis.Nil", err)
	}
	if res, err := rdb.Do(ctx, "VGET", "never:written").Slice(); err != nil || len(res) != 0 {
		t.Errorf("VGET of a never written key = %v, %v; want an empty array", res, err)
	}

	// Plain SET and VGET interoperate.
	must(t, "SET", rdb.Set(ctx, "plain", "p", 0).Err())
	if c, vals := vget(t, rdb, "plain"); c == "" || !slices.Equal(vals, []string{"p"}) {
		t.Errorf("VGET of a plain SET key = %q %q", c, vals)
	}
}

func TestE2ERing(t *testing.T) {
	dynakvOnly(t)
	n := startNode(t)
	rdb := n.Client(t)
	ctx := testCtx(t, time.Minute)

	for _, args := range [][]any{{"RING", "KEY", "k"}, {"RING", "MEMBERS"}, {"RING", "STATUS"}} {
		v, err := rdb.Do(ctx, args...).Result()
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if s := fmt.Sprint(v); s == "" || s == "[]" || s == "map[]" {
			t.Errorf("%v = %v, want something non-empty", args, v)
		}
	}
	info, err := rdb.Info(ctx, "cluster").Result()
	if err != nil || !strings.Contains(info, "# Cluster") {
		t.Errorf("INFO cluster = %q, %v", info, err)
	}
}

// vmRSS reads the resident set size of pid in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	must(t, "read /proc status", err)
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			must(t, "parse VmRSS", err)
			return kb * 1024
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

func TestE2EHostileInput(t *testing.T) {
	dynakvOnly(t)
	n := startNode(t)

	for _, raw := range []string{
		"*1\r\n$9223372036854775807\r\n",
		"*2147483647\r\n",
		"*1\r\n$536870913\r\n",
		"*1\r\n$-5\r\n",
		"*-2\r\n*1\r\n$99999999999999999999999\r\n",
	} {
		t.Run(strconv.Quote(raw), func(t *testing.T) {
			rc := dialRaw(t, n.Addr())
			if err := rc.WriteRaw([]byte(raw)); err != nil {
				t.Fatalf("write: %v", err)
			}
			got, err := rc.ExpectClosed()
			if !strings.HasPrefix(got, "-ERR Protocol error") || err != nil {
				t.Errorf("reply %q, %v; want -ERR Protocol error... and the connection closed", got, err)
			}
			if err := pingOnce(n.Addr()); err != nil {
				t.Fatalf("node does not answer PING after %q: %v", raw, err)
			}
		})
	}

	t.Run("512MB bulk declared, 4MB sent", func(t *testing.T) {
		before := vmRSS(t, n.PID())
		c, err := net.DialTimeout("tcp", n.Addr(), 5*time.Second)
		must(t, "dial", err)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		_, err = c.Write([]byte("*1\r\n$536870912\r\n"))
		must(t, "write header", err)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 64 { // 4 MB
			if _, err := c.Write(chunk); err != nil {
				t.Logf("server stopped reading after part of the 4 MB: %v", err)
				break
			}
		}
		// The server holds the connection open waiting for the rest; sample while it does.
		if err := pingOnce(n.Addr()); err != nil {
			t.Errorf("node does not answer PING while a 512 MB bulk is pending: %v", err)
		}
		during := vmRSS(t, n.PID())
		c.Close()
		if err := pingOnce(n.Addr()); err != nil {
			t.Fatalf("node does not answer PING after the connection closed: %v", err)
		}
		after := vmRSS(t, n.PID())
		grow := max(during, after) - before
		t.Logf("VmRSS before %d KB, during %d KB, after %d KB", before>>10, during>>10, after>>10)
		if grow >= 64<<20 {
			t.Errorf("VmRSS grew by %d MB for a 512 MB declared bulk with 4 MB sent; want < 64 MB", grow>>20)
		}
	})
}

// TestE2EInlineTooBig: an inline command longer than 64 KB without a newline gets Redis's
// protocol error and the connection is closed; the server keeps serving.
func TestE2EInlineTooBig(t *testing.T) {
	n := startNode(t)
	rc := dialRaw(t, n.Addr())
	if err := rc.WriteRaw(bytes.Repeat([]byte("a"), 70000)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := rc.ExpectClosed()
	if got != "-ERR Protocol error: too big inline request\r\n" || err != nil {
		t.Errorf("70000 byte inline request: reply %q, %v; want -ERR Protocol error: too big inline request and the connection closed", got, err)
	}
	if err := pingOnce(n.Addr()); err != nil {
		t.Fatalf("server does not answer PING afterwards: %v", err)
	}
}
