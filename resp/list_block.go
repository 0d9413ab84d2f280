package resp

import (
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
//
// A blocked client waits in its connection's goroutine (commands of one
// connection run in order, so nothing behind it runs meanwhile, as in
// Redis) and tries its pop again when:
//   - a push through this node writes one of its keys. The pushing command
//     hands the new items to the clients waiting on the key, longest
//     waiting first, one at a time, until one finds nothing to pop, and
//     replies only then (each handoff bounded by listHandoff): as in
//     Redis, where blocked clients are served before the next command
//     runs, the pusher's next command sees what they popped and pushed;
//   - listRecheck passes: a push through another node writes the items on
//     this node's replica without a command here, so a blocked client
//     re-reads its keys at that interval (a push elsewhere reaches it
//     within about that long, and clients are then served in the order of
//     their re-reads);
//   - its timeout passes (it replies a null array, as Redis does), its
//     connection is closed or killed, or CLIENT UNBLOCK names it.
//
// Blocked clients show in CLIENT LIST with flag b and in INFO's
// blocked_clients.

const (
	// listRecheck is how often a blocked client re-reads its keys.
	listRecheck = 100 * time.Millisecond
	// listHandoff bounds how long a push waits for one blocked client's
	// attempt (a client whose own push is waiting on this one does not
	// answer until then: the cycle ends here).
	listHandoff = time.Second
)

// listWaiters is the clients blocked on lists: per key, in the order they
// blocked.
type listWaiters struct {
	mu       sync.Mutex
	byKey    map[string][]*listWaiter
	byClient map[*client]*listWaiter
}

// listWaiter is one blocked client.
type listWaiter struct {
	c       *client
	since   int64 // when its command was read (Unix ns)
	keys    []string
	wake    chan struct{} // a push wrote one of keys
	unblock chan bool     // CLIENT UNBLOCK: true to reply an error
	// Guarded by listWaiters.mu:
	waiting bool        // its first attempt found nothing: it waits
	busy    bool        // trying its pop now
	acks    []chan bool // pushes waiting for its next attempt: true when it popped (or left)
}

// add registers c as blocked on keys, in the order the clients' commands
// were read (their dispatch time: a client whose command was read first
// but reached here second still goes first, as Redis, which runs commands
// in the order it reads them, would have it).
func (w *listWaiters) add(c *client, keys [][]byte) *listWaiter {
	lw := &listWaiter{c: c, since: c.lastActive.Load(), wake: make(chan struct{}, 1), unblock: make(chan bool, 1)}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byKey == nil {
		w.byKey, w.byClient = map[string][]*listWaiter{}, map[*client]*listWaiter{}
	}
	for _, k := range keys {
		if !slices.Contains(lw.keys, string(k)) {
			lw.keys = append(lw.keys, string(k))
			q := w.byKey[string(k)]
			i := len(q)
			for i > 0 && q[i-1].since > lw.since {
				i--
			}
			w.byKey[string(k)] = slices.Insert(q, i, lw)
		}
	}
	w.byClient[c] = lw
	return lw
}

// remove unregisters lw; the pushes waiting for its attempt go on to the
// next client.
func (w *listWaiters) remove(lw *listWaiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range lw.keys {
		q := slices.DeleteFunc(w.byKey[k], func(x *listWaiter) bool { return x == lw })
		if len(q) == 0 {
			delete(w.byKey, k)
		} else {
			w.byKey[k] = q
		}
	}
	delete(w.byClient, lw.c)
	for _, a := range lw.acks {
		a <- true
	}
	lw.acks = nil
}

// attempt marks lw as trying its pop and returns the pushes to answer
// once it has.
func (w *listWaiters) attempt(lw *listWaiter) []chan bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	lw.busy = true
	acks := lw.acks
	lw.acks = nil
	return acks
}

// attempted ends lw's attempt and answers the pushes waiting for it.
func (w *listWaiters) attempted(lw *listWaiter, acks []chan bool, served bool) {
	w.mu.Lock()
	lw.busy = false
	w.mu.Unlock()
	for _, a := range acks {
		a <- served
	}
}

// setWaiting marks lw as waiting: its first attempt found nothing.
func (w *listWaiters) setWaiting(lw *listWaiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	lw.waiting = true
}

// blocked reports whether c is waiting in a blocking pop of a list.
func (w *listWaiters) blocked(c *client) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	lw, ok := w.byClient[c]
	return ok && lw.waiting
}

