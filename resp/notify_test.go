package resp

import (
	"strings"
	"testing"
	"time"
)

// Keyspace notifications: per event family, one connection subscribed to
// __keyspace@0__:* and __keyevent@0__:*, commands on another, and the
// messages, in order and byte for byte, as redis-server 7.0.15 sent them
// for the same commands (recorded with notify-keyspace-events set as each
// test sets it).

// notifyStep is one command, its reply, and the events it must publish,
// each "__keyspace@0__:key event" or "__keyevent@0__:event key" as the
// channel and message.
type notifyStep struct {
	args   []string
	reply  string
	events []string
}

// ks and ke are a keyspace and a keyevent message of event on key.
func ks(key, event string) string { return "__keyspace@0__:" + key + " " + event }
func ke(event, key string) string { return "__keyevent@0__:" + event + " " + key }

// both is the keyspace then the keyevent message, as Redis publishes them
// with K and E on.
func both(key, event string) []string { return []string{ks(key, event), ke(event, key)} }

// evs concatenates event lists.
func evs(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// notifySubscriber is a connection subscribed to both notification
// pattern spaces and to a marker channel, which the test publishes to after
// each step: the messages before the marker are the step's events.
type notifySubscriber struct {
	t        *testing.T
	sub, pub *rawConn
}

func newNotifySubscriber(t *testing.T, e *testEnv, flags string) *notifySubscriber {
	t.Helper()
	admin := e.dial()
	if got := admin.do("CONFIG", "SET", "notify-keyspace-events", flags); got != simple("OK") {
		t.Fatalf("CONFIG SET notify-keyspace-events %s: %q", flags, got)
	}
	sub := e.dial()
	sub.send(string(rdEncode([]string{"PSUBSCRIBE", "__keyspace@0__:*", "__keyevent@0__:*"})))
	sub.read()
	sub.read()
	if got := sub.do("SUBSCRIBE", "marker"); got != subFrame("subscribe", "marker", 3) {
		t.Fatalf("SUBSCRIBE marker: %q", got)
	}
	return &notifySubscriber{t: t, sub: sub, pub: admin}
}

// pmsg is the frame of an event message line as the subscriber gets it.
func pmsg(line string) string {
	ch, msg, _ := strings.Cut(line, " ")
	pattern := "__keyspace@0__:*"
	if strings.HasPrefix(ch, "__keyevent") {
		pattern = "__keyevent@0__:*"
	}
	return array(bulk("pmessage"), bulk(pattern), bulk(ch), bulk(msg))
}

// expect reads the events up to the next marker and compares them.
func (n *notifySubscriber) expect(what string, want []string) {
	n.t.Helper()
	if got := n.pub.do("PUBLISH", "marker", "m"); got != integer(1) {
		n.t.Fatalf("PUBLISH marker: %q", got)
	}
	var got []string
	for {
		f := n.sub.read()
		if f == msgFrame("marker", "m") {
			break
		}
		got = append(got, f)
	}
	var wantFrames []string
	for _, w := range want {
		wantFrames = append(wantFrames, pmsg(w))
	}
	if strings.Join(got, "") != strings.Join(wantFrames, "") {
		n.t.Errorf("%s: events\n got %q\nwant %q", what, got, wantFrames)
	}
}

// run runs steps on c, checking each reply and its events.
func (n *notifySubscriber) run(c *rawConn, steps []notifyStep) {
	n.t.Helper()
	for _, s := range steps {
		if got := c.do(s.args...); s.reply != "" && got != s.reply {
			n.t.Errorf("%q: reply %q, want %q", s.args, got, s.reply)
		}
		n.expect(strings.Join(s.args, " "), s.events)
	}
}

func TestNotifyStrings(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEA")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("SET", "foo", "bar"), simple("OK"), both("foo", "set")},
		{cmd("SET", "foo", "bar", "EX", "100"), simple("OK"), evs(both("foo", "set"), both("foo", "expire"))},
		{cmd("SET", "foo", "bar", "NX"), nullBulk, nil},
		{cmd("SET", "foo", "baz", "XX"), simple("OK"), both("foo", "set")},
		{cmd("SET", "foo", "baz", "KEEPTTL"), simple("OK"), both("foo", "set")},
		{cmd("SET", "foo", "baz", "GET"), bulk("baz"), both("foo", "set")},
		{cmd("SETNX", "foo", "x"), integer(0), nil},
		{cmd("SETNX", "foo2", "x"), integer(1), both("foo2", "set")},
		{cmd("SETEX", "k3", "100", "v"), simple("OK"), evs(both("k3", "set"), both("k3", "expire"))},
		{cmd("PSETEX", "k4", "100000", "v"), simple("OK"), evs(both("k4", "set"), both("k4", "expire"))},
		{cmd("GETSET", "foo", "v2"), bulk("baz"), both("foo", "set")},
		{cmd("GETDEL", "foo"), bulk("v2"), both("foo", "del")},
		{cmd("GETDEL", "foo"), nullBulk, nil},
		{cmd("GETEX", "k3", "PERSIST"), bulk("v"), both("k3", "persist")},
		{cmd("GETEX", "k3", "PERSIST"), bulk("v"), nil},
		{cmd("GETEX", "k3", "EX", "100"), bulk("v"), both("k3", "expire")},
		{cmd("GETEX", "k3", "PXAT", "1"), bulk("v"), both("k3", "del")},
		{cmd("GETEX", "nokey", "EX", "10"), nullBulk, nil},
		{cmd("MSET", "a", "1", "b", "2"), simple("OK"), evs(both("a", "set"), both("b", "set"))},
		{cmd("APPEND", "a", "xx"), integer(3), both("a", "append")},
		{cmd("APPEND", "newa", "xx"), integer(2), both("newa", "append")},
		{cmd("SETRANGE", "a", "1", "zz"), integer(3), both("a", "setrange")},
		{cmd("SETRANGE", "a", "1", ""), integer(3), nil},
		{cmd("SETRANGE", "newr", "0", ""), integer(0), nil},
		{cmd("SETRANGE", "newr", "2", "x"), integer(3), both("newr", "setrange")},
		{cmd("INCR", "n"), integer(1), both("n", "incrby")},
		{cmd("INCRBY", "n", "5"), integer(6), both("n", "incrby")},
		{cmd("DECR", "n"), integer(5), both("n", "incrby")},
		{cmd("DECRBY", "n", "2"), integer(3), both("n", "incrby")},
		{cmd("INCRBYFLOAT", "n", "1.5"), bulk("4.5"), both("n", "incrbyfloat")},
		{cmd("INCR", "a"), errReply(errNotInteger), nil},
	})
}

