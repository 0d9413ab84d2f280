package resp

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"
)

// dumpOf returns key's DUMP payload.
func dumpOf(t *testing.T, c *rawConn, key string) string {
	t.Helper()
	v, ok := decode(t, c.do("DUMP", key)).(string)
	if !ok {
		t.Fatalf("DUMP %s did not answer a payload", key)
	}
	return v
}

// TestDumpRestoreEveryType: a payload restores every type's data, every
// version included (a string's two concurrent versions, a hash field's),
// under another key and over the same key with REPLACE.
func TestDumpRestoreEveryType(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	fillTypes(t, e, c)
	check(t, c, nullBulk, "DUMP", "missing")
	for _, k := range []string{"str", "cnt", "hll", "s", "h"} {
		p := dumpOf(t, c, k)
		ttl := strconv.FormatInt(e.clock.Now().UnixMilli()+500_000, 10)
		check(t, c, okReply, "RESTORE", k+"-r", "0", p)
		check(t, c, errReply("BUSYKEY Target key name already exists."), "RESTORE", k+"-r", "0", p)
		check(t, c, okReply, "RESTORE", k+"-r", ttl, p, "REPLACE", "ABSTTL")
		check(t, c, integer(500), "TTL", k+"-r")
		pttl := decode(t, c.do("PTTL", k)).(int64)
		check(t, c, okReply, "RESTORE", k+"-r", strconv.FormatInt(max(pttl, 0), 10), p, "REPLACE")
		sameKey(t, e, c, k, k+"-r")
		if again := dumpOf(t, c, k+"-r"); again != p {
			t.Errorf("DUMP of %s's restored copy differs from its payload", k)
		}
	}
	if got := e.elementVersions(typeHash, "h-r")["f"]; !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("h-r's field f holds %q, want both versions", got)
	}
	// Over a key of another type: the set's members go.
	check(t, c, okReply, "RESTORE", "s", "0", dumpOf(t, c, "str"), "REPLACE")
	check(t, c, simple("string"), "TYPE", "s")
	if n := len(e.elementVersions(typeSet, "s")); n != 0 {
		t.Errorf("%d members of s live after a string was restored over it", n)
	}
}

// TestRestoreReplies: Redis 7.0's checks, in its order (options, an
// existing key, the ttl, the payload), and its TTL handling.
func TestRestoreReplies(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	check(t, c, okReply, "SET", "foo", "bar")
	p := dumpOf(t, c, "foo")
	now := e.clock.Now().UnixMilli()
	runRaw(t, c, []rawCase{
		{cmd("RESTORE", "foo", "0", p), errReply("BUSYKEY Target key name already exists.")},
		{cmd("RESTORE", "foo", "-1", "x"), errReply("BUSYKEY Target key name already exists.")},
		{cmd("RESTORE", "new", "-1", p), errReply("ERR Invalid TTL value, must be >= 0")},
		{cmd("RESTORE", "new", "abc", p), errReply("ERR value is not an integer or out of range")},
		{cmd("RESTORE", "new", "0", "x"), errReply("ERR DUMP payload version or checksum are wrong")},
		{cmd("RESTORE", "new", "0", p[:len(p)-1]), errReply("ERR DUMP payload version or checksum are wrong")},
		{cmd("RESTORE", "new", "0", p, "bogus"), errReply("ERR syntax error")},
		{cmd("RESTORE", "new", "0", p, "IDLETIME"), errReply("ERR syntax error")},
		{cmd("RESTORE", "new", "0", p, "IDLETIME", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("RESTORE", "new", "0", p, "IDLETIME", "-1"), errReply("ERR Invalid IDLETIME value, must be >= 0")},
		{cmd("RESTORE", "new", "0", p, "FREQ", "256"), errReply("ERR Invalid FREQ value, must be >= 0 and <= 255")},
		{cmd("RESTORE", "new", "0", p, "IDLETIME", "1", "FREQ", "2"), errReply("ERR syntax error")},
		{cmd("RESTORE", "new", "0", p, "FREQ", "2", "IDLETIME", "1"), errReply("ERR syntax error")},
		{cmd("RESTORE", "new", "0", p, "IDLETIME", "1000"), okReply},
		{cmd("RESTORE", "new2", "0", p, "FREQ", "100", "ABSTTL", "ABSTTL"), okReply},
		{cmd("GET", "new2"), bulk("bar")},
		{cmd("RESTORE", "t1", "5000", p), okReply},
		{cmd("PTTL", "t1"), integer(5000)},
		{cmd("RESTORE", "t2", "2569591501", p), okReply},
		{cmd("PTTL", "t2"), integer(2569591501)},
		{cmd("RESTORE", "t3", strconv.FormatInt(now+3000, 10), p, "ABSTTL"), okReply},
		{cmd("PTTL", "t3"), integer(3000)},
		// An expiry in the past: OK, and the key is gone (replaced by
		// nothing), as in Redis.
		{cmd("RESTORE", "foo", strconv.FormatInt(now-3000, 10), p, "ABSTTL", "REPLACE"), okReply},
		{cmd("EXISTS", "foo"), integer(0)},
		{cmd("RESTORE", "foo", "0", p), okReply},
		{cmd("TTL", "foo"), integer(-1)},
		{cmd("GET", "foo"), bulk("bar")},
	})
	// A payload with a right checksum and a body that is no payload's.
	bad := string(sealPayload([]byte{dumpVersion, 'v', 5, 0}))
	check(t, c, errReply("ERR Bad data format"), "RESTORE", "bad", "0", bad)
	unknown := string(sealPayload([]byte{dumpVersion, '?', 1, 0, 0}))
	check(t, c, errReply("ERR Bad data format"), "RESTORE", "bad", "0", unknown)
	set := string(sealPayload(append(appendElement([]byte{dumpVersion, typeSet}, []byte("m"), []copyVersion{{value: []byte("x")}}), 0)))
	check(t, c, errReply("ERR Bad data format"), "RESTORE", "bad", "0", set) // a set member has no value
	check(t, c, integer(0), "EXISTS", "bad")
	// A payload of another version.
	other := []byte(p)
	other[0] = 2
	other = sealPayload(other[:len(other)-8])
	check(t, c, errReply("ERR DUMP payload version or checksum are wrong"), "RESTORE", "bad", "0", string(other))
}

// TestRestoreInsideMulti: a transaction restores a string of one version;
// a collection, or a string with siblings, it refuses.
func TestRestoreInsideMulti(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "one", "v"), okReply},
		{cmd("SET", "two", "a"), okReply},
		{cmd("VSET", "two", "", "b"), okReply},
		{cmd("SADD", "s", "m"), integer(1)},
	})
	one, two, set := dumpOf(t, c, "one"), dumpOf(t, c, "two"), dumpOf(t, c, "s")
	runRaw(t, c, []rawCase{
		{cmd("MULTI"), okReply},
		{cmd("RESTORE", "k", "0", one), simple("QUEUED")},
		{cmd("GET", "k"), simple("QUEUED")},
		{cmd("EXEC"), array(okReply, bulk("v"))},
	})
	for _, p := range []string{two, set} {
		c.do("MULTI")
		c.do("RESTORE", "k", "0", p, "REPLACE")
		if got := decode(t, c.do("EXEC")).([]any); len(got) != 1 {
			t.Fatalf("EXEC: %v", got)
		} else if _, isErr := got[0].(error); !isErr {
			t.Errorf("RESTORE of %q inside MULTI = %v, want an error", p, got[0])
		}
	}
	check(t, c, bulk("v"), "GET", "k")
}

