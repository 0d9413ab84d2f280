package resp

// CLIENT REPLY ON|OFF|SKIP, as in Redis 7.0: OFF drops the replies of the
// connection's commands until ON; SKIP drops the next command's reply;
// neither OFF nor SKIP replies itself, ON replies OK (and cancels a SKIP,
// as Redis's "CLIENT REPLY SKIP" followed by "CLIENT REPLY ON" answers the
// ON). What Redis pushes still arrives while replies are off: pub/sub
// messages (written through the subscriber's own queue, pubsub_out.go) and
// the (un)subscribe confirmations, which Redis 7.0 sends as pushes.
//
// The decision is made per command, in command order, at dispatch: a
// command run inline has its reply cut from the connection's buffer when it
// has run (so an ON that clears the mode keeps its OK); a pipelined data
// command, which cannot change the mode (CLIENT is a barrier), is marked
// when it starts and its reply is not appended when it is retired.

// replyGate is a connection's CLIENT REPLY mode. Connection goroutine only.
type replyGate struct {
	off      bool // OFF: no replies until ON
	skip     bool // SKIP took effect: this command's reply is dropped
	skipNext bool // SKIP just ran: the next command's reply is dropped
}

// quiet reports whether the reply of the command being dispatched is
// dropped.
func (g *replyGate) quiet() bool { return g.off || g.skip }

// next moves the mode on to the next command, as Redis's resetClient does
// after each one: a SKIP that just ran applies to the next command only.
func (g *replyGate) next() {
	g.skip, g.skipNext = g.skipNext, false
}

// pushOnly names the commands whose every reply is a push (the
// (un)subscribe confirmations), which CLIENT REPLY OFF and SKIP do not
// drop.
var pushOnly = map[string]bool{
	"subscribe": true, "psubscribe": true, "ssubscribe": true,
	"unsubscribe": true, "punsubscribe": true, "sunsubscribe": true,
}

// dropsReply reports whether cmd's reply is dropped now (cmd is nil for a
// command refused before it ran).
func (g *replyGate) dropsReply(cmd *command) bool {
	return g.quiet() && (cmd == nil || cmd.parent != nil || !pushOnly[cmd.name])
}

func cmdClientReply(c *Conn, args [][]byte) {
	g := &c.gate
	switch {
	case eqFold(args[2], "on"):
		g.off, g.skip, g.skipNext = false, false, false
		c.out.OK()
	case eqFold(args[2], "off"):
		g.off = true
	case eqFold(args[2], "skip"):
		if !g.off {
			g.skipNext = true
		}
	default:
		c.replyErr(errSyntax)
	}
}
