package resp

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// getInfo is COMMAND INFO's entry for GET, in RESP2.
var getInfo = array(bulk("get"), integer(2), array(simple("readonly"), simple("fast")), integer(1), integer(1), integer(1),
	array(simple("@string"), simple("@read"), simple("@fast")), array(),
	array(array(
		bulk("flags"), array(),
		bulk("begin_search"), array(bulk("type"), bulk("index"), bulk("spec"), array(bulk("index"), integer(1))),
		bulk("find_keys"), array(bulk("type"), bulk("range"), bulk("spec"),
			array(bulk("lastkey"), integer(0), bulk("keystep"), integer(1), bulk("limit"), integer(0))))),
	array())

func TestCommandCountList(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	n := len(commandTable())
	runRaw(t, c, []rawCase{
		{cmd("COMMAND", "COUNT"), integer(int64(n))},
		{cmd("COMMAND", "COUNT", "x"), errReply("ERR wrong number of arguments for 'command|count' command")},
		{cmd("COMMAND", "LIST", "FILTERBY", "MODULE", "x"), array()},
		{cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "v*"), bulks("vdel", "vget", "vhget", "vset")},
		{cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "config|g*"), bulks("config|get")},
		{cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "transaction"), bulks("discard", "exec", "multi", "unwatch", "watch")},
		{cmd("COMMAND", "LIST", "FILTERBY", "NOSUCH", "x"), errReply(errSyntax)},
		{cmd("COMMAND", "LIST", "FILTERBY", "PATTERN"), errReply(errSyntax)},
		{cmd("COMMAND", "GETKEYS", "SET", "k", "v"), bulks("k")},
		{cmd("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"), bulks("a", "b")},
		{cmd("COMMAND", "GETKEYS", "del", "a", "b", "c"), bulks("a", "b", "c")},
		{cmd("COMMAND", "GETKEYS", "PING", "x"), errReply("ERR The command has no key arguments")},
		{cmd("COMMAND", "GETKEYS", "GET", "k", "x"), errReply("ERR Invalid number of arguments specified for command")},
		{cmd("COMMAND", "GETKEYS", "SET", "k"), errReply("ERR Invalid number of arguments specified for command")},
		{cmd("COMMAND", "GETKEYS", "PING"), errReply("ERR wrong number of arguments for 'command|getkeys' command")},
		{cmd("COMMAND", "GETKEYS", "NOSUCH", "k"), errReply("ERR Invalid command specified")},
		{cmd("COMMAND", "GETKEYS"), errReply("ERR wrong number of arguments for 'command|getkeys' command")},
		{cmd("COMMAND", "NOSUCH"), errReply("ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP.")},
	})
	names := strs(t, decode(t, c.do("COMMAND", "LIST")))
	if len(names) != n || !sort.StringsAreSorted(names) {
		t.Fatalf("COMMAND LIST = %q: want %d names, sorted", names, n)
	}
	for _, want := range []string{"get", "set", "vget", "vset", "vdel", "ring", "client", "command", "incr", "rename"} {
		if !slices.Contains(names, want) {
			t.Errorf("COMMAND LIST lacks %s", want)
		}
	}
	help := strs(t, decode(t, c.do("COMMAND", "HELP")))
	if len(help) != 15 || help[0] != "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" {
		t.Errorf("COMMAND HELP = %q", help)
	}
}

func TestCommandInfo(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	msetSpec := array(array(
		bulk("flags"), array(),
		bulk("begin_search"), array(bulk("type"), bulk("index"), bulk("spec"), array(bulk("index"), integer(1))),
		bulk("find_keys"), array(bulk("type"), bulk("range"), bulk("spec"),
			array(bulk("lastkey"), integer(-1), bulk("keystep"), integer(2), bulk("limit"), integer(0)))))
	msetInfo := array(bulk("mset"), integer(-3), array(simple("write"), simple("denyoom")), integer(1), integer(-1), integer(2),
		array(simple("@string"), simple("@write"), simple("@slow")), array(), msetSpec, array())
	pingInfo := array(bulk("ping"), integer(-1), array(simple("fast"), simple("stale")), integer(0), integer(0), integer(0),
		array(simple("@connection"), simple("@fast")), array(), array(), array())
	runRaw(t, c, []rawCase{
		{cmd("COMMAND", "INFO", "get"), array(getInfo)},
		{cmd("COMMAND", "INFO", "GET", "nosuch", "mset", "ping"), array(getInfo, "*-1\r\n", msetInfo, pingInfo)},
	})

	// Container commands list their subcommands, named parent|sub.
	info := decode(t, c.do("COMMAND", "INFO", "client")).([]any)[0].([]any)
	if info[0] != "client" || info[1] != int64(-2) {
		t.Fatalf("COMMAND INFO client: %#v", info[:2])
	}
	var subs []string
	for _, s := range info[9].([]any) {
		subs = append(subs, s.([]any)[0].(string))
	}
	want := []string{"client|getname", "client|help", "client|id", "client|info", "client|kill", "client|list", "client|no-evict", "client|no-touch", "client|pause", "client|reply", "client|setinfo", "client|setname", "client|unblock", "client|unpause"}
	if !slices.Equal(subs, want) {
		t.Errorf("COMMAND INFO client subcommands %q, want %q", subs, want)
	}

	// COMMAND and COMMAND INFO without names list every command.
	all := c.do("COMMAND")
	if got := c.do("COMMAND", "INFO"); got != all {
		t.Errorf("COMMAND INFO differs from COMMAND")
	}
	entries := decode(t, all).([]any)
	if len(entries) != len(commandTable()) || !strings.Contains(all, getInfo) || !strings.Contains(all, msetInfo) {
		t.Errorf("COMMAND: %d entries, want %d with GET's and MSET's", len(entries), len(commandTable()))
	}

	// RESP3: flags and the like are sets, a missing command is null.
	c.do("HELLO", "3")
	got := c.do("COMMAND", "INFO", "nosuch", "ping")
	wantRESP3 := "*2\r\n_\r\n*10\r\n" + bulk("ping") + integer(-1) + "~2\r\n" + simple("fast") + simple("stale") +
		integer(0) + integer(0) + integer(0) + "~2\r\n" + simple("@connection") + simple("@fast") + "~0\r\n" + array() + array()
	if got != wantRESP3 {
		t.Errorf("COMMAND INFO in RESP3:\n got %q\nwant %q", got, wantRESP3)
	}
}

