package resp

import (
	"bytes"
	"errors"

	"github.com/dynakv/dynakv/replication"
)

// The list edits in place: LSET, LINSERT, LREM, LTRIM. Each reads the
// items it acts on, then writes or deletes those items only (what it read
// of them), so pushes and other edits through other nodes meanwhile
// survive.

func cmdLSet(c *Conn, args [][]byte) {
	i, ok := c.parseIndex(args[2])
	if !ok {
		return
	}
	key := args[1]
	if _, err := c.collection(key, typeList, false); err != nil {
		if errors.Is(err, errNoSuchKey) {
			c.replyErr("ERR no such key")
		} else {
			c.updateOK(err)
		}
		return
	}
	it, err := c.itemAt(key, i)
	if err != nil || it == nil {
		if c.updateOK(err) {
			c.replyErr("ERR index out of range")
		}
		return
	}
	now := c.nowMs()
	gone := false
	_, err = c.rawUpdate(itemKey(key, it.id), func(cur *replication.Object) (*replication.Write, error) {
		// The item may have been popped since the walk: then the index
		// is another item's, and nothing is set.
		gone = cur.Newest(now) == nil
		if gone {
			return nil, nil
		}
		return &replication.Write{Context: cur.Context(), Value: bytes.Clone(args[3])}, nil
	})
	switch {
	case !c.updateOK(err):
	case gone:
		c.replyErr("ERR index out of range")
	default:
		c.notify(notifyList, "lset", key)
		c.out.OK()
	}
}

func cmdLInsert(c *Conn, args [][]byte) {
	var after bool
	switch {
	case eqFold(args[2], "after"):
		after = true
	case eqFold(args[2], "before"):
	default:
		c.replyErr(errSyntax)
		return
	}
	key, pivot := args[1], args[3]
	if _, err := c.collection(key, typeList, false); err != nil {
		if c.collectionOK(err) {
			c.out.Int(0)
		}
		return
	}
	var (
		prev, lo, hi []byte
		found        bool
	)
	err := c.eachItem(key, false, replication.MaxKeysBatch, func(it listItem) bool {
		switch {
		case found: // AFTER: the item after the pivot (none: hi stays nil)
			hi = it.id
			return false
		case bytes.Equal(it.value, pivot):
			found = true
			if !after {
				lo, hi = prev, it.id
				return false
			}
			lo = it.id
		}
		prev = it.id
		return true
	})
	if !c.updateOK(err) {
		return
	}
	if !found {
		c.out.Int(-1)
		return
	}
	id, err := newID(lo, hi, idMiddle)
	if err == nil {
		err = c.writeItems(key, [][]byte{id}, [][]byte{args[4]})
	}
	if !c.updateOK(err) {
		return
	}
	n, err := c.listLen(key)
	c.notify(notifyList, "linsert", key)
	c.listWritten(key)
	if c.updateOK(err) {
		c.out.Int(n)
	}
}

// dropItems deletes items ids of list key (what the coordinator reads of
// each) and returns how many were live; the list's head goes with its
// last item (gone).
func (c *Conn) dropItems(key []byte, ids [][]byte) (n int64, gone bool, err error) {
	if len(ids) == 0 {
		return 0, false, nil
	}
	removed, _, err := c.removeItems(key, ids)
	n = count(removed)
	if err == nil && n > 0 {
		gone, err = c.listEmptied(key)
	}
	return n, gone, err
}

func cmdLRem(c *Conn, args [][]byte) {
	n, ok := c.parseIndex(args[2])
	if !ok {
		return
	}
	key := args[1]
	if _, err := c.collection(key, typeList, false); err != nil {
		if c.collectionOK(err) {
			c.out.Int(0)
		}
		return
	}
	limit := max(n, -n)
	var ids [][]byte
	err := c.eachItem(key, n < 0, replication.MaxKeysBatch, func(it listItem) bool {
		if bytes.Equal(it.value, args[3]) {
			ids = append(ids, it.id)
		}
		return limit == 0 || int64(len(ids)) < limit
	})
	var (
		removed int64
		gone    bool
	)
	if err == nil {
		removed, gone, err = c.dropItems(key, ids)
	}
	if removed > 0 {
		c.notify(notifyList, "lrem", key)
		if gone {
			c.notify(notifyGeneric, "del", key)
		}
	}
	if c.updateOK(err) {
		c.out.Int(removed)
	}
}

func cmdLTrim(c *Conn, args [][]byte) {
	start, ok := c.parseIndex(args[2])
	if !ok {
		return
	}
	stop, ok := c.parseIndex(args[3])
	if !ok {
		return
	}
	key := args[1]
	if _, err := c.collection(key, typeList, false); err != nil {
		if c.collectionOK(err) {
			c.out.OK()
		}
		return
	}
	if start < 0 || stop < 0 {
		n, err := c.listLen(key)
		if !c.updateOK(err) {
			return
		}
		if start < 0 {
			start = max(0, n+start)
		}
		if stop < 0 {
			stop = n + stop
		}
	}
	// Items outside start..stop go (all of them when the range is empty).
	var (
		ids [][]byte
		i   int64
	)
	err := c.eachItem(key, false, replication.MaxKeysBatch, func(it listItem) bool {
		if i < start || i > stop || start > stop {
			ids = append(ids, it.id)
		}
		i++
		return true
	})
	var gone bool
	if err == nil {
		_, gone, err = c.dropItems(key, ids)
	}
	if err == nil {
		c.notify(notifyList, "ltrim", key)
		if gone {
			c.notify(notifyGeneric, "del", key)
		}
	}
	if c.updateOK(err) {
		c.out.OK()
	}
}
