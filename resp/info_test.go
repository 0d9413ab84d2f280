package resp

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoText runs INFO with args and returns its text.
func infoText(t *testing.T, c *rawConn, args ...string) string {
	t.Helper()
	v := decode(t, c.do(append([]string{"INFO"}, args...)...))
	s, ok := v.(string)
	if !ok {
		t.Fatalf("INFO %q = %#v, want text", args, v)
	}
	return s
}

// infoFields returns the name:value lines of INFO section.
func infoFields(t *testing.T, c *rawConn, section string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(infoText(t, c, section), "\r\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[name] = value
		}
	}
	return out
}

// infoField returns one field of INFO section, "" when absent.
func infoField(t *testing.T, c *rawConn, section, name string) string {
	t.Helper()
	return infoFields(t, c, section)[name]
}

// infoHeaders returns the section headers of an INFO text, in order.
func infoHeaders(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\r\n") {
		if strings.HasPrefix(line, "# ") {
			out = append(out, line[2:])
		}
	}
	return out
}

func TestInfoSections(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	def := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Cluster", "Keyspace"}
	all := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Commandstats", "Cluster", "Keyspace"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, def},
		{[]string{"default"}, def},
		{[]string{"all"}, all},
		{[]string{"EVERYTHING"}, all},
		{[]string{"cluster", "SERVER"}, []string{"Server", "Cluster"}},
		{[]string{"commandstats"}, []string{"Commandstats"}},
		{[]string{"nosuch"}, nil},
	} {
		text := infoText(t, c, tc.args...)
		if got := infoHeaders(text); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("INFO %q sections %q, want %q", tc.args, got, tc.want)
		}
		// Sections are separated by an empty line and end with CRLF.
		if text != "" && (!strings.HasSuffix(text, "\r\n") || strings.Count(text, "\r\n\r\n") != len(tc.want)-1) {
			t.Errorf("INFO %q text layout: %q", tc.args, text)
		}
	}
	if got := c.do("INFO", "nosuch"); got != bulk("") {
		t.Errorf("INFO nosuch = %q, want an empty bulk string", got)
	}
}

func TestInfoServerClientsCluster(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	e.dial().do("PING") // a second client
	port := e.addr[strings.LastIndexByte(e.addr, ':')+1:]
	server := infoFields(t, c, "server")
	for name, want := range map[string]string{
		"redis_version": "7.2.0", "dynakv_version": "0.0.0-test", "redis_mode": "standalone", "arch_bits": "64",
		"process_id": strconv.Itoa(os.Getpid()), "run_id": "n1", "node_id": "n1", "tcp_port": port,
		"uptime_in_seconds": "0", "uptime_in_days": "0",
	} {
		if server[name] != want {
			t.Errorf("INFO server %s = %q, want %q", name, server[name], want)
		}
	}
	usec, err := strconv.ParseInt(server["server_time_usec"], 10, 64)
	if err != nil || time.Since(time.UnixMicro(usec)).Abs() > time.Minute {
		t.Errorf("server_time_usec = %q", server["server_time_usec"])
	}
	clients := infoFields(t, c, "clients")
	if clients["connected_clients"] != "2" || clients["maxclients"] != "10000" || clients["blocked_clients"] != "0" {
		t.Errorf("INFO clients = %v", clients)
	}
	cluster := infoFields(t, c, "cluster")
	if len(cluster) != 3 || cluster["cluster_enabled"] != "0" || cluster["cluster_known_nodes"] != "2" || cluster["cluster_size"] != "1" {
		t.Errorf("INFO cluster = %v", cluster)
	}
	// In RESP3 INFO is a verbatim string.
	c.do("HELLO", "3")
	raw := c.do("INFO", "cluster")
	want := "# Cluster\r\ncluster_enabled:0\r\ncluster_known_nodes:2\r\ncluster_size:1\r\n"
	if raw != "="+strconv.Itoa(len(want)+4)+"\r\ntxt:"+want+"\r\n" {
		t.Errorf("INFO cluster in RESP3 = %q", raw)
	}
}

