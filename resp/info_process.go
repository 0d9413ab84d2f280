package resp

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// INFO memory, cpu and replication: the process's figures under Redis's
// field names, for monitoring tools (redis_exporter) and Redis's own tests,
// which read them by name.

// memSamples are the runtime metrics INFO memory reads; unlike
// runtime.ReadMemStats they do not stop the world.
var memSamples = []string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
}

// usedMemoryPeak is the largest used_memory INFO has reported.
var usedMemoryPeak atomic.Int64

func (s *Server) memoryInfo() []Field {
	samples := make([]metrics.Sample, len(memSamples))
	for i, name := range memSamples {
		samples[i].Name = name
	}
	metrics.Read(samples)
	val := func(i int) int64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(samples[i].Value.Uint64())
	}
	// Memory the runtime holds and uses: what Redis's allocator calls used.
	used := val(0) - val(1) - val(2)
	heap := val(3)
	peak := usedMemoryPeak.Load()
	for used > peak && !usedMemoryPeak.CompareAndSwap(peak, used) {
		peak = usedMemoryPeak.Load()
	}
	peak = max(peak, used)
	rss := processRSS()
	total := systemMemory()
	frag := 0.0
	if used > 0 {
		frag = float64(rss) / float64(used)
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	return []Field{
		{"used_memory", i(used)},
		{"used_memory_human", bytesToHuman(used)},
		{"used_memory_rss", i(rss)},
		{"used_memory_rss_human", bytesToHuman(rss)},
		{"used_memory_peak", i(peak)},
		{"used_memory_peak_human", bytesToHuman(peak)},
		{"used_memory_peak_perc", fmt.Sprintf("%.2f%%", 100*float64(used)/float64(max(peak, 1)))},
		{"used_memory_overhead", i(used - heap)},
		{"used_memory_dataset", i(heap)},
		{"total_system_memory", i(total)},
		{"total_system_memory_human", bytesToHuman(total)},
		{"maxmemory", "0"},
		{"maxmemory_human", "0B"},
		{"maxmemory_policy", "noeviction"},
		{"mem_fragmentation_ratio", fmt.Sprintf("%.2f", frag)},
		{"mem_allocator", "go-" + runtime.Version()},
		{"lazyfree_pending_objects", "0"},
	}
}

// processRSS is the process's resident set in bytes, from /proc; 0 where
// there is no /proc.
func processRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// systemMemory is the machine's memory in bytes (MemTotal), 0 if unknown.
func systemMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// bytesToHuman formats n as Redis does: 512B, 1.50K, 12.25M, 3.00G.
func bytesToHuman(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	default:
		return fmt.Sprintf("%.2fT", f/(1<<40))
	}
}

func cpuInfo() []Field {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	sec := func(tv syscall.Timeval) string {
		return fmt.Sprintf("%d.%06d", tv.Sec, tv.Usec)
	}
	return []Field{
		{"used_cpu_sys", sec(self.Stime)},
		{"used_cpu_user", sec(self.Utime)},
		{"used_cpu_sys_children", sec(children.Stime)},
		{"used_cpu_user_children", sec(children.Utime)},
	}
}

// replicationInfo describes the node as Redis describes a primary with no
// replicas: every dynakv node takes writes (it is the coordinator of any
// key it is asked about), and replication between nodes is the ring's, not
// Redis's primary-replica stream, so there are no offsets to report.
func (s *Server) replicationInfo() []Field {
	id := sha1.Sum([]byte(s.cfg.NodeID))
	return []Field{
		{"role", "master"},
		{"connected_slaves", "0"},
		{"master_failover_state", "no-failover"},
		{"master_replid", hex.EncodeToString(id[:])},
		{"master_replid2", strings.Repeat("0", 40)},
		{"master_repl_offset", "0"},
		{"second_repl_offset", "-1"},
		{"repl_backlog_active", "0"},
		{"repl_backlog_size", "0"},
		{"repl_backlog_first_byte_offset", "0"},
		{"repl_backlog_histlen", "0"},
	}
}