func TestNotifyBitsAndHyperLogLog(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEA")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("SETBIT", "bits", "3", "1"), integer(0), both("bits", "setbit")},
		{cmd("SETBIT", "bits", "3", "1"), integer(1), nil},
		{cmd("SETBIT", "sb", "100", "0"), integer(0), both("sb", "setbit")},
		{cmd("SETBIT", "sb", "100", "0"), integer(0), nil},
		{cmd("SET", "a", "1"), simple("OK"), both("a", "set")},
		{cmd("BITOP", "AND", "dest", "bits", "a"), integer(1), both("dest", "set")},
		{cmd("BITOP", "AND", "dest2", "nokey1", "nokey2"), integer(0), nil},
		{cmd("BITOP", "AND", "dest", "nokey1", "nokey2"), integer(0), both("dest", "del")},
		{cmd("BITFIELD", "bf", "SET", "u8", "0", "255"), array(integer(0)), both("bf", "setbit")},
		{cmd("BITFIELD", "bf", "SET", "u8", "0", "255"), array(integer(255)), nil},
		{cmd("BITFIELD", "bf", "GET", "u8", "0"), array(integer(255)), nil},
		{cmd("BITFIELD", "bf", "INCRBY", "u8", "0", "1", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"), array(integer(0), nullBulk), both("bf", "setbit")},
		{cmd("PFADD", "h", "a", "b"), integer(1), both("h", "pfadd")},
		{cmd("PFADD", "h", "a"), integer(0), nil},
		{cmd("PFADD", "h2"), integer(1), both("h2", "pfadd")},
		{cmd("PFMERGE", "h3", "h", "h2"), simple("OK"), both("h3", "pfadd")},
		{cmd("PFMERGE", "h3"), simple("OK"), both("h3", "pfadd")},
	})
}

