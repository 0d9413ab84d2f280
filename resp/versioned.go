package resp

import (
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// The Dynamo API: VGET returns every live sibling with the causal context;
// VSET and VDEL take that context back.

// parseQuorum parses the value of an R or W option.
func parseQuorum(b []byte) (int, string) {
	n, ok := string2ll(b)
	if !ok {
		return 0, errNotInteger
	}
	if n < 1 || n > 1<<16 {
		return 0, "ERR quorum must be at least 1"
	}
	return int(n), ""
}

// cmdVGet implements VGET key [R n] [LOCAL].
func cmdVGet(c *Conn, args [][]byte) {
	opt, local, ok := c.vgetOptions(args[2:])
	if !ok {
		return
	}
	o, err := c.readVersions(ring.InternalKey(args[1]), opt, local)
	if err != nil {
		c.fail(err)
		return
	}
	c.replyVersions(args[1], o)
}

// vgetOptions parses VGET's options, [R n] [LOCAL]; when they are wrong it
// replies the error and returns ok false.
func (c *Conn) vgetOptions(opts [][]byte) (opt replication.ReadOptions, local, ok bool) {
	for i := 0; i < len(opts); i++ {
		switch {
		case eqFold(opts[i], "r") && i+1 < len(opts):
			n, msg := parseQuorum(opts[i+1])
			if msg != "" {
				c.replyErr(msg)
				return opt, false, false
			}
			opt.R = n
			i++
		case eqFold(opts[i], "local"):
			local = true
		default:
			c.replyErr(errSyntax)
			return opt, false, false
		}
	}
	return opt, local, true
}

// readVersions reads the internal key ikey through the coordinator with
// opt, or from this node's replica alone when local is set.
func (c *Conn) readVersions(ikey []byte, opt replication.ReadOptions, local bool) (*replication.Object, error) {
	ctx, cancel := c.reqCtx()
	defer cancel()
	if local {
		return c.srv.cfg.Backend.GetLocal(ctx, ikey)
	}
	return c.srv.cfg.Backend.Get(ctx, ikey, opt)
}

// replyVersions replies VGET's answer for o, the state of key: the causal
// context, then every live version, oldest write first; an empty array
// when nothing is live. (A hash field's versions, which VHGET replies
// this way, are never a collection's, so key is not read for them.)
func (c *Conn) replyVersions(key []byte, o *replication.Object) {
	live := o.Live(c.nowMs())
	if len(live) == 0 {
		c.out.Array(0)
		return
	}
	// A collection version shows as an array of its type's name and its
	// elements (a set's members; a hash's fields and values), read before
	// the reply starts.
	colls := map[byte][][]byte{}
	for _, s := range live {
		if _, done := colls[s.Type]; s.Type == 0 || done {
			continue
		}
		elems, err := c.collectionElements(key, s.Type)
		if err != nil {
			c.fail(err)
			return
		}
		colls[s.Type] = elems
	}
	c.out.Array(len(live) + 1)
	c.out.BulkString(replication.EncodeContext(o.Context()))
	for _, s := range live {
		if s.Type == 0 {
			c.out.Bulk(s.Value)
			continue
		}
		c.out.Array(len(colls[s.Type]) + 1)
		c.out.BulkString(typeName(s.Type))
		for _, e := range colls[s.Type] {
			c.out.Bulk(e)
		}
	}
}

// collectionElements returns the elements of collection key of type t: a
// set's members, or a hash's fields and values in turn.
func (c *Conn) collectionElements(key []byte, t byte) ([][]byte, error) {
	var elems [][]byte
	err := c.eachElement(key, t, 0, replication.MaxKeysBatch, func(m []byte, _ uint64, s *replication.Sibling) bool {
		elems = append(elems, m)
		if t == typeHash {
			elems = append(elems, s.Value)
		}
		return true
	})
	return elems, err
}

// versionedWrite parses VSET/VDEL's context and options and runs the write.
func versionedWrite(c *Conn, key, token []byte, opts [][]byte, value []byte, tombstone bool) {
	ctxClock, err := replication.DecodeContext(string(token))
	if err != nil {
		c.replyErr(errInvalidCtx)
		return
	}
	now := c.nowMs()
	var (
		wopt     replication.WriteOptions
		expireAt int64
		hasExp   bool
	)
	name := "vset"
	if tombstone {
		name = "vdel"
	}
	for i := 0; i < len(opts); i++ {
		a := opts[i]
		switch {
		case eqFold(a, "w") && i+1 < len(opts):
			n, msg := parseQuorum(opts[i+1])
			if msg != "" {
				c.replyErr(msg)
				return
			}
			wopt.W = n
			i++
		case !tombstone && !hasExp && (eqFold(a, "ex") || eqFold(a, "px")) && i+1 < len(opts):
			unit := unitSeconds
			if eqFold(a, "px") {
				unit = unitMillis
			}
			at, msg := absExpire(opts[i+1], unit, true, true, now, name)
			if msg != "" {
				c.replyErr(msg)
				return
			}
			expireAt, hasExp = at, true
			i++
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	w := &replication.Write{Context: ctxClock, Value: own(value), Tombstone: tombstone, ExpireAt: expireAt}
	// A collection's head the context covers goes with its elements.
	_, err = c.updateWith(key, wopt, func(cur *replication.Object) (*replication.Write, error) {
		if tombstone {
			w.Type = 0
			for _, s := range cur.Siblings {
				if s.Type != 0 && ctxClock.Covers(s.Dot) {
					w.Type = s.Type // the delete of a collection (see mayHaveOrphans)
				}
			}
		}
		return w, nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	// As SET (with EX/PX: and EXPIRE) and DEL notify; a versioned write
	// always writes a version.
	switch {
	case tombstone:
		c.notify(notifyGeneric, "del", key)
	case hasExp:
		c.notify(notifyString, "set", key)
		c.notify(notifyGeneric, "expire", key)
	default:
		c.notify(notifyString, "set", key)
	}
	c.out.OK()
}

// cmdVSet implements VSET key context value [W n] [EX s|PX ms].
func cmdVSet(c *Conn, args [][]byte) {
	versionedWrite(c, args[1], args[2], args[4:], args[3], false)
}

// cmdVDel implements VDEL key context [W n].
func cmdVDel(c *Conn, args [][]byte) {
	versionedWrite(c, args[1], args[2], args[3:], nil, true)
}

// The RING commands show the ring and membership (DESIGN.md §1).

func cmdRingKey(c *Conn, args [][]byte) {
	p, prefs := c.srv.cfg.View.KeyInfo(args[2])
	c.out.Map(3)
	c.out.BulkString("key")
	c.out.Bulk(args[2])
	c.out.BulkString("partition")
	c.out.Int(int64(p))
	c.out.BulkString("preference_list")
	c.out.Array(len(prefs))
	for _, e := range prefs {
		role := "fallback"
		if e.Replica {
			role = "replica"
		}
		c.out.Array(4)
		c.out.BulkString(e.ID)
		c.out.BulkString(e.Addr)
		c.out.BulkString(upDown(e.Up))
		c.out.BulkString(role)
	}
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

func cmdRingPartitions(c *Conn, args [][]byte) {
	parts := c.srv.cfg.View.Partitions()
	c.out.Array(len(parts))
	for _, p := range parts {
		c.out.Array(4)
		c.out.Int(int64(p.Index))
		c.out.BulkString(p.Start)
		c.out.BulkString(p.End)
		c.out.Array(len(p.Replicas))
		for _, r := range p.Replicas {
			c.out.BulkString(r)
		}
	}
}

func cmdRingMembers(c *Conn, args [][]byte) {
	ms := c.srv.cfg.View.Members()
	c.out.Array(len(ms))
	for _, m := range ms {
		c.out.Map(6)
		c.out.BulkString("id")
		c.out.BulkString(m.ID)
		c.out.BulkString("addr")
		c.out.BulkString(m.Addr)
		c.out.BulkString("state")
		c.out.BulkString(m.State)
		c.out.BulkString("weight")
		c.out.Int(int64(m.Weight))
		c.out.BulkString("partitions")
		c.out.Int(m.Partitions)
		c.out.BulkString("keys")
		c.out.Int(m.Keys)
	}
}

func cmdRingStatus(c *Conn, args [][]byte) {
	fs := c.srv.cfg.View.Status()
	c.out.Map(len(fs))
	for _, f := range fs {
		c.out.BulkString(f.Name)
		c.out.BulkString(f.Value)
	}
}

func cmdRingRemove(c *Conn, args [][]byte) {
	if err := c.srv.cfg.View.Remove(string(args[2])); err != nil {
		c.replyErr("ERR " + err.Error())
		return
	}
	c.out.OK()
}
