package resp

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// helloReply is HELLO's reply on the wire for protocol proto and client id.
func helloReply(proto int, id int64) string {
	pairs := bulk("server") + bulk("redis") + bulk("version") + bulk("7.2.0") +
		bulk("proto") + integer(int64(proto)) + bulk("id") + integer(id) +
		bulk("mode") + bulk("standalone") + bulk("role") + bulk("master") +
		bulk("modules") + array()
	if proto == 3 {
		return "%7\r\n" + pairs
	}
	return "*14\r\n" + pairs
}

// clientID asks the connection's id.
func (c *rawConn) clientID() int64 {
	c.t.Helper()
	v, ok := decode(c.t, c.do("CLIENT", "ID")).(int64)
	if !ok {
		c.t.Fatal("CLIENT ID is not an integer")
	}
	return v
}

func TestPingEchoSelect(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("PING"), simple("PONG")},
		{cmd("ping", "hi there"), bulk("hi there")},
		{cmd("PING", "a", "b"), errReply("ERR wrong number of arguments for 'ping' command")},
		{cmd("ECHO", "x\r\ny"), bulk("x\r\ny")},
		{cmd("ECHO"), errReply("ERR wrong number of arguments for 'echo' command")},
		{cmd("SELECT", "0"), okReply},
		{cmd("SELECT", "1"), errReply(errDBRange)},
		{cmd("SELECT", "zero"), errReply(errNotInteger)},
	})
	// Inline commands work as in Redis.
	c.send("PING\r\n")
	if got := c.read(); got != simple("PONG") {
		t.Fatalf("inline PING: %q", got)
	}
	c.send("ECHO hello\n")
	if got := c.read(); got != bulk("hello") {
		t.Fatalf("inline ECHO: %q", got)
	}
}

func TestQuit(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	if got := c.do("QUIT"); got != okReply {
		t.Fatalf("QUIT: %q", got)
	}
	c.expectClosed()

	// Commands pipelined after QUIT are not run.
	c = e.dial()
	c.send(string(rdEncode([]string{"SET", "a", "1"}, []string{"QUIT"}, []string{"SET", "b", "2"})))
	if got := c.read() + c.read(); got != okReply+okReply {
		t.Fatalf("SET; QUIT: %q", got)
	}
	c.expectClosed()
	runRaw(t, e.dial(), []rawCase{{cmd("EXISTS", "a", "b"), integer(1)}})
}

func TestHello(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	id := c.clientID()
	runRaw(t, c, []rawCase{
		{cmd("HELLO"), helloReply(2, id)},
		{cmd("HELLO", "2"), helloReply(2, id)},
		{cmd("GET", "nokey"), nullBulk},
		{cmd("HELLO", "4"), errReply("NOPROTO unsupported protocol version")},
		{cmd("HELLO", "1"), errReply("NOPROTO unsupported protocol version")},
		{cmd("HELLO", "three"), errReply("ERR Protocol version is not an integer or out of range")},
		{cmd("HELLO", "3", "BOGUS"), errReply("ERR Syntax error in HELLO option 'BOGUS'")},
		{cmd("HELLO", "3", "AUTH", "default"), errReply("ERR Syntax error in HELLO option 'AUTH'")},
		{cmd("HELLO", "3", "SETNAME"), errReply("ERR Syntax error in HELLO option 'SETNAME'")},
		{cmd("HELLO", "3", "SETNAME", "a b"), errReply("ERR Client names cannot contain spaces, newlines or special characters.")},
		// Without requirepass the default user takes any password; no
		// other user exists.
		{cmd("HELLO", "3", "AUTH", "alice", "pw"), errReply(errWrongPass)},
		// Failed HELLOs changed nothing.
		{cmd("GET", "nokey"), nullBulk},
		{cmd("CLIENT", "GETNAME"), nullBulk},

		{cmd("HELLO", "3", "AUTH", "default", "anything", "SETNAME", "conn-1"), helloReply(3, id)},
		{cmd("CLIENT", "GETNAME"), bulk("conn-1")},
		// RESP3 replies: null, map, set, verbatim.
		{cmd("GET", "nokey"), nullResp3},
		{cmd("MGET", "nokey"), array(nullResp3)},
		{cmd("HELLO"), helloReply(3, id)},
		{cmd("HELLO", "2"), helloReply(2, id)},
		{cmd("GET", "nokey"), nullBulk},
	})
}

