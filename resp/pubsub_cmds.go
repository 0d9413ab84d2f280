package resp

import (
	"slices"
	"strconv"
)

// The pub/sub commands, with redis-server 7.0's replies on one connection.

// pubsubAllowed names the commands a RESP2 connection may run while it has
// subscriptions (Redis's subscriber mode).
var pubsubAllowed = map[string]bool{
	"subscribe": true, "psubscribe": true, "ssubscribe": true,
	"unsubscribe": true, "punsubscribe": true, "sunsubscribe": true,
	"ping": true, "quit": true, "reset": true,
}

// pubsubRefusal is the error for cmd on c in subscriber mode (RESP2 with a
// subscription), or "". Redis checks it after authentication.
func (c *client) pubsubRefusal(cmd *command) string {
	if c.main.out.proto != 2 || (cmd.parent == nil && pubsubAllowed[cmd.name]) || !c.subscribed() {
		return ""
	}
	msg := "Can't execute '" + cmd.fullName() + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
	if cmd.name == "exec" {
		return "EXECABORT Transaction discarded because of: " + msg // Redis's rejectCommand for EXEC
	}
	return "ERR " + msg
}

// pushHeader starts a pub/sub frame of n elements: an array in RESP2, a
// push in RESP3.
func pushHeader(b []byte, proto, n int) []byte {
	if proto == 3 {
		return append(strconv.AppendInt(append(b, '>'), int64(n), 10), '\r', '\n')
	}
	return append(strconv.AppendInt(append(b, '*'), int64(n), 10), '\r', '\n')
}

// subReply appends a (un)subscribe confirmation: kind, the name (null when
// an unsubscribe without arguments found nothing to drop), the count.
func (c *Conn) subReply(kind string, name []byte, count int64) {
	c.out.b = pushHeader(c.out.b, c.out.proto, 3)
	c.out.BulkString(kind)
	if name == nil {
		c.out.Null()
	} else {
		c.out.Bulk(name)
	}
	c.out.Int(count)
}

// subscribeCommand is SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE.
func subscribeCommand(k subKind, kind string) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		p := c.sub()
		// Messages for the new subscriptions wait until this reply is out
		// (see pushOutput.hold).
		p.out.holdMessages()
		for _, name := range args[1:] {
			p.add(&c.srv.pubsub, k, name)
			c.subReply(kind, name, p.replyCount(k))
		}
	}
}

// unsubscribeCommand is UNSUBSCRIBE, PUNSUBSCRIBE or SUNSUBSCRIBE: from
// the names given, or from every subscription of the kind; with none, one
// reply with a null name.
func unsubscribeCommand(k subKind, kind string) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		p := c.ps.Load()
		names := args[1:]
		if len(names) == 0 && p != nil {
			for _, n := range p.names(k) {
				names = append(names, []byte(n))
			}
		}
		if len(names) == 0 {
			var count int64
			if p != nil {
				count = p.replyCount(k)
			}
			c.subReply(kind, nil, count)
			return
		}
		for _, name := range names {
			var count int64
			if p != nil {
				p.remove(&c.srv.pubsub, k, name)
				count = p.replyCount(k)
			}
			c.subReply(kind, name, count)
		}
	}
}

func cmdPublish(c *Conn, args [][]byte) {
	c.out.Int(int64(c.srv.publish(false, args[1], args[2])))
}

func cmdSPublish(c *Conn, args [][]byte) {
	c.out.Int(int64(c.srv.publish(true, args[1], args[2])))
}

// pubsubChannels is PUBSUB CHANNELS and SHARDCHANNELS [pattern]: the
// channels with a subscriber on this node, sorted.
func pubsubChannels(k subKind) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		if len(args) > 3 {
			c.replyErr("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try PUBSUB HELP.")
			return
		}
		h := &c.srv.pubsub
		h.mu.RLock()
		var out []string
		for name := range h.space(k, false) {
			if len(args) == 2 || globMatch(args[2], []byte(name), false) {
				out = append(out, name)
			}
		}
		h.mu.RUnlock()
		slices.Sort(out)
		c.out.Array(len(out))
		for _, name := range out {
			c.out.BulkString(name)
		}
	}
}

// pubsubNumSub is PUBSUB NUMSUB and SHARDNUMSUB [channel ...]: each
// channel and its subscribers on this node (patterns not counted).
func pubsubNumSub(k subKind) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		h := &c.srv.pubsub
		c.out.Array(2 * (len(args) - 2))
		h.mu.RLock()
		defer h.mu.RUnlock()
		for _, name := range args[2:] {
			c.out.Bulk(name)
			c.out.Int(int64(len(h.space(k, false)[string(name)])))
		}
	}
}

// cmdPubsubNumPat is PUBSUB NUMPAT: the distinct patterns subscribed to on
// this node.
func cmdPubsubNumPat(c *Conn, args [][]byte) {
	h := &c.srv.pubsub
	h.mu.RLock()
	n := len(h.patterns)
	h.mu.RUnlock()
	c.out.Int(int64(n))
}