// unblockClient ends the wait of the client with id; it reports whether
// one was blocked.
func (w *listWaiters) unblockClient(id int64, withError bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c, lw := range w.byClient {
		if c.id == id {
			select {
			case lw.unblock <- withError:
			default:
			}
			return true
		}
	}
	return false
}

// wakeNext wakes the client that has waited longest on key and is not
// trying a pop already (skipping those in skip), and returns it and the
// channel its attempt answers on; nil when there is none.
func (w *listWaiters) wakeNext(key string, skip []*listWaiter) (*listWaiter, chan bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, lw := range w.byKey[key] {
		if lw.busy || slices.Contains(skip, lw) {
			continue
		}
		ack := make(chan bool, 1)
		lw.acks = append(lw.acks, ack)
		select {
		case lw.wake <- struct{}{}:
		default:
		}
		return lw, ack
	}
	return nil, nil
}

// listWritten hands list key, just written through this node, to the
// clients blocked on it: the longest waiting first, each in turn while
// they pop (or leave), until one finds nothing or none is left.
func (s *Server) listWritten(key []byte) {
	var tried []*listWaiter
	for {
		lw, ack := s.lists.wakeNext(string(key), tried)
		if lw == nil {
			return
		}
		tried = append(tried, lw)
		t := time.NewTimer(listHandoff)
		select {
		case served := <-ack:
			t.Stop()
			if !served {
				return
			}
		case <-t.C:
			return
		}
	}
}

// parseBlockTimeout parses a blocking command's timeout in seconds (a float,
// as Redis reads it); 0 is for ever.
func (c *Conn) parseBlockTimeout(b []byte) (time.Duration, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || len(b) == 0 || b[0] == ' ' {
		c.replyErr("ERR timeout is not a float or out of range")
		return 0, false
	}
	ms := f * 1000
	if ms < 0 && ms > -1 {
		ms = 0 // Redis truncates to whole milliseconds
	}
	// Redis converts to a 64-bit integer, which a value past its range
	// (inf, 1e30) overflows into the most negative one.
	if ms < 0 || ms >= math.MaxInt64 {
		c.replyErr("ERR timeout is negative")
		return 0, false
	}
	if ms >= float64(math.MaxInt64-time.Now().UnixMilli()) {
		c.replyErr("ERR timeout is out of range")
		return 0, false
	}
	return time.Duration(int64(ms)) * time.Millisecond, true
}

// block runs try (which replies and returns true once it has served the
// client, or returns the error to reply) until it serves, re-running it
// when one of keys is written or listRecheck passes; after timeout (0:
// never) it calls timedOut to reply. try's argument is true on the first
// attempt only: a key of another type fails the command then, and is
// passed over once the client blocks (Redis serves a blocked client only
// from a list).
func (c *Conn) block(keys [][]byte, timeout time.Duration, try func(first bool) (bool, error), timedOut func()) {
	if c.inExec { // inside a transaction nothing blocks, as in Redis
		ok, err := try(true)
		switch {
		case err != nil:
			c.updateOK(err)
		case !ok:
			timedOut()
		}
		return
	}
	start := time.Now()
	lw := c.srv.lists.add(c.client, keys)
	defer c.srv.lists.remove(lw)
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout - time.Since(start))
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(listRecheck)
	defer tick.Stop()
	for first := true; ; first = false {
		acks := c.srv.lists.attempt(lw)
		ok, err := try(first)
		c.srv.lists.attempted(lw, acks, ok || err != nil)
		if err != nil {
			c.updateOK(err)
			return
		}
		if ok {
			return
		}
		if first {
			// Waiting now: INFO's blocked_clients and CLIENT LIST's flag b
			// show it (not a client served at once).
			c.srv.stats.blocked.Add(1)
			defer c.srv.stats.blocked.Add(-1)
			c.srv.lists.setWaiting(lw)
		}
		select {
		case <-lw.wake: // a push: the next attempt answers it
		case <-tick.C:
			if c.srv.isClosed() || connGone(c.nc) {
				return // nobody to reply to: pop nothing
			}
		case <-deadline:
			timedOut()
			return
		case <-c.ctx.Done():
			return
		case withError := <-lw.unblock:
			if withError {
				c.replyErr("UNBLOCKED client unblocked via CLIENT UNBLOCK")
			} else {
				timedOut()
			}
			return
		}
		c.cmdTime = c.srv.cfg.Backend.Now().UnixMilli()
	}
}

