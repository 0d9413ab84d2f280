package resp

import "github.com/dynakv/dynakv/replication"

// OBJECT FREQ, IDLETIME and REFCOUNT, answered as redis-server 7.0 answers
// them under its default maxmemory-policy (noeviction), which is the only
// one dynakv has (it never evicts):
//
//   - REFCOUNT is 1, except for a string holding an integer from 0 to
//     9999, which redis-server stores as one of its shared integers and
//     answers INT_MAX for (2147483647);
//   - IDLETIME is the seconds since the key's newest version was written
//     (a collection's: its head's, written at its creation and by EXPIRE
//     and PERSIST, not by its elements' updates). Redis counts from the
//     last access, reads included; dynakv records no reads;
//   - FREQ is Redis's error: no LFU policy, so no access frequency.
//
// A missing key answers null, as in Redis, before any of these.

const (
	errNoLFU = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	// sharedRefcount is redis-server's OBJ_SHARED_REFCOUNT (INT_MAX), what
	// OBJECT REFCOUNT answers for its shared integers.
	sharedRefcount = 1<<31 - 1
	// sharedIntegers is redis-server's OBJ_SHARED_INTEGERS: the integers
	// below it are shared.
	sharedIntegers = 10000
)

// objectKeyCommands returns OBJECT's FREQ, IDLETIME and REFCOUNT.
func objectKeyCommands() map[string]*command {
	sub := func(name, summary string, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: 3, flags: []string{"readonly"}, firstKey: 2, lastKey: 2, step: 1, summary: summary, args: []argDoc{argKey("key")}, fn: fn}
	}
	return map[string]*command{
		"freq":     sub("freq", "Returns the logarithmic access frequency counter of a Redis object (not tracked: there is no LFU policy).", cmdObjectFreq),
		"idletime": sub("idletime", "Returns the time in seconds since the key's newest version was written.", cmdObjectIdleTime),
		"refcount": sub("refcount", "Returns the reference count redis-server would give the value.", cmdObjectRefcount),
	}
}

// objectHelp is OBJECT HELP's text, Redis's with dynakv's meanings.
var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation redis-server would use for the value stored at <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key> (not tracked: no LFU maxmemory policy).",
	"IDLETIME <key>",
	"    Return the seconds elapsed since the newest version of the <key> was written.",
	"REFCOUNT <key>",
	"    Return the number of references redis-server would hold to the value of the <key>.",
	"HELP",
	"    Print this help.",
}

// objectKey reads the key of an OBJECT subcommand; it replies null and
// returns ok false when there is none (or replies the error).
func (c *Conn) objectKey(key []byte) (t byte, s *replication.Sibling, ok bool) {
	t, s, ok, err := c.keyType(key)
	switch {
	case err != nil:
		c.fail(err)
		return 0, nil, false
	case !ok:
		c.out.Null()
	}
	return t, s, ok
}

func cmdObjectFreq(c *Conn, args [][]byte) {
	if _, _, ok := c.objectKey(args[2]); ok {
		c.replyErr(errNoLFU)
	}
}

func cmdObjectIdleTime(c *Conn, args [][]byte) {
	_, s, ok := c.objectKey(args[2])
	if !ok {
		return
	}
	var idle int64
	if s != nil {
		idle = max(0, (c.nowMs()-s.Time/1e6)/1000)
	}
	c.out.Int(idle)
}

func cmdObjectRefcount(c *Conn, args [][]byte) {
	t, s, ok := c.objectKey(args[2])
	if !ok {
		return
	}
	if t == 0 && s != nil && !s.HLL && len(s.Value) <= 20 {
		if n, isInt := string2ll(s.Value); isInt && n >= 0 && n < sharedIntegers {
			c.out.Int(sharedRefcount)
			return
		}
	}
	c.out.Int(1)
}