// pubsubCommands is the pub/sub part of the command table.
func pubsubCommands() []*command {
	channels := many(argStr("channel"))
	pubsubFlags := []string{"pubsub", "noscript", "loading", "stale"}
	sub := func(name string, arity int, summary string, fn func(*Conn, [][]byte), args ...argDoc) *command {
		return &command{name: name, arity: arity, flags: []string{"pubsub", "loading", "stale"}, summary: summary, args: args, fn: fn}
	}
	return []*command{
		{name: "subscribe", arity: -2, flags: pubsubFlags, group: "pubsub", since: "2.0.0",
			summary: "Listens for messages published to channels (through any node of the cluster).", args: []argDoc{channels}, fn: subscribeCommand(subChannel, "subscribe")},
		{name: "psubscribe", arity: -2, flags: pubsubFlags, group: "pubsub", since: "2.0.0",
			summary: "Listens for messages published to channels that match patterns (through any node).", args: []argDoc{many(argDoc{name: "pattern", typ: "pattern"})}, fn: subscribeCommand(subPattern, "psubscribe")},
		{name: "ssubscribe", arity: -2, flags: pubsubFlags, group: "pubsub", since: "7.0.0",
			summary: "Listens for messages published to shard channels (through any node: dynakv has no shards).", args: []argDoc{many(argStr("shardchannel"))}, fn: subscribeCommand(subShard, "ssubscribe")},
		{name: "unsubscribe", arity: -1, flags: pubsubFlags, group: "pubsub", since: "2.0.0",
			summary: "Stops listening to messages posted to channels.", args: []argDoc{opt(channels)}, fn: unsubscribeCommand(subChannel, "unsubscribe")},
		{name: "punsubscribe", arity: -1, flags: pubsubFlags, group: "pubsub", since: "2.0.0",
			summary: "Stops listening to messages published to channels that match patterns.", args: []argDoc{opt(many(argDoc{name: "pattern", typ: "pattern"}))}, fn: unsubscribeCommand(subPattern, "punsubscribe")},
		{name: "sunsubscribe", arity: -1, flags: pubsubFlags, group: "pubsub", since: "7.0.0",
			summary: "Stops listening to messages posted to shard channels.", args: []argDoc{opt(many(argStr("shardchannel")))}, fn: unsubscribeCommand(subShard, "sunsubscribe")},
		{name: "publish", arity: 3, flags: []string{"pubsub", "loading", "stale", "fast"}, group: "pubsub", since: "2.0.0",
			summary: "Posts a message to a channel on every node; replies the receivers on this node.", args: []argDoc{argStr("channel"), argStr("message")}, fn: cmdPublish},
		{name: "spublish", arity: 3, flags: []string{"pubsub", "loading", "stale", "fast"}, group: "pubsub", since: "7.0.0",
			summary: "Posts a message to a shard channel on every node; replies the receivers on this node.", args: []argDoc{argStr("shardchannel"), argStr("message")}, fn: cmdSPublish},
		{name: "pubsub", arity: -2, group: "pubsub", since: "2.8.0", summary: "A container for Pub/Sub commands.", subs: map[string]*command{
			"channels":      sub("channels", -2, "Returns the active channels on this node.", pubsubChannels(subChannel), opt(argDoc{name: "pattern", typ: "pattern"})),
			"numsub":        sub("numsub", -2, "Returns a count of subscribers to channels on this node.", pubsubNumSub(subChannel), opt(channels)),
			"numpat":        sub("numpat", 2, "Returns a count of unique pattern subscriptions on this node.", cmdPubsubNumPat),
			"shardchannels": sub("shardchannels", -2, "Returns the active shard channels on this node.", pubsubChannels(subShard), opt(argDoc{name: "pattern", typ: "pattern"})),
			"shardnumsub":   sub("shardnumsub", -2, "Returns the count of subscribers of shard channels on this node.", pubsubNumSub(subShard), opt(many(argStr("shardchannel")))),
			"help": {name: "help", arity: 2, flags: []string{"loading", "stale"}, summary: "Returns helpful text about the different subcommands.", fn: helpCommand(
				"CHANNELS [<pattern>]", "    Return the currently active channels matching a <pattern> (default: '*').",
				"NUMPAT", "    Return number of subscriptions to patterns.",
				"NUMSUB [<channel> ...]", "    Return the number of subscribers for the specified channels, excluding",
				"    pattern subscriptions(default: no channels).",
				"SHARDCHANNELS [<pattern>]", "    Return the currently active shard level channels matching a <pattern> (default: '*').",
				"SHARDNUMSUB [<shardchannel> ...]", "    Return the number of subscribers for the specified shard level channel(s)",
				"HELP", "    Prints this help.")},
		}},
	}
}

// pingSubscribed is PING in RESP2 subscriber mode: ["pong", message or ""].
func pingSubscribed(c *Conn, args [][]byte) {
	if len(args) > 2 {
		c.replyErr(errArity(c.srv.table["ping"]))
		return
	}
	c.out.Array(2)
	c.out.BulkString("pong")
	if len(args) == 2 {
		c.out.Bulk(args[1])
	} else {
		c.out.BulkString("")
	}
}
