package resp

import (
	"maps"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/replication"
)

// OBJECT ENCODING answers the encoding redis-server 7.0 would give the same
// value under the same thresholds (the encoding settings CONFIG SET
// records): dynakv stores every type its own way (a string as a version, a
// collection as a head and elements), so the answer tells a client what to
// expect from Redis, for the tools and tests that look. Strings: "int" for
// a value that is a 64-bit integer, else "embstr" up to 44 bytes, else
// "raw" (Redis also turns a string APPENDed to into "raw"; dynakv does not
// track that). Sets: "intset" while every member is an integer and there
// are at most set-max-intset-entries, else "hashtable". Hashes: "listpack"
// while there are at most hash-max-listpack-entries fields and no field or
// value is longer than hash-max-listpack-value, else "hashtable".

func objectCommand() *command {
	cmd := &command{name: "object", arity: -2, group: "generic", since: "2.2.3", summary: "A container for object introspection commands.",
		subs: map[string]*command{
			"encoding": {name: "encoding", arity: 3, flags: []string{"readonly"}, firstKey: 2, lastKey: 2, step: 1,
				summary: "Returns the internal encoding redis-server would use for the value.", args: []argDoc{argKey("key")}, fn: cmdObjectEncoding},
			"help": {name: "help", arity: 2, flags: []string{"loading", "stale"}, summary: "Returns helpful text about the different subcommands.", fn: cmdObjectHelp},
		}}
	maps.Copy(cmd.subs, objectKeyCommands()) // FREQ, IDLETIME, REFCOUNT: keys_object.go
	return cmd
}

func cmdObjectHelp(c *Conn, args [][]byte) {
	c.out.Array(len(objectHelp))
	for _, l := range objectHelp {
		c.out.Simple(l)
	}
}

// encodingLimit returns the integer value of an encoding threshold, as
// CONFIG GET shows it.
func (c *Conn) encodingLimit(name string) int {
	for _, f := range c.srv.settings() {
		if f.Name == name {
			if n, err := strconv.Atoi(f.Value); err == nil {
				return n
			}
		}
	}
	return 0
}

func cmdObjectEncoding(c *Conn, args [][]byte) {
	key := args[2]
	t, s, ok, err := c.keyType(key)
	switch {
	case err != nil:
		c.fail(err)
		return
	case !ok:
		c.out.Null()
		return
	}
	var enc string
	switch t {
	case 0:
		enc = stringEncoding(s)
	case typeSet:
		enc, err = c.setEncoding(key)
	case typeHash:
		enc, err = c.hashEncoding(key)
	case typeZSet:
		enc, err = c.zsetEncoding(key)
	case typeList:
		enc = "quicklist" // Redis 7.0's one list encoding
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.out.BulkString(enc)
}

func stringEncoding(s *replication.Sibling) string {
	switch {
	case s == nil || s.HLL:
		return "raw"
	case len(s.Value) <= 20:
		if _, ok := string2ll(s.Value); ok {
			return "int"
		}
	}
	if len(s.Value) <= 44 {
		return "embstr"
	}
	return "raw"
}

func (c *Conn) setEncoding(key []byte) (string, error) {
	limit := c.encodingLimit("set-max-intset-entries")
	n, ints := 0, true
	err := c.eachElement(key, typeSet, 0, min(limit+1, replication.MaxKeysBatch), func(m []byte, _ uint64, _ *replication.Sibling) bool {
		n++
		_, isInt := string2ll(m)
		ints = ints && isInt && len(m) <= 20
		return ints && n <= limit
	})
	if err != nil || !ints || n > limit {
		return "hashtable", err
	}
	return "intset", nil
}

func (c *Conn) hashEncoding(key []byte) (string, error) {
	entries, value := c.encodingLimit("hash-max-listpack-entries"), c.encodingLimit("hash-max-listpack-value")
	n, small := 0, true
	err := c.eachElement(key, typeHash, 0, min(entries+1, replication.MaxKeysBatch), func(f []byte, _ uint64, s *replication.Sibling) bool {
		n++
		small = small && len(f) <= value && len(s.Value) <= value
		return small && n <= entries
	})
	if err != nil || !small || n > entries {
		return "hashtable", err
	}
	return "listpack", nil
}

// encodingAliases are the Redis 7 names of the encoding thresholds and
// their older names: setting one sets both, as in Redis.
var encodingAliases = map[string]string{
	"hash-max-ziplist-entries": "hash-max-listpack-entries",
	"hash-max-ziplist-value":   "hash-max-listpack-value",
	"zset-max-ziplist-entries": "zset-max-listpack-entries",
	"zset-max-ziplist-value":   "zset-max-listpack-value",
	"list-max-ziplist-size":    "list-max-listpack-size",
}

// encodingAlias returns the other name of an encoding threshold, "" when it
// has none.
func encodingAlias(name string) string {
	if a, ok := encodingAliases[name]; ok {
		return a
	}
	for old, name7 := range encodingAliases {
		if strings.EqualFold(name7, name) {
			return old
		}
	}
	return ""
}
