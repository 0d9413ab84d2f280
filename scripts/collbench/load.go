package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// kind is a collection type under test: the command that adds to it and
// the command that reads one element of it.
type kind struct {
	name string // "set" or "hash"
	add  string // SADD, HSET
	read string // SISMEMBER, HGET
}

var kinds = map[string]kind{
	"set":  {"set", "SADD", "SISMEMBER"},
	"hash": {"hash", "HSET", "HGET"},
}

// target is a server under test: where to send commands, and the
// processes whose CPU time it costs (every node of a cluster).
type target struct {
	name string
	addr string
	pids []int
}

// plan is what one run measures, and its bounds.
type plan struct {
	sizes          []int
	kinds          []kind
	count          int // requests per measurement
	rounds         int
	clients        int // concurrent clients of a measurement, one request each in flight
	batch          int // members per preload command
	conns          int // preload connections per target
	window         int // preload commands in flight per connection
	value          []byte
	prefix         string
	oneKey         bool
	opTime         time.Duration // bound of one measurement
	preloadTime    time.Duration // bound of one target's preload
	timeout        time.Duration // bound of one measured request
	preloadReqTime time.Duration // bound of one preload command
	settleTime     time.Duration // bound of the wait for idle servers
	clkTck         int
	log            func(format string, args ...any)
}

// collections returns how many collections of the given size a
// measurement spreads its adds over, so that none grows by more than its
// size over all rounds (a 10-member set stays a small set); with oneKey,
// one collection takes them all.
func (p *plan) collections(size int) int {
	if p.oneKey {
		return 1
	}
	return max(1, (p.count*p.rounds+size-1)/size)
}

func (p *plan) key(k kind, size, j int) []byte {
	return []byte(p.prefix + ":" + k.name + ":" + strconv.Itoa(size) + ":" + strconv.Itoa(j))
}

// member returns the i-th preloaded member (or field) of a collection.
func member(i int) []byte { return []byte("m:" + strconv.Itoa(i)) }

// newMember returns the member (or field) that measured request i of a
// round adds: never preloaded, never added before.
func newMember(round, i int) []byte {
	return []byte("n:" + strconv.Itoa(round) + ":" + strconv.Itoa(i))
}

// cpuTicks returns the user+system CPU time of pids so far in clock ticks
// (fields 14 and 15 of /proc/PID/stat).
func cpuTicks(pids []int) (int64, error) {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0, err
		}
		// the command name, field 2, is in parentheses and may hold spaces
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
		}
		for _, x := range f[11:13] { // utime, stime: fields 14 and 15
			v, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return 0, err
			}
			total += v
		}
	}
	return total, nil
}

