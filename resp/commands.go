package resp

import (
	"context"
	"errors"
	"iter"
	"strings"
	"time"

	"github.com/dynakv/dynakv/replication"
)

// command is one entry of the command table: what COMMAND INFO and DOCS
// report, and the handler.
type command struct {
	name     string // lower case, as Redis reports it
	arity    int    // Redis convention: n exactly, -n at least n
	flags    []string
	firstKey int
	lastKey  int
	step     int
	group    string
	summary  string
	since    string
	args     []argDoc
	noAuth   bool
	// numKeys, when > 0, is the position of a numkeys argument: that many
	// keys follow it (Redis's movable keys; firstKey is then 0).
	numKeys int
	// concurrent: a data command, which reads or writes its keys and
	// touches no connection state; pipelined, it may run alongside other
	// commands of its connection (see pipeline).
	concurrent bool
	// data: the command reads or writes keys (readonly or write flag).
	data   bool
	fn     func(c *Conn, args [][]byte)
	subs   map[string]*command // container commands (CLIENT, CONFIG, ...)
	parent *command
}

// keyArgs yields the arguments of args that are keys, by the command's key
// positions (firstKey to lastKey, by step; a negative lastKey counts from
// the end).
func (cmd *command) keyArgs(args [][]byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if cmd.numKeys > 0 && cmd.numKeys < len(args) {
			n, ok := string2ll(args[cmd.numKeys])
			for i := cmd.numKeys + 1; ok && int64(i-cmd.numKeys) <= n && i < len(args); i++ {
				if !yield(args[i]) {
					return
				}
			}
			return
		}
		if cmd.firstKey <= 0 {
			return
		}
		last := cmd.lastKey
		if last < 0 {
			last += len(args)
		}
		for k := cmd.firstKey; k <= last && k < len(args); k += max(cmd.step, 1) {
			if !yield(args[k]) {
				return
			}
		}
	}
}

// fullName is "parent|sub" for subcommands, as Redis names them in errors.
func (cmd *command) fullName() string {
	if cmd.parent != nil {
		return cmd.parent.name + "|" + cmd.name
	}
	return cmd.name
}

// argDoc documents one argument for COMMAND DOCS (redis-cli's hints).
type argDoc struct {
	name     string
	typ      string // key, string, integer, pure-token, oneof, block
	token    string
	optional bool
	multiple bool
	sub      []argDoc
}

// Redis's exact error texts.
const (
	errSyntax      = "ERR syntax error"
	errNotInteger  = "ERR value is not an integer or out of range"
	errNoAuth      = "NOAUTH Authentication required."
	errWrongPass   = "WRONGPASS invalid username-password pair or user is disabled."
	errInvalidCtx  = "ERR invalid context"
	errDBRange     = "ERR DB index is out of range"
	errInvalidCurs = "ERR invalid cursor"
)

func errArity(cmd *command) string {
	return "ERR wrong number of arguments for '" + cmd.fullName() + "' command"
}

