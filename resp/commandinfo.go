package resp

import (
	"slices"
	"sort"
	"strings"
)

// The COMMAND family: what clients learn of the command table (COUNT,
// LIST with its filters, INFO, DOCS, GETKEYS).

// sortedCommands returns the table's commands by name.
func (s *Server) sortedCommands() []*command {
	out := make([]*command, 0, len(s.table))
	for _, cmd := range s.table {
		out = append(out, cmd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func cmdCommandCount(c *Conn, args [][]byte) { c.out.Int(int64(len(c.srv.table))) }

// cmdCommandList is COMMAND LIST [FILTERBY MODULE name | ACLCAT category |
// PATTERN pattern]. Subcommands are listed as "parent|sub" when a filter
// looks at them, as Redis does.
func cmdCommandList(c *Conn, args [][]byte) {
	keep := func(*command) bool { return true }
	subs := false
	switch {
	case len(args) == 2:
	case len(args) == 5 && eqFold(args[2], "filterby"):
		v := args[4]
		switch {
		case eqFold(args[3], "module"):
			keep = func(*command) bool { return false } // no modules
		case eqFold(args[3], "aclcat"):
			cat := strings.ToLower(string(v))
			keep = func(cmd *command) bool { return slices.Contains(aclCategories(cmd), "@"+cat) }
			subs = true
		case eqFold(args[3], "pattern"):
			keep = func(cmd *command) bool { return globMatch(v, []byte(cmd.fullName()), true) }
			subs = true
		default:
			c.replyErr(errSyntax)
			return
		}
	default:
		c.replyErr(errSyntax)
		return
	}
	var names []string
	for _, cmd := range c.srv.sortedCommands() {
		if keep(cmd) {
			names = append(names, cmd.fullName())
		}
		if subs {
			for _, sub := range cmd.subs {
				if keep(sub) {
					names = append(names, sub.fullName())
				}
			}
		}
	}
	sort.Strings(names)
	c.out.Array(len(names))
	for _, n := range names {
		c.out.BulkString(n)
	}
}

// cmdCommandGetKeys is COMMAND GETKEYS command [arg ...]: the keys of a
// full command line, by the command's key positions.
func cmdCommandGetKeys(c *Conn, args [][]byte) {
	line := args[2:]
	cmd := c.srv.lookup(c.srv.table, line[0])
	if cmd != nil && cmd.subs != nil && len(line) >= 2 {
		cmd = c.srv.lookup(cmd.subs, line[1])
	}
	switch {
	case cmd == nil:
		c.replyErr("ERR Invalid command specified")
	case (cmd.arity > 0 && len(line) != cmd.arity) || (cmd.arity < 0 && len(line) < -cmd.arity):
		c.replyErr("ERR Invalid number of arguments specified for command")
	default:
		keys := slices.Collect(cmd.keyArgs(line))
		if len(keys) == 0 {
			c.replyErr("ERR The command has no key arguments")
			return
		}
		c.out.Array(len(keys))
		for _, k := range keys {
			c.out.Bulk(k)
		}
	}
}

// aclCategories are the ACL categories Redis puts the command in, derived
// from its group and flags (dynakv has no ACLs; COMMAND INFO and COMMAND
// LIST FILTERBY ACLCAT show them for clients that sort commands by them).
func aclCategories(cmd *command) []string {
	var out []string
	root := cmd
	if cmd.parent != nil {
		root = cmd.parent
	}
	switch root.group {
	case "string":
		out = append(out, "@string")
	case "generic":
		out = append(out, "@keyspace")
	case "connection":
		out = append(out, "@connection")
	case "transactions":
		out = append(out, "@transaction")
	case "scripting":
		out = append(out, "@scripting")
	case "hyperloglog":
		out = append(out, "@hyperloglog")
	case "set":
		out = append(out, "@set")
	case "hash":
		out = append(out, "@hash")
	case "bitmap":
		out = append(out, "@bitmap")
	case "pubsub":
		out = append(out, "@pubsub")
	case "sorted-set":
		out = append(out, "@sortedset")
	case "geo":
		out = append(out, "@geo")
	case "server", "dynakv":
		out = append(out, "@admin", "@dangerous")
	}
	switch {
	case slices.Contains(cmd.flags, "write"):
		out = append(out, "@write")
	case slices.Contains(cmd.flags, "readonly"):
		out = append(out, "@read")
	}
	if slices.Contains(cmd.flags, "fast") {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	return out
}

func cmdCommand(c *Conn, args [][]byte) {
	if len(args) > 1 {
		c.replyErr(errUnknownSub("command", args[1]))
		return
	}
	cmds := c.srv.sortedCommands()
	c.out.Array(len(cmds))
	for _, cmd := range cmds {
		writeCommandInfo(&c.out, cmd)
	}
}

func cmdCommandInfo(c *Conn, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args[:1])
		return
	}
	c.out.Array(len(args) - 2)
	for _, a := range args[2:] {
		if cmd := c.srv.lookup(c.srv.table, a); cmd != nil {
			writeCommandInfo(&c.out, cmd)
		} else {
			c.out.NullArray()
		}
	}
}

// writeCommandInfo writes Redis 7's 10-element COMMAND INFO entry.
func writeCommandInfo(r *Reply, cmd *command) {
	r.Array(10)
	r.BulkString(cmd.fullName())
	r.Int(int64(cmd.arity))
	r.Set(len(cmd.flags))
	for _, f := range cmd.flags {
		r.Simple(f)
	}
	r.Int(int64(cmd.firstKey))
	r.Int(int64(cmd.lastKey))
	r.Int(int64(cmd.step))
	cats := aclCategories(cmd)
	r.Set(len(cats))
	for _, cat := range cats {
		r.Simple(cat)
	}
	r.Set(0) // tips
	if cmd.firstKey > 0 {
		// One key spec: keys from firstKey to lastKey, by step.
		r.Array(1)
		r.Map(3)
		r.BulkString("flags")
		r.Set(0)
		r.BulkString("begin_search")
		r.Map(2)
		r.BulkString("type")
		r.BulkString("index")
		r.BulkString("spec")
		r.Map(1)
		r.BulkString("index")
		r.Int(int64(cmd.firstKey))
		r.BulkString("find_keys")
		r.Map(2)
		r.BulkString("type")
		r.BulkString("range")
		r.BulkString("spec")
		r.Map(3)
		r.BulkString("lastkey")
		if cmd.lastKey < 0 {
			r.Int(int64(cmd.lastKey))
		} else {
			r.Int(int64(cmd.lastKey - cmd.firstKey))
		}
		r.BulkString("keystep")
		r.Int(int64(cmd.step))
		r.BulkString("limit")
		r.Int(0)
	} else {
		r.Array(0)
	}
	subs := make([]*command, 0, len(cmd.subs))
	for _, s := range cmd.subs {
		subs = append(subs, s)
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	r.Array(len(subs))
	for _, s := range subs {
		writeCommandInfo(r, s)
	}
}

func cmdCommandDocs(c *Conn, args [][]byte) {
	var cmds []*command
	if len(args) == 2 {
		cmds = c.srv.sortedCommands()
	} else {
		for _, a := range args[2:] {
			if cmd := c.srv.lookup(c.srv.table, a); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.out.Map(len(cmds))
	for _, cmd := range cmds {
		c.out.BulkString(cmd.name)
		writeCommandDoc(&c.out, cmd)
	}
}

// writeCommandDoc writes one command's COMMAND DOCS map: summary, since,
// group, complexity, arguments and subcommands, as redis-cli reads them for
// its hints.
func writeCommandDoc(r *Reply, cmd *command) {
	n := 4
	if len(cmd.args) > 0 {
		n++
	}
	if len(cmd.subs) > 0 {
		n++
	}
	r.Map(n)
	r.BulkString("summary")
	r.BulkString(cmd.summary)
	r.BulkString("since")
	r.BulkString(orDefault(cmd.since, "0.1.0"))
	r.BulkString("group")
	r.BulkString(orDefault(cmd.group, "server"))
	r.BulkString("complexity")
	r.BulkString("O(1) per key")
	if len(cmd.args) > 0 {
		r.BulkString("arguments")
		writeArgDocs(r, cmd.args)
	}
	if len(cmd.subs) > 0 {
		subs := make([]*command, 0, len(cmd.subs))
		for _, s := range cmd.subs {
			subs = append(subs, s)
		}
		sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
		r.BulkString("subcommands")
		r.Map(len(subs))
		for _, s := range subs {
			r.BulkString(s.fullName())
			writeCommandDoc(r, s)
		}
	}
}

func writeArgDocs(r *Reply, args []argDoc) {
	r.Array(len(args))
	for _, a := range args {
		n := 3
		if a.token != "" {
			n++
		}
		var flags []string
		if a.optional {
			flags = append(flags, "optional")
		}
		if a.multiple {
			flags = append(flags, "multiple")
		}
		if len(flags) > 0 {
			n++
		}
		if len(a.sub) > 0 {
			n++
		}
		r.Map(n)
		r.BulkString("name")
		r.BulkString(a.name)
		r.BulkString("type")
		r.BulkString(a.typ)
		r.BulkString("display_text")
		r.BulkString(a.name)
		if a.token != "" {
			r.BulkString("token")
			r.BulkString(a.token)
		}
		if len(flags) > 0 {
			r.BulkString("flags")
			r.Set(len(flags))
			for _, f := range flags {
				r.Simple(f)
			}
		}
		if len(a.sub) > 0 {
			r.BulkString("arguments")
			writeArgDocs(r, a.sub)
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
