// Command collbench measures how collection updates and reads scale with
// the collection's size: for each target (dynakv, redis-server, ... in the
// same run), each type (set, hash) and each size (default 10, 10k and 1M
// members), it preloads collections to the size with pipelined commands
// of many members each, then measures adds of new members (SADD, HSET) and
// reads of present ones (SISMEMBER, HGET) from a few concurrent clients,
// each with one request in flight, and the CPU time the target's server
// processes spent per request (/proc/PID/stat). It prints a markdown table
// of ops/s, p50, p99 and CPU µs per request, and one of each size's figures
// against the smallest size's.
//
// scripts/collections-bench.sh starts the servers and runs it; by hand:
//
//	go run ./scripts/collbench -target redis,127.0.0.1:6379,PID -target dynakv,127.0.0.1:7001,PID1+PID2+PID3
//
// Small sizes spread the measured adds over several collections, so that
// none more than doubles in size over the run (a 10-member set stays a
// small set, in Redis a listpack); -one-key puts them all in one.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

type targetsFlag []target

func (f *targetsFlag) String() string { return fmt.Sprint(*f) }

// Set parses NAME,HOST:PORT,PID[+PID...].
func (f *targetsFlag) Set(v string) error {
	parts := strings.Split(v, ",")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("want NAME,HOST:PORT,PID[+PID...], not %q", v)
	}
	t := target{name: parts[0], addr: parts[1]}
	for _, s := range strings.Split(parts[2], "+") {
		pid, err := strconv.Atoi(s)
		if err != nil || pid <= 0 {
			return fmt.Errorf("bad pid %q in %q", s, v)
		}
		t.pids = append(t.pids, pid)
	}
	*f = append(*f, t)
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "collbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var targets targetsFlag
	fs.Var(&targets, "target", "a server to measure: NAME,HOST:PORT,PID[+PID...] (the PIDs whose CPU time it costs); repeat for each")
	sizes := fs.String("sizes", "10,10000,1000000", "collection sizes (members), comma-separated")
	types := fs.String("types", "set,hash", "collection types: set, hash (a type a target does not know is skipped for it)")
	p := &plan{}
	fs.IntVar(&p.count, "count", 50000, "requests per measurement")
	fs.IntVar(&p.rounds, "rounds", 1, "rounds (the table shows each measurement's median round by ops/s)")
	fs.IntVar(&p.clients, "clients", 4, "concurrent clients of a measurement, one request in flight each")
	fs.IntVar(&p.batch, "batch", 1000, "members per preload command")
	fs.IntVar(&p.conns, "preload-conns", 8, "preload connections per target")
	fs.IntVar(&p.window, "preload-window", 4, "preload commands in flight per connection")
	valueSize := fs.Int("value-size", 16, "bytes of a hash field's value")
	fs.StringVar(&p.prefix, "prefix", "cb", "key prefix")
	fs.BoolVar(&p.oneKey, "one-key", false, "measure the adds of every size on one collection (it grows by -count per round)")
	fs.DurationVar(&p.opTime, "op-time", 60*time.Second, "bound of one measurement (fewer requests if reached)")
	fs.DurationVar(&p.preloadTime, "preload-time", 15*time.Minute, "bound of one target's preload of one type")
	fs.DurationVar(&p.timeout, "timeout", 30*time.Second, "bound of one measured request")
	fs.DurationVar(&p.preloadReqTime, "preload-request-time", 5*time.Minute, "bound of one preload command (on dynakv, its members are added one after another)")
	fs.DurationVar(&p.settleTime, "settle-time", 30*time.Second, "bound of the wait for idle servers before each measurement")
	fs.IntVar(&p.clkTck, "clk-tck", 100, "clock ticks per second of /proc/PID/stat (getconf CLK_TCK)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(targets) == 0 {
		return fmt.Errorf("no -target")
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad size %q", s)
		}
		p.sizes = append(p.sizes, n)
	}
	slices.Sort(p.sizes)
	for _, s := range strings.Split(*types, ",") {
		k, ok := kinds[strings.TrimSpace(s)]
		if !ok {
			return fmt.Errorf("unknown type %q (set, hash)", s)
		}
		p.kinds = append(p.kinds, k)
	}
	if p.count <= 0 || p.rounds <= 0 || p.clients <= 0 || p.batch <= 0 || p.conns <= 0 || p.window <= 0 || *valueSize < 0 || p.clkTck <= 0 {
		return fmt.Errorf("-count, -rounds, -clients, -batch, -preload-conns, -preload-window and -clk-tck must be positive")
	}
	p.value = []byte(strings.Repeat("v", *valueSize))
	p.log = func(format string, args ...any) { fmt.Fprintf(stderr, "collbench: "+format+"\n", args...) }

	// which target runs which type
	supported := map[string]map[string]bool{}
	for _, t := range targets {
		supported[t.name] = map[string]bool{}
		for _, k := range p.kinds {
			ok, err := p.supports(t, k)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			supported[t.name][k.name] = ok
			if !ok {
				p.log("%s does not know %s: no %s figures for it", t.name, k.add, k.name)
			}
		}
	}
	for _, t := range targets {
		for _, k := range p.kinds {
			if supported[t.name][k.name] {
				if err := p.preload(t, k); err != nil {
					return err
				}
			}
		}
	}

	rows := map[string][]result{} // by target, size, op
	var order []string
	unsettled := 0
	for round := range p.rounds {
		for _, size := range p.sizes {
			for _, k := range p.kinds {
				for _, op := range []string{"add", "read"} {
					ts := slices.Clone(targets)
					if round%2 == 1 {
						slices.Reverse(ts)
					}
					for _, t := range ts {
						if !supported[t.name][k.name] {
							continue
						}
						settled := p.settle(targets)
						if !settled {
							unsettled++
						}
						r, err := p.measure(t, k, size, op, round)
						if err != nil {
							return err
						}
						r.settled = settled
						p.log("round %d %s %d %s: %.0f ops/s p50 %s p99 %s cpu %.1f µs/op%s", round+1, t.name, size, r.op,
							r.rate(), ms(r.p50), ms(r.p99), r.cpuUs, unexpectedNote(r))
						id := fmt.Sprintf("%s\x00%d\x00%s", t.name, size, r.op)
						if _, ok := rows[id]; !ok {
							order = append(order, id)
						}
						rows[id] = append(rows[id], r)
					}
				}
			}
		}
	}
	var med []result
	for _, id := range order {
		rs := rows[id]
		slices.SortFunc(rs, func(a, b result) int {
			switch {
			case a.rate() < b.rate():
				return -1
			case a.rate() > b.rate():
				return 1
			}
			return 0
		})
		med = append(med, rs[(len(rs)-1)/2])
	}
	// by op (in the order measured), then size, then target (as given)
	rank := func(r result) (int, int) {
		op := 0
		for i, k := range p.kinds {
			if r.op == k.add {
				op = 2 * i
			} else if r.op == k.read {
				op = 2*i + 1
			}
		}
		t := slices.IndexFunc(targets, func(t target) bool { return t.name == r.target })
		return op, t
	}
	slices.SortStableFunc(med, func(a, b result) int {
		ao, at := rank(a)
		bo, bt := rank(b)
		if ao != bo {
			return ao - bo
		}
		if a.size != b.size {
			return a.size - b.size
		}
		return at - bt
	})
	printTables(stdout, p, med, unsettled)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func unexpectedNote(r result) string {
	if r.unexpected == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d unexpected replies)", r.unexpected)
}

