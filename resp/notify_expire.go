package resp

import "github.com/dynakv/dynakv/replication"

// The "new" and "expired" events, emitted by the write and read paths for
// every command (notify.go).
//
// "new" (class n): a write that stores a value, a counter or a collection's
// head where the coordinator read nothing live creates the key.
//
// "expired" (class x): dynakv keeps an expired value as a version that
// reads as absent until a write replaces it; no background sweep deletes
// it. So a key's expiry is noticed when a command reads or writes the key
// and finds its newest value expired. With class x on, the node then
// deletes it (a tombstone replacing the versions it read, and a
// collection's elements with its head), as Redis deletes a key it finds
// expired, and publishes "expired" once: the next access finds the
// tombstone. A write that replaces the expired value anyway (SET, SADD
// creating a set anew) needs no delete; it notifies "expired" before its
// "new". With class x off, nothing is deleted and reads cost what they
// did. Two nodes finding the same key expired at the same moment may both
// notify it.

// updateNotified is updateAny with the "new" and "expired" events.
func (c *Conn) updateNotified(key []byte, fn func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	now := c.nowMs()
	var wrote, created, expired bool
	var expireAt int64
	o, err := c.updatePlain(key, func(cur *replication.Object) (*replication.Write, error) {
		w, err := fn(cur)
		// The last run decides: a forwarded write may read again.
		live := cur.Newest(now) != nil
		wrote = w != nil && err == nil
		created = wrote && !w.Tombstone && !live
		expired = !live && hasExpired(cur, now)
		expireAt = 0
		if wrote && !w.Tombstone {
			expireAt = w.ExpireAt
		}
		return w, err
	})
	if err != nil {
		return o, err
	}
	if expireAt != 0 && c.tx == nil && c.notifying(notifyExpired) {
		c.srv.trackExpiry(key, expireAt) // notify_sweep.go
	}
	if expired {
		if wrote {
			c.srv.stats.expired.Add(1)
			c.notify(notifyExpired, "expired", key)
		} else if c.notifying(notifyExpired) && c.tx == nil {
			c.reapExpired(key)
		}
	}
	if created && !c.noNewEvent {
		c.notify(notifyNew, "new", key)
	}
	return o, nil
}

// notifyCreated notifies "new" for a key that a copy (COPY, RENAME,
// RESTORE) wrote anew, as Redis adds the key after deleting the one it
// replaces. Those write through rawUpdate, which notifies nothing; inside
// a transaction they write through updateAny, which notified it already.
func (c *Conn) notifyCreated(key []byte) {
	if c.tx == nil {
		c.notify(notifyNew, "new", key)
	}
}

// expiredOnRead deletes key and notifies "expired" when o, the key's state
// just read, is an expired value (class x is on); it returns the state the
// command goes on with.
func (c *Conn) expiredOnRead(key []byte, o *replication.Object) *replication.Object {
	now := c.nowMs()
	if c.tx != nil || o.Newest(now) != nil || !hasExpired(o, now) {
		return o
	}
	if n, ok := c.reapExpired(key); ok {
		return n
	}
	return o
}

// reapExpired deletes key if the coordinator finds it expired, and then
// notifies "expired". It reports the key's new state and whether it did.
// A failed delete is left to the next access.
func (c *Conn) reapExpired(key []byte) (*replication.Object, bool) {
	now := c.nowMs()
	reaped := false
	n, err := c.updatePlain(key, func(cur *replication.Object) (*replication.Write, error) {
		reaped = cur.Newest(now) == nil && hasExpired(cur, now)
		if !reaped {
			return nil, nil
		}
		return deleteWrite(cur), nil
	})
	if err != nil || !reaped {
		return nil, false
	}
	c.srv.stats.expired.Add(1)
	c.notify(notifyExpired, "expired", key)
	return n, true
}
