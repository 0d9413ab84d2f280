package resp

import (
	"math"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// MEMORY USAGE answers what a key costs in dynakv's storage: the bytes of
// its stored key and encoded versions (tombstones and siblings included),
// and for a set or hash those of its elements' keys and versions, taken as
// Redis does from a sample (SAMPLES, 5 by default, 0 for all) and scaled to
// the element count. It is one replica's copy; the cluster holds N.

func memoryCommand() *command {
	return &command{name: "memory", arity: -2, group: "server", since: "4.0.0", summary: "A container for memory diagnostics commands.",
		subs: map[string]*command{
			"usage": {name: "usage", arity: -3, flags: []string{"readonly"}, firstKey: 2, lastKey: 2, step: 1,
				summary: "Estimates the storage a key and its versions (and a collection's elements) take on one replica.",
				args:    []argDoc{argKey("key"), opt(tokenArg("SAMPLES", argInt("count")))}, fn: cmdMemoryUsage},
			"help": {name: "help", arity: 2, flags: []string{"loading", "stale"}, summary: "Returns helpful text about the different subcommands.", fn: helpCommand(
				"USAGE <key> [SAMPLES <count>]", "    Return the bytes the key, its versions and (for a collection) a sample of its",
				"    elements scaled to their number take on one replica (SAMPLES 0: every element).",
				"HELP", "    Print this help.")},
		}}
}

func cmdMemoryUsage(c *Conn, args [][]byte) {
	samples := int64(5)
	for i := 3; i < len(args); i += 2 {
		if !eqFold(args[i], "samples") || i+1 >= len(args) {
			c.replyErr(errSyntax)
			return
		}
		n, ok := string2ll(args[i+1])
		switch {
		case !ok:
			c.replyErr(errNotInteger)
			return
		case n < 0:
			c.replyErr(errSyntax)
			return
		case n == 0:
			n = math.MaxInt64
		}
		samples = n
	}
	key := args[2]
	t, _, ok, err := c.keyType(key)
	if err != nil || !ok {
		if err != nil {
			c.fail(err)
		} else {
			c.out.Null()
		}
		return
	}
	o, err := c.getAny(key)
	if err != nil {
		c.fail(err)
		return
	}
	ikey := ring.InternalKey(key)
	usage := int64(len(ikey) + len(replication.AppendObject(nil, o)))
	if t != 0 {
		n, err := c.elementsUsage(key, t, samples)
		if err != nil {
			c.fail(err)
			return
		}
		usage += n
	}
	c.out.Int(usage)
}

// elementsUsage returns the stored size of the live elements of type t of
// collection key: the mean of the first samples of them, times their
// number.
func (c *Conn) elementsUsage(key []byte, t byte, samples int64) (int64, error) {
	ctx, cancel := c.reqCtx()
	defer cancel()
	ikey := ring.InternalKey(key)
	prefix := ring.ElementPrefix(t, key)
	now := c.nowMs()
	var count, sampled, bytes int64
	err := c.srv.cfg.Backend.ScanKeys(ctx, ikey, ring.HashKey(ikey).Hi, ring.ElementBound(t, key, 0), ring.PrefixEnd(prefix), replication.MaxKeysBatch,
		func(k []byte, o *replication.Object) bool {
			if o.Newest(now) == nil {
				return true
			}
			count++
			if sampled < samples {
				sampled++
				bytes += int64(len(k) + len(replication.AppendObject(nil, o)))
			}
			return true
		})
	if err != nil || sampled == 0 {
		return 0, err
	}
	return bytes * count / sampled, nil
}
