package resp

import (
	"crypto/subtle"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The connection and server commands.

// redisVersion is the Redis version dynakv presents itself as in HELLO and
// INFO, so clients enable the Redis 7 features it implements.
const redisVersion = "7.2.0"

func cmdPing(c *Conn, args [][]byte) {
	if c.out.proto == 2 && c.subscribed() {
		pingSubscribed(c, args) // pubsub_cmds.go
		return
	}
	switch len(args) {
	case 1:
		c.out.Simple("PONG")
	case 2:
		c.out.Bulk(args[1])
	default:
		c.replyErr(errArity(c.srv.table["ping"]))
	}
}

func cmdEcho(c *Conn, args [][]byte) { c.out.Bulk(args[1]) }

func cmdQuit(c *Conn, args [][]byte) {
	c.out.OK()
	c.quit = true
}

func cmdReset(c *Conn, args [][]byte) {
	c.out.proto = 2
	c.mu.Lock()
	c.name = ""
	c.mu.Unlock()
	c.authed = c.srv.cfg.RequirePass == ""
	c.multi, c.watched = nil, nil
	c.unsubscribeAll() // leaves subscriber mode, as Redis's RESET does
	c.out.Simple("RESET")
}

func cmdSelect(c *Conn, args [][]byte) {
	n, ok := string2ll(args[1])
	switch {
	case !ok:
		c.replyErr(errNotInteger)
	case n != 0:
		c.replyErr(errDBRange)
	default:
		c.out.OK()
	}
}

// checkPassword authenticates user/pass against requirepass; only the
// "default" user exists.
func (c *Conn) checkPassword(user, pass []byte) bool {
	want := c.srv.cfg.RequirePass
	if user != nil && string(user) != "default" {
		return false
	}
	return subtle.ConstantTimeCompare(pass, []byte(want)) == 1
}

func cmdAuth(c *Conn, args [][]byte) {
	if len(args) > 3 {
		c.replyErr(errSyntax)
		return
	}
	var user []byte
	pass := args[1]
	if len(args) == 3 {
		user, pass = args[1], args[2]
	}
	if c.srv.cfg.RequirePass == "" && user == nil {
		c.replyErr("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return
	}
	if c.srv.cfg.RequirePass == "" {
		// With no password, the default user accepts any password.
		if string(user) == "default" {
			c.authed = true
			c.out.OK()
			return
		}
		c.replyErr(errWrongPass)
		return
	}
	if !c.checkPassword(user, pass) {
		c.replyErr(errWrongPass)
		return
	}
	c.authed = true
	c.out.OK()
}

// cmdHello implements HELLO [protover [AUTH user pass] [SETNAME name]].
func cmdHello(c *Conn, args [][]byte) {
	proto := c.out.proto
	if len(args) >= 2 {
		v, ok := string2ll(args[1])
		if !ok {
			c.replyErr("ERR Protocol version is not an integer or out of range")
			return
		}
		if v != 2 && v != 3 {
			c.replyErr("NOPROTO unsupported protocol version")
			return
		}
		proto = int(v)
	}
	var name []byte
	authed := c.authed
	for i := 2; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case eqFold(args[i], "auth") && more >= 2:
			if c.srv.cfg.RequirePass == "" {
				if string(args[i+1]) != "default" {
					c.replyErr(errWrongPass)
					return
				}
			} else if !c.checkPassword(args[i+1], args[i+2]) {
				c.replyErr(errWrongPass)
				return
			}
			authed = true
			i += 2
		case eqFold(args[i], "setname") && more >= 1:
			name = args[i+1]
			if !validClientName(name) {
				c.replyErr("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			i++
		default:
			c.replyErr("ERR Syntax error in HELLO option '" + truncate(args[i], 128) + "'")
			return
		}
	}
	if !authed {
		c.replyErr("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	c.authed = true
	c.out.proto = proto
	if name != nil {
		c.mu.Lock()
		c.name = string(name)
		c.mu.Unlock()
	}
	c.out.Map(7)
	c.out.BulkString("server")
	c.out.BulkString("redis")
	c.out.BulkString("version")
	c.out.BulkString(redisVersion)
	c.out.BulkString("proto")
	c.out.Int(int64(proto))
	c.out.BulkString("id")
	c.out.Int(c.id)
	c.out.BulkString("mode")
	c.out.BulkString("standalone")
	c.out.BulkString("role")
	c.out.BulkString("master")
	c.out.BulkString("modules")
	c.out.Array(0)
}

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func cmdClientSetName(c *Conn, args [][]byte) {
	if !validClientName(args[2]) {
		c.replyErr("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.mu.Lock()
	c.name = string(args[2])
	c.mu.Unlock()
	c.out.OK()
}

func cmdClientGetName(c *Conn, args [][]byte) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name == "" {
		c.out.Null()
		return
	}
	c.out.BulkString(name)
}

func cmdClientID(c *Conn, args [][]byte) { c.out.Int(c.id) }

func cmdClientSetInfo(c *Conn, args [][]byte) {
	val := string(args[3])
	if !validClientName(args[3]) {
		c.replyErr("ERR " + strings.ToUpper(string(args[2])) + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case eqFold(args[2], "lib-name"):
		c.libName = val
	case eqFold(args[2], "lib-ver"):
		c.libVer = val
	default:
		c.errCount++
		c.out.Error("ERR Unrecognized option '" + truncate(args[2], 128) + "'")
		return
	}
	c.out.OK()
}

func cmdClientInfo(c *Conn, args [][]byte) {
	c.publishStats(args)
	c.out.Verbatim(c.info() + "\n")
}

func cmdClientList(c *Conn, args [][]byte) {
	var ids map[int64]bool
	typ := func(*client) bool { return true }
	for i := 2; i < len(args); i++ {
		switch {
		case eqFold(args[i], "type") && i+1 < len(args):
			t := args[i+1]
			if !eqFold(t, "normal") && !eqFold(t, "master") && !eqFold(t, "replica") && !eqFold(t, "pubsub") {
				c.replyErr("ERR Unknown client type '" + truncate(t, 128) + "'")
				return
			}
			typ = clientTypeFilter(t) // clients.go
			i++
		case eqFold(args[i], "id") && i+1 < len(args):
			if ids == nil {
				ids = map[int64]bool{}
			}
			for i++; i < len(args); i++ {
				id, ok := string2ll(args[i])
				if !ok || id <= 0 {
					c.replyErr("ERR Invalid client ID")
					return
				}
				ids[id] = true
			}
		default:
			c.replyErr(errSyntax)
			return
		}
	}
	c.srv.mu.Lock()
	conns := make([]*client, 0, len(c.srv.conns))
	for o := range c.srv.conns {
		if (ids == nil || ids[o.id]) && typ(o) {
			conns = append(conns, o)
		}
	}
	c.srv.mu.Unlock()
	sort.Slice(conns, func(i, j int) bool { return conns[i].id < conns[j].id })
	var b strings.Builder
	for _, o := range conns {
		b.WriteString(o.info())
		b.WriteByte('\n')
	}
	c.out.Verbatim(b.String())
}

// cmdClientFlag accepts CLIENT NO-EVICT and NO-TOUCH: dynakv neither evicts
// nor tracks access times, so both are no-ops that validate their argument.
func cmdClientFlag(c *Conn, args [][]byte) {
	if !eqFold(args[2], "on") && !eqFold(args[2], "off") {
		c.replyErr(errSyntax)
		return
	}
	c.out.OK()
}

func cmdTime(c *Conn, args [][]byte) {
	now := time.Now()
	c.out.Array(2)
	c.out.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.out.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

func cmdConfigGet(c *Conn, args [][]byte) {
	settings := c.srv.settings()
	var out []Field
	seen := map[string]bool{}
	for _, pat := range args[2:] {
		for _, f := range settings {
			if !seen[f.Name] && globMatch(pat, []byte(f.Name), true) {
				seen[f.Name] = true
				out = append(out, f)
			}
		}
	}
	c.out.Map(len(out))
	for _, f := range out {
		c.out.BulkString(f.Name)
		c.out.BulkString(f.Value)
	}
}

// settings is CONFIG GET's view: every parameter redis-server 7.0 has,
// with the value dynakv behaves as (Redis's default where dynakv has no
// counterpart), then dynakv's own settings by their keys.
func (s *Server) settings() []Field {
	own := s.cfg.Settings()
	ownValue := func(key string) (string, bool) {
		for _, f := range own {
			if f.Name == key {
				return f.Value, true
			}
		}
		return "", false
	}
	host, port := "", ""
	if a := s.Addr(); a != "" {
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			host, port = a[:i], a[i+1:]
		}
	}
	over := map[string]string{
		"port":                      port,
		"bind":                      host,
		"databases":                 "1",
		"maxclients":                strconv.Itoa(s.cfg.MaxClients),
		"requirepass":               "", // a secret is never echoed
		"masterauth":                "",
		"proto-max-bulk-len":        strconv.FormatInt(s.cfg.Limits.MaxBulkLen, 10),
		"client-query-buffer-limit": strconv.FormatInt(s.cfg.Limits.MaxQueryLen, 10),
		// The limits enforced, in bytes as Redis shows them (normal and
		// pubsub clients: dynakv has no replica clients).
		"client-output-buffer-limit": fmt.Sprintf("normal %d %d %d pubsub %d %d %d", s.cfg.OutputLimit.Hard, s.cfg.OutputLimit.Soft, int64(s.cfg.OutputLimit.SoftSeconds/time.Second),
			s.pubsubLimit().Hard, s.pubsubLimit().Soft, int64(s.pubsubLimit().SoftSeconds/time.Second)),
		"save": "", // no snapshots
		// Every write is in goleveldb's journal before its reply: an
		// append-only log, synced as the fsync setting says.
		"appendonly": "yes",
		"timeout":    "0",
		// Changed at runtime by CONFIG SET (notify.go).
		"notify-keyspace-events": formatNotifyFlags(s.notifyFlags.Load()),
	}
	// dynakv settings that are Redis parameters under another name.
	for key, name := range map[string]string{
		"fsync": "appendfsync", "data_dir": "dir", "protected_mode": "protected-mode",
		"tls_port": "tls-port", "tls_cert_file": "tls-cert-file", "tls_key_file": "tls-key-file",
		"tls_ca_cert_file": "tls-ca-cert-file", "tls_auth_clients": "tls-auth-clients",
	} {
		if v, ok := ownValue(key); ok {
			over[name] = v
		}
	}
	if v, ok := ownValue("log_level"); ok {
		over["loglevel"] = map[string]string{"debug": "debug", "info": "notice", "warn": "warning", "error": "warning"}[v]
	}
	s.encodingMu.Lock()
	for k, v := range s.encoding {
		over[k] = v
	}
	s.encodingMu.Unlock()
	ownNotifySetting(own, over["notify-keyspace-events"]) // notify.go
	out := make([]Field, 0, len(redisConfigDefaults)+len(own))
	for _, f := range redisConfigDefaults {
		if v, ok := over[f.Name]; ok {
			f.Value = v
		}
		out = append(out, f)
	}
	return append(out, own...)
}

// cmdConfigSet accepts Redis's encoding thresholds (set-max-intset-entries,
// hash-max-listpack-entries, ...), which choose redis-server's in-memory
// encodings and have no counterpart in dynakv's storage: it records them for
// CONFIG GET, so tools and test suites that tune them run. It also sets
// notify-keyspace-events, which takes effect at once (notify.go). A
// setting set to the value it has is accepted (CONFIG SET save "" where
// nothing snapshots); every other setting is read at start.
func cmdConfigSet(c *Conn, args [][]byte) {
	if len(args)%2 != 0 {
		c.replyErr(errArity(c.srv.table["config"].subs["set"]))
		return
	}
	current := map[string]string{}
	for _, f := range c.srv.settings() {
		current[f.Name] = f.Value
	}
	notify := ""
	setNotify := false
	for i := 2; i < len(args); i += 2 {
		name := strings.ToLower(string(args[i]))
		cur, known := current[name]
		switch {
		case name == "notify-keyspace-events" || name == "notify_keyspace_events":
			if notify, setNotify = string(args[i+1]), true; !c.checkNotifySetting(args[i], args[i+1]) {
				return
			}
			continue
		case !known:
			c.replyErr("ERR Unknown option or number of arguments for CONFIG SET - '" + string(args[i]) + "'")
			return
		case cur == string(args[i+1]) && !encodingSetting(name):
			continue // already so (CONFIG SET save "" on a node that never snapshots)
		case !encodingSetting(name):
			c.replyErr("ERR CONFIG SET is not supported by dynakv for '" + name + "': settings are read at start (file, DYNAKV_* environment, flags); restart the node to change them")
			return
		}
		if _, err := strconv.ParseInt(string(args[i+1]), 10, 64); err != nil {
			c.replyErr("ERR CONFIG SET failed (possibly related to argument '" + name + "') - argument couldn't be parsed into an integer")
			return
		}
	}
	if setNotify {
		c.srv.setNotifyFlags(notify)
	}
	c.srv.encodingMu.Lock()
	if c.srv.encoding == nil {
		c.srv.encoding = map[string]string{}
	}
	for i := 2; i < len(args); i += 2 {
		name := strings.ToLower(string(args[i]))
		if !encodingSetting(name) {
			continue
		}
		c.srv.encoding[name] = string(args[i+1])
		if a := encodingAlias(name); a != "" {
			c.srv.encoding[a] = string(args[i+1])
		}
	}
	c.srv.encodingMu.Unlock()
	c.out.OK()
}

func cmdConfigRewrite(c *Conn, args [][]byte) {
	c.replyErr("ERR CONFIG REWRITE is not supported by dynakv: settings are read at start (file, DYNAKV_* environment, flags); restart the node to change them")
}

// encodingSetting reports whether a Redis parameter only tunes
// redis-server's in-memory encodings.
func encodingSetting(name string) bool {
	for _, p := range []string{"-max-intset-", "-max-listpack-", "-max-ziplist-", "stream-node-max-", "list-compress-depth"} {
		if strings.Contains(name, p) || strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func cmdConfigResetStat(c *Conn, args [][]byte) {
	st := &c.srv.stats
	st.commands.Store(0)
	st.hits.Store(0)
	st.misses.Store(0)
	st.netIn.Store(0)
	st.netOut.Store(0)
	st.connsReceived.Store(0)
	st.connsRejected.Store(0)
	st.protoErrors.Store(0)
	st.rejected.Store(0)
	st.expired.Store(0)
	for _, cs := range c.srv.cmdStat {
		cs.calls.Store(0)
		cs.usec.Store(0)
		cs.failed.Store(0)
		cs.rejected.Store(0)
	}
	c.out.OK()
}

// helpCommand answers "X HELP" with the given lines, as Redis does.
func helpCommand(lines ...string) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		head := strings.ToUpper(string(args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
		c.out.Array(len(lines) + 1)
		c.out.Simple(head)
		for _, l := range lines {
			c.out.Simple(l)
		}
	}
}