func TestNotifyKeys(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEA")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("MSET", "a", "1", "b", "2", "n", "1"), simple("OK"), evs(both("a", "set"), both("b", "set"), both("n", "set"))},
		{cmd("DEL", "a", "b", "nokey"), integer(2), evs(both("a", "del"), both("b", "del"))},
		{cmd("SET", "bits", "x"), simple("OK"), both("bits", "set")},
		{cmd("UNLINK", "bits"), integer(1), both("bits", "del")},
		{cmd("EXPIRE", "n", "100"), integer(1), both("n", "expire")},
		{cmd("PEXPIRE", "n", "100000"), integer(1), both("n", "expire")},
		{cmd("EXPIRE", "n", "100", "NX"), integer(0), nil},
		{cmd("EXPIRE", "n", "1", "GT"), integer(0), nil},
		{cmd("EXPIREAT", "n", "1"), integer(1), both("n", "del")},
		{cmd("EXPIRE", "nokey", "10"), integer(0), nil},
		{cmd("SET", "p", "1", "EX", "100"), simple("OK"), evs(both("p", "set"), both("p", "expire"))},
		{cmd("PERSIST", "p"), integer(1), both("p", "persist")},
		{cmd("PERSIST", "p"), integer(0), nil},
		{cmd("SET", "q", "1"), simple("OK"), both("q", "set")},
		{cmd("EXPIRE", "q", "0"), integer(1), both("q", "del")},
		{cmd("SET", "r1", "v"), simple("OK"), both("r1", "set")},
		{cmd("RENAME", "r1", "r2"), simple("OK"), evs(both("r1", "rename_from"), both("r2", "rename_to"))},
		{cmd("RENAME", "r2", "r2"), simple("OK"), nil},
		{cmd("RENAMENX", "r2", "r3"), integer(1), evs(both("r2", "rename_from"), both("r3", "rename_to"))},
		{cmd("COPY", "r3", "r4"), integer(1), both("r4", "copy_to")},
		{cmd("COPY", "r3", "r4"), integer(0), nil},
		{cmd("COPY", "r3", "r4", "REPLACE"), integer(1), both("r4", "copy_to")},
		{cmd("TOUCH", "r3"), integer(1), nil},
		{cmd("FLUSHALL"), simple("OK"), nil},
	})
}

func TestNotifyDumpRestore(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEAn")
	c := e.dial()
	c.do("SET", "src", "v")
	n.expect("SET src", evs(both("src", "new"), both("src", "set")))
	payload := c.do("DUMP", "src")
	dump := decode(t, payload).(string)
	n.run(c, []notifyStep{
		{cmd("RESTORE", "k", "0", dump), simple("OK"), evs(both("k", "new"), both("k", "restore"))},
		{cmd("RESTORE", "k", "0", dump, "REPLACE"), simple("OK"), evs(both("k", "new"), both("k", "restore"))},
		{cmd("RESTORE", "k", "1", dump, "REPLACE", "ABSTTL"), simple("OK"), both("k", "del")},
		{cmd("SADD", "s", "a"), integer(1), evs(both("s", "new"), both("s", "sadd"))},
		{cmd("COPY", "src", "s", "REPLACE"), integer(1), evs(both("s", "new"), both("s", "copy_to"))},
		{cmd("RENAME", "src", "s"), simple("OK"), evs(both("s", "new"), both("src", "rename_from"), both("s", "rename_to"))},
	})
}

