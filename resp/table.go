package resp

import (
	"slices"
	"strings"
)

// Argument documentation shorthands for COMMAND DOCS.
func argKey(name string) argDoc { return argDoc{name: name, typ: "key"} }
func argStr(name string) argDoc { return argDoc{name: name, typ: "string"} }
func argInt(name string) argDoc { return argDoc{name: name, typ: "integer"} }
func token(name string) argDoc {
	return argDoc{name: strings.ToLower(name), typ: "pure-token", token: name}
}
func opt(a argDoc) argDoc  { a.optional = true; return a }
func many(a argDoc) argDoc { a.multiple = true; return a }
func tokenArg(tok string, a argDoc) argDoc {
	a.token = tok
	return a
}
func oneOf(name string, alts ...argDoc) argDoc { return argDoc{name: name, typ: "oneof", sub: alts} }

const (
	noScripts = "scripts would need atomicity across replicas, which an always-writable Dynamo store does not have"
)

// commandTable builds the command table.
func commandTable() map[string]*command {
	expireOpts := opt(oneOf("condition", token("NX"), token("XX"), token("GT"), token("LT")))
	setExpiry := opt(oneOf("expiration", tokenArg("EX", argInt("seconds")), tokenArg("PX", argInt("milliseconds")),
		tokenArg("EXAT", argInt("unix-time-seconds")), tokenArg("PXAT", argInt("unix-time-milliseconds")), token("KEEPTTL")))
	cmds := []*command{
		// strings
		{name: "get", arity: 2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Returns the string value of a key (the newest sibling).", args: []argDoc{argKey("key")}, fn: cmdGet},
		{name: "set", arity: -3, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Sets the string value of a key, replacing every version the coordinator knows.",
			args:    []argDoc{argKey("key"), argStr("value"), opt(oneOf("condition", token("NX"), token("XX"))), opt(token("GET")), setExpiry}, fn: cmdSet},
		{name: "setnx", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Set the string value of a key only when the key doesn't exist.", args: []argDoc{argKey("key"), argStr("value")}, fn: cmdSetNX},
		{name: "setex", arity: 4, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "2.0.0",
			summary: "Sets the string value and expiration time of a key.", args: []argDoc{argKey("key"), argInt("seconds"), argStr("value")}, fn: setexCommand(unitSeconds, "setex")},
		{name: "psetex", arity: 4, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "2.6.0",
			summary: "Sets both string value and expiration time in milliseconds of a key.", args: []argDoc{argKey("key"), argInt("milliseconds"), argStr("value")}, fn: setexCommand(unitMillis, "psetex")},
		{name: "getset", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Returns the previous string value of a key after setting it to a new value.", args: []argDoc{argKey("key"), argStr("value")}, fn: cmdGetSet},
		{name: "getdel", arity: 2, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "6.2.0",
			summary: "Returns the string value of a key after deleting the key.", args: []argDoc{argKey("key")}, fn: cmdGetDel},
		{name: "getex", arity: -2, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "6.2.0",
			summary: "Returns the string value of a key after setting its expiration time.",
			args: []argDoc{argKey("key"), opt(oneOf("expiration", tokenArg("EX", argInt("seconds")), tokenArg("PX", argInt("milliseconds")),
				tokenArg("EXAT", argInt("unix-time-seconds")), tokenArg("PXAT", argInt("unix-time-milliseconds")), token("PERSIST")))}, fn: cmdGetEx},
		{name: "mget", arity: -2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: -1, step: 1, group: "string", since: "1.0.0",
			summary: "Atomically returns the string values of one or more keys (per key here, not atomically).", args: []argDoc{many(argKey("key"))}, fn: cmdMGet},
		{name: "mset", arity: -3, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: -1, step: 2, group: "string", since: "1.0.1",
			summary: "Sets the string values of multiple keys (per key, not atomically).",
			args:    []argDoc{many(argDoc{name: "data", typ: "block", sub: []argDoc{argKey("key"), argStr("value")}})}, fn: cmdMSet},
		{name: "strlen", arity: 2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "2.2.0",
			summary: "Returns the length of a string value.", args: []argDoc{argKey("key")}, fn: cmdStrlen},
		{name: "append", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "2.0.0",
			summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", args: []argDoc{argKey("key"), argStr("value")}, fn: cmdAppend},

		// keys
		{name: "del", arity: -2, flags: []string{"write"}, firstKey: 1, lastKey: -1, step: 1, group: "generic", since: "1.0.0",
			summary: "Deletes one or more keys (a tombstone per key).", args: []argDoc{many(argKey("key"))}, fn: cmdDel},
		{name: "unlink", arity: -2, flags: []string{"write", "fast"}, firstKey: 1, lastKey: -1, step: 1, group: "generic", since: "4.0.0",
			summary: "Deletes one or more keys (the same as DEL here).", args: []argDoc{many(argKey("key"))}, fn: cmdDel},
		{name: "exists", arity: -2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: -1, step: 1, group: "generic", since: "1.0.0",
			summary: "Determines whether one or more keys exist.", args: []argDoc{many(argKey("key"))}, fn: cmdExists},
		{name: "expire", arity: -3, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "1.0.0",
			summary: "Sets the expiration time of a key in seconds.", args: []argDoc{argKey("key"), argInt("seconds"), expireOpts}, fn: expireCommand(unitSeconds, true, "expire")},
		{name: "pexpire", arity: -3, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "2.6.0",
			summary: "Sets the expiration time of a key in milliseconds.", args: []argDoc{argKey("key"), argInt("milliseconds"), expireOpts}, fn: expireCommand(unitMillis, true, "pexpire")},
		{name: "expireat", arity: -3, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "1.2.0",
			summary: "Sets the expiration time of a key to a Unix timestamp.", args: []argDoc{argKey("key"), argInt("unix-time-seconds"), expireOpts}, fn: expireCommand(unitSeconds, false, "expireat")},
		{name: "pexpireat", arity: -3, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "2.6.0",
			summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.", args: []argDoc{argKey("key"), argInt("unix-time-milliseconds"), expireOpts}, fn: expireCommand(unitMillis, false, "pexpireat")},
		{name: "ttl", arity: 2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "1.0.0",
			summary: "Returns the expiration time in seconds of a key.", args: []argDoc{argKey("key")}, fn: ttlCommand(unitSeconds)},
		{name: "pttl", arity: 2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "2.6.0",
			summary: "Returns the expiration time in milliseconds of a key.", args: []argDoc{argKey("key")}, fn: ttlCommand(unitMillis)},
		{name: "persist", arity: 2, flags: []string{"write", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "2.2.0",
			summary: "Removes the expiration time of a key.", args: []argDoc{argKey("key")}, fn: cmdPersist},
		{name: "type", arity: 2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "generic", since: "1.0.0",
			summary: "Determines the type of value stored at a key.", args: []argDoc{argKey("key")}, fn: cmdType},
		{name: "scan", arity: -2, flags: []string{"readonly"}, group: "generic", since: "2.8.0",
			summary: "Iterates over the key names in the database (every partition once).",
			args:    []argDoc{argInt("cursor"), opt(tokenArg("MATCH", argStr("pattern"))), opt(tokenArg("COUNT", argInt("count"))), opt(tokenArg("TYPE", argStr("type")))}, fn: cmdScan},
		{name: "keys", arity: 2, flags: []string{"readonly"}, group: "generic", since: "1.0.0",
			summary: "Returns all key names that match a pattern.", args: []argDoc{argStr("pattern")}, fn: cmdKeys},
		{name: "dbsize", arity: 1, flags: []string{"readonly", "fast"}, group: "server", since: "1.0.0",
			summary: "Returns the number of live keys.", fn: cmdDBSize},
		{name: "flushdb", arity: -1, flags: []string{"write"}, group: "server", since: "1.0.0",
			summary: "Deletes every key (a tombstone per key).", args: []argDoc{opt(oneOf("flush-type", token("ASYNC"), token("SYNC")))}, fn: cmdFlush},
		{name: "flushall", arity: -1, flags: []string{"write"}, group: "server", since: "1.0.0",
			summary: "Deletes every key (a tombstone per key).", args: []argDoc{opt(oneOf("flush-type", token("ASYNC"), token("SYNC")))}, fn: cmdFlush},

		// versioned (the Dynamo API)
		{name: "vget", arity: -2, flags: []string{"readonly"}, firstKey: 1, lastKey: 1, step: 1, group: "dynakv", since: "0.1.0",
			summary: "Returns the causal context and every live sibling of a key.",
			args:    []argDoc{argKey("key"), opt(tokenArg("R", argInt("r"))), opt(token("LOCAL"))}, fn: cmdVGet},
		{name: "vset", arity: -4, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 1, step: 1, group: "dynakv", since: "0.1.0",
			summary: "Writes a value replacing exactly the siblings the context covers.",
			args: []argDoc{argKey("key"), argStr("context"), argStr("value"), opt(tokenArg("W", argInt("w"))),
				opt(oneOf("expiration", tokenArg("EX", argInt("seconds")), tokenArg("PX", argInt("milliseconds"))))}, fn: cmdVSet},
		{name: "vdel", arity: -3, flags: []string{"write"}, firstKey: 1, lastKey: 1, step: 1, group: "dynakv", since: "0.1.0",
			summary: "Writes a tombstone replacing exactly the siblings the context covers.",
			args:    []argDoc{argKey("key"), argStr("context"), opt(tokenArg("W", argInt("w")))}, fn: cmdVDel},
		{name: "ring", arity: -2, group: "dynakv", since: "0.1.0", summary: "Shows the ring and membership.", subs: map[string]*command{
			"key":        {name: "key", arity: 3, flags: []string{"readonly"}, summary: "Shows a key's partition and preference list.", args: []argDoc{argKey("key")}, fn: cmdRingKey},
			"partitions": {name: "partitions", arity: 2, flags: []string{"readonly"}, summary: "Lists every partition with its range and replicas.", fn: cmdRingPartitions},
			"members":    {name: "members", arity: 2, flags: []string{"readonly"}, summary: "Lists the nodes of the ring.", fn: cmdRingMembers},
			"status":     {name: "status", arity: 2, flags: []string{"readonly"}, summary: "Shows ring version, transfers, hints and anti-entropy.", fn: cmdRingStatus},
			"remove":     {name: "remove", arity: 3, flags: []string{"admin"}, summary: "Removes a node from the ring permanently.", args: []argDoc{argStr("node-id")}, fn: cmdRingRemove},
			"help": {name: "help", arity: 2, flags: []string{"loading", "stale"}, summary: "Shows helpful text about the different subcommands.", fn: helpCommand(
				"KEY <key>", "    Show the key's partition and preference list.",
				"PARTITIONS", "    List every partition with its range and replicas.",
				"MEMBERS", "    List the nodes of the ring.",
				"STATUS", "    Show ring version, transfers, hints and anti-entropy.",
				"REMOVE <node-id>", "    Remove a node permanently; its data is re-replicated.",
				"HELP", "    Print this help.")},
		}},

		// connection and server
		{name: "ping", arity: -1, flags: []string{"fast", "stale"}, group: "connection", since: "1.0.0",
			summary: "Returns the server's liveliness response.", args: []argDoc{opt(argStr("message"))}, fn: cmdPing},
		{name: "echo", arity: 2, flags: []string{"fast"}, group: "connection", since: "1.0.0",
			summary: "Returns the given string.", args: []argDoc{argStr("message")}, fn: cmdEcho},
		{name: "quit", arity: -1, flags: []string{"noauth", "fast", "stale"}, group: "connection", since: "1.0.0",
			summary: "Closes the connection.", noAuth: true, fn: cmdQuit},
		{name: "reset", arity: 1, flags: []string{"noauth", "fast", "stale"}, group: "connection", since: "6.2.0",
			summary: "Resets the connection.", noAuth: true, fn: cmdReset},
		{name: "select", arity: 2, flags: []string{"fast"}, group: "connection", since: "1.0.0",
			summary: "Changes the selected database (only 0 exists).", args: []argDoc{argInt("index")}, fn: cmdSelect},
		{name: "auth", arity: -2, flags: []string{"noauth", "fast", "stale"}, group: "connection", since: "1.0.0",
			summary: "Authenticates the connection.", noAuth: true, args: []argDoc{opt(argStr("username")), argStr("password")}, fn: cmdAuth},
		{name: "hello", arity: -1, flags: []string{"noauth", "fast", "stale"}, group: "connection", since: "6.0.0",
			summary: "Handshakes with the server.", noAuth: true,
			args: []argDoc{opt(argDoc{name: "arguments", typ: "block", sub: []argDoc{argInt("protover"),
				opt(argDoc{name: "auth", typ: "block", token: "AUTH", sub: []argDoc{argStr("username"), argStr("password")}}),
				opt(tokenArg("SETNAME", argStr("clientname")))}})}, fn: cmdHello},
		{name: "time", arity: 1, flags: []string{"fast"}, group: "server", since: "2.6.0", summary: "Returns the server time.", fn: cmdTime},
		{name: "info", arity: -1, flags: []string{"stale"}, group: "server", since: "1.0.0",
			summary: "Returns information and statistics about the server.", args: []argDoc{opt(many(argStr("section")))}, fn: cmdInfo},
		{name: "client", arity: -2, group: "connection", since: "2.4.0", summary: "A container for client connection commands.", subs: map[string]*command{
			"setname": {name: "setname", arity: 3, flags: []string{"fast"}, summary: "Sets the connection name.", args: []argDoc{argStr("connection-name")}, fn: cmdClientSetName},
			"getname": {name: "getname", arity: 2, flags: []string{"fast"}, summary: "Returns the name of the connection.", fn: cmdClientGetName},
			"id":      {name: "id", arity: 2, flags: []string{"fast"}, summary: "Returns the unique client ID of the connection.", fn: cmdClientID},
			"reply": {name: "reply", arity: 3, flags: []string{"noscript", "loading", "stale"}, summary: "Instructs the server whether to reply to commands.",
				args: []argDoc{oneOf("action", token("ON"), token("OFF"), token("SKIP"))}, fn: cmdClientReply},
			"setinfo": {name: "setinfo", arity: 4, flags: []string{"fast"}, summary: "Sets information specific to the client or connection.",
				args: []argDoc{oneOf("attr", tokenArg("LIB-NAME", argStr("libname")), tokenArg("LIB-VER", argStr("libver")))}, fn: cmdClientSetInfo},
			"info":     {name: "info", arity: 2, summary: "Returns information about the connection.", fn: cmdClientInfo},
			"list":     {name: "list", arity: -2, summary: "Lists open connections.", fn: cmdClientList},
			"no-evict": {name: "no-evict", arity: 3, summary: "Sets the client eviction mode (a no-op: dynakv does not evict).", args: []argDoc{argStr("enabled")}, fn: cmdClientFlag},
			"no-touch": {name: "no-touch", arity: 3, summary: "Controls whether commands alter access times (a no-op here).", args: []argDoc{argStr("enabled")}, fn: cmdClientFlag},
			"kill": {name: "kill", arity: -3, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Terminates open connections.",
				args: []argDoc{oneOf("filter", argStr("ip:port"), many(tokenArg("ID", argInt("client-id"))), tokenArg("ADDR", argStr("ip:port")), tokenArg("LADDR", argStr("ip:port")), tokenArg("USER", argStr("username")), tokenArg("TYPE", argStr("type")), tokenArg("SKIPME", argStr("yes/no")))}, fn: cmdClientKill},
			"pause": {name: "pause", arity: -3, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Suspends commands processing.",
				args: []argDoc{argInt("timeout"), opt(oneOf("mode", token("WRITE"), token("ALL")))}, fn: cmdClientPause},
			"unblock": {name: "unblock", arity: -3, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Unblocks a client blocked by a blocking command from a different connection.",
				args: []argDoc{argInt("client-id"), opt(oneOf("unblock-type", token("TIMEOUT"), token("ERROR")))}, fn: cmdClientUnblock},
			"unpause": {name: "unpause", arity: 2, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Resumes processing of clients that were paused.", fn: cmdClientUnpause},
			"help":    {name: "help", arity: 2, flags: []string{"loading", "stale"}, summary: "Returns helpful text about the different subcommands.", fn: helpCommand(clientHelp...)},
		}},
		{name: "command", arity: -1, flags: []string{"loading", "stale"}, group: "server", since: "2.8.13", summary: "Returns detailed information about all commands.", fn: cmdCommand, subs: map[string]*command{
			"count": {name: "count", arity: 2, flags: []string{"loading", "stale"}, summary: "Returns a count of commands.", fn: cmdCommandCount},
			"list": {name: "list", arity: -2, flags: []string{"loading", "stale"}, summary: "Returns a list of command names.",
				args: []argDoc{opt(tokenArg("FILTERBY", oneOf("filterby", tokenArg("MODULE", argStr("module-name")), tokenArg("ACLCAT", argStr("category")), tokenArg("PATTERN", argStr("pattern")))))}, fn: cmdCommandList},
			"info": {name: "info", arity: -2, flags: []string{"loading", "stale"}, summary: "Returns information about one, multiple or all commands.", args: []argDoc{opt(many(argStr("command-name")))}, fn: cmdCommandInfo},
			"docs": {name: "docs", arity: -2, flags: []string{"loading", "stale"}, summary: "Returns documentary information about one, multiple or all commands.", args: []argDoc{opt(many(argStr("command-name")))}, fn: cmdCommandDocs},
			"getkeys": {name: "getkeys", arity: -4, flags: []string{"loading", "stale"}, summary: "Extracts the key names from an arbitrary command.",
				args: []argDoc{argStr("command"), opt(many(argStr("arg")))}, fn: cmdCommandGetKeys},
			"help": {name: "help", arity: 2, flags: []string{"loading", "stale"}, summary: "Returns helpful text about the different subcommands.", fn: helpCommand(
				"(no subcommand)", "    Return details about all commands.",
				"COUNT", "    Return the total number of commands in this server.",
				"INFO [<command-name> ...]", "    Return details about multiple commands.",
				"LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]", "    Return a list of all commands in this server, or those the filter picks.",
				"GETKEYS <full-command>", "    Return the keys from a full Redis command.",
				"DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
				"HELP", "    Print this help.")},
		}},
		{name: "config", arity: -2, group: "server", since: "2.0.0", summary: "A container for server configuration commands.", subs: map[string]*command{
			"get":       {name: "get", arity: -3, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Returns the effective values of configuration parameters.", args: []argDoc{many(argStr("parameter"))}, fn: cmdConfigGet},
			"set":       {name: "set", arity: -4, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Sets notify-keyspace-events and records Redis's encoding thresholds for CONFIG GET (they do not apply to dynakv); other settings are read at start.", fn: cmdConfigSet},
			"rewrite":   {name: "rewrite", arity: 2, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Not supported: settings are read at start.", fn: cmdConfigRewrite},
			"resetstat": {name: "resetstat", arity: 2, flags: []string{"admin", "noscript", "loading", "stale"}, summary: "Resets the server's statistics.", fn: cmdConfigResetStat},
			"help": {name: "help", arity: 2, flags: []string{"loading", "stale"}, summary: "Returns helpful text about the different subcommands.", fn: helpCommand(
				"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
				"RESETSTAT", "    Reset statistics reported by the INFO command.",
				"HELP", "    Print this help.")},
		}},
	}
	cmds = append(cmds,
		&command{name: "incr", arity: 2, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Increments the integer value of a key by one (a counter: increments through every node are kept).", args: []argDoc{argKey("key")}, fn: cmdIncr},
		&command{name: "decr", arity: 2, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Decrements the integer value of a key by one (a counter).", args: []argDoc{argKey("key")}, fn: cmdDecr},
		&command{name: "incrby", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Increments the integer value of a key by a number (a counter).", args: []argDoc{argKey("key"), argInt("increment")}, fn: cmdIncrBy},
		&command{name: "decrby", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "1.0.0",
			summary: "Decrements a number from the integer value of a key (a counter).", args: []argDoc{argKey("key"), argInt("decrement")}, fn: cmdDecrBy},
		&command{name: "incrbyfloat", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "string", since: "2.6.0",
			summary: "Increment the floating point value of a key by a number (a counter).", args: []argDoc{argKey("key"), argDoc{name: "increment", typ: "double"}}, fn: cmdIncrByFloat},
	)
	cmds = append(cmds,
		&command{name: "pfadd", arity: -2, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, group: "hyperloglog", since: "2.8.9",
			summary: "Adds elements to a HyperLogLog key (concurrent adds through different nodes are all kept). Creates the key if it doesn't exist.",
			args:    []argDoc{argKey("key"), opt(many(argStr("element")))}, fn: cmdPFAdd},
		&command{name: "pfcount", arity: -2, flags: []string{"readonly"}, firstKey: 1, lastKey: -1, step: 1, group: "hyperloglog", since: "2.8.9",
			summary: "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s), as redis-server computes it.",
			args:    []argDoc{many(argKey("key"))}, fn: cmdPFCount},
		&command{name: "pfmerge", arity: -2, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: -1, step: 1, group: "hyperloglog", since: "2.8.9",
			summary: "Merges one or more HyperLogLog values into a single key (the sources are read one by one, not atomically).",
			args:    []argDoc{argKey("destkey"), opt(many(argKey("sourcekey")))}, fn: cmdPFMerge},
	)
	cmds = append(cmds,
		&command{name: "multi", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, group: "transactions", since: "1.2.0",
			summary: "Starts a transaction (its commands must all touch one key).", fn: cmdMulti},
		&command{name: "exec", arity: 1, flags: []string{"noscript", "loading", "stale", "skip_slowlog"}, group: "transactions", since: "1.2.0",
			summary: "Executes the queued commands as one versioned update of their one key; refused, with nothing applied, if they touch several keys.", fn: cmdExec},
		&command{name: "discard", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, group: "transactions", since: "2.0.0",
			summary: "Discards a transaction.", fn: cmdDiscard},
		&command{name: "watch", arity: -2, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, firstKey: 1, lastKey: -1, step: 1, group: "transactions", since: "2.2.0",
			summary: "Makes EXEC apply the transaction only if none of the keys changed since (see the README for the comparison).", args: []argDoc{many(argKey("key"))}, fn: cmdWatch},
		&command{name: "unwatch", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, group: "transactions", since: "2.2.0",
			summary: "Forgets about all watched keys of the connection.", fn: cmdUnwatch},
	)
	cmds = append(cmds, setCommands()...)
	cmds = append(cmds, hashCommands()...)
	cmds = append(cmds, bitCommands()...)
	cmds = append(cmds, pubsubCommands()...)
	cmds = append(cmds, zsetCommands()...)
	cmds = append(cmds, geoCommands()...)
	cmds = append(cmds, objectCommand())
	cmds = append(cmds, memoryCommand())
	cmds = append(cmds, keyCommands2()...)
	cmds = append(cmds, listCommands()...)
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "script", "fcall", "fcall_ro", "function"} {
		cmds = append(cmds, &command{name: name, arity: -1, group: "scripting", summary: "Not supported: " + noScripts + ".", fn: unsupported(noScripts)})
	}
	cmds = append(cmds, &command{name: "msetnx", arity: -3, flags: []string{"write"}, firstKey: 1, lastKey: -1, step: 2, group: "string",
		summary: "Not supported: setting several keys all-or-nothing needs atomicity across partitions.",
		fn:      unsupported("setting several keys all-or-nothing needs atomicity across partitions, which dynakv does not have; use SET NX per key")})

	table := make(map[string]*command, len(cmds))
	for _, cmd := range cmds {
		for _, sub := range cmd.subs {
			sub.parent = cmd
			if sub.group == "" {
				sub.group, sub.since = cmd.group, cmd.since
			}
		}
		cmd.data = slices.Contains(cmd.flags, "readonly") || slices.Contains(cmd.flags, "write")
		cmd.concurrent = cmd.firstKey > 0 && cmd.data && !slices.Contains(cmd.flags, "blocking")
		if cmd.subs != nil && cmd.fn == nil {
			name := cmd.name
			cmd.fn = func(c *Conn, args [][]byte) {
				c.replyErr(errArity(c.srv.table[name]))
			}
		}
		table[cmd.name] = cmd
	}
	return table
}
