package resp

import (
	"strings"

	"github.com/dynakv/dynakv/replication"
)

// Keyspace notifications, as redis-server 7.0 has them: with the
// notify-keyspace-events setting on, a command that changed a key publishes
// "__keyspace@0__:<key>" with the event's name and "__keyevent@0__:<event>"
// with the key, through the same path as PUBLISH (Server.publish): the
// node's own subscribers at once, and the relay to every other live node,
// so a subscriber on any node sees the events of writes through any node,
// at most once. The node that runs the command publishes them, after the
// write it notifies succeeded; a write that failed, or changed nothing,
// notifies nothing (as in Redis). Writes that arrive by replication, hinted
// handoff, read repair or anti-entropy run no command and notify nothing.
//
// How a command notifies: call c.notify(class, event, key) where it has
// succeeded, with Redis's class and event name, in Redis's order (the
// lists and sorted sets call c.notify(notifyList, "lpush", key) and
// c.notify(notifyZset, "zadd", key) the same way). The "new" event (a key
// created) and the "expired" event (a key found expired) are emitted by
// the write and read paths themselves (notify_expire.go), before the
// command's own event, as Redis emits them. With notifications off, each of
// these costs one atomic load.

// Notification classes: Redis's flag bits, so the masks read as Redis's.
const (
	notifyKeyspace int32 = 1 << 0  // K
	notifyKeyevent int32 = 1 << 1  // E
	notifyGeneric  int32 = 1 << 2  // g
	notifyString   int32 = 1 << 3  // $
	notifyList     int32 = 1 << 4  // l
	notifySet      int32 = 1 << 5  // s
	notifyHash     int32 = 1 << 6  // h
	notifyZset     int32 = 1 << 7  // z
	notifyExpired  int32 = 1 << 8  // x
	notifyEvicted  int32 = 1 << 9  // e
	notifyStream   int32 = 1 << 10 // t
	notifyKeyMiss  int32 = 1 << 11 // m (not in A, as in Redis)
	notifyModule   int32 = 1 << 13 // d
	notifyNew      int32 = 1 << 14 // n (not in A, as in Redis)
	notifyAll            = notifyGeneric | notifyString | notifyList | notifySet | notifyHash | notifyZset |
		notifyExpired | notifyEvicted | notifyStream | notifyModule
)

// notifyLetters maps each flag letter to its classes, in the order Redis
// prints the type classes back.
var notifyLetters = []struct {
	letter byte
	class  int32
}{
	{'g', notifyGeneric}, {'$', notifyString}, {'l', notifyList}, {'s', notifySet}, {'h', notifyHash},
	{'z', notifyZset}, {'x', notifyExpired}, {'e', notifyEvicted}, {'t', notifyStream}, {'d', notifyModule},
	{'n', notifyNew}, {'K', notifyKeyspace}, {'E', notifyKeyevent}, {'m', notifyKeyMiss}, {'A', notifyAll},
}

// errNotifyFlags is Redis's error for a flag string with another letter.
const errNotifyFlags = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."

// ParseNotifyFlags parses a notify-keyspace-events string ("KEA", "Ex",
// ...) into classes; ok is false when it holds a letter Redis does not
// know.
func ParseNotifyFlags(s string) (flags int32, ok bool) {
	for i := 0; i < len(s); i++ {
		found := false
		for _, l := range notifyLetters {
			if l.letter == s[i] {
				flags |= l.class
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return flags, true
}

// formatNotifyFlags prints classes back as Redis's CONFIG GET does: "A"
// for all the type classes (then n is not shown, as in Redis), else their
// letters in Redis's order; then K, E and m.
func formatNotifyFlags(flags int32) string {
	var b strings.Builder
	if flags&notifyAll == notifyAll {
		b.WriteByte('A')
	} else {
		for _, l := range notifyLetters {
			if l.class&(notifyKeyspace|notifyKeyevent|notifyKeyMiss) == 0 && l.letter != 'A' && flags&l.class != 0 {
				b.WriteByte(l.letter)
			}
		}
	}
	for _, l := range []struct {
		letter byte
		class  int32
	}{{'K', notifyKeyspace}, {'E', notifyKeyevent}, {'m', notifyKeyMiss}} {
		if flags&l.class != 0 {
			b.WriteByte(l.letter)
		}
	}
	return b.String()
}

// notifying reports whether events of class are published: one atomic
// load, the whole cost of a notification point when they are off.
func (c *Conn) notifying(class int32) bool {
	return c.srv.notifyFlags.Load()&class != 0
}

// notify publishes event for key if its class is on. Inside a transaction
// the events wait for EXEC's write (txView.events). key may alias the
// request buffer: it is copied before it is kept.
func (c *Conn) notify(class int32, event string, key []byte) {
	flags := c.srv.notifyFlags.Load()
	if flags&class == 0 || flags&(notifyKeyspace|notifyKeyevent) == 0 {
		return
	}
	if c.tx != nil {
		c.tx.events = append(c.tx.events, txEvent{class: class, event: event, key: append([]byte(nil), key...)})
		return
	}
	c.srv.publishEvent(flags, event, key)
}

// txEvent is an event of a command run inside EXEC, published once the
// transaction's write succeeded.
type txEvent struct {
	class int32
	event string
	key   []byte
}

// publishTxEvents publishes the events of a transaction whose write
// succeeded.
func (c *Conn) publishTxEvents(tx *txView) {
	if tx == nil {
		return
	}
	for _, e := range tx.events {
		c.notify(e.class, e.event, e.key)
	}
}

// publishEvent publishes one event in the keyspace and keyevent channels
// that flags enable (database 0: dynakv has one).
func (s *Server) publishEvent(flags int32, event string, key []byte) {
	if flags&notifyKeyspace != 0 {
		ch := make([]byte, 0, len("__keyspace@0__:")+len(key))
		ch = append(append(ch, "__keyspace@0__:"...), key...)
		s.publish(false, ch, []byte(event))
	}
	if flags&notifyKeyevent != 0 {
		ch := make([]byte, 0, len("__keyevent@0__:")+len(event))
		ch = append(append(ch, "__keyevent@0__:"...), event...)
		s.publish(false, ch, key)
	}
}

// setNotifyFlags is CONFIG SET notify-keyspace-events.
func (s *Server) setNotifyFlags(v string) bool {
	f, ok := ParseNotifyFlags(v)
	if ok {
		s.notifyFlags.Store(f)
	}
	return ok
}

// checkNotifySetting checks a CONFIG SET of notify-keyspace-events (named
// name) to v, replying Redis's error when v is not a flag string.
func (c *Conn) checkNotifySetting(name, v []byte) bool {
	if _, ok := ParseNotifyFlags(string(v)); !ok {
		c.replyErr("ERR CONFIG SET failed (possibly related to argument '" + string(name) + "') - " + errNotifyFlags)
		return false
	}
	return true
}

// ownNotifySetting shows dynakv's own notify_keyspace_events setting, among
// own (CONFIG GET's dynakv settings), as it is now, not as it was at start.
func ownNotifySetting(own []Field, now string) {
	for i, f := range own {
		if f.Name == "notify_keyspace_events" {
			own[i].Value = now
		}
	}
}

// hasExpired reports whether o holds a value that has expired at nowMs:
// a key that existed and expired, which no write has replaced since.
// Callers check that nothing is live.
func hasExpired(o *replication.Object, nowMs int64) bool {
	if o == nil {
		return false
	}
	for i := range o.Siblings {
		if s := &o.Siblings[i]; !s.Tombstone && s.ExpireAt != 0 && s.ExpireAt <= nowMs {
			return true
		}
	}
	return false
}