func TestReset(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	id := c.clientID()
	runRaw(t, c, []rawCase{
		{cmd("HELLO", "3", "SETNAME", "n"), helloReply(3, id)},
		{cmd("RESET"), simple("RESET")},
		{cmd("CLIENT", "GETNAME"), nullBulk},
		{cmd("GET", "nokey"), nullBulk},
		{cmd("RESET", "x"), errReply("ERR wrong number of arguments for 'reset' command")},
	})
}

func TestAuthWithoutPassword(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("AUTH", "pw"), errReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")},
		{cmd("AUTH", "default", "pw"), okReply},
		{cmd("AUTH", "alice", "pw"), errReply(errWrongPass)},
		{cmd("AUTH", "a", "b", "c"), errReply(errSyntax)},
		{cmd("AUTH"), errReply("ERR wrong number of arguments for 'auth' command")},
	})
}

func TestRequirePass(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.RequirePass = "s3cret" })
	c := e.dial()
	runRaw(t, c, []rawCase{
		// Unknown commands and arity are checked before authentication,
		// as in Redis.
		{cmd("NOSUCH"), errReply("ERR unknown command 'NOSUCH', with args beginning with: ")},
		{cmd("GET"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("GET", "k"), errReply(errNoAuth)},
		{cmd("PING"), errReply(errNoAuth)},
		{cmd("CLIENT", "ID"), errReply(errNoAuth)},
		{cmd("HELLO", "3"), errReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")},
		{cmd("HELLO"), errReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")},
		{cmd("HELLO", "3", "AUTH", "default", "wrong"), errReply(errWrongPass)},
		{cmd("AUTH", "wrong"), errReply(errWrongPass)},
		{cmd("AUTH", "alice", "s3cret"), errReply(errWrongPass)},
		{cmd("AUTH", "s3cre"), errReply(errWrongPass)},
		{cmd("GET", "k"), errReply(errNoAuth)},
		{cmd("AUTH", "s3cret"), okReply},
		{cmd("GET", "k"), nullBulk},
		// RESET forgets the authentication.
		{cmd("RESET"), simple("RESET")},
		{cmd("GET", "k"), errReply(errNoAuth)},
		{cmd("AUTH", "default", "s3cret"), okReply},
		{cmd("SET", "k", "v"), okReply},
	})

	c = e.dial()
	c.send(string(rdEncode([]string{"HELLO", "3", "AUTH", "default", "s3cret"})))
	hello := decode(t, c.read())
	if f := fields(t, hello); f["proto"] != int64(3) || f["server"] != "redis" {
		t.Fatalf("HELLO 3 AUTH: %#v", hello)
	}
	runRaw(t, c, []rawCase{{cmd("GET", "k"), bulk("v")}})

	// go-redis authenticates with HELLO 3 AUTH; with the wrong password
	// every command fails with WRONGPASS.
	rdb := e.client(func(o *redis.Options) { o.Password = "s3cret" })
	if v, err := rdb.Get(ctx, "k").Result(); v != "v" || err != nil {
		t.Fatalf("go-redis with the password: GET = %q, %v", v, err)
	}
	bad := e.client(func(o *redis.Options) { o.Password = "nope" })
	if err := bad.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("go-redis with a wrong password: %v, want WRONGPASS", err)
	}

	// QUIT needs no authentication.
	c = e.dial()
	runRaw(t, c, []rawCase{{cmd("QUIT"), okReply}})
	c.expectClosed()
}

func TestClientCommands(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	id := c.clientID()
	other := e.dial()
	otherID := other.clientID()
	if otherID <= id {
		t.Fatalf("client ids %d then %d: not increasing", id, otherID)
	}
	runRaw(t, c, []rawCase{
		{cmd("CLIENT", "GETNAME"), nullBulk},
		{cmd("CLIENT", "SETNAME", "app-1"), okReply},
		{cmd("CLIENT", "GETNAME"), bulk("app-1")},
		{cmd("CLIENT", "SETNAME", "bad name"), errReply("ERR Client names cannot contain spaces, newlines or special characters.")},
		{cmd("CLIENT", "SETNAME", "tab\tname"), errReply("ERR Client names cannot contain spaces, newlines or special characters.")},
		{cmd("CLIENT", "GETNAME"), bulk("app-1")},
		{cmd("CLIENT", "SETINFO", "lib-name", "mylib"), okReply},
		{cmd("CLIENT", "SETINFO", "LIB-VER", "1.2.3"), okReply},
		{cmd("CLIENT", "SETINFO", "lib-name", "my lib"), errReply("ERR LIB-NAME cannot contain spaces, newlines or special characters.")},
		{cmd("CLIENT", "SETINFO", "color", "red"), errReply("ERR Unrecognized option 'color'")},
		{cmd("CLIENT", "SETINFO", "lib-name"), errReply("ERR wrong number of arguments for 'client|setinfo' command")},
		{cmd("CLIENT", "NO-EVICT", "on"), okReply},
		{cmd("CLIENT", "NO-EVICT", "OFF"), okReply},
		{cmd("CLIENT", "NO-TOUCH", "on"), okReply},
		{cmd("CLIENT", "NO-TOUCH", "maybe"), errReply(errSyntax)},
		{cmd("CLIENT"), errReply("ERR wrong number of arguments for 'client' command")},
		{cmd("CLIENT", "NOSUCH", "x"), errReply("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.")},
		{cmd("CLIENT", "ID", "x"), errReply("ERR wrong number of arguments for 'client|id' command")},
		{cmd("CLIENT", "LIST", "TYPE", "bogus"), errReply("ERR Unknown client type 'bogus'")},
		{cmd("CLIENT", "LIST", "ID", "x"), errReply("ERR Invalid client ID")},
		{cmd("CLIENT", "LIST", "ID", "0"), errReply("ERR Invalid client ID")},
		{cmd("CLIENT", "LIST", "ID"), errReply(errSyntax)},
		{cmd("CLIENT", "LIST", "FOO"), errReply(errSyntax)},
	})

	info, ok := decode(t, c.do("CLIENT", "INFO")).(string)
	if !ok {
		t.Fatal("CLIENT INFO is not a string")
	}
	addr := c.nc.LocalAddr().String()
	for _, want := range []string{
		fmt.Sprintf("id=%d addr=%s laddr=%s ", id, addr, e.addr),
		" name=app-1 ", " db=0 ", " cmd=client|info ", " resp=2 ", " lib-name=mylib lib-ver=1.2.3\n",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("CLIENT INFO %q lacks %q", info, want)
		}
	}
	if !strings.HasPrefix(info, "id=") || strings.Count(info, "\n") != 1 {
		t.Errorf("CLIENT INFO %q: want one line", info)
	}

	// CLIENT LIST: every connection, by id; filtered by TYPE and ID.
	list := decode(t, c.do("CLIENT", "LIST")).(string)
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "id="+strconv.FormatInt(id, 10)+" ") || !strings.Contains(lines[0], " cmd=client|list ") ||
		!strings.HasPrefix(lines[1], "id="+strconv.FormatInt(otherID, 10)+" ") || !strings.Contains(lines[1], " cmd=client|id ") {
		t.Fatalf("CLIENT LIST:\n%s", list)
	}
	// The same connections (argv-mem and tot-mem follow the command).
	mem := regexp.MustCompile(` (argv-mem|tot-mem|idle)=\d+`)
	if got := decode(t, c.do("CLIENT", "LIST", "TYPE", "normal")).(string); mem.ReplaceAllString(got, "") != mem.ReplaceAllString(list, "") {
		t.Errorf("CLIENT LIST TYPE normal = %q, want %q", got, list)
	}
	runRaw(t, c, []rawCase{
		{cmd("CLIENT", "LIST", "TYPE", "replica"), bulk("")},
		{cmd("CLIENT", "LIST", "TYPE", "pubsub"), bulk("")},
		{cmd("CLIENT", "LIST", "ID", "999999"), bulk("")},
	})
	byID := decode(t, c.do("CLIENT", "LIST", "ID", strconv.FormatInt(otherID, 10), "999999")).(string)
	if !strings.HasPrefix(byID, "id="+strconv.FormatInt(otherID, 10)+" ") || strings.Count(byID, "\n") != 1 {
		t.Errorf("CLIENT LIST ID %d = %q", otherID, byID)
	}

	// CLIENT INFO is a verbatim string in RESP3.
	c.do("HELLO", "3")
	raw := c.do("CLIENT", "INFO")
	if !strings.HasPrefix(raw, "=") || !strings.Contains(raw, "\r\ntxt:id=") || !strings.Contains(raw, " resp=3 ") {
		t.Errorf("CLIENT INFO in RESP3: %q", raw)
	}

	help := strs(t, decode(t, c.do("CLIENT", "HELP")))
	if len(help) != 31 || help[0] != "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[30] != "    Print this help." {
		t.Errorf("CLIENT HELP = %q", help)
	}
}