func errExpire(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

// errUnknownCommand builds Redis 7's unknown-command error: the name up to
// 128 bytes, then the arguments quoted while they total under 128 bytes.
func errUnknownCommand(args [][]byte) string {
	var quoted []byte
	for _, a := range args[1:] {
		if len(quoted) >= 128 {
			break
		}
		if room := 128 - len(quoted); len(a) > room {
			a = a[:room]
		}
		quoted = append(append(append(quoted, '\''), a...), '\'', ' ')
	}
	return "ERR unknown command '" + truncate(args[0], 128) + "', with args beginning with: " + string(quoted)
}

func errUnknownSub(parent string, sub []byte) string {
	return "ERR unknown subcommand '" + truncate(sub, 128) + "'. Try " + strings.ToUpper(parent) + " HELP."
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// lookup finds the command named by a (case-insensitively) without
// allocating for names up to 32 bytes.
func (s *Server) lookup(table map[string]*command, a []byte) *command {
	var buf [32]byte
	if len(a) > len(buf) {
		return table[strings.ToLower(string(a))]
	}
	lower := buf[:len(a)]
	for i, ch := range a {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	return table[string(lower)]
}

// dispatch runs one command read from c. A client that does not pipeline
// has nothing else in flight and no more input buffered: its command runs
// inline. A data command of a pipeline runs concurrently with the
// commands around it (see pipeline). Anything else is a barrier: it runs
// inline once every earlier command of the connection has finished, so it
// sees, and later commands see, the connection state in command order.
//
// Under CLIENT REPLY OFF or SKIP (client_reply.go) the command runs the
// same and its reply is dropped.
func (s *Server) dispatch(c *client, args [][]byte) {
	s.dispatchQuiet(c, args, c.gate.quiet())
	c.gate.next()
}

// dispatchQuiet is dispatch; quiet: the reply is dropped, unless running
// the command turned replies back on (CLIENT REPLY ON).
func (s *Server) dispatchQuiet(c *client, args [][]byte, quiet bool) {
	s.stats.commands.Add(1)
	begin := s.cfg.Backend.Now()
	c.lastActive.Store(begin.UnixNano())
	c.publishStats(args)
	cmd, msg := s.resolve(c, args)
	s.waitPause(c.ctx, cmd)
	if cmd != nil && c.multi == nil && c.pipe.accepts(cmd, args) {
		c.pipe.start(cmd, args, quiet && c.gate.dropsReply(cmd))
		return
	}
	c.pipe.drain()
	mark := len(c.main.out.b)
	if quiet {
		defer func() {
			if c.gate.dropsReply(cmd) {
				c.main.out.b = c.main.out.b[:mark]
			}
		}()
	}
	if c.multi != nil && c.queue(cmd, args, msg) {
		return
	}
	if cmd == nil {
		c.main.out.Error(msg)
		return
	}
	s.call(&c.main, cmd, args, begin)
}

// resolve finds the command args names, with Redis's checks in Redis's
// order: unknown command, arity, authentication. It returns the command,
// or nil and the error to reply.
func (s *Server) resolve(c *client, args [][]byte) (*command, string) {
	cmd, msg := s.check(c, args)
	if msg != "" {
		s.stats.rejected.Add(1)
		if cmd != nil {
			if st := s.cmdStat[cmd.name]; st != nil {
				st.rejected.Add(1)
			}
		}
		return nil, msg
	}
	c.lastCmd.Store(cmd.fullName())
	return cmd, ""
}

// check does resolve's checks; on a refusal it returns the error and, when
// the name was known, the command refused.
func (s *Server) check(c *client, args [][]byte) (*command, string) {
	cmd := s.lookup(s.table, args[0])
	if cmd == nil {
		return nil, errUnknownCommand(args)
	}
	if cmd.subs != nil && len(args) >= 2 {
		sub := s.lookup(cmd.subs, args[1])
		if sub == nil {
			return cmd, errUnknownSub(cmd.name, args[1])
		}
		cmd = sub
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || (cmd.arity < 0 && len(args) < -cmd.arity) {
		return cmd, errArity(cmd)
	}
	if !c.authed && !cmd.noAuth {
		return cmd, errNoAuth
	}
	if cmd.data && s.cfg.Refuse != nil {
		if msg := s.cfg.Refuse(); msg != "" {
			return cmd, msg
		}
	}
	if msg := c.pubsubRefusal(cmd); msg != "" { // RESP2 subscriber mode (pubsub_cmds.go)
		return cmd, msg
	}
	return cmd, ""
}

// call runs cmd on c and counts it in the per-command statistics. begin is
// the command's clock reading (the backend's), as Redis's command time
// snapshot: expiry decisions within a command all see the same time. Its
// duration is measured on the same clock.
func (s *Server) call(c *Conn, cmd *command, args [][]byte, begin time.Time) {
	c.cmdTime = begin.UnixMilli()
	st := s.cmdStat[cmd.name]
	errsBefore := c.errCount
	cmd.fn(c, args)
	if st != nil {
		st.calls.Add(1)
		st.usec.Add(s.cfg.Backend.Now().Sub(begin).Microseconds())
		if c.errCount != errsBefore {
			st.failed.Add(1)
		}
	}
}

// reqCtx returns the context of one coordinated request: the
// connection's, cancelled when it closes. The coordinator applies the
// request timeout itself when it waits on other replicas, so a request
// served locally costs no timer.
func (c *Conn) reqCtx() (context.Context, context.CancelFunc) {
	return c.ctx, func() {}
}

// fail replies with the Redis-style error for a backend failure.
func (c *Conn) fail(err error) {
	if errors.Is(err, errOutputLimit) {
		return // the connection is closed: nothing more to reply
	}
	var ce *clientError
	if errors.As(err, &ce) {
		c.replyErr(ce.msg)
		return
	}
	c.errCount++
	switch {
	case errors.Is(err, replication.ErrUnavailable):
		c.out.Error("NOREPLICAS Not enough good replicas: " + err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		c.out.Error("TRYAGAIN request timed out: " + err.Error())
	default:
		c.out.Error("ERR " + err.Error())
	}
}

// errOutputLimit stops a command whose reply would pass the client's
// output buffer limit: the connection was closed for it (Conn.exceeds).
var errOutputLimit = errors.New("closed for the output buffer limit")

// clientError carries a client error out of an update function.
type clientError struct{ msg string }

func (e *clientError) Error() string { return e.msg }

// updateOK replies err, a clientError from an update function or a backend
// failure, and reports whether there was none.
func (c *Conn) updateOK(err error) bool {
	var ce *clientError
	switch {
	case err == nil:
		return true
	case errors.As(err, &ce):
		c.replyErr(ce.msg)
	default:
		c.fail(err)
	}
	return false
}

// replyErr replies with a client error and counts it.
func (c *Conn) replyErr(msg string) {
	c.errCount++
	c.out.Error(msg)
}

// nowMs is the command's time snapshot (the coordinator's clock at
// dispatch) in Unix milliseconds.
func (c *Conn) nowMs() int64 { return c.cmdTime }

func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}

// unsupported answers commands that cannot be honest in an eventually
// consistent store with an error that says why.
func unsupported(why string) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		c.replyErr("ERR " + strings.ToUpper(string(args[0])) + " is not supported by dynakv: " + why)
	}
}
