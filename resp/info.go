package resp

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// infoSections are INFO's sections in Redis's order, with the default set
// (all but commandstats, as in Redis).
var infoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "commandstats", "cluster", "keyspace"}

var defaultInfo = map[string]bool{"server": true, "clients": true, "memory": true, "persistence": true, "stats": true, "replication": true, "cpu": true, "cluster": true, "keyspace": true}

// PersistenceView is implemented by a NodeView that shows the state of the
// node's storage in INFO persistence (Redis's field names where one fits:
// aof_last_write_status:ok|err, ...). Without it the section is empty.
type PersistenceView interface {
	Persistence() []Field
}

func cmdInfo(c *Conn, args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		switch s := strings.ToLower(string(a)); s {
		case "all", "everything":
			for _, n := range infoSections {
				want[n] = true
			}
		case "default":
			for n := range defaultInfo {
				want[n] = true
			}
		default:
			want[s] = true
		}
	}
	if len(args) == 1 {
		want = defaultInfo
	}
	var b strings.Builder
	for _, sec := range infoSections {
		if !want[sec] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		fields, err := c.srv.infoSection(sec)
		if err != nil {
			c.fail(err)
			return
		}
		title := strings.ToUpper(sec[:1]) + sec[1:]
		if sec == "cpu" {
			title = "CPU" // as Redis writes it
		}
		b.WriteString("# " + title + "\r\n")
		for _, f := range fields {
			b.WriteString(f.Name)
			b.WriteByte(':')
			b.WriteString(f.Value)
			b.WriteString("\r\n")
		}
	}
	c.out.Verbatim(b.String())
}

func (s *Server) infoSection(sec string) ([]Field, error) {
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	switch sec {
	case "server":
		up := time.Since(s.start)
		port := ""
		if a := s.Addr(); a != "" {
			port = a[strings.LastIndexByte(a, ':')+1:]
		}
		return []Field{
			{"redis_version", redisVersion},
			{"dynakv_version", s.cfg.Version},
			{"redis_mode", "standalone"},
			{"os", runtime.GOOS + " " + runtime.GOARCH},
			{"arch_bits", "64"},
			{"go_version", runtime.Version()},
			{"process_id", itoa(int64(os.Getpid()))},
			{"run_id", s.cfg.NodeID},
			{"node_id", s.cfg.NodeID},
			{"tcp_port", port},
			{"server_time_usec", itoa(time.Now().UnixMicro())},
			{"uptime_in_seconds", itoa(int64(up.Seconds()))},
			{"uptime_in_days", itoa(int64(up.Hours() / 24))},
		}, nil
	case "clients":
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		return []Field{
			{"connected_clients", strconv.Itoa(n)},
			{"maxclients", strconv.Itoa(s.cfg.MaxClients)},
			{"blocked_clients", strconv.FormatInt(s.stats.paused.Load()+s.stats.blocked.Load(), 10)}, // commands held by CLIENT PAUSE or waiting in a blocking pop
		}, nil
	case "stats":
		st := &s.stats
		return append([]Field{
			{"total_connections_received", itoa(st.connsReceived.Load())},
			{"total_commands_processed", itoa(st.commands.Load())},
			{"total_net_input_bytes", itoa(st.netIn.Load())},
			{"total_net_output_bytes", itoa(st.netOut.Load())},
			{"rejected_connections", itoa(st.connsRejected.Load())},
			// Keys deleted when found expired (notify_expire.go: only
			// with the x notification class on).
			{"expired_keys", itoa(st.expired.Load())},
			{"keyspace_hits", itoa(st.hits.Load())},
			{"keyspace_misses", itoa(st.misses.Load())},
			{"total_error_replies", itoa(st.protoErrors.Load() + st.rejected.Load() + s.failedCalls())},
			{"protocol_errors", itoa(st.protoErrors.Load())},
		}, append(s.pubsubInfo(),
			// No MIGRATE, so no connections cached for it.
			Field{"migrate_cached_sockets", "0"})...), nil
	case "commandstats":
		var out []Field
		for name, cs := range s.cmdStat {
			calls := cs.calls.Load()
			if calls == 0 && cs.rejected.Load() == 0 {
				continue
			}
			usec := cs.usec.Load()
			out = append(out, Field{"cmdstat_" + name, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				calls, usec, float64(usec)/float64(max(calls, 1)), cs.rejected.Load(), cs.failed.Load())})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	case "keyspace":
		ctx, cancel := context.WithTimeout(context.Background(), 10*s.cfg.RequestTimeout)
		defer cancel()
		keys, expires, err := s.cfg.View.LocalKeys(ctx)
		if err != nil {
			return nil, err
		}
		if keys == 0 {
			return nil, nil
		}
		return []Field{{"db0", fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys, expires)}}, nil
	case "persistence":
		if pv, ok := s.cfg.View.(PersistenceView); ok {
			return pv.Persistence(), nil
		}
		return nil, nil
	case "cluster":
		return append([]Field{{"cluster_enabled", "0"}}, s.cfg.View.ClusterInfo()...), nil
	case "memory":
		return s.memoryInfo(), nil
	case "cpu":
		return cpuInfo(), nil
	case "replication":
		return s.replicationInfo(), nil
	}
	return nil, nil
}

func (s *Server) failedCalls() int64 {
	var n int64
	for _, cs := range s.cmdStat {
		n += cs.failed.Load()
	}
	return n
}