func TestNotifySets(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEAn")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("SADD", "s", "a", "b", "c"), integer(3), evs(both("s", "new"), both("s", "sadd"))},
		{cmd("SADD", "s", "a"), integer(0), nil},
		{cmd("SADD", "s", "d"), integer(1), both("s", "sadd")},
		{cmd("SREM", "s", "x"), integer(0), nil},
		{cmd("SREM", "s", "a", "b"), integer(2), both("s", "srem")},
		{cmd("SPOP", "s", "0"), "*0\r\n", nil},
		{cmd("SPOP", "s"), "", both("s", "spop")},
		{cmd("SPOP", "s", "5"), "", evs(both("s", "spop"), both("s", "del"))},
		{cmd("SADD", "s1", "a", "b", "c"), integer(3), evs(both("s1", "new"), both("s1", "sadd"))},
		{cmd("SADD", "s2", "b", "c", "d"), integer(3), evs(both("s2", "new"), both("s2", "sadd"))},
		{cmd("SMOVE", "s1", "s2", "a"), integer(1), evs(both("s1", "srem"), both("s2", "sadd"))},
		{cmd("SMOVE", "s1", "s2", "b"), integer(1), both("s1", "srem")},
		{cmd("SMOVE", "s1", "s2", "zz"), integer(0), nil},
		{cmd("SMOVE", "s1", "s3", "c"), integer(1), evs(both("s1", "srem"), both("s1", "del"), both("s3", "new"), both("s3", "sadd"))},
		{cmd("SADD", "s1", "a", "b"), integer(2), evs(both("s1", "new"), both("s1", "sadd"))},
		{cmd("SINTERSTORE", "d1", "s1", "s2"), integer(2), evs(both("d1", "new"), both("d1", "sinterstore"))},
		{cmd("SINTERSTORE", "d1", "s1", "s2"), integer(2), both("d1", "sinterstore")},
		{cmd("SINTERSTORE", "d1", "s1", "nokey"), integer(0), both("d1", "del")},
		{cmd("SINTERSTORE", "d1", "nokey", "s1"), integer(0), nil},
		{cmd("SUNIONSTORE", "d2", "s1", "s2"), integer(4), evs(both("d2", "new"), both("d2", "sunionstore"))},
		{cmd("SUNIONSTORE", "d2", "nokey"), integer(0), both("d2", "del")},
		{cmd("SDIFFSTORE", "d3", "s2", "s1"), integer(2), evs(both("d3", "new"), both("d3", "sdiffstore"))},
		{cmd("SDIFFSTORE", "d3", "s1", "s1"), integer(0), both("d3", "del")},
		{cmd("SDIFFSTORE", "d4", "s1", "s1"), integer(0), nil},
		{cmd("SREM", "s1", "a", "b"), integer(2), evs(both("s1", "srem"), both("s1", "del"))},
	})
}

func TestNotifyHashes(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEAn")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("HSET", "h", "f", "1", "g", "2"), integer(2), evs(both("h", "new"), both("h", "hset"))},
		{cmd("HSET", "h", "f", "1"), integer(0), both("h", "hset")},
		{cmd("HSETNX", "h", "f", "3"), integer(0), nil},
		{cmd("HSETNX", "h", "z", "3"), integer(1), both("h", "hset")},
		{cmd("HMSET", "h", "a", "1"), simple("OK"), both("h", "hset")},
		{cmd("HDEL", "h", "nope"), integer(0), nil},
		{cmd("HDEL", "h", "f", "g"), integer(2), both("h", "hdel")},
		{cmd("HINCRBY", "h", "c", "5"), integer(5), both("h", "hincrby")},
		{cmd("HINCRBYFLOAT", "h", "c", "1.5"), bulk("6.5"), both("h", "hincrbyfloat")},
		{cmd("HDEL", "h", "a", "z", "c"), integer(3), evs(both("h", "hdel"), both("h", "del"))},
		{cmd("HINCRBY", "newhh", "f", "1"), integer(1), evs(both("newhh", "new"), both("newhh", "hincrby"))},
	})
}

// TestNotifyNew: the n class, alone with E as Redis's own test sets it,
// and the keys each kind of write creates.
func TestNotifyNew(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "En")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("SET", "foo", "bar"), simple("OK"), []string{ke("new", "foo")}},
		{cmd("SET", "foo", "baz"), simple("OK"), nil},
		{cmd("SET", "bar", "bar"), simple("OK"), []string{ke("new", "bar")}},
		{cmd("INCR", "newc"), integer(1), []string{ke("new", "newc")}},
		{cmd("APPEND", "newa", "a"), integer(1), []string{ke("new", "newa")}},
		{cmd("SETRANGE", "newsr", "3", "a"), integer(4), []string{ke("new", "newsr")}},
		{cmd("SETBIT", "newb", "1", "1"), integer(0), []string{ke("new", "newb")}},
		{cmd("PFADD", "newh", "a"), integer(1), []string{ke("new", "newh")}},
		{cmd("MSET", "m1", "1", "m2", "2"), simple("OK"), []string{ke("new", "m1"), ke("new", "m2")}},
		{cmd("COPY", "foo", "fooc"), integer(1), []string{ke("new", "fooc")}},
		{cmd("RENAME", "foo", "foor"), simple("OK"), []string{ke("new", "foor")}},
		{cmd("DEL", "foor"), integer(1), nil},
	})
}

