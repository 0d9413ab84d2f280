package resp

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// Collections: hashes and sets (and, later, the other Redis types) as
// convergent types.
//
// A collection is a head and elements. The head is a version of the key
// itself (replication.Sibling.Type names the type), written when the
// collection is created and by EXPIRE and PERSIST; it carries the key's
// type and expiry and takes part in the key's versions like any value, so a
// key written concurrently as a string and as a set, or as a hash and as a
// set, has one version of each and reads as the type of the newest one
// (latest coordinator clock, as a plain GET picks among strings), the same
// on every node; VGET shows all of them. Each element (a set's member, a
// hash's field) is a key of its own (ring.ElementKey) at its collection's
// ring position, with its own versions: an update reads and writes one
// element, whatever the collection's size, and replicates, hands off,
// repairs and compares through anti-entropy as one small key. An element is
// present while it has a live version: a remove replaces only the versions
// it read, so an add it did not see survives it (add-wins, observed-remove),
// and its tombstone is collected like any other.
//
// The rules that keep heads and elements in step:
//   - the elements of a collection are visible while its head is the key's
//     newest live version; a collection with no visible element does not
//     exist (an update that removes the last one deletes the head);
//   - a write that replaces a collection's head (SET over a set, DEL, the
//     write after an expiry) deletes the elements it reads of it;
//   - an element that outlives its head's delete (an add concurrent with
//     the DEL) keeps the collection alive without a head, with no expiry.

const (
	typeHash byte = 'h'
	typeSet  byte = 's'
	typeList      = ring.TypeList // ordered: items keyed by id (see list.go)
)

// collectionTypes lists the types with elements, for the walks that visit
// them all.
var collectionTypes = []byte{typeHash, typeSet, typeZSet, typeList}

const errWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

// typeName is TYPE's answer for a head type (0: a string).
func typeName(t byte) string {
	switch t {
	case 0:
		return "string"
	case typeHash:
		return "hash"
	case typeSet:
		return "set"
	case typeZSet:
		return "zset"
	case typeList:
		return "list"
	}
	return "none"
}

// headOf returns the key's newest live version (nil when none) and its
// type: 0 for a string value, else the collection type of a head.
func headOf(o *replication.Object, nowMs int64) (*replication.Sibling, byte) {
	s := o.Newest(nowMs)
	if s == nil {
		return nil, 0
	}
	return s, s.Type
}

// headTypes returns the collection types of the heads among o's versions,
// live or expired, and of the collection deletes among them.
func headTypes(o *replication.Object) []byte {
	return typesWhere(o, func(*replication.Sibling) bool { return true })
}

// typesOf returns the collection types among o's versions, deletes
// included or not.
func typesOf(o *replication.Object, deletes bool) []byte {
	return typesWhere(o, func(s *replication.Sibling) bool { return deletes || !s.Tombstone })
}

// expiredHeads returns the types of the collection heads among o's
// versions that have expired at nowMs.
func expiredHeads(o *replication.Object, nowMs int64) []byte {
	return typesWhere(o, func(s *replication.Sibling) bool { return !s.Tombstone && !s.Live(nowMs) })
}

// typesWhere returns the distinct collection types of o's versions that
// keep accepts.
func typesWhere(o *replication.Object, keep func(*replication.Sibling) bool) []byte {
	if o == nil {
		return nil
	}
	var out []byte
	for i := range o.Siblings {
		if s := &o.Siblings[i]; s.Type != 0 && keep(s) && !slices.Contains(out, s.Type) {
			out = append(out, s.Type)
		}
	}
	return out
}

// mayHaveOrphans reports whether elements may have outlived the key's
// delete: nothing is live, and the delete of a collection is among its
// versions (deleteWrite marks it), so a string's delete costs no look at
// elements.
func mayHaveOrphans(o *replication.Object, nowMs int64) bool {
	if o == nil || o.Newest(nowMs) != nil {
		return false
	}
	for _, s := range o.Siblings {
		if s.Tombstone && s.Type != 0 {
			return true
		}
	}
	return false
}

// getAny reads key (a user key) through the coordinator with the
// configured read quorum, whatever its type.
func (c *Conn) getAny(key []byte) (*replication.Object, error) {
	if c.tx != nil {
		return c.tx.get(key)
	}
	ctx, cancel := c.reqCtx()
	defer cancel()
	o, err := c.srv.cfg.Backend.Get(ctx, ring.InternalKey(key), replication.ReadOptions{})
	if err == nil && c.notifying(notifyExpired) {
		o = c.expiredOnRead(key, o) // notify_expire.go
	}
	return o, err
}

// get reads key for a string command: a collection is WRONGTYPE.
func (c *Conn) get(key []byte) (*replication.Object, error) {
	o, err := c.getAny(key)
	if err == nil {
		if _, t := headOf(o, c.nowMs()); t != 0 {
			return nil, &clientError{errWrongType}
		}
	}
	return o, err
}

