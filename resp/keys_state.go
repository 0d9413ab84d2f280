package resp

import (
	"bytes"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// A key's data as COPY, RENAME and DUMP read it and COPY, RENAME and
// RESTORE write it: a string is its live versions (siblings kept, oldest
// first, so the newest stays the newest where they are written), a
// collection is its head's type and expiry and then its elements, each
// with its own live versions. The elements are read and written in bounded
// batches, so the memory a copy takes does not grow with the collection.
//
// Counter contributions cannot be copied as they are: a contribution is
// the running sum of one coordinator's increments, and a write elsewhere
// mints its own. So a key (or hash field) holding a counter is copied as
// its value: the newest version carries what GET answers (its plain value
// plus the increments), and older plain siblings are copied beside it.

// copyVersion is one version of a key or an element.
type copyVersion struct {
	value    []byte
	expireAt int64 // Unix ms; 0 for none
	hll      bool
}

// copyElement is one element of a collection: its member (a set's member,
// a hash's field) and its live versions, oldest first. ctx is the causal
// context it was read with, which a RENAME deletes at the source.
type copyElement struct {
	member   []byte
	versions []copyVersion
	ctx      replication.Clock
}

// keySource is a live key as a copy reads it.
type keySource struct {
	typ      byte                // 0 for a string, else the collection's type
	obj      *replication.Object // the key's state as read: RENAME deletes what it covers
	versions []copyVersion       // a string's versions, oldest first
	expireAt int64               // a collection's expiry (its head's); 0 for none
}

// Bounds of one batch of elements a copy holds: it is written before the
// next is read.
const (
	copyBatch = 256
	copyBytes = 4 << 20
)

// versionsOf returns the live versions of a string key or an element,
// oldest first: its plain versions, the newest of them (the last) carrying
// the value a plain read answers, counters included. Collection heads
// among the versions are left out.
func versionsOf(o *replication.Object, nowMs int64) []copyVersion {
	newest := o.Newest(nowMs)
	if newest == nil {
		return nil
	}
	var out []copyVersion
	for _, s := range o.Live(nowMs) {
		if !s.Counter && s.Type == 0 {
			out = append(out, copyVersion{value: s.Value, expireAt: s.ExpireAt, hll: s.HLL})
		}
	}
	if len(out) > 0 {
		out = out[:len(out)-1] // the newest plain version: Newest's answer below
	}
	return append(out, copyVersion{value: newest.Value, expireAt: newest.ExpireAt, hll: newest.HLL})
}

// readSource reads key for a copy; ok is false when it does not exist.
func (c *Conn) readSource(key []byte) (src *keySource, ok bool, err error) {
	o, err := c.getAny(key)
	if err != nil {
		return nil, false, err
	}
	now := c.nowMs()
	s, t := headOf(o, now)
	switch {
	case s != nil && t == 0:
		return &keySource{obj: o, versions: versionsOf(o, now)}, true, nil
	case s != nil:
		return &keySource{typ: t, obj: o, expireAt: s.ExpireAt}, true, nil
	case c.tx == nil && mayHaveOrphans(o, now):
		// Elements that outlived their head's delete: a collection
		// without a head and without an expiry.
		ot, err := c.orphanType(key)
		if ot == 0 || err != nil {
			return nil, false, err
		}
		return &keySource{typ: ot, obj: o}, true, nil
	}
	return nil, false, nil
}

// sourceElements walks the live elements of type t of the collection key
// in member hash order and calls fn with them a batch at a time (at most
// copyBatch elements and about copyBytes), stopping at fn's first error.
func (c *Conn) sourceElements(key []byte, t byte, fn func(batch []copyElement) error) error {
	ctx, cancel := c.reqCtx()
	defer cancel()
	ikey := ring.InternalKey(key)
	prefix := ring.ElementPrefix(t, key)
	now := c.nowMs()
	var (
		batch []copyElement
		size  int
		ferr  error
	)
	err := c.srv.cfg.Backend.ScanKeys(ctx, ikey, ring.HashKey(ikey).Hi, prefix, ring.PrefixEnd(prefix), copyBatch,
		func(k []byte, o *replication.Object) bool {
			vs := versionsOf(o, now)
			if len(vs) == 0 || len(k) < len(prefix)+8 {
				return true
			}
			e := copyElement{member: bytes.Clone(k[ring.MemberOffset(t, len(prefix)):]), versions: vs, ctx: o.Context()}
			batch = append(batch, e)
			size += len(e.member)
			for _, v := range vs {
				size += len(v.value)
			}
			if len(batch) < copyBatch && size < copyBytes {
				return true
			}
			ferr = fn(batch)
			batch, size = nil, 0
			return ferr == nil
		})
	switch {
	case ferr != nil:
		return ferr
	case err != nil:
		return err
	case len(batch) > 0:
		return fn(batch)
	}
	return nil
}

// destState reads key as the destination of a copy: whether it exists, and
// the types of its expired collections, whose elements the new value must
// not take over (see Conn.collection).
func (c *Conn) destState(key []byte) (exists bool, stale []byte, err error) {
	o, err := c.getAny(key)
	if err != nil {
		return false, nil, err
	}
	now := c.nowMs()
	if o.Newest(now) != nil {
		return true, expiredHeads(o, now), nil
	}
	stale = expiredHeads(o, now)
	if c.tx == nil && mayHaveOrphans(o, now) {
		t, err := c.orphanType(key)
		return t != 0, stale, err
	}
	return false, stale, nil
}

// clearDest empties key before a copy is written there: a DEL when it
// exists, and the delete of the elements of its expired collections.
func (c *Conn) clearDest(key []byte, exists bool, stale []byte) error {
	if exists {
		if _, err := c.del(key); err != nil {
			return err
		}
	}
	if len(stale) == 0 || c.tx != nil {
		return nil
	}
	return c.dropElements(key, stale)
}

// writeHead writes a copy's key: a string's versions, or a collection's
// head of type t with expiry expireAt. The key was cleared (clearDest).
func (c *Conn) writeHead(key []byte, t byte, versions []copyVersion, expireAt int64) error {
	if t == 0 {
		return c.writeVersions(ring.InternalKey(key), key, versions)
	}
	_, err := c.rawUpdate(ring.InternalKey(key), func(cur *replication.Object) (*replication.Write, error) {
		return &replication.Write{Context: cur.Context(), Type: t, ExpireAt: expireAt}, nil
	})
	return err
}

// writeVersions writes versions as the versions of internal key ikey (the
// user key when it is one, else nil): the first replaces what the
// coordinator reads there, and every next one is written with the context
// the first read, so it stands beside the ones before it as a sibling, as
// concurrent writes do. Written oldest first, the newest stays the newest.
func (c *Conn) writeVersions(ikey, key []byte, versions []copyVersion) error {
	var seen replication.Clock
	for i, v := range versions {
		write := func(cur *replication.Object) (*replication.Write, error) {
			if i == 0 {
				seen = cur.Context() // the last run counts (a forwarded write may run again)
			}
			return &replication.Write{Context: seen, Value: v.value, HLL: v.hll, ExpireAt: v.expireAt}, nil
		}
		var err error
		if c.tx != nil && key != nil {
			_, err = c.updateAny(key, write) // one version: the callers refuse more in MULTI
		} else {
			_, err = c.rawUpdate(ikey, write)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeElements writes a batch of elements of type t to the collection key,
// each with its versions, side by side.
func (c *Conn) writeElements(key []byte, t byte, batch []copyElement) error {
	return parallel(len(batch), func(i int) error {
		return c.writeVersions(ring.ElementKey(t, key, batch[i].member), nil, batch[i].versions)
	})
}

// dropRead deletes, at the collection key, what was read of a batch of its
// elements (each element's versions its context covers): RENAME's delete
// of what it moved, so an element written at the source meanwhile stays.
func (c *Conn) dropRead(key []byte, t byte, batch []copyElement) error {
	return parallel(len(batch), func(i int) error {
		ctx := batch[i].ctx
		_, err := c.rawUpdate(ring.ElementKey(t, key, batch[i].member), func(*replication.Object) (*replication.Write, error) {
			return &replication.Write{Context: ctx, Tombstone: true}, nil
		})
		return err
	})
}