// TestNotifyExpired: a key found expired by a read or a write is deleted
// and notified once, before what the command notifies; a key nobody
// touches is not (there is no background sweep).
func TestNotifyExpired(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.ExpireSweep = -1 }) // on access only
	n := newNotifySubscriber(t, e, "KEAn")
	c := e.dial()
	step := func(s notifyStep) { n.t.Helper(); n.run(c, []notifyStep{s}) }
	step(notifyStep{cmd("SET", "e1", "v", "PX", "10"), simple("OK"), evs(both("e1", "new"), both("e1", "set"), both("e1", "expire"))})
	step(notifyStep{cmd("SET", "e2", "v", "PX", "10"), simple("OK"), evs(both("e2", "new"), both("e2", "set"), both("e2", "expire"))})
	step(notifyStep{cmd("SET", "e3", "v", "PX", "10"), simple("OK"), evs(both("e3", "new"), both("e3", "set"), both("e3", "expire"))})
	step(notifyStep{cmd("SADD", "es", "a"), integer(1), evs(both("es", "new"), both("es", "sadd"))})
	step(notifyStep{cmd("PEXPIRE", "es", "10"), integer(1), both("es", "expire")})
	step(notifyStep{cmd("HSET", "eh", "a", "1"), integer(1), evs(both("eh", "new"), both("eh", "hset"))})
	step(notifyStep{cmd("PEXPIRE", "eh", "10"), integer(1), both("eh", "expire")})
	e.clock.Advance(20 * time.Millisecond)
	n.run(c, []notifyStep{
		{cmd("GET", "e1"), nullBulk, both("e1", "expired")},
		{cmd("GET", "e1"), nullBulk, nil}, // once
		{cmd("SET", "e2", "w"), simple("OK"), evs(both("e2", "expired"), both("e2", "new"), both("e2", "set"))},
		{cmd("EXPIRE", "e3", "10"), integer(0), both("e3", "expired")},
		{cmd("EXISTS", "e3"), integer(0), nil},
		{cmd("SCARD", "es"), integer(0), both("es", "expired")},
		{cmd("SADD", "es", "b"), integer(1), evs(both("es", "new"), both("es", "sadd"))},
		{cmd("SMEMBERS", "es"), bulks("b"), nil},
		{cmd("HSET", "eh", "b", "1"), integer(1), evs(both("eh", "expired"), both("eh", "new"), both("eh", "hset"))},
		{cmd("HGETALL", "eh"), bulks("b", "1"), nil},
	})
	// With x off, nothing is deleted on access: the key stays expired.
	step(notifyStep{cmd("SET", "e4", "v", "PX", "10"), simple("OK"), evs(both("e4", "new"), both("e4", "set"), both("e4", "expire"))})
	e.clock.Advance(20 * time.Millisecond)
	n.pub.do("CONFIG", "SET", "notify-keyspace-events", "KE$g")
	n.run(c, []notifyStep{{cmd("GET", "e4"), nullBulk, nil}})
	n.pub.do("CONFIG", "SET", "notify-keyspace-events", "KEx")
	n.run(c, []notifyStep{{cmd("TTL", "e4"), integer(-2), both("e4", "expired")}})
	info := decode(t, c.do("INFO", "stats")).(string)
	for _, f := range []string{"\r\nexpired_keys:6\r\n", "\r\nmigrate_cached_sockets:0\r\n"} {
		if !strings.Contains(info, f) {
			t.Errorf("INFO stats has no %q: %q", f, info)
		}
	}
}

// TestNotifyMasks: only the classes set are published, and K and E choose
// the channels.
func TestNotifyMasks(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "Ks")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("SET", "foo", "bar"), simple("OK"), nil},
		{cmd("SADD", "myset", "a", "b", "c", "d"), integer(4), []string{ks("myset", "sadd")}},
		{cmd("SREM", "myset", "x"), integer(0), nil},
		{cmd("SADD", "myset", "x", "y", "z"), integer(3), []string{ks("myset", "sadd")}},
		{cmd("SREM", "myset", "x"), integer(1), []string{ks("myset", "srem")}},
		{cmd("DEL", "myset"), integer(1), nil},
	})
	n.pub.do("CONFIG", "SET", "notify-keyspace-events", "Eg")
	n.run(c, []notifyStep{
		{cmd("SET", "foo", "bar"), simple("OK"), nil},
		{cmd("EXPIRE", "foo", "1"), integer(1), []string{ke("expire", "foo")}},
		{cmd("DEL", "foo"), integer(1), []string{ke("del", "foo")}},
	})
	n.pub.do("CONFIG", "SET", "notify-keyspace-events", "")
	n.run(c, []notifyStep{{cmd("SET", "foo", "bar"), simple("OK"), nil}})
}