func TestTime(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	before := time.Now()
	got := strs(t, decode(t, c.do("TIME")))
	after := time.Now()
	if len(got) != 2 {
		t.Fatalf("TIME = %q", got)
	}
	sec, err1 := strconv.ParseInt(got[0], 10, 64)
	usec, err2 := strconv.ParseInt(got[1], 10, 64)
	ts := time.Unix(sec, usec*1000)
	if err1 != nil || err2 != nil || usec < 0 || usec >= 1e6 || ts.Before(before.Truncate(time.Microsecond)) || ts.After(after) {
		t.Fatalf("TIME = %q, want a time between %v and %v", got, before, after)
	}
}

func TestConfig(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) {
		cfg.RequirePass = "pw-s3cret-value"
		cfg.MaxClients = 77
		cfg.Limits.MaxBulkLen = 1 << 20
		cfg.Settings = func() []Field { return []Field{{"dynakv.n", "3"}, {"dynakv.r", "2"}} }
	})
	c := e.dial()
	c.do("AUTH", "pw-s3cret-value")
	port := e.addr[strings.LastIndexByte(e.addr, ':')+1:]
	runRaw(t, c, []rawCase{
		{cmd("CONFIG", "GET", "maxclients"), bulks("maxclients", "77")},
		{cmd("CONFIG", "GET", "MAXCLIENTS"), bulks("maxclients", "77")},
		{cmd("CONFIG", "GET", "port", "bind"), bulks("port", port, "bind", "127.0.0.1")},
		{cmd("CONFIG", "GET", "proto-max-bulk-len", "client-query-buffer-limit"), bulks("proto-max-bulk-len", "1048576", "client-query-buffer-limit", "1073741824")},
		{cmd("CONFIG", "GET", "dynakv.*"), bulks("dynakv.n", "3", "dynakv.r", "2")},
		// A setting matched by two patterns is listed once.
		{cmd("CONFIG", "GET", "dynakv.n", "dynakv.?"), bulks("dynakv.n", "3", "dynakv.r", "2")},
		{cmd("CONFIG", "GET", "nosuch"), array()},
		{cmd("CONFIG", "GET"), errReply("ERR wrong number of arguments for 'config|get' command")},
		{cmd("CONFIG", "SET", "maxclients", "5"), errReply("ERR CONFIG SET is not supported by dynakv for 'maxclients': settings are read at start (file, DYNAKV_* environment, flags); restart the node to change them")},
		{cmd("CONFIG", "REWRITE"), errReply("ERR CONFIG REWRITE is not supported by dynakv: settings are read at start (file, DYNAKV_* environment, flags); restart the node to change them")},
		// Redis's encoding thresholds are recorded (they do not apply).
		{cmd("CONFIG", "SET", "set-max-intset-entries", "16", "hash-max-listpack-entries", "8"), okReply},
		{cmd("CONFIG", "GET", "set-max-intset-entries"), bulks("set-max-intset-entries", "16")},
		{cmd("CONFIG", "SET", "set-max-intset-entries", "x"), errReply("ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - argument couldn't be parsed into an integer")},
		{cmd("CONFIG", "SET", "save", ""), okReply},
		{cmd("CONFIG", "SET", "save", "3600 1"), errReply("ERR CONFIG SET is not supported by dynakv for 'save': settings are read at start (file, DYNAKV_* environment, flags); restart the node to change them")},
		{cmd("CONFIG", "SET", "nosuch", "1"), errReply("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")},
		{cmd("CONFIG", "SET", "set-max-intset-entries"), errReply("ERR wrong number of arguments for 'config|set' command")},
		{cmd("CONFIG"), errReply("ERR wrong number of arguments for 'config' command")},
	})
	raw := c.do("CONFIG", "GET", "*")
	if strings.Contains(raw, "s3cret") {
		t.Errorf("CONFIG GET * echoes the password: %q", raw)
	}
	all := fields(t, decode(t, raw))
	// Every parameter redis-server 7.0 has is answered, then dynakv's own.
	if len(all) != len(redisConfigDefaults)+2 {
		t.Errorf("CONFIG GET * has %d parameters, want %d", len(all), len(redisConfigDefaults)+2)
	}
	for name, v := range map[string]string{
		"port": port, "bind": "127.0.0.1", "databases": "1", "maxclients": "77",
		"requirepass":        "", // never echoed
		"proto-max-bulk-len": "1048576", "client-query-buffer-limit": "1073741824", "save": "", "appendonly": "yes",
		"timeout": "0", "dynakv.n": "3", "dynakv.r": "2", "client-output-buffer-limit": "normal 0 0 0 pubsub 33554432 8388608 60",
		"maxmemory": "0", "maxmemory-policy": "noeviction", "io-threads": "1", "cluster-enabled": "no",
	} {
		if all[name] != v {
			t.Errorf("CONFIG GET * %s = %q, want %q", name, all[name], v)
		}
	}
	runRaw(t, c, []rawCase{{cmd("CONFIG", "GET", "maxmemory"), bulks("maxmemory", "0")}})
	help := strs(t, decode(t, c.do("CONFIG", "HELP")))
	if len(help) != 7 || help[1] != "GET <pattern>" {
		t.Errorf("CONFIG HELP = %q", help)
	}

	// CONFIG RESETSTAT zeroes INFO's counters.
	c.do("GET", "k")
	c.do("GET", "k", "x")
	if got := infoField(t, c, "stats", "keyspace_misses"); got != "1" {
		t.Fatalf("keyspace_misses = %s, want 1", got)
	}
	runRaw(t, c, []rawCase{{cmd("CONFIG", "RESETSTAT"), okReply}})
	stats := infoFields(t, c, "stats")
	for _, f := range []string{"keyspace_misses", "keyspace_hits", "total_error_replies", "total_connections_received", "rejected_connections"} {
		if stats[f] != "0" {
			t.Errorf("after CONFIG RESETSTAT %s = %s, want 0", f, stats[f])
		}
	}
	// The INFO command itself counts.
	if stats["total_commands_processed"] != "1" {
		t.Errorf("after CONFIG RESETSTAT total_commands_processed = %s, want 1", stats["total_commands_processed"])
	}
	if got := infoField(t, c, "commandstats", "cmdstat_get"); got != "" {
		t.Errorf("after CONFIG RESETSTAT cmdstat_get = %q, want none", got)
	}
}

