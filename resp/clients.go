package resp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// What CLIENT INFO and CLIENT LIST show of a connection, and what CLIENT
// KILL, PAUSE and UNPAUSE do to connections.

// clientStats are a connection's figures for CLIENT LIST, published by its
// own goroutine at each command so that other connections read them
// without racing it.
type clientStats struct {
	qbuf, qbufFree, argvMem atomic.Int64
	multi                   atomic.Int64 // commands queued after MULTI, -1 outside
	proto                   atomic.Int64
}

// publishStats records the connection's state as the command args starts.
// Connection goroutine only.
func (c *client) publishStats(args [][]byte) {
	buffered := int64(c.rd.Buffered())
	c.stats.qbuf.Store(buffered)
	c.stats.qbufFree.Store(max(int64(c.rd.Cap())-buffered, 0))
	var argv int64
	for _, a := range args {
		argv += int64(len(a))
	}
	c.stats.argvMem.Store(argv)
	c.publishMulti()
}

// publishMulti records the connection's transaction state and protocol,
// which commands change. Connection goroutine only.
func (c *client) publishMulti() {
	multi := int64(-1)
	if c.multi != nil {
		multi = int64(len(c.multi.queue))
	}
	c.stats.multi.Store(multi)
	c.stats.proto.Store(int64(c.main.out.proto))
}

// clientStructSize approximates what a connection costs besides its
// buffers (the client and its reader, reply and pipeline structs), for
// tot-mem.
const clientStructSize = 2048

// info returns CLIENT LIST's line for c, with Redis 7.0's fields in
// Redis's order (and 7.2's lib-name and lib-ver).
func (c *client) info() string {
	c.mu.Lock()
	name, lib, ver := c.name, c.libName, c.libVer
	c.mu.Unlock()
	now := time.Now()
	idle := now.Sub(time.Unix(0, c.lastActive.Load()))
	qbuf, free, argv := c.stats.qbuf.Load(), c.stats.qbufFree.Load(), c.stats.argvMem.Load()
	omem := c.obufUsed()
	var multiMem int64
	if m := c.stats.multi.Load(); m > 0 {
		multiMem = m * 64 // the queued commands' arguments are counted in argv-mem by Redis; here a rough per-command cost
	}
	flags := ""
	if c.subscribed() {
		flags += "P" // in the pub/sub context
	}
	if c.srv.lists.blocked(c) {
		flags += "b" // blocked on a list
	}
	if c.stats.multi.Load() >= 0 {
		flags += "x" // in a MULTI context, as Redis shows it
	}
	if flags == "" {
		flags = "N"
	}
	sub, psub, ssub := c.subCounts()
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=-1 name=%s age=%d idle=%d flags=%s db=0 sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=%d rbp=%d obl=0 oll=0 omem=%d tot-mem=%d events=r cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s",
		c.id, c.addr, c.laddr, name, int64(now.Sub(c.created).Seconds()), int64(idle.Seconds()), flags,
		sub, psub, ssub, c.stats.multi.Load(), qbuf, free, argv, multiMem, qbuf+free, qbuf+free, omem,
		clientStructSize+qbuf+free+argv+multiMem+omem, c.lastCmd.Load().(string), c.stats.proto.Load(), lib, ver)
}