// blockingCommands returns the blocking pops' table entries.
func blockingCommands() []*command {
	flags := []string{"write", "blocking"}
	where := func(name string) argDoc { return oneOf(name, token("LEFT"), token("RIGHT")) }
	timeout := argDoc{name: "timeout", typ: "double"}
	return []*command{
		{name: "blpop", arity: -3, flags: flags, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0",
			summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			args:    []argDoc{many(argKey("key")), timeout}, fn: bpopCommand(false)},
		{name: "brpop", arity: -3, flags: flags, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0",
			summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			args:    []argDoc{many(argKey("key")), timeout}, fn: bpopCommand(true)},
		{name: "blmove", arity: 6, flags: []string{"write", "denyoom", "blocking"}, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "6.2.0",
			summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise (a pop, then a push; not atomic).",
			args:    []argDoc{argKey("source"), argKey("destination"), where("wherefrom"), where("whereto"), timeout}, fn: cmdBLMove},
		{name: "brpoplpush", arity: 4, flags: []string{"write", "denyoom", "blocking"}, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "2.2.0",
			summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise (a pop, then a push; not atomic).",
			args:    []argDoc{argKey("source"), argKey("destination"), timeout}, fn: cmdBRPopLPush},
		{name: "blmpop", arity: -5, flags: []string{"write", "blocking", "movablekeys"}, numKeys: 2, group: "list", since: "7.0.0",
			summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			args:    []argDoc{timeout, argInt("numkeys"), many(argKey("key")), where("where"), opt(tokenArg("COUNT", argInt("count")))}, fn: cmdBLMPop},
	}
}

func bpopCommand(tail bool) func(*Conn, [][]byte) {
	return func(c *Conn, args [][]byte) {
		timeout, ok := c.parseBlockTimeout(args[len(args)-1])
		if !ok {
			return
		}
		m := mpopArgs{keys: args[1 : len(args)-1], tail: tail, count: 1}
		c.block(m.keys, timeout, func(first bool) (bool, error) {
			key, vals, err := c.listMPop(m, !first)
			if err != nil || key == nil {
				return false, err
			}
			c.out.Array(2)
			c.out.Bulk(key)
			c.out.Bulk(vals[0])
			return true, nil
		}, c.out.NullArray)
	}
}

func cmdBLMove(c *Conn, args [][]byte) {
	from, ok1 := parseWhere(args[3])
	to, ok2 := parseWhere(args[4])
	if !ok1 || !ok2 {
		c.replyErr(errSyntax)
		return
	}
	c.blockMove(args[1], args[2], from, to, args[5])
}

func cmdBRPopLPush(c *Conn, args [][]byte) {
	c.blockMove(args[1], args[2], true, false, args[3])
}

// blockMove implements BLMOVE and BRPOPLPUSH.
func (c *Conn) blockMove(src, dst []byte, fromTail, toTail bool, timeoutArg []byte) {
	timeout, ok := c.parseBlockTimeout(timeoutArg)
	if !ok {
		return
	}
	c.block([][]byte{src}, timeout, func(first bool) (bool, error) {
		val, ok, err := c.moveItem(src, dst, fromTail, toTail, !first)
		if err != nil || !ok {
			return false, err
		}
		c.out.Bulk(val)
		return true, nil
	}, c.out.NullArray)
}

func cmdBLMPop(c *Conn, args [][]byte) {
	timeout, ok := c.parseBlockTimeout(args[1])
	if !ok {
		return
	}
	m, ok := c.parseMPop(args[2:])
	if !ok {
		return
	}
	c.block(m.keys, timeout, func(first bool) (bool, error) {
		key, vals, err := c.listMPop(m, !first)
		if err != nil || key == nil {
			return false, err
		}
		c.replyKeyValues(key, vals)
		return true, nil
	}, c.out.NullArray)
}

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: the client ends
// its blocking pop as if it timed out, or with an error.
func cmdClientUnblock(c *Conn, args [][]byte) {
	id, ok := string2ll(args[2])
	if !ok {
		c.replyErr(errNotInteger)
		return
	}
	withError := false
	switch {
	case len(args) == 3:
	case len(args) == 4 && eqFold(args[3], "timeout"):
	case len(args) == 4 && eqFold(args[3], "error"):
		withError = true
	default:
		c.replyErr("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
		return
	}
	if c.srv.lists.unblockClient(id, withError) {
		c.out.Int(1)
	} else {
		c.out.Int(0)
	}
}
