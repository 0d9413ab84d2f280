package resp

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dynakv/dynakv/replication"
)

// Transactions. MULTI, the queued commands and EXEC behave as in Redis to a
// client (QUEUED, EXECABORT after a queueing error, one array of replies),
// with one restriction that keeps them honest in an always-writable store:
// every command of a transaction must touch the same key (or none, like
// PING). Such a transaction runs at the key's coordinator as one versioned
// update: the commands see the key's state as one read, each sees the
// effects of those before it, and the last state they leave is written as a
// single version. Concurrent writers of the key through other coordinators
// become siblings of that version, as for any write, and nothing in between
// is visible to anyone. A transaction over several keys would need an
// authority over all of them, which a Dynamo ring does not have: EXEC
// refuses it and applies nothing.
//
// WATCH is optimistic, as in Redis: WATCH reads each key through the
// coordinator and remembers its causal context and whether it held a live
// value; EXEC applies the transaction only if none of them changed since
// (another context, or a value that expired or appeared), and otherwise
// replies a null array with nothing applied. The transaction's own key is
// compared at its coordinator in the same update that writes it (a write
// landing in between makes the coordinator redo the comparison on the fresh
// state); other watched keys are compared by a read just before. A replica
// that lagged at one read and not the other can make EXEC abort when
// nothing changed; never the reverse for the transaction's key.

// multiState is a connection's transaction being queued.
type multiState struct {
	queue []queued
	dirty bool // a command was refused while queueing: EXEC aborts
}

type queued struct {
	cmd  *command
	args [][]byte
}

// txControl names the commands a client in MULTI runs at once rather than
// queues (as Redis does).
var txControl = map[string]bool{"exec": true, "discard": true, "multi": true, "watch": true, "quit": true, "reset": true}

// notInMulti names the keyed data commands a transaction may not hold:
// they bypass the transaction's one read and one write (a versioned read or
// write names its own causal context; a replica's local copy is not the
// coordinated state).
var notInMulti = map[string]bool{"vget": true, "vset": true, "vdel": true, "vhget": true}

// queue handles a command of a client in MULTI: it queues it and replies
// QUEUED, or replies the error and marks the transaction for EXECABORT.
// cmd is nil when resolving it failed with msg. It reports false for the
// commands that run at once even in MULTI.
func (c *client) queue(cmd *command, args [][]byte, msg string) bool {
	if cmd != nil && txControl[cmd.name] && cmd.parent == nil {
		return false
	}
	m := c.multi
	switch {
	case cmd == nil:
		m.dirty = true
		c.main.replyErr(msg)
	case notInMulti[cmd.name] || (cmd.data && cmd.firstKey == 0 && cmd.numKeys == 0): // numkeys commands name their keys too
		m.dirty = true
		c.main.replyErr(fmt.Sprintf("ERR '%s' cannot run inside a transaction: a dynakv transaction works on one key's coordinated state", cmd.fullName()))
	default:
		own := make([][]byte, len(args))
		for i, a := range args {
			own[i] = bytes.Clone(a)
		}
		m.queue = append(m.queue, queued{cmd: cmd, args: own})
		c.main.out.Simple("QUEUED")
	}
	return true
}

func cmdMulti(c *Conn, args [][]byte) {
	if c.multi != nil {
		c.replyErr("ERR MULTI calls can not be nested")
		return
	}
	c.multi = &multiState{}
	c.out.OK()
}

func cmdDiscard(c *Conn, args [][]byte) {
	if c.multi == nil {
		c.replyErr("ERR DISCARD without MULTI")
		return
	}
	c.multi, c.watched = nil, nil
	c.out.OK()
}

// watchedKey is a key WATCH read: its causal context and whether it held
// a live value then.
type watchedKey struct {
	key  []byte
	ctx  replication.Clock
	live bool
}

// changed reports whether o, the key's state now, differs from what WATCH
// saw.
func (w *watchedKey) changed(o *replication.Object, nowMs int64) bool {
	return !o.Context().Equal(w.ctx) || (o.Newest(nowMs) != nil) != w.live
}