// cmdClientKill is CLIENT KILL ip:port (the old form: +OK or an error) and
// CLIENT KILL filter value ... (the new form: the number killed). Filters:
// ID, ADDR, LADDR, USER, TYPE, SKIPME (yes by default: the caller is spared).
func cmdClientKill(c *Conn, args [][]byte) {
	if len(args) == 3 {
		addr := string(args[2])
		n := c.srv.kill(c.client, func(o *client) bool { return o.addr == addr }, false)
		if n == 0 {
			c.replyErr("ERR No such client")
			return
		}
		c.out.OK()
		return
	}
	if len(args)%2 != 0 {
		c.replyErr(errSyntax)
		return
	}
	var match []func(*client) bool
	skipMe := true
	for i := 2; i < len(args); i += 2 {
		v := args[i+1]
		switch {
		case eqFold(args[i], "id"):
			id, ok := string2ll(v)
			if !ok || id <= 0 {
				c.replyErr("ERR client-id should be greater than 0")
				return
			}
			match = append(match, func(o *client) bool { return o.id == id })
		case eqFold(args[i], "addr"):
			a := string(v)
			match = append(match, func(o *client) bool { return o.addr == a })
		case eqFold(args[i], "laddr"):
			a := string(v)
			match = append(match, func(o *client) bool { return o.laddr == a })
		case eqFold(args[i], "user"):
			if !eqFold(v, "default") {
				c.replyErr("ERR No such user '" + truncate(v, 128) + "'")
				return
			}
		case eqFold(args[i], "type"):
			if !eqFold(v, "normal") && !eqFold(v, "master") && !eqFold(v, "replica") && !eqFold(v, "slave") && !eqFold(v, "pubsub") {
				c.replyErr("ERR Unknown client type '" + truncate(v, 128) + "'")
				return
			}
			match = append(match, clientTypeFilter(v))
		case eqFold(args[i], "skipme"):
			switch {
			case eqFold(v, "yes"):
				skipMe = true
			case eqFold(v, "no"):
				skipMe = false
			default:
				c.replyErr(errSyntax)
				return
			}
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	c.out.Int(int64(c.srv.kill(c.client, func(o *client) bool {
		for _, m := range match {
			if !m(o) {
				return false
			}
		}
		return true
	}, skipMe)))
}

// clientTypeFilter picks the clients of a CLIENT LIST/KILL type, one of
// normal, master, replica (slave) and pubsub: Redis's pubsub clients are
// those with a subscription; dynakv has no master or replica clients.
func clientTypeFilter(t []byte) func(*client) bool {
	switch {
	case eqFold(t, "normal"):
		return func(o *client) bool { return !o.subscribed() }
	case eqFold(t, "pubsub"):
		return (*client).subscribed
	}
	return func(*client) bool { return false }
}

// kill closes the connections match picks (the caller's own after its
// reply, unless skipMe) and returns how many it closed.
func (s *Server) kill(self *client, match func(*client) bool, skipMe bool) int {
	s.mu.Lock()
	var victims []*client
	for o := range s.conns {
		if match(o) && !(skipMe && o == self) {
			victims = append(victims, o)
		}
	}
	s.mu.Unlock()
	for _, o := range victims {
		if o == self {
			self.quit = true // closed once the reply is written
			continue
		}
		o.cancel()
		o.nc.Close()
	}
	return len(victims)
}

// pauseState is CLIENT PAUSE: until deadline, commands (all, or writes
// only) wait.
type pauseState struct {
	mu      sync.Mutex
	until   time.Time
	writes  bool          // only writes wait (PAUSE ... WRITE)
	resumed chan struct{} // closed by UNPAUSE or a new PAUSE
}

func cmdClientPause(c *Conn, args [][]byte) {
	ms, ok := string2ll(args[2])
	if !ok || ms < 0 {
		c.replyErr("ERR timeout is not an integer or out of range")
		return
	}
	writes := false
	if len(args) == 4 {
		switch {
		case eqFold(args[3], "write"):
			writes = true
		case eqFold(args[3], "all"):
		default:
			c.replyErr(errSyntax)
			return
		}
	} else if len(args) > 4 {
		c.replyErr(errSyntax)
		return
	}
	p := &c.srv.pause
	p.mu.Lock()
	until := time.Now().Add(time.Duration(ms) * time.Millisecond)
	if until.After(p.until) || p.resumed == nil {
		p.until = until
	}
	p.writes = writes
	if p.resumed != nil {
		close(p.resumed)
	}
	p.resumed = make(chan struct{})
	p.mu.Unlock()
	c.out.OK()
}

func cmdClientUnpause(c *Conn, args [][]byte) {
	p := &c.srv.pause
	p.mu.Lock()
	p.until = time.Time{}
	if p.resumed != nil {
		close(p.resumed)
		p.resumed = nil
	}
	p.mu.Unlock()
	c.out.OK()
}

// waitPause holds a command while CLIENT PAUSE applies to it (every
// command, or only writes under PAUSE WRITE), until the pause ends, is
// lifted, or ctx is done. The CLIENT commands are never held, so a paused
// server can be unpaused from any connection.
func (s *Server) waitPause(ctx context.Context, cmd *command) {
	if cmd == nil || cmd.name == "client" || (cmd.parent != nil && cmd.parent.name == "client") {
		return
	}
	p := &s.pause
	held := false
	defer func() {
		if held {
			s.stats.paused.Add(-1)
		}
	}()
	for {
		p.mu.Lock()
		until, writes, resumed := p.until, p.writes, p.resumed
		p.mu.Unlock()
		d := time.Until(until)
		if resumed == nil || d <= 0 || (writes && cmd.readonly()) {
			return
		}
		if !held {
			held = true
			s.stats.paused.Add(1)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-resumed:
		case <-ctx.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

// clientHelp is CLIENT HELP's text.
var clientHelp = []string{
	"GETNAME", "    Return the name of the current connection.",
	"ID", "    Return the ID of the current connection.",
	"INFO", "    Return information about the current client connection.",
	"KILL <ip:port>", "    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>, TYPE (NORMAL|MASTER|REPLICA|PUBSUB), USER <username>, SKIPME (YES|NO).",
	"LIST [TYPE <normal|master|replica|pubsub>] [ID <id> [<id> ...]]", "    Return information about client connections.",
	"NO-EVICT (ON|OFF)", "    Accepted; dynakv does not evict clients.",
	"NO-TOUCH (ON|OFF)", "    Accepted; dynakv does not track access times.",
	"PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
	"SETINFO <option> <value>", "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
	"SETNAME <name>", "    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
	"UNPAUSE", "    Stop the current client pause, resuming traffic.",
	"HELP", "    Print this help.",
}