// TestCommandGoRedis: go-redis parses COMMAND (it uses it for cluster
// routing and read-only detection).
func TestCommandGoRedis(t *testing.T) {
	e := newTestEnv(t)
	rdb := e.client()
	cmds, err := rdb.Command(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != len(commandTable()) {
		t.Errorf("go-redis parsed %d commands, want %d", len(cmds), len(commandTable()))
	}
	get, mset := cmds["get"], cmds["mset"]
	if get == nil || get.Arity != 2 || get.FirstKeyPos != 1 || get.LastKeyPos != 1 || get.StepCount != 1 || !get.ReadOnly {
		t.Errorf("go-redis COMMAND get: %+v", get)
	}
	if mset == nil || mset.Arity != -3 || mset.LastKeyPos != -1 || mset.StepCount != 2 || mset.ReadOnly {
		t.Errorf("go-redis COMMAND mset: %+v", mset)
	}
	if n, err := rdb.CommandList(ctx, nil).Result(); err != nil || len(n) != len(commandTable()) {
		t.Errorf("go-redis COMMAND LIST: %d names, %v", len(n), err)
	}
}

func TestCommandDocs(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	echoDoc := array(bulk("summary"), bulk("Returns the given string."), bulk("since"), bulk("1.0.0"), bulk("group"), bulk("connection"),
		bulk("complexity"), bulk("O(1) per key"),
		bulk("arguments"), array(array(bulk("name"), bulk("message"), bulk("type"), bulk("string"), bulk("display_text"), bulk("message"))))
	dbsizeDoc := array(bulk("summary"), bulk("Returns the number of live keys."), bulk("since"), bulk("1.0.0"), bulk("group"), bulk("server"),
		bulk("complexity"), bulk("O(1) per key"))
	runRaw(t, c, []rawCase{
		{cmd("COMMAND", "DOCS", "echo"), array(bulk("echo"), echoDoc)},
		{cmd("COMMAND", "DOCS", "nosuch", "ECHO", "dbsize"), array(bulk("echo"), echoDoc, bulk("dbsize"), dbsizeDoc)},
		{cmd("COMMAND", "DOCS", "nosuch"), array()},
	})

	c.do("HELLO", "3")
	all := fields(t, decode(t, c.do("COMMAND", "DOCS")))
	if len(all) != len(commandTable()) {
		t.Errorf("COMMAND DOCS: %d commands, want %d", len(all), len(commandTable()))
	}
	// Commands without a version take dynakv's first.
	if msetnx := fields(t, all["msetnx"]); msetnx["since"] != "0.1.0" || msetnx["group"] != "string" || !strings.HasPrefix(msetnx["summary"].(string), "Not supported: ") {
		t.Errorf("COMMAND DOCS msetnx: %v", msetnx)
	}

	// SET's arguments: tokens, optional flags and one-of blocks.
	set := fields(t, decode(t, c.do("COMMAND", "DOCS", "set")))["set"]
	args := fields(t, set)["arguments"].([]any)
	var names []string
	for _, a := range args {
		names = append(names, fields(t, a)["name"].(string))
	}
	if !slices.Equal(names, []string{"key", "value", "condition", "get", "expiration"}) {
		t.Fatalf("COMMAND DOCS set arguments %q", names)
	}
	get := fields(t, args[3])
	if get["type"] != "pure-token" || get["token"] != "GET" || !slices.Equal(strs(t, get["flags"]), []string{"optional"}) {
		t.Errorf("SET's GET argument: %v", get)
	}
	exp := fields(t, args[4])
	alts := exp["arguments"].([]any)
	if exp["type"] != "oneof" || len(alts) != 5 {
		t.Fatalf("SET's expiration argument: %v", exp)
	}
	if ex := fields(t, alts[0]); ex["name"] != "seconds" || ex["type"] != "integer" || ex["token"] != "EX" || ex["flags"] != nil {
		t.Errorf("SET's EX: %v", ex)
	}
	if keep := fields(t, alts[4]); keep["name"] != "keepttl" || keep["token"] != "KEEPTTL" {
		t.Errorf("SET's KEEPTTL: %v", keep)
	}
	mget := fields(t, fields(t, decode(t, c.do("COMMAND", "DOCS", "mget")))["mget"])
	if key := fields(t, mget["arguments"].([]any)[0]); key["type"] != "key" || !slices.Equal(strs(t, key["flags"]), []string{"multiple"}) {
		t.Errorf("MGET's key argument: %v", key)
	}

	// Container commands document their subcommands, which inherit the
	// group and version.
	client := fields(t, fields(t, decode(t, c.do("COMMAND", "DOCS", "client")))["client"])
	subs := fields(t, client["subcommands"])
	if len(subs) != 14 {
		t.Errorf("COMMAND DOCS client: %d subcommands, want 14", len(subs))
	}
	setname := fields(t, subs["client|setname"])
	if setname["summary"] != "Sets the connection name." || setname["group"] != "connection" || setname["since"] != "2.4.0" {
		t.Errorf("COMMAND DOCS client|setname: %v", setname)
	}
}

// TestCommandTableMatchesRedis checks the table's arity and key positions
// against Redis 7's for the commands dynakv shares with it: clients and
// proxies route and validate with them.
func TestCommandTableMatchesRedis(t *testing.T) {
	table := commandTable()
	for _, want := range []struct {
		name                  string
		arity, first, last, s int
	}{
		{"get", 2, 1, 1, 1}, {"set", -3, 1, 1, 1}, {"setnx", 3, 1, 1, 1}, {"setex", 4, 1, 1, 1}, {"psetex", 4, 1, 1, 1},
		{"getset", 3, 1, 1, 1}, {"getdel", 2, 1, 1, 1}, {"getex", -2, 1, 1, 1}, {"mget", -2, 1, -1, 1}, {"mset", -3, 1, -1, 2},
		{"strlen", 2, 1, 1, 1}, {"append", 3, 1, 1, 1}, {"del", -2, 1, -1, 1}, {"unlink", -2, 1, -1, 1}, {"exists", -2, 1, -1, 1},
		{"expire", -3, 1, 1, 1}, {"pexpire", -3, 1, 1, 1}, {"expireat", -3, 1, 1, 1}, {"pexpireat", -3, 1, 1, 1},
		{"ttl", 2, 1, 1, 1}, {"pttl", 2, 1, 1, 1}, {"persist", 2, 1, 1, 1}, {"type", 2, 1, 1, 1},
		{"scan", -2, 0, 0, 0}, {"keys", 2, 0, 0, 0}, {"dbsize", 1, 0, 0, 0}, {"flushdb", -1, 0, 0, 0}, {"flushall", -1, 0, 0, 0},
		{"ping", -1, 0, 0, 0}, {"echo", 2, 0, 0, 0}, {"quit", -1, 0, 0, 0}, {"reset", 1, 0, 0, 0}, {"select", 2, 0, 0, 0},
		{"auth", -2, 0, 0, 0}, {"hello", -1, 0, 0, 0}, {"time", 1, 0, 0, 0}, {"info", -1, 0, 0, 0}, {"client", -2, 0, 0, 0},
		{"command", -1, 0, 0, 0}, {"config", -2, 0, 0, 0},
		{"incr", 2, 1, 1, 1}, {"decr", 2, 1, 1, 1}, {"incrby", 3, 1, 1, 1}, {"decrby", 3, 1, 1, 1}, {"incrbyfloat", 3, 1, 1, 1},
		{"msetnx", -3, 1, -1, 2}, {"rename", 3, 1, 2, 1},
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

// TestCommandTableInvariants: what dispatch and the pipeline rely on.
func TestCommandTableInvariants(t *testing.T) {
	for name, cmd := range commandTable() {
		if cmd.name != name || cmd.fn == nil || cmd.summary == "" || cmd.group == "" {
			t.Errorf("%s: name %q, handler %v, summary %q, group %q", name, cmd.name, cmd.fn != nil, cmd.summary, cmd.group)
		}
		if cmd.concurrent && (!cmd.data || cmd.firstKey < 1 || cmd.step < 1) {
			t.Errorf("%s: concurrent without a key spec or data flag", name)
		}
		if (cmd.firstKey > 0) != (cmd.step > 0) {
			t.Errorf("%s: key spec %d,%d,%d", name, cmd.firstKey, cmd.lastKey, cmd.step)
		}
		for subName, sub := range cmd.subs {
			if sub.name != subName || sub.parent != cmd || sub.fn == nil || (sub.arity > -2 && sub.arity < 2) {
				t.Errorf("%s|%s: malformed", name, subName)
			}
			if sub.fullName() != name+"|"+subName {
				t.Errorf("%s|%s: full name %q", name, subName, sub.fullName())
			}
		}
	}
}