func cmdWatch(c *Conn, args [][]byte) {
	if c.multi != nil {
		c.replyErr("ERR WATCH inside MULTI is not allowed")
		return
	}
	for _, k := range args[1:] {
		if slices.ContainsFunc(c.watched, func(w watchedKey) bool { return bytes.Equal(w.key, k) }) {
			continue // the first WATCH of a key counts, as in Redis
		}
		o, err := c.getAny(k) // a set or hash: its head (creation, delete, expiry)
		if err != nil {
			c.fail(err)
			return
		}
		c.watched = append(c.watched, watchedKey{key: bytes.Clone(k), ctx: o.Context(), live: o.Newest(c.nowMs()) != nil})
	}
	c.out.OK()
}

func cmdUnwatch(c *Conn, args [][]byte) {
	c.watched = nil
	c.out.OK()
}

// errWatched aborts EXEC's update when the transaction's watched key
// changed.
var errWatched = errors.New("a watched key changed")

func cmdExec(c *Conn, args [][]byte) {
	m := c.multi
	if m == nil {
		c.replyErr("ERR EXEC without MULTI")
		return
	}
	watched := c.watched
	c.multi, c.watched = nil, nil
	if m.dirty {
		c.replyErr("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	key, many := txKey(m.queue)
	if many != nil {
		c.replyErr(fmt.Sprintf("ERR a dynakv transaction must touch one key; this one touches %s: nothing was applied", describeKeys(many)))
		return
	}
	// Watched keys other than the transaction's: compared now.
	var own *watchedKey
	for i := range watched {
		w := &watched[i]
		if key != nil && bytes.Equal(w.key, key) {
			own = w
			continue
		}
		o, err := c.getAny(w.key)
		if err != nil {
			c.fail(err)
			return
		}
		if w.changed(o, c.nowMs()) {
			c.out.NullArray()
			return
		}
	}
	writes := false
	for _, q := range m.queue {
		writes = writes || (q.cmd.data && !q.cmd.readonly())
	}
	if key != nil {
		live, err := c.collectionTx(m.queue, key, writes)
		if err != nil {
			c.fail(err)
			return
		}
		if live {
			c.execInTurn(m.queue, key, own)
			return
		}
	}
	var replies Reply
	replies.proto = c.out.proto
	begin := time.UnixMilli(c.cmdTime) // one time snapshot for every command
	var last *txView                   // the run whose write EXEC made: its events are published
	run := func(cur *replication.Object) *txView {
		replies.Reset()
		tx := &txView{key: key, obj: cur, now: c.nowMs()}
		last = tx
		inner := &Conn{client: c.client, out: replies, cmdTime: c.cmdTime, tx: tx, inExec: true}
		for _, q := range m.queue {
			c.srv.call(inner, q.cmd, q.args, begin)
		}
		replies = inner.out
		return tx
	}
	switch {
	case key == nil: // no command touches a key (PING, ECHO, ...)
		run(nil)
	case !writes:
		cur, err := c.getAny(key)
		if err != nil {
			c.fail(err)
			return
		}
		if own != nil && own.changed(cur, c.nowMs()) {
			c.out.NullArray()
			return
		}
		run(cur)
	default:
		_, err := c.updateWith(key, replication.WriteOptions{}, func(cur *replication.Object) (*replication.Write, error) {
			if own != nil && own.changed(cur, c.nowMs()) {
				return nil, errWatched
			}
			tx := run(cur)
			if tx.last == nil {
				return nil, nil
			}
			w := *tx.last
			w.Context = cur.Context()
			return &w, nil
		})
		if errors.Is(err, errWatched) {
			c.out.NullArray()
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
	c.publishTxEvents(last)
	c.out.Array(len(m.queue))
	c.out.b = append(c.out.b, replies.b...)
}

// collectionGroups are the command groups of collections: types stored as
// a head and elements, each element a key of its own.
var collectionGroups = map[string]bool{"set": true, "hash": true, "sorted-set": true, "list": true, "geo": true}

// collectionTx reports whether a transaction on key works on a collection:
// one of its commands is a collection's, or it writes and the key holds a
// collection now. Such a transaction cannot be one version of one key.
func (c *Conn) collectionTx(queue []queued, key []byte, writes bool) (bool, error) {
	for _, q := range queue {
		if collectionGroups[q.cmd.group] {
			return true, nil
		}
	}
	if !writes {
		return false, nil
	}
	t, _, ok, err := c.keyType(key)
	return ok && t != 0, err
}

// execInTurn runs a transaction on one collection: its commands one after
// another, each through the coordinator like a command outside MULTI, so
// each sees the effects of those before it. A collection is a head and
// elements, each a key of its own: the commands cannot be one versioned
// update of one key, so other clients' writes of the collection may land
// between them, and a command that fails leaves the ones before it applied
// (as a failing command inside a Redis EXEC does). A watched key, the
// transaction's own included, is compared just before (already done for
// the others by the caller).
func (c *Conn) execInTurn(queue []queued, key []byte, own *watchedKey) {
	if own != nil {
		o, err := c.getAny(key)
		if err != nil {
			c.fail(err)
			return
		}
		if own.changed(o, c.nowMs()) {
			c.out.NullArray()
			return
		}
	}
	var replies Reply
	replies.proto = c.out.proto
	begin := time.UnixMilli(c.cmdTime)
	inner := &Conn{client: c.client, out: replies, cmdTime: c.cmdTime, inExec: true, ltx: &listTx{}}
	for _, q := range queue {
		c.srv.call(inner, q.cmd, q.args, begin)
	}
	c.out.Array(len(queue))
	c.out.b = append(c.out.b, inner.out.b...)
	inner.ltx.serve(c.srv) // blocked clients see the transaction's end state (list_multi.go)
}

// txKey returns the one key the queued commands touch (nil if none touches
// a key), or, when they touch several, every key they touch.
func txKey(queue []queued) (key []byte, many [][]byte) {
	var keys [][]byte
	for _, q := range queue {
		for k := range q.cmd.keyArgs(q.args) {
			if !containsKey(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	switch len(keys) {
	case 0:
		return nil, nil
	case 1:
		return keys[0], nil
	}
	return nil, keys
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, o := range keys {
		if bytes.Equal(o, k) {
			return true
		}
	}
	return false
}

// describeKeys names keys for an error message: the first few, quoted.
func describeKeys(keys [][]byte) string {
	const shown = 3
	var b strings.Builder
	fmt.Fprintf(&b, "%d keys (", len(keys))
	for i, k := range keys[:min(len(keys), shown)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", k)
	}
	if len(keys) > shown {
		b.WriteString(", ...")
	}
	b.WriteString(")")
	return b.String()
}

// readonly reports whether the command only reads.
func (cmd *command) readonly() bool {
	for _, f := range cmd.flags {
		if f == "write" {
			return false
		}
	}
	return true
}

// txView is the key's state inside a running transaction: what get and
// update see and change instead of the coordinator.
type txView struct {
	key  []byte
	obj  *replication.Object // the state the commands see so far
	now  int64               // Unix ms
	n    uint64              // writes applied, for their placeholder dots
	last *replication.Write  // the last write: the one version EXEC writes
	// events are the keyspace notifications of the commands, published
	// once EXEC's write succeeded (notify.go).
	events []txEvent
}

// txActor marks the versions a transaction applies to its private view;
// they never leave it (EXEC writes the last one as a new version of its
// own).
const txActor replication.ActorID = 1<<64 - 1

func (tx *txView) get(key []byte) (*replication.Object, error) {
	if !bytes.Equal(key, tx.key) {
		return nil, fmt.Errorf("transaction on %q touched %q", tx.key, key)
	}
	return tx.obj, nil
}

func (tx *txView) update(key []byte, fn func(cur *replication.Object) (*replication.Write, error)) (*replication.Object, error) {
	cur, err := tx.get(key)
	if err != nil {
		return nil, err
	}
	w, err := fn(cur)
	if err != nil || w == nil {
		return cur, err
	}
	tx.n++
	w.Context = cur.Context()
	tx.obj = cur.Apply(replication.Dot{Actor: txActor, Counter: tx.n}, tx.now*1e6, *w, 0)
	tx.last = w
	return tx.obj, nil
}