// TestDumpBigCollectionInBatches: a set of several copy batches dumps and
// restores whole; a DUMP bigger than the client's output buffer limit
// closes it, as a reply over the limit does.
func TestDumpBigCollectionInBatches(t *testing.T) {
	e := newTestEnv(t, func(cfg *Config) { cfg.OutputLimit.Hard = 64 << 10 })
	c := e.dial()
	n := 3*copyBatch + 7
	args := []string{"SADD", "s"}
	for i := range n {
		args = append(args, "member-"+strconv.Itoa(i))
	}
	check(t, c, integer(int64(n)), args...)
	p := dumpOf(t, c, "s")
	check(t, c, okReply, "RESTORE", "s2", "0", p)
	check(t, c, integer(int64(n)), "SCARD", "s2")
	big := bytes.Repeat([]byte("x"), 1000)
	for i := range 100 {
		check(t, c, integer(1), "HSET", "h", strconv.Itoa(i), string(big))
	}
	c.send(string(rdEncode([]string{"DUMP", "h"})))
	c.expectClosed()
	// The elements' writes: one per element, so the restored set's
	// members are keys of their own.
	if got := len(e.elementVersions(typeSet, "s2")); got != n {
		t.Errorf("s2 has %d member keys, want %d", got, n)
	}
}

// TestDumpPayloadRoundTrip: the encoder's payloads decode to what was
// encoded, batch by batch.
func TestDumpPayloadRoundTrip(t *testing.T) {
	b := []byte{dumpVersion, typeHash}
	var want []copyElement
	for i := range copyBatch + 3 {
		e := copyElement{member: []byte(strconv.Itoa(i)), versions: []copyVersion{{value: []byte("a")}, {value: []byte{}}}}
		want = append(want, e)
		b = appendElement(b, e.member, e.versions)
	}
	p := sealPayload(append(b, 0))
	var got []copyElement
	batches := 0
	err := decodePayload(p, payloadVisitor{elements: func(batch []copyElement) error {
		batches++
		got = append(got, batch...)
		return nil
	}})
	if err != nil || batches != 2 || len(got) != len(want) {
		t.Fatalf("decoded %d elements in %d batches, %v; want %d in 2", len(got), batches, err, len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].member, want[i].member) || len(got[i].versions) != 2 || string(got[i].versions[0].value) != "a" {
			t.Fatalf("element %d decoded as %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestRestoreIdleTimeAndTouch: OBJECT IDLETIME counts from the newest
// version's write, which RESTORE's IDLETIME does not change.
func TestRestoreIdleTimeAndTouch(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	check(t, c, okReply, "SET", "foo", "bar")
	e.clock.Advance(3 * time.Second)
	check(t, c, integer(3), "OBJECT", "IDLETIME", "foo")
	check(t, c, okReply, "RESTORE", "foo", "0", dumpOf(t, c, "foo"), "REPLACE", "IDLETIME", "1000")
	check(t, c, integer(0), "OBJECT", "IDLETIME", "foo")
}
