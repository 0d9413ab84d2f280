package resp

import "errors"

// Moving items between lists: LMOVE, RPOPLPUSH, LMPOP. A move is a pop,
// then a push (two writes, not atomic): a failure between them loses
// nothing that was acknowledged, but the popped value is then only in the
// reply.

// parseWhere parses LEFT or RIGHT: tail is true for RIGHT.
func parseWhere(b []byte) (tail, ok bool) {
	switch {
	case eqFold(b, "left"):
		return false, true
	case eqFold(b, "right"):
		return true, true
	}
	return false, false
}

// moveItem pops one item from src (its tail when fromTail) and pushes it
// onto dst (its tail when toTail); ok is false when src has none (or,
// with skipWrong, is no list). The destination's type is checked before
// anything is popped, as Redis does.
func (c *Conn) moveItem(src, dst []byte, fromTail, toTail, skipWrong bool) (val []byte, ok bool, err error) {
	if _, err := c.collection(src, typeList, false); err != nil {
		if errors.Is(err, errNoSuchKey) || (skipWrong && isWrongType(err)) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if _, _, err := c.readCollection(dst, typeList); err != nil {
		return nil, false, err
	}
	vals, gone, err := c.popItems(src, fromTail, 1)
	if err != nil || len(vals) == 0 {
		c.notifyPopped(src, fromTail, len(vals), gone)
		return nil, false, err
	}
	if _, err := c.collection(dst, typeList, true); err != nil {
		c.notifyPopped(src, fromTail, len(vals), gone)
		return nil, false, err
	}
	err = c.pushItems(dst, vals, toTail)
	if err == nil {
		c.notifyPushed(dst, toTail) // Redis's order: the push, then the pop
	}
	c.notifyPopped(src, fromTail, len(vals), gone)
	if err != nil {
		return nil, false, err
	}
	c.listWritten(dst)
	return vals[0], true, nil
}

// replyMoved replies an LMOVE: the value, or a null bulk.
func (c *Conn) replyMoved(val []byte, ok bool, err error) {
	switch {
	case !c.updateOK(err):
	case !ok:
		c.out.Null()
	default:
		c.out.Bulk(val)
	}
}

func cmdLMove(c *Conn, args [][]byte) {
	from, ok1 := parseWhere(args[3])
	to, ok2 := parseWhere(args[4])
	if !ok1 || !ok2 {
		c.replyErr(errSyntax)
		return
	}
	c.replyMoved(c.moveItem(args[1], args[2], from, to, false))
}

func cmdRPopLPush(c *Conn, args [][]byte) {
	c.replyMoved(c.moveItem(args[1], args[2], true, false, false))
}

// mpopArgs is what LMPOP and BLMPOP parse after their numkeys.
type mpopArgs struct {
	keys  [][]byte
	tail  bool
	count int64
}

// parseMPop parses "numkeys key... LEFT|RIGHT [COUNT n]" (args from
// numkeys on), replying the error when it fails.
func (c *Conn) parseMPop(args [][]byte) (mpopArgs, bool) {
	n, ok := string2ll(args[0])
	if !ok || n <= 0 {
		c.replyErr("ERR numkeys should be greater than 0")
		return mpopArgs{}, false
	}
	if n > int64(len(args)-2) { // no room for LEFT|RIGHT: Redis says syntax error
		c.replyErr(errSyntax)
		return mpopArgs{}, false
	}
	m := mpopArgs{keys: args[1 : 1+n], count: 1}
	rest := args[1+n:]
	if m.tail, ok = parseWhere(rest[0]); !ok {
		c.replyErr(errSyntax)
		return mpopArgs{}, false
	}
	rest = rest[1:]
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && eqFold(rest[0], "count"):
		n, ok := string2ll(rest[1])
		if !ok || n <= 0 {
			c.replyErr("ERR count should be greater than 0")
			return mpopArgs{}, false
		}
		m.count = n
	default:
		c.replyErr(errSyntax)
		return mpopArgs{}, false
	}
	return m, true
}

// listMPop pops up to m.count items from the first of m.keys that has any;
// key is nil when none has. With skipWrong, a key of another type is
// passed over rather than failing the pop.
func (c *Conn) listMPop(m mpopArgs, skipWrong bool) (key []byte, vals [][]byte, err error) {
	for _, k := range m.keys {
		if _, err := c.collection(k, typeList, false); err != nil {
			if errors.Is(err, errNoSuchKey) || (skipWrong && isWrongType(err)) {
				continue
			}
			return nil, nil, err
		}
		vals, gone, err := c.popItems(k, m.tail, m.count)
		c.notifyPopped(k, m.tail, len(vals), gone)
		if err != nil || len(vals) > 0 {
			return k, vals, err
		}
	}
	return nil, nil, nil
}

// replyKeyValues replies [key, [values...]].
func (c *Conn) replyKeyValues(key []byte, vals [][]byte) {
	c.out.Array(2)
	c.out.Bulk(key)
	c.out.Array(len(vals))
	for _, v := range vals {
		c.out.Bulk(v)
	}
}

func cmdLMPop(c *Conn, args [][]byte) {
	m, ok := c.parseMPop(args[1:])
	if !ok {
		return
	}
	key, vals, err := c.listMPop(m, false)
	switch {
	case !c.updateOK(err):
	case key == nil:
		c.out.NullArray()
	default:
		c.replyKeyValues(key, vals)
	}
}

// A list in DUMP's payload (and so COPY, RENAME, RESTORE, which copy
// elements as they are): its items with their ids, so the copy keeps the
// order; an id must be whole levels.
func init() {
	registerDumpKind(dumpKind{code: typeList, typ: typeList, valid: func(id []byte, vs []copyVersion) bool {
		if len(id) == 0 || len(id)%idLevel != 0 {
			return false
		}
		for _, v := range vs {
			if v.hll {
				return false
			}
		}
		return true
	}})
}

// isWrongType reports whether err is the WRONGTYPE error.
func isWrongType(err error) bool {
	var ce *clientError
	return errors.As(err, &ce) && ce.msg == errWrongType
}
