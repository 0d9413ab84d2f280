package resp

import "math"

// DUMP and RESTORE, with dynakv's own payload (dump_format.go). RESTORE
// writes a key as COPY does (keys_copy.go): the key's versions, or a
// collection's head and then its elements, a bounded batch at a time, each
// element a write of its own. The payload is read through once to check
// it before anything is written, so a malformed one changes nothing.

func cmdDump(c *Conn, args [][]byte) {
	key := args[1]
	s, ok, err := c.readSource(key)
	switch {
	case err != nil:
		c.fail(err)
		return
	case !ok:
		c.out.Null()
		return
	case c.tx != nil && s.typ != 0:
		c.replyErr("ERR dynakv cannot DUMP a collection inside MULTI: a transaction sees one key's versions, not its elements")
		return
	}
	k, ok := kindByType(s.typ)
	if !ok {
		c.replyErr("ERR DUMP of a " + typeName(s.typ) + " is not supported by dynakv yet")
		return
	}
	b := []byte{dumpVersion, k.code}
	if s.typ == 0 {
		b = appendVersions(b, s.versions)
	} else {
		err := c.sourceElements(key, s.typ, func(batch []copyElement) error {
			for _, e := range batch {
				b = appendElement(b, e.member, e.versions)
			}
			if c.exceeds(len(b)) {
				return errOutputLimit // the client is closed: a reply it would not take
			}
			return nil
		})
		if err != nil {
			c.fail(err)
			return
		}
		b = append(b, 0)
	}
	c.out.Bulk(sealPayload(b))
}

// restoreOptions are RESTORE's parsed options.
type restoreOptions struct {
	replace, absTTL bool
	idle, freq      int64 // -1 when not given; checked, then ignored
}

// parseRestoreOptions parses RESTORE's options (after the payload) as Redis
// 7.0 does: IDLETIME and FREQ exclude each other.
func parseRestoreOptions(args [][]byte) (restoreOptions, string) {
	o := restoreOptions{idle: -1, freq: -1}
	for i := 0; i < len(args); i++ {
		more := i+1 < len(args)
		switch a := args[i]; {
		case eqFold(a, "replace"):
			o.replace = true
		case eqFold(a, "absttl"):
			o.absTTL = true
		case eqFold(a, "idletime") && more && o.freq == -1:
			n, ok := string2ll(args[i+1])
			if !ok {
				return o, errNotInteger
			}
			if n < 0 {
				return o, "ERR Invalid IDLETIME value, must be >= 0"
			}
			o.idle = n
			i++
		case eqFold(a, "freq") && more && o.idle == -1:
			n, ok := string2ll(args[i+1])
			if !ok {
				return o, errNotInteger
			}
			if n < 0 || n > 255 {
				return o, "ERR Invalid FREQ value, must be >= 0 and <= 255"
			}
			o.freq = n
			i++
		default:
			return o, errSyntax
		}
	}
	return o, ""
}

// cmdRestore implements RESTORE key ttl payload [REPLACE] [ABSTTL]
// [IDLETIME s] [FREQ f], checking in Redis's order: options, an existing
// key, the ttl, the payload. IDLETIME and FREQ are checked and have no
// effect: dynakv tracks neither (see OBJECT).
func cmdRestore(c *Conn, args [][]byte) {
	key, payload := args[1], args[3]
	opt, msg := parseRestoreOptions(args[4:])
	if msg != "" {
		c.replyErr(msg)
		return
	}
	exists, stale, err := c.destState(key)
	if err != nil {
		c.fail(err)
		return
	}
	if exists && !opt.replace {
		c.replyErr("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := string2ll(args[2])
	switch {
	case !ok:
		c.replyErr(errNotInteger)
		return
	case ttl < 0:
		c.replyErr("ERR Invalid TTL value, must be >= 0")
		return
	}
	// Read the payload through once: the whole of it is checked before
	// anything is written.
	var (
		kind  dumpKind
		heads []copyVersion
	)
	err = decodePayload(payload, payloadVisitor{head: func(k dumpKind, vs []copyVersion) error {
		kind, heads = k, vs
		return nil
	}})
	if err != nil {
		c.replyErr(err.Error())
		return
	}
	if c.tx != nil && (kind.typ != 0 || len(heads) > 1) {
		c.replyErr("ERR dynakv cannot RESTORE a collection or several versions inside MULTI: a transaction writes one version of one key")
		return
	}
	now := c.nowMs()
	expireAt := ttl
	if ttl > 0 && !opt.absTTL {
		expireAt = now + min(ttl, math.MaxInt64-now)
	}
	if err := c.clearDest(key, exists, stale); err != nil {
		c.fail(err)
		return
	}
	if expireAt != 0 && expireAt <= now {
		if exists {
			c.notify(notifyGeneric, "del", key)
		}
		c.out.OK() // already expired: the key is replaced by nothing, as in Redis
		return
	}
	err = decodePayload(payload, payloadVisitor{
		head: func(k dumpKind, vs []copyVersion) error {
			for i := range vs {
				vs[i].expireAt = expireAt
			}
			return c.writeHead(key, k.typ, vs, expireAt)
		},
		elements: func(batch []copyElement) error { return c.writeElements(key, kind.typ, batch) },
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.notifyCreated(key)
	c.notify(notifyGeneric, "restore", key)
	c.out.OK()
}
