package resp

import "hash/maphash"

// Pipelining. A client that pipelines sends many commands before it reads
// their replies. In a cluster a write waits for other replicas, so running
// a connection's commands one after another would make a pipeline of 16
// writes as slow as 16 round trips; instead the data commands of a
// pipeline run concurrently, each on its own goroutine, within what one
// client can observe of Redis's guarantees:
//
//   - replies go out in command order, each exactly as the command would
//     have answered run alone;
//   - a command waits for the earlier commands in flight that share one of
//     its keys (the command table's key spec), so commands on one key run
//     in order;
//   - anything but a data command (connection state, keyless or
//     whole-keyspace commands, errors) is a barrier: it runs once every
//     earlier command has finished (dispatch).
//
// A command that arrives alone runs inline, as before: pipelining costs a
// client that does not pipeline nothing.
//
// How many commands one connection has in flight is its window, which
// bounds the replies held for a client that does not read them: it starts
// at initialWindow, doubles with each reply retired while window times the
// biggest recent reply stays within inFlightBudget, and shrinks at once to
// what the budget allows after a big reply (one command at a time for
// replies of inFlightBudget or more). A pipeline of small commands reaches
// maxInFlight after a few replies; a pipeline of big reads runs one or two
// at a time instead of holding all their values at once.

const (
	// maxInFlight is the most commands of one connection that run at once;
	// reading more waits for the oldest. At least redis-benchmark's -P 16.
	maxInFlight = 64
	// maxOwnedArgs is the most argument bytes a command may have to run
	// concurrently, since its arguments are copied out of the reader's
	// buffer (which the next command reuses); bigger commands run inline.
	maxOwnedArgs = 64 << 10
	// maxRetainOp is the largest argument or reply buffer an op keeps for
	// the next command it runs.
	maxRetainOp = 64 << 10
	// initialWindow is a connection's window before any reply: sizes are
	// not known yet, so few commands run at once.
	initialWindow = 2
	// inFlightBudget is the reply bytes a connection's window is sized for.
	inFlightBudget = 8 << 20
)

// op is one command running concurrently, in a slot of its connection's
// pipeline that is reused once the command has been retired. Between start
// and done, only the command's goroutine uses it.
type op struct {
	view  Conn            // what the handler sees: the reply, errors and time are its own
	cmd   *command        // what it runs
	args  [][]byte        // the command's arguments, in arena
	arena []byte          // the arguments' bytes, owned
	keys  []uint64        // hashes of its keys, to release them when retired
	after []chan struct{} // the done channels of earlier commands in flight on its keys
	done  chan struct{}   // closed when the command has run
	quiet bool            // CLIENT REPLY OFF or SKIP: the reply is dropped at retire
}

// pipeline is a connection's commands in flight, oldest first. Only the
// connection's goroutine uses it.
type pipeline struct {
	c    *client
	ops  [maxInFlight]*op // a ring, from head
	head int
	n    int
	// window is the most commands in flight, 1..maxInFlight (0 before the
	// first: initialWindow).
	window int
	// last maps the hash of a key to the done channel of the newest command
	// in flight on it. Commands whose keys collide merely run in order.
	last map[uint64]chan struct{}
	seed maphash.Seed
}

// accepts reports whether cmd should run concurrently: a data command with
// arguments small enough to copy, in a pipeline (commands in flight or more
// input buffered).
func (p *pipeline) accepts(cmd *command, args [][]byte) bool {
	if !cmd.concurrent || (p.n == 0 && p.c.rd.Buffered() == 0) {
		return false
	}
	size := 0
	for _, a := range args {
		size += len(a)
	}
	return size <= maxOwnedArgs
}

// start runs cmd on a worker goroutine (see workerPool), after the commands in flight on
// the same keys. When maxInFlight commands are in flight it first waits for
// the oldest.
func (p *pipeline) start(cmd *command, args [][]byte, quiet bool) {
	if p.window == 0 {
		p.window = initialWindow
	}
	for p.n >= p.window {
		p.retire()
	}
	if p.last == nil {
		p.last = make(map[uint64]chan struct{})
		p.seed = maphash.MakeSeed()
	}
	i := (p.head + p.n) % maxInFlight
	o := p.ops[i]
	if o == nil {
		o = &op{view: Conn{client: p.c}}
		p.ops[i] = o
	}
	p.n++
	o.cmd, o.quiet = cmd, quiet
	o.own(args)
	o.view.out.proto = p.c.main.out.proto
	o.done = make(chan struct{})
	for key := range cmd.keyArgs(args) {
		h := maphash.Bytes(p.seed, key)
		o.keys = append(o.keys, h)
		if ch, ok := p.last[h]; ok && ch != o.done {
			o.after = append(o.after, ch)
		}
		p.last[h] = o.done
	}
	s, c := p.c.srv, p.c
	s.workers.run(func() {
		for _, ch := range o.after {
			<-ch
		}
		// A closed connection's queued commands do not run.
		if c.ctx.Err() == nil {
			s.call(&o.view, o.cmd, o.args, s.cfg.Backend.Now())
			c.ob.ops.Add(int64(len(o.view.out.b)))
			c.checkOutput(c.obufUsed())
		}
		close(o.done)
	})
}

// own copies args into o's arena.
func (o *op) own(args [][]byte) {
	size := 0
	for _, a := range args {
		size += len(a)
	}
	if cap(o.arena) < size {
		o.arena = make([]byte, 0, size)
	}
	for _, a := range args {
		off := len(o.arena)
		o.arena = append(o.arena, a...)
		o.args = append(o.args, o.arena[off:len(o.arena):len(o.arena)])
	}
}

// retire waits for the oldest command in flight, appends its reply to the
// connection's and frees its slot.
func (p *pipeline) retire() {
	o := p.ops[p.head]
	<-o.done
	size := len(o.view.out.b)
	p.c.ob.ops.Add(-int64(size))
	if out := &p.c.main.out; !o.quiet {
		out.b = append(out.b, o.view.out.b...)
	}
	p.c.publishOut()
	p.resize(size)
	for _, h := range o.keys {
		if p.last[h] == o.done {
			delete(p.last, h)
		}
	}
	o.reset()
	p.head = (p.head + 1) % maxInFlight
	p.n--
	p.c.flushIfFull()
}

// resize adapts the window to a retired reply of size bytes (see the
// package comment on pipelining).
func (p *pipeline) resize(size int) {
	fit := maxInFlight
	if size > 0 {
		fit = max(1, min(inFlightBudget/size, maxInFlight))
	}
	if p.window > fit {
		p.window = fit
	} else {
		p.window = min(max(p.window, 1)*2, fit)
	}
}

// reset empties a retired op for its next command, dropping what a big
// command grew.
func (o *op) reset() {
	clear(o.args)
	o.args, o.keys, o.after = o.args[:0], o.keys[:0], o.after[:0]
	if cap(o.args) > maxRetainArgs {
		o.args, o.keys, o.after = nil, nil, nil
	}
	o.arena = o.arena[:0]
	if cap(o.arena) > maxRetainOp {
		o.arena = nil
	}
	o.view.out.Reset()
	if cap(o.view.out.b) > maxRetainOp {
		o.view.out.b = nil
	}
	o.cmd, o.done = nil, nil
}

// collect retires the commands at the head that have finished, without
// waiting for any.
func (p *pipeline) collect() {
	for p.n > 0 {
		select {
		case <-p.ops[p.head].done:
			p.retire()
		default:
			return
		}
	}
}

// drain waits for every command in flight and appends their replies, in
// order, to the connection's.
func (p *pipeline) drain() {
	for p.n > 0 {
		p.retire()
	}
}