// settle waits until the processes of all targets together use under a
// tenth of a core over half a second (compactions and background work of
// the previous step done), bounded by settleTime; it reports whether they
// did.
func (p *plan) settle(targets []target) bool {
	var pids []int
	for _, t := range targets {
		pids = append(pids, t.pids...)
	}
	deadline := time.Now().Add(p.settleTime)
	for {
		a, err := cpuTicks(pids)
		if err != nil {
			return false
		}
		time.Sleep(500 * time.Millisecond)
		b, err := cpuTicks(pids)
		if err != nil {
			return false
		}
		if float64(b-a) <= 0.1*0.5*float64(p.clkTck) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// supports reports whether t knows k's add command (dynakv may not have
// every type yet).
func (p *plan) supports(t target, k kind) (bool, error) {
	c, err := dial(t.addr, p.timeout)
	if err != nil {
		return false, err
	}
	defer c.close()
	probe := []byte(p.prefix + ":probe:" + k.name)
	args := [][]byte{[]byte(k.add), probe, []byte("x")}
	if k.name == "hash" {
		args = append(args, p.value)
	}
	_, err = c.do(args...)
	var er errReply
	if errors.As(err, &er) && strings.Contains(strings.ToLower(string(er)), "unknown command") {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = c.do([]byte("DEL"), probe)
	return true, err
}

// preloadJob is one preload command and the reply it must get (the number
// of members it adds).
type preloadJob struct {
	args  [][]byte
	want  int64 // -1: any number (a retry)
	tries int
}

// preload fills, on t, the collections of every size to their size with
// pipelined commands of batch members each, from conns connections with
// window commands in flight on each, within preloadTime.
func (p *plan) preload(t target, k kind) error {
	total := 0
	for _, s := range p.sizes {
		total += s * p.collections(s)
	}
	jobs := make(chan preloadJob, 4*p.conns*p.window)
	deadline := time.Now().Add(p.preloadTime)
	var done atomic.Int64
	stop := make(chan struct{})
	go func() {
		defer close(jobs)
		for _, s := range p.sizes {
			for j := 0; j < p.collections(s); j++ {
				key := p.key(k, s, j)
				for lo := 0; lo < s; lo += p.batch {
					hi := min(s, lo+p.batch)
					args := [][]byte{[]byte(k.add), key}
					for i := lo; i < hi; i++ {
						args = append(args, member(i))
						if k.name == "hash" {
							args = append(args, p.value)
						}
					}
					select {
					case jobs <- preloadJob{args: args, want: int64(hi - lo)}:
					case <-stop:
						return
					}
				}
			}
		}
	}()
	errs := make(chan error, p.conns)
	var wg sync.WaitGroup
	for range p.conns {
		wg.Go(func() { errs <- p.preloadConn(t, jobs, deadline, &done) })
	}
	ticker := time.NewTicker(10 * time.Second)
	defer ticker.Stop()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	start := time.Now()
	var first error
	for {
		select {
		case err := <-errs:
			if err != nil && first == nil {
				first = err
				close(stop)
			}
			continue
		case <-ticker.C:
			p.log("preload %s %s: %d of %d members (%.0f s)", t.name, k.name, done.Load(), total, time.Since(start).Seconds())
			continue
		case <-finished:
		}
		break
	}
	for len(errs) > 0 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return fmt.Errorf("preload %s on %s: %w", k.name, t.name, first)
	}
	p.log("preload %s %s: %d members in %.1f s", t.name, k.name, done.Load(), time.Since(start).Seconds())
	return nil
}

// preloadRetries is how many times a preload command refused for want of
// replicas (NOREPLICAS: a replica's write missed the request deadline on
// an overloaded machine) is sent again. Adding members is idempotent, so a
// retry adds those the refused attempt did not.
const preloadRetries = 5

// preloadConn sends jobs on one connection, keeping window of them in
// flight, and checks each reply.
func (p *plan) preloadConn(t target, jobs <-chan preloadJob, deadline time.Time, done *atomic.Int64) error {
	c, err := dial(t.addr, p.preloadReqTime)
	if err != nil {
		return err
	}
	defer c.close()
	var inflight, retry []preloadJob
	more := true
	for {
		for (more || len(retry) > 0) && len(inflight) < p.window {
			var j preloadJob
			if len(retry) > 0 {
				j, retry = retry[0], retry[1:]
			} else if j, more = <-jobs; !more {
				break
			}
			if time.Now().After(deadline) {
				for range jobs { // let the producer finish
				}
				return fmt.Errorf("not done within %v", p.preloadTime)
			}
			c.send(j.args...)
			inflight = append(inflight, j)
		}
		if len(inflight) == 0 {
			return nil
		}
		if err := c.flush(); err != nil {
			return err
		}
		r, err := c.read()
		j := inflight[0]
		inflight = inflight[1:]
		var refused errReply
		if errors.As(err, &refused) && strings.HasPrefix(string(refused), "NOREPLICAS") && j.tries < preloadRetries {
			j.tries++
			j.want = -1 // the refused attempt may have added some
			retry = append(retry, j)
			p.log("preload %s: a command was refused (%s); sending it again (try %d)", t.name, refused, j.tries+1)
			continue
		}
		if err != nil {
			return err
		}
		if r.kind != ':' || r.n != j.want && (j.want >= 0 || r.n < 0) {
			return fmt.Errorf("a preload command added %d members, not %d (were the keys there before? use a fresh server or another -prefix)", r.n, j.want)
		}
		done.Add(r.n)
	}
}

// result is one measurement.
type result struct {
	target     string
	size       int
	op         string
	ops        int
	elapsed    time.Duration
	p50, p99   time.Duration
	cpuUs      float64 // per request; negative when unknown
	unexpected int     // replies other than the expected one
	settled    bool
}

func (r result) rate() float64 { return float64(r.ops) / r.elapsed.Seconds() }

// measure runs count requests of op ("add" or "read") of kind k against
// the collections of the given size on t from clients concurrent clients,
// each with one request in flight, within opTime.
func (p *plan) measure(t target, k kind, size int, op string, round int) (result, error) {
	res := result{target: t.name, size: size, op: k.add, cpuUs: -1}
	if op == "read" {
		res.op = k.read
	}
	ncoll := p.collections(size)
	conns := make([]*client, p.clients)
	for i := range conns {
		c, err := dial(t.addr, p.timeout)
		if err != nil {
			return res, err
		}
		defer c.close()
		conns[i] = c
	}
	var next atomic.Int64
	lat := make([][]time.Duration, p.clients)
	unexpected := make([]int, p.clients)
	errs := make([]error, p.clients)
	t0, terr := cpuTicks(t.pids)
	start := time.Now()
	deadline := start.Add(p.opTime)
	var wg sync.WaitGroup
	for ci, c := range conns {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(round), uint64(ci)))
			lat[ci] = make([]time.Duration, 0, p.count/p.clients+1)
			for {
				i := int(next.Add(1) - 1)
				if i >= p.count || time.Now().After(deadline) {
					return
				}
				var args [][]byte
				if op == "add" {
					args = [][]byte{[]byte(k.add), p.key(k, size, i%ncoll), newMember(round, i)}
					if k.name == "hash" {
						args = append(args, p.value)
					}
				} else {
					args = [][]byte{[]byte(k.read), p.key(k, size, rng.IntN(ncoll)), member(rng.IntN(size))}
				}
				s := time.Now()
				r, err := c.do(args...)
				lat[ci] = append(lat[ci], time.Since(s))
				if err != nil {
					errs[ci] = fmt.Errorf("%s: %w", args[0], err)
					return
				}
				switch {
				case k.name == "hash" && op == "read":
					if r.kind != '$' || string(r.str) != string(p.value) {
						unexpected[ci]++
					}
				case r.kind != ':' || r.n != 1:
					unexpected[ci]++
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	t1, terr2 := cpuTicks(t.pids)
	for ci := range conns {
		if errs[ci] != nil {
			return res, fmt.Errorf("%s on %s: %w", res.op, t.name, errs[ci])
		}
		res.unexpected += unexpected[ci]
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.ops = len(all)
	if res.ops == 0 {
		return res, fmt.Errorf("%s on %s: no request completed", res.op, t.name)
	}
	res.p50 = all[(len(all)-1)*50/100]
	res.p99 = all[(len(all)-1)*99/100]
	if terr == nil && terr2 == nil {
		res.cpuUs = float64(t1-t0) * 1e6 / float64(p.clkTck) / float64(res.ops)
	}
	return res, nil
}