// TestNotifyTransaction: the events of EXEC's commands are published after
// its write, in command order; a discarded or aborted one publishes none.
func TestNotifyTransaction(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEAn")
	c := e.dial()
	for _, a := range [][]string{{"MULTI"}, {"SET", "t", "1"}, {"INCR", "t"}, {"EXPIRE", "t", "100"}} {
		c.do(a...)
	}
	n.run(c, []notifyStep{{cmd("EXEC"), array(simple("OK"), integer(2), integer(1)),
		evs(both("t", "new"), both("t", "set"), both("t", "incrby"), both("t", "expire"))}})
	c.do("MULTI")
	c.do("SET", "t", "2")
	n.run(c, []notifyStep{{cmd("DISCARD"), simple("OK"), nil}})
	c.do("WATCH", "t")
	c.do("MULTI")
	c.do("SET", "t", "3")
	n.pub.do("SET", "t", "changed")
	n.expect("SET t (another client)", both("t", "set"))
	n.run(c, []notifyStep{{cmd("EXEC"), "*-1\r\n", nil}})
}

// TestNotifyConfig: CONFIG SET/GET of the flags, normalised as Redis
// prints them back, and Redis's error for another letter.
func TestNotifyConfig(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.NotifyKeyspaceEvents = "xE" })
	c := e.dial()
	get := func() string {
		t.Helper()
		return strs(t, decode(t, c.do("CONFIG", "GET", "notify-keyspace-events")))[1]
	}
	if got := get(); got != "xE" {
		t.Errorf("at start: %q, want xE", got)
	}
	// Recorded from redis-server 7.0.15.
	for _, tc := range []struct{ set, get string }{
		{"gKE", "gKE"}, {"$lshzxeKE", "$lshzxeKE"}, {"KA", "AK"}, {"EA", "AE"}, {"An", "A"},
		{"Km", "Km"}, {"nE", "nE"}, {"xg", "gx"}, {"AKEm", "AKEm"}, {"Ad", "A"},
		{"g$lshzxetdn", "A"}, {"K", "K"}, {"", ""},
	} {
		if got := c.do("CONFIG", "SET", "notify-keyspace-events", tc.set); got != simple("OK") {
			t.Fatalf("CONFIG SET %q: %q", tc.set, got)
		}
		if got := get(); got != tc.get {
			t.Errorf("CONFIG SET %q: CONFIG GET %q, want %q", tc.set, got, tc.get)
		}
	}
	c.do("CONFIG", "SET", "notify-keyspace-events", "KEA")
	want := errReply("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
	if got := c.do("CONFIG", "SET", "notify-keyspace-events", "Kq"); got != want {
		t.Errorf("CONFIG SET Kq: %q, want %q", got, want)
	}
	if got := get(); got != "AKE" {
		t.Errorf("after a refused CONFIG SET: %q, want AKE", got)
	}
	if _, err := NewServer(Config{Backend: e.backend, View: e.view, NotifyKeyspaceEvents: "Kq"}); err == nil {
		t.Error("NewServer accepted notify-keyspace-events Kq")
	}
}

// TestNotifyBackgroundExpired: the keys whose expiry this node wrote are
// deleted and notified when it passes, without being touched (Redis's
// "expired events (background expire)"); one changed since is not.
func TestNotifyBackgroundExpired(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.ExpireSweep = time.Millisecond })
	n := newNotifySubscriber(t, e, "Ex")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("SET", "k", "v", "PX", "100"), simple("OK"), nil},
		{cmd("SADD", "s", "a"), integer(1), nil},
		{cmd("PEXPIRE", "s", "150"), integer(1), nil},
		{cmd("SET", "k2", "v", "PX", "120"), simple("OK"), nil},
		{cmd("SET", "k2", "w"), simple("OK"), nil},
	})
	e.clock.Advance(200 * time.Millisecond)
	for _, want := range []string{ke("expired", "k"), ke("expired", "s")} {
		if got := n.sub.read(); got != pmsg(want) {
			t.Fatalf("got %q, want %q", got, pmsg(want))
		}
	}
	n.run(c, []notifyStep{
		{cmd("EXISTS", "k", "s"), integer(0), nil},
		{cmd("GET", "k2"), bulk("w"), nil},
	})
	if got := decode(t, c.do("INFO", "stats")).(string); !strings.Contains(got, "\r\nexpired_keys:2\r\n") {
		t.Errorf("INFO stats: %q", got)
	}
}