// updateAny runs a write of key (a user key) through the coordinator,
// whatever its type. When the write replaces a collection's head (or the
// delete of one, which elements may have outlived), the elements of that
// collection are deleted too.
func (c *Conn) updateAny(key []byte, fn func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	if c.notifying(notifyNew | notifyExpired) {
		return c.updateNotified(key, fn) // notify_expire.go
	}
	return c.updatePlain(key, fn)
}

// updatePlain is updateAny without the "new" and "expired" events.
func (c *Conn) updatePlain(key []byte, fn func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	if c.tx != nil {
		// A transaction writes one version of its key: it cannot also
		// delete a collection's elements, so it does not replace one. (A
		// transaction on a key that holds a collection runs its commands
		// in turn instead, execInTurn; this is a collection that appeared
		// after EXEC looked.)
		return c.tx.update(key, func(cur *replication.Object) (*replication.Write, error) {
			w, err := fn(cur)
			if w != nil && err == nil && len(headTypes(cur)) > 0 {
				return nil, &clientError{"ERR the transaction's key became a collection while EXEC ran: nothing was applied"}
			}
			return w, err
		})
	}
	return c.updateWith(key, replication.WriteOptions{}, fn)
}

// updateWith is updateAny with write options, outside transactions.
func (c *Conn) updateWith(key []byte, opt replication.WriteOptions, fn func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	var heads []byte
	ctx, cancel := c.reqCtx()
	defer cancel()
	o, err := c.srv.cfg.Backend.Update(ctx, ring.InternalKey(key), func(cur *replication.Object) (*replication.Write, error) {
		w, err := fn(cur)
		heads = nil
		if w != nil && err == nil {
			heads = headTypes(cur)
		}
		return w, err
	}, opt)
	if err != nil || len(heads) == 0 {
		return o, err
	}
	var gone []byte
	left := typesOf(o, false)
	for _, t := range heads {
		if !slices.Contains(left, t) {
			gone = append(gone, t)
		}
	}
	return o, c.dropElements(key, gone)
}

// update runs a string command's write of key: a collection is
// WRONGTYPE.
func (c *Conn) update(key []byte, fn func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	return c.updateAny(key, func(cur *replication.Object) (*replication.Write, error) {
		if _, t := headOf(cur, c.nowMs()); t != 0 {
			return nil, &clientError{errWrongType}
		}
		return fn(cur)
	})
}

// rawUpdate runs a write of an internal key through the coordinator.
func (c *Conn) rawUpdate(ikey []byte, fn func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	ctx, cancel := c.reqCtx()
	defer cancel()
	return c.srv.cfg.Backend.Update(ctx, ikey, fn, replication.WriteOptions{})
}

// rawGet reads an internal key through the coordinator.
func (c *Conn) rawGet(ikey []byte) (*replication.Object, error) {
	ctx, cancel := c.reqCtx()
	defer cancel()
	return c.srv.cfg.Backend.Get(ctx, ikey, replication.ReadOptions{})
}

// eachElement walks the elements of type t of the collection key in member
// hash order from hash from on, batch at a time, calling fn with each
// member that has a live version, its hash and its newest version, until
// fn returns false. For a list (an ordered type) the members are the
// items' ids, in list order, and the hash is 0.
func (c *Conn) eachElement(key []byte, t byte, from uint64, batch int, fn func(member []byte, h uint64, s *replication.Sibling) bool) error {
	ctx, cancel := c.reqCtx()
	defer cancel()
	ikey := ring.InternalKey(key)
	prefix := ring.ElementPrefix(t, key)
	now := c.nowMs()
	off := ring.MemberOffset(t, len(prefix))
	return c.srv.cfg.Backend.ScanKeys(ctx, ikey, ring.HashKey(ikey).Hi, ring.ElementBound(t, key, from), ring.PrefixEnd(prefix), batch,
		func(k []byte, o *replication.Object) bool {
			s := o.Newest(now)
			if s == nil || len(k) < len(prefix)+8 {
				return true
			}
			var h uint64
			if !ring.Ordered(t) {
				h = binary.BigEndian.Uint64(k[len(prefix):])
			}
			return fn(k[off:], h, s)
		})
}

// hasElements reports whether the collection key has a live element of
// type t.
func (c *Conn) hasElements(key []byte, t byte) (bool, error) {
	found := false
	err := c.eachElement(key, t, 0, 16, func([]byte, uint64, *replication.Sibling) bool {
		found = true
		return false
	})
	return found, err
}

// orphanType returns the type of the elements that outlived the key's
// delete, 0 when there are none.
func (c *Conn) orphanType(key []byte) (byte, error) {
	for _, t := range collectionTypes {
		ok, err := c.hasElements(key, t)
		if ok || err != nil {
			return t, err
		}
	}
	return 0, nil
}

// keyType returns the type of key as TYPE sees it (0 and ok for a string;
// ok false when the key does not exist), and its newest live version (nil
// for a collection without a head).
func (c *Conn) keyType(key []byte) (t byte, s *replication.Sibling, ok bool, err error) {
	o, err := c.getAny(key)
	if err != nil {
		return 0, nil, false, err
	}
	now := c.nowMs()
	if s, t := headOf(o, now); s != nil {
		return t, s, true, nil
	}
	if c.tx != nil || !mayHaveOrphans(o, now) {
		return 0, nil, false, nil
	}
	t, err = c.orphanType(key)
	return t, nil, t != 0, err
}