func cpu(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v)
}

func printTables(w io.Writer, p *plan, med []result, unsettled int) {
	fmt.Fprintf(w, "\n%d requests per measurement from %d clients (one request in flight each), median of %d round(s) by ops/s;\n", p.count, p.clients, p.rounds)
	fmt.Fprintf(w, "adds are of new members (fields: %d-byte values), reads of present ones; latencies in ms;\n", len(p.value))
	fmt.Fprintf(w, "cpu: user+system time of the target's server processes per request, in µs (all nodes of a cluster)\n")
	var spread []string
	for _, s := range p.sizes {
		if n := p.collections(s); n > 1 {
			spread = append(spread, fmt.Sprintf("%d: %d collections", s, n))
		}
	}
	if len(spread) > 0 {
		fmt.Fprintf(w, "collections per size, each growing by at most its size over the run (%s; larger sizes: one)\n", strings.Join(spread, ", "))
	}
	if unsettled > 0 {
		fmt.Fprintf(w, "note: before %d measurement(s) the servers did not fall idle within %v\n", unsettled, p.settleTime)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| system | members | op | ops/s | p50 | p99 | cpu-µs/op |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range med {
		fmt.Fprintf(w, "| %s | %d | %s | %.0f | %s | %s | %s |%s\n", r.target, r.size, r.op, r.rate(), ms(r.p50), ms(r.p99), cpu(r.cpuUs), unexpectedNote(r))
	}
	if len(p.sizes) < 2 {
		return
	}
	small, large := p.sizes[0], p.sizes[len(p.sizes)-1]
	fmt.Fprintf(w, "\n%d members against %d (the %d-member figure over the %d-member one; within 2x:\nops/s at least 0.5, latency and cpu at most 2)\n\n", large, small, large, small)
	fmt.Fprintln(w, "| system | op | ops/s | p50 | p99 | cpu-µs/op |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for i, a := range med {
		if a.size != small {
			continue
		}
		for _, b := range med[i+1:] {
			if b.target != a.target || b.op != a.op || b.size != large {
				continue
			}
			ratio := func(x, y float64) string {
				if y <= 0 || x < 0 {
					return "n/a"
				}
				return fmt.Sprintf("%.2f", x/y)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", a.target, a.op, ratio(b.rate(), a.rate()),
				ratio(float64(b.p50), float64(a.p50)), ratio(float64(b.p99), float64(a.p99)), ratio(b.cpuUs, a.cpuUs))
		}
	}
}