// TestClientGoRedis checks the connection commands through go-redis, which
// negotiates RESP3 and sets its library name and version on connect.
func TestClientGoRedis(t *testing.T) {
	e := newTestEnv(t)
	rdb := e.client(func(o *redis.Options) { o.ClientName = "gr" })
	conn := rdb.Conn()
	defer conn.Close()
	if name, err := conn.ClientGetName(ctx).Result(); name != "gr" || err != nil {
		t.Fatalf("CLIENT GETNAME = %q, %v", name, err)
	}
	info, err := conn.ClientInfo(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "gr" || info.Resp != 3 || !strings.HasPrefix(info.LibName, "go-redis") || info.LibVer == "" {
		t.Fatalf("CLIENT INFO = %+v", info)
	}
	id, err := conn.ClientID(ctx).Result()
	if err != nil || id != info.ID {
		t.Fatalf("CLIENT ID = %d, %v; CLIENT INFO id=%d", id, err, info.ID)
	}
	if pong, err := conn.Ping(ctx).Result(); pong != "PONG" || err != nil {
		t.Fatalf("PING = %q, %v", pong, err)
	}
}

// TestConfigRedisNames: dynakv settings that are Redis parameters under
// another name answer under Redis's name too.
func TestConfigRedisNames(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) {
		cfg.Settings = func() []Field {
			return []Field{{"fsync", "always"}, {"log_level", "warn"}, {"tls_port", "6380"}, {"data_dir", "/var/lib/dynakv"}}
		}
	})
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("CONFIG", "GET", "appendfsync"), bulks("appendfsync", "always")},
		{cmd("CONFIG", "GET", "loglevel"), bulks("loglevel", "warning")},
		{cmd("CONFIG", "GET", "tls-port"), bulks("tls-port", "6380")},
		{cmd("CONFIG", "GET", "dir"), bulks("dir", "/var/lib/dynakv")},
		{cmd("CONFIG", "GET", "fsync"), bulks("fsync", "always")},
	})
}