// errCollectionInTx is what a collection command answers when it runs
// inside a one-version transaction (txView), which EXEC never lets it do
// (collectionTx): a safeguard, not a reply clients see.
func errCollectionInTx(t byte) error {
	return &clientError{"ERR " + typeName(t) + " commands cannot run inside a one-version transaction"}
}

// errNoSuchKey tells a collection update that the key holds no collection
// of the type.
var errNoSuchKey = errors.New("no such key")

// collection prepares an update of the collection key of type t: it checks
// the key's type (WRONGTYPE for another type that exists) and, when create
// is set and the collection does not exist, creates it (a new head, after
// deleting any elements the key's former versions hid). Without create, it
// returns errNoSuchKey when there is no such collection. It returns the
// head's version (nil for a collection without a head).
func (c *Conn) collection(key []byte, t byte, create bool) (*replication.Sibling, error) {
	if c.tx != nil {
		return nil, errCollectionInTx(t)
	}
	now := c.nowMs()
	ikey := ring.InternalKey(key)
	var (
		head    *replication.Sibling
		slow    bool
		local   *replication.Object
		expired []byte
		orphans bool
	)
	// The fast path: a live head of the type; nothing is written.
	_, err := c.rawUpdate(ikey, func(cur *replication.Object) (*replication.Write, error) {
		s, ht := headOf(cur, now)
		head, slow = s, false
		switch {
		case s != nil && ht == t:
			return nil, nil
		case s != nil && ht == 0:
			return nil, &clientError{errWrongType}
		}
		slow, local, expired, orphans = true, cur, expiredHeads(cur, now), mayHaveOrphans(cur, now)
		return nil, nil
	})
	if err != nil || !slow {
		return head, err
	}
	// Another collection type's head, expired heads, or elements without
	// a head: look at the elements.
	if head != nil { // a live head of another type
		ok, err := c.hasElements(key, head.Type)
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, &clientError{errWrongType}
		}
	}
	if orphans {
		ot, err := c.orphanType(key)
		switch {
		case err != nil:
			return nil, err
		case ot == t:
			return nil, nil // alive without a head
		case ot != 0:
			return nil, &clientError{errWrongType}
		}
	}
	if !create {
		return nil, errNoSuchKey
	}
	// The elements of an expired collection must not come back with the
	// new head. (Only those: elements whose head this node has not
	// received yet, a write through another node, are live and stay.)
	if slices.Contains(expired, t) {
		// This node's copy may show the expired head only because the
		// collection was created anew where it has not received the new
		// head yet (across a partition): R replicas tell before its
		// members, which another node may have added to this one's copy,
		// are taken for the expired collection's.
		o, err := c.getAny(key)
		if err != nil {
			return nil, err
		}
		if s, ht := headOf(o.Merge(local), now); s != nil && ht == t {
			return s, nil
		}
	}
	if err := c.dropElements(key, expired); err != nil {
		return nil, err
	}
	var created *replication.Sibling
	_, err = c.updateAny(key, func(cur *replication.Object) (*replication.Write, error) {
		if s, ht := headOf(cur, now); s != nil && ht == t {
			created = s // created concurrently
			return nil, nil
		}
		return &replication.Write{Context: cur.Context(), Type: t}, nil
	})
	if err != nil {
		return nil, err
	}
	if created == nil {
		o, err := c.getAny(key)
		if err != nil {
			return nil, err
		}
		created, _ = headOf(o, now)
	}
	return created, nil
}

// emptied deletes the head of collection key when it no longer has a live
// element of type t (an update removed the last one), as Redis deletes an
// empty collection. The delete replaces only the head it read: an element
// added concurrently keeps the collection alive. It reports whether the
// collection is gone (its head deleted now), for the "del" event the
// caller notifies after its own.
func (c *Conn) emptied(key []byte, t byte) (bool, error) {
	ok, err := c.hasElements(key, t)
	if ok || err != nil {
		return false, err
	}
	now := c.nowMs()
	deleted := false
	_, err = c.rawUpdate(ring.InternalKey(key), func(cur *replication.Object) (*replication.Write, error) {
		s, ht := headOf(cur, now)
		if deleted = s != nil && ht == t; !deleted {
			return nil, nil
		}
		return deleteWrite(cur), nil
	})
	return deleted && err == nil, err
}

// collectionOK replies the error of a collection update and reports
// whether there was none; a missing key is no error.
func (c *Conn) collectionOK(err error) bool {
	if errors.Is(err, errNoSuchKey) {
		return true
	}
	return c.updateOK(err)
}

// elementKey returns the internal key of member m of collection key of
// type t.
func elementKey(t byte, key, m []byte) []byte { return ring.ElementKey(t, key, m) }
