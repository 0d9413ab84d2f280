package resp

import (
	"bytes"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// COPY, RENAME and RENAMENX. A Dynamo ring has no authority over two keys,
// so they act per key, not atomically: the source's state is read, written
// to the destination (which is deleted first when it exists and may be
// replaced), and for RENAME the source is then deleted by an
// observed-remove delete: only the versions the copy read. A collection is
// copied head first, then its elements in batches of bounded size, each
// element a write of its own; a RENAME deletes each batch's elements at
// the source once they are written at the destination, then the source's
// head. What a concurrent client can see:
//
//   - a write to the source landing during a RENAME (a SET, an SADD of a
//     member, an HSET of a field the copy had read already) survives at
//     the source, which then still exists;
//   - a reader may see both keys for a moment, or the destination with
//     part of a collection's elements and the source with the rest;
//   - a RENAME or COPY that fails part way (a quorum not reached) replies
//     the error and leaves what it had written: the moved elements at the
//     destination, the others still at the source. Nothing is lost, but
//     a retry replaces the destination, so a client should look first.

// keyCommands2 returns the table entries of the key commands of issue 15:
// COPY, RENAME, RENAMENX, RANDOMKEY, TOUCH, EXPIRETIME, PEXPIRETIME, DUMP
// and RESTORE.
func keyCommands2() []*command {
	generic := func(name string, arity int, flags []string, first, last int, since, summary string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		step := 0
		if first > 0 {
			step = 1
		}
		return &command{name: name, arity: arity, flags: flags, firstKey: first, lastKey: last, step: step, group: "generic", since: since, summary: summary, args: args, fn: fn}
	}
	return []*command{
		generic("copy", -3, []string{"write", "denyoom"}, 1, 2, "6.2.0",
			"Copies the value of a key to a new key (per key, not atomically: the destination is written, element by element for a collection).",
			[]argDoc{argKey("source"), argKey("destination"), opt(tokenArg("DB", argInt("destination-db"))), opt(token("REPLACE"))}, cmdCopy),
		generic("rename", 3, []string{"write"}, 1, 2, "1.0.0",
			"Renames a key and overwrites the destination (a copy, then an observed-remove delete of the source; not atomic).",
			[]argDoc{argKey("key"), argKey("newkey")}, renameCommand(false)),
		generic("renamenx", 3, []string{"write", "fast"}, 1, 2, "1.0.0",
			"Renames a key only when the target key name doesn't exist (a copy, then an observed-remove delete of the source; not atomic).",
			[]argDoc{argKey("key"), argKey("newkey")}, renameCommand(true)),
		generic("randomkey", 1, []string{"readonly"}, 0, 0, "1.0.0",
			"Returns a random key name from the database (one of the live keys after a random ring position).", nil, cmdRandomKey),
		generic("touch", -2, []string{"readonly", "fast"}, 1, -1, "3.2.1",
			"Returns the number of existing keys out of those specified (dynakv tracks no access time).", []argDoc{many(argKey("key"))}, cmdExists),
		generic("expiretime", 2, []string{"readonly", "fast"}, 1, 1, "7.0.0",
			"Returns the expiration time of a key as a Unix timestamp.", []argDoc{argKey("key")}, expiretimeCommand(unitSeconds)),
		generic("pexpiretime", 2, []string{"readonly", "fast"}, 1, 1, "7.0.0",
			"Returns the expiration time of a key as a Unix milliseconds timestamp.", []argDoc{argKey("key")}, expiretimeCommand(unitMillis)),
		generic("dump", 2, []string{"readonly"}, 1, 1, "2.6.0",
			"Returns a serialized representation of the value stored at a key (dynakv's own format, every version kept).", []argDoc{argKey("key")}, cmdDump),
		generic("restore", -4, []string{"write", "denyoom"}, 1, 1, "2.6.0",
			"Creates a key from the serialized representation of a value (DUMP's, from dynakv).",
			[]argDoc{argKey("key"), argInt("ttl"), argStr("serialized-value"), opt(token("REPLACE")), opt(token("ABSTTL")),
				opt(tokenArg("IDLETIME", argInt("seconds"))), opt(tokenArg("FREQ", argInt("frequency")))}, cmdRestore),
	}
}

const (
	errNoKeyMsg   = "ERR no such key"
	errSameObject = "ERR source and destination objects are the same"
)

func cmdCopy(c *Conn, args [][]byte) {
	src, dst := args[1], args[2]
	replace := false
	for i := 3; i < len(args); i++ {
		switch {
		case eqFold(args[i], "replace"):
			replace = true
		case eqFold(args[i], "db") && i+1 < len(args):
			db, ok := string2ll(args[i+1])
			switch {
			case !ok || db != int64(int32(db)):
				c.replyErr(errNotInteger)
				return
			case db != 0:
				c.replyErr(errDBRange) // one database, as SELECT says
				return
			}
			i++
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	if bytes.Equal(src, dst) {
		c.replyErr(errSameObject)
		return
	}
	s, ok, err := c.readSource(src)
	if err != nil || !ok {
		c.replyCount(err, false)
		return
	}
	exists, stale, err := c.destState(dst)
	if err != nil || (exists && !replace) {
		c.replyCount(err, false)
		return
	}
	err = c.copyKey(src, dst, s, exists, stale, false)
	if err == nil {
		c.notifyCreated(dst)
		c.notify(notifyGeneric, "copy_to", dst)
	}
	c.replyCount(err, true)
}

// replyCount replies err, or 1 when done is set and 0 otherwise.
func (c *Conn) replyCount(err error, done bool) {
	switch {
	case err != nil:
		c.fail(err)
	case done:
		c.out.Int(1)
	default:
		c.out.Int(0)
	}
}

// copyKey writes the source s (read from src) to dst, after clearing dst
// (see clearDest); with move, it deletes at src what it copied (RENAME).
func (c *Conn) copyKey(src, dst []byte, s *keySource, exists bool, stale []byte, move bool) error {
	if err := c.clearDest(dst, exists, stale); err != nil {
		return err
	}
	if err := c.writeHead(dst, s.typ, s.versions, s.expireAt); err != nil {
		return err
	}
	if s.typ != 0 {
		err := c.sourceElements(src, s.typ, func(batch []copyElement) error {
			if err := c.writeElements(dst, s.typ, batch); err != nil || !move {
				return err
			}
			return c.dropRead(src, s.typ, batch)
		})
		if err != nil {
			return err
		}
	}
	if !move {
		return nil
	}
	// The source's delete replaces what was read of it, no more: a write
	// that landed since survives it.
	seen := s.obj.Context()
	_, err := c.rawUpdate(ring.InternalKey(src), func(*replication.Object) (*replication.Write, error) {
		return &replication.Write{Context: seen, Tombstone: true, Type: s.typ}, nil
	})
	if err != nil || s.typ != 0 {
		return err
	}
	// A string that hid collection heads (written concurrently): their
	// elements go with it, as with DEL.
	return c.dropElements(src, headTypes(s.obj))
}

// renameCommand implements RENAME and, with nx, RENAMENX.
func renameCommand(nx bool) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		src, dst := args[1], args[2]
		s, ok, err := c.readSource(src)
		switch {
		case err != nil:
			c.fail(err)
			return
		case !ok:
			c.replyErr(errNoKeyMsg)
			return
		case bytes.Equal(src, dst): // nothing to do, as in Redis
			c.renameReply(nx, nil, !nx)
			return
		}
		exists, stale, err := c.destState(dst)
		if err != nil || (exists && nx) {
			c.renameReply(nx, err, false)
			return
		}
		err = c.copyKey(src, dst, s, exists, stale, true)
		if err == nil {
			c.notifyCreated(dst)
			c.notify(notifyGeneric, "rename_from", src)
			c.notify(notifyGeneric, "rename_to", dst)
		}
		c.renameReply(nx, err, true)
	}
}

// renameReply replies err, or RENAME's OK, or RENAMENX's 1 (done) or 0.
func (c *Conn) renameReply(nx bool, err error, done bool) {
	switch {
	case err != nil:
		c.fail(err)
	case nx:
		c.replyCount(nil, done)
	default:
		c.out.OK()
	}
}