func TestInfoStats(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("SET", "k", "v"), okReply},
		{cmd("GET", "k"), bulk("v")},
		{cmd("GET", "k"), bulk("v")},
		{cmd("GET", "nokey"), nullBulk},
		{cmd("SET", "k", "v", "EX", "0"), errReply("ERR invalid expire time in 'set' command")},
		{cmd("SELECT", "9"), errReply(errDBRange)},
		{cmd("GET"), errReply("ERR wrong number of arguments for 'get' command")},
		{cmd("NOSUCH"), errReply("ERR unknown command 'NOSUCH', with args beginning with: ")},
	})
	bad := e.dial()
	bad.send("*1\r\n$x\r\n")
	if got := bad.read(); got != errReply("ERR Protocol error: invalid bulk length") {
		t.Fatalf("protocol error reply %q", got)
	}
	bad.expectClosed()

	stats := infoFields(t, c, "stats")
	for name, want := range map[string]string{
		"keyspace_hits": "2", "keyspace_misses": "1", "protocol_errors": "1",
		"total_error_replies":        "5", // two failed commands, two refused and the protocol error
		"total_connections_received": "2", "rejected_connections": "0",
		"total_commands_processed": "9", // eight, then this INFO
	} {
		if stats[name] != want {
			t.Errorf("INFO stats %s = %q, want %q", name, stats[name], want)
		}
	}
	for _, name := range []string{"total_net_input_bytes", "total_net_output_bytes"} {
		if n, err := strconv.Atoi(stats[name]); err != nil || n <= 0 {
			t.Errorf("INFO stats %s = %q, want a positive count", name, stats[name])
		}
	}

	cmdstats := infoFields(t, c, "commandstats")
	stat := regexp.MustCompile(`^calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),rejected_calls=(\d+),failed_calls=(\d+)$`)
	for name, want := range map[string][3]string{
		// calls, rejected (GET's arity error), failed
		"cmdstat_get": {"3", "1", "0"}, "cmdstat_set": {"2", "0", "1"}, "cmdstat_select": {"1", "0", "1"},
		"cmdstat_info": {"1", "0", "0"}, // the INFO stats above; this one counts once it ran
	} {
		m := stat.FindStringSubmatch(cmdstats[name])
		if m == nil || m[1] != want[0] || m[4] != want[1] || m[5] != want[2] {
			t.Errorf("INFO commandstats %s = %q, want calls=%s rejected_calls=%s failed_calls=%s", name, cmdstats[name], want[0], want[1], want[2])
		}
	}
	if len(cmdstats) != 4 {
		t.Errorf("INFO commandstats lists %d commands, want the 4 called: %v", len(cmdstats), cmdstats)
	}
}

func TestInfoKeyspace(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	if got := infoText(t, c, "keyspace"); got != "# Keyspace\r\n" {
		t.Errorf("INFO keyspace of an empty node = %q", got)
	}
	c.do("SET", "a", "1")
	c.do("SET", "b", "2", "EX", "10")
	if got := infoText(t, c, "keyspace"); got != "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n" {
		t.Errorf("INFO keyspace = %q", got)
	}
	e.view.mu.Lock()
	e.view.keysErr = errInjected
	e.view.mu.Unlock()
	runRaw(t, c, []rawCase{
		{cmd("INFO", "keyspace"), errReply("ERR injected failure")},
		{cmd("INFO"), errReply("ERR injected failure")},
	})
	if got := infoHeaders(infoText(t, c, "server", "cluster")); len(got) != 2 {
		t.Errorf("INFO server cluster with the keyspace failing: sections %q", got)
	}
}

// TestInfoMemoryCPUReplication: the sections monitoring tools and Redis's
// own tests read, with Redis's field names.
func TestInfoMemoryCPUReplication(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	mem := infoFields(t, c, "memory")
	for _, f := range []string{"used_memory", "used_memory_rss", "used_memory_peak", "total_system_memory"} {
		if n, err := strconv.ParseInt(mem[f], 10, 64); err != nil || n <= 0 {
			t.Errorf("INFO memory %s = %q, want a positive number", f, mem[f])
		}
	}
	if used, _ := strconv.ParseInt(mem["used_memory"], 10, 64); mem["used_memory_human"] != bytesToHuman(used) {
		t.Errorf("used_memory_human %q for used_memory %d", mem["used_memory_human"], used)
	}
	if !strings.HasPrefix(mem["mem_allocator"], "go-go1.") || mem["maxmemory"] != "0" || mem["maxmemory_policy"] != "noeviction" {
		t.Errorf("INFO memory: %v", mem)
	}
	cpu := infoFields(t, c, "cpu")
	for _, f := range []string{"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"} {
		if v, err := strconv.ParseFloat(cpu[f], 64); err != nil || v < 0 || !regexp.MustCompile(`^\d+\.\d{6}$`).MatchString(cpu[f]) {
			t.Errorf("INFO cpu %s = %q", f, cpu[f])
		}
	}
	repl := infoFields(t, c, "replication")
	if repl["role"] != "master" || repl["connected_slaves"] != "0" || len(repl["master_replid"]) != 40 || repl["master_repl_offset"] != "0" {
		t.Errorf("INFO replication: %v", repl)
	}
	// As Redis's unit/info-command checks them.
	c.do("GET", "k")
	for _, arg := range []string{"", "all", "default", "everything"} {
		var text string
		if arg == "" {
			text = infoText(t, c)
		} else {
			text = infoText(t, c, arg)
		}
		for _, want := range []string{"redis_version", "used_cpu_user", "used_memory", "master_repl_offset"} {
			if !strings.Contains(text, want) {
				t.Errorf("INFO %s lacks %s", arg, want)
			}
		}
		if all := arg == "all" || arg == "everything"; all != strings.Contains(text, "rejected_calls") {
			t.Errorf("INFO %s: rejected_calls present %v, want %v", arg, !all, all)
		}
	}
	if text := infoText(t, c, "cpu", "all"); strings.Count(text, "used_cpu_user_children") != 1 {
		t.Errorf("INFO cpu all repeats a section:\n%s", text)
	}
}

func TestBytesToHuman(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1.00K", 1536: "1.50K", 5 << 20: "5.00M", 3 << 30: "3.00G", 2 << 40: "2.00T"} {
		if got := bytesToHuman(n); got != want {
			t.Errorf("bytesToHuman(%d) = %q, want %q", n, got, want)
		}
	}
}
