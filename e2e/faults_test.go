package e2e

// The fault-injection workload checker: the property "no acknowledged write
// is lost" (DESIGN.md §2.1), shown the way Jepsen shows it. Concurrent
// clients add unique items to shopping carts through random nodes of a
// 5-node cluster of the real binary (N=3, R=2, W=2) with read-merge-write
// (VGET, union of the siblings' items plus a new one, VSET with the
// context), recording every acknowledged add, while a seeded random
// schedule kills (kill -9) and restarts nodes, pauses them (SIGSTOP /
// SIGCONT), wipes one and restarts it empty, and, where the test can make
// network namespaces (root, iproute2), partitions the cluster 2 | 3 (both
// sides taking writes) and 1 | 4. After the faults heal, the
// cluster must converge without client reads, and every acknowledged item
// must be in the merged cart read through every node, with every home
// replica's own copy identical. Beside the carts, counter clients INCRBY a
// few keys through random nodes; after healing every node must read each
// counter at one value between the increments acknowledged and those
// attempted (an increment that got no reply may have been applied). And
// set and hash clients SADD/SREM members and HSET/HDEL fields
// (faults_colls_test.go); after healing every node must read each
// collection alike, with every acknowledged write no remove could have
// seen and without every member its owner wrote once and removed.
//
// The short run is part of `go test ./...` (not of `go test -short`); a long
// one, from the module root, is scripts/soak.sh 30m, or:
//
//	DYNAKV_FAULTS_DURATION=30m go test -run TestFaultsWorkload -timeout 40m -v ./e2e/
//
// DYNAKV_FAULTS_SEED replays a schedule (the test prints its seed).

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/collcheck"
	"github.com/dynakv/dynakv/internal/poll"

	"github.com/redis/go-redis/v9"
)

// faultKind is one kind of fault of the schedule.
type faultKind string

const (
	faultNone  faultKind = "healthy (between faults)"
	faultKill  faultKind = "kill -9 + restart"
	faultPause faultKind = "SIGSTOP + SIGCONT"
	faultWipe  faultKind = "wipe + restart empty"
	faultSplit faultKind = "partition 2 | 3"
	faultAlone faultKind = "partition 1 | 4"
)

// event is one fault of the schedule: at what time, which node, how long.
type event struct {
	at   time.Duration
	kind faultKind
	node int
	hold time.Duration
}

// faultStats counts the workload's adds during one kind of fault.
type faultStats struct {
	attempts, acked int
}

// cartWorkload is the clients' shared record.
type cartWorkload struct {
	mu       sync.Mutex
	acked    map[string][]string // cart -> items acknowledged
	perFault map[faultKind]*faultStats
	current  faultKind
	siblings map[int]int // versions seen per read (4 = 4 or more) -> reads
}

func (w *cartWorkload) setFault(k faultKind) {
	w.mu.Lock()
	w.current = k
	w.mu.Unlock()
}

func (w *cartWorkload) record(cart, item string, ok bool, versions int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.perFault[w.current]
	if st == nil {
		st = &faultStats{}
		w.perFault[w.current] = st
	}
	st.attempts++
	if ok {
		st.acked++
		w.acked[cart] = append(w.acked[cart], item)
	}
	if versions >= 0 {
		w.siblings[min(versions, 4)]++
	}
}

// items returns the union of the comma-separated items of the siblings.
func items(siblings []string) []string {
	set := map[string]bool{}
	for _, s := range siblings {
		for _, it := range strings.Split(s, ",") {
			if it != "" {
				set[it] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return d
}

func TestFaultsWorkload(t *testing.T) {
	dynakvOnly(t)
	duration := envDuration(t, "DYNAKV_FAULTS_DURATION", 60*time.Second)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DYNAKV_FAULTS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("DYNAKV_FAULTS_SEED=%q: %v", s, err)
		}
	}
	t.Logf("fault schedule seed %d (replay with DYNAKV_FAULTS_SEED=%d), fault phase %v", seed, seed, duration)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	start := time.Now()

	flags := []string{"--anti-entropy-interval", "500ms", "--request-timeout", "1s"}
	kinds := []faultKind{faultKill, faultPause, faultKill, faultPause, faultWipe}
	var procs []*proc
	lab, err := newNetLab(t, 5)
	if err != nil {
		t.Logf("NETWORK PARTITIONS SKIPPED: they need network namespaces (%v); the other faults run on 127.0.0.1", err)
		procs = startCluster(t, 5, flags...)
	} else {
		procs = startLabCluster(t, lab, flags...)
		kinds = append(kinds, faultSplit, faultSplit, faultAlone)
	}
	// The clients share carts generation by generation: a new set of carts
	// every 15 s keeps each cart's value small over a long run.
	const carts, clients = 16, 8
	cartGen := func() int { return int(time.Since(start) / (15 * time.Second)) }
	w := &cartWorkload{acked: map[string][]string{}, perFault: map[faultKind]*faultStats{}, current: faultNone, siblings: map[int]int{}}

	// The clients: read-merge-write adds of unique items through random
	// nodes, until stop.
	stop := make(chan struct{})
	var hold sync.RWMutex // clients hold it shared per add; the schedule takes it to pause them
	var wg sync.WaitGroup
	for id := range clients {
		crng := rand.New(rand.NewPCG(seed, uint64(id)+1))
		conns := make([]*redis.Client, len(procs))
		for i, p := range procs {
			conns[i] = p.Client(t, func(o *redis.Options) {
				o.ReadTimeout, o.WriteTimeout, o.DialTimeout = 2*time.Second, 2*time.Second, time.Second
				o.MaxRetries = -1 // a retried VSET could be a second write; the checker wants each once
			})
		}
		wg.Go(func() {
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				cart := fmt.Sprintf("cart:%d:%d", cartGen(), crng.IntN(carts))
				item := fmt.Sprintf("c%d-%d", id, seq)
				c := conns[crng.IntN(len(conns))]
				hold.RLock()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				tok, sibs, err := vgetValues(ctx, c, cart)
				if err != nil {
					cancel()
					hold.RUnlock()
					w.record(cart, item, false, -1)
					continue
				}
				value := strings.Join(append(items(sibs), item), ",")
				err = c.Do(ctx, "VSET", cart, tok, value).Err()
				cancel()
				hold.RUnlock()
				w.record(cart, item, err == nil, len(sibs))
			}
		})
	}
	// The counter clients: INCRBY of small positive amounts on a few keys
	// through random nodes, until stop. An increment that got no reply
	// may or may not have been applied: after healing, every node must
	// read a value between what was acknowledged and what was attempted.
	const counterKeys, counterClients = 4, 2
	var ctrMu sync.Mutex
	ctrAcked, ctrTried := make([]int64, counterKeys), make([]int64, counterKeys)
	keys := make([]string, counterKeys)
	for i := range keys {
		keys[i] = fmt.Sprint("counter:", i)
	}
	for id := range counterClients {
		crng := rand.New(rand.NewPCG(seed, uint64(100+id)))
		conns := make([]*redis.Client, len(procs))
		for i, p := range procs {
			conns[i] = p.Client(t, func(o *redis.Options) {
				o.ReadTimeout, o.WriteTimeout, o.DialTimeout = 2*time.Second, 2*time.Second, time.Second
				o.MaxRetries = -1 // a retry could apply an increment twice
			})
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				k, d := crng.IntN(counterKeys), int64(1+crng.IntN(5))
				c := conns[crng.IntN(len(conns))]
				hold.RLock()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				err := c.IncrBy(ctx, keys[k], d).Err()
				cancel()
				hold.RUnlock()
				ctrMu.Lock()
				ctrTried[k] += d
				if err == nil {
					ctrAcked[k] += d
				}
				ctrMu.Unlock()
			}
		})
	}
	// The set and hash clients (faults_colls_test.go): SADD/SREM and
	// HSET/HDEL through random nodes, on collections of their own
	// generation, as the carts.
	sets, hashes := collcheck.New(), collcheck.New()
	for i, l := range []struct {
		kind collcheck.Kind
		h    *collcheck.History
	}{{collcheck.Set, sets}, {collcheck.Hash, hashes}} {
		cl := collClients(t, procs, l.kind, 2, seed+uint64(300+i), 3*time.Second, func() []string {
			return []string{fmt.Sprint(l.kind.Name, ":", cartGen(), ":0"), fmt.Sprint(l.kind.Name, ":", cartGen(), ":1")}
		})
		cl.Hold = &hold
		cl.Run(l.h, stop, &wg)
	}
	converged := func(limit time.Duration) {
		waitConverged(t, procs, append(w.carts(), keys...), limit)
		waitTreesAgree(t, procs, limit) // the collections' elements too, which VGET cannot read
	}
	// The fault schedule: one fault at a time on a random node, each
	// followed by a healthy pause.
	var schedule []event
	for time.Since(start) < duration {
		ev := event{at: time.Since(start), kind: kinds[rng.IntN(len(kinds))], node: rng.IntN(len(procs)),
			hold: time.Duration(1000+rng.IntN(3000)) * time.Millisecond}
		schedule = append(schedule, ev)
		t.Logf("t=%5.1fs  %-22s node-%d for %v", ev.at.Seconds(), ev.kind, ev.node+1, ev.hold.Round(time.Millisecond))
		p := procs[ev.node]
		w.setFault(ev.kind)
		switch ev.kind {
		case faultKill:
			p.Kill9()
			time.Sleep(ev.hold) // the fault lasts this long: a schedule, not synchronisation
			p.Restart()
		case faultPause:
			if err := syscall.Kill(p.PID(), syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(ev.hold)
			if err := syscall.Kill(p.PID(), syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
		case faultWipe:
			// Only a converged cluster may lose a replica's data: an add
			// acknowledged by this node and one other must reach its third
			// replica first, or one more fault could leave it nowhere.
			hold.Lock() // the clients pause while the replicas catch up
			converged(60 * time.Second)
			hold.Unlock()
			p.Wipe()
			time.Sleep(ev.hold)
			p.Restart()
		case faultSplit, faultAlone:
			// node ev.node and, for a 2 | 3 split, one more on one side
			side := []int{ev.node}
			if ev.kind == faultSplit {
				side = append(side, (ev.node+1+rng.IntN(len(procs)-1))%len(procs))
			}
			lab.partition(side)
			time.Sleep(ev.hold)
			lab.heal()
		}
		w.setFault(faultNone)
		waitClusterAlive(t, procs, len(procs))
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond) // healthy, with load
	}
	close(stop)
	wg.Wait()

	// Heal, converge without client reads, check.
	healed := time.Now()
	converged(120 * time.Second)
	converge := time.Since(healed)
	lost := 0
	total := 0
	for cart, acked := range w.acked {
		total += len(acked)
		for _, p := range procs {
			_, sibs, err := vgetValues(testCtx(t, 10*time.Second), p.Shared(t), cart)
			if err != nil {
				t.Fatalf("VGET %s through %s after healing: %v", cart, p.Addr(), err)
			}
			have := items(sibs)
			for _, it := range acked {
				if _, found := slices.BinarySearch(have, it); !found {
					lost++
					t.Errorf("acknowledged add %s of %s missing through %s", it, cart, p.Addr())
				}
			}
		}
	}
	report(t, w, lost, total, converge, schedule)
	// Every node reads each counter at one value within its bounds.
	for i, k := range keys {
		var vals []int64
		for _, p := range procs {
			v, err := p.Shared(t).Get(testCtx(t, 10*time.Second), k).Int64()
			if err != nil && err != redis.Nil {
				t.Fatalf("GET %s through %s after healing: %v", k, p.Addr(), err)
			}
			vals = append(vals, v)
		}
		t.Logf("%s: acknowledged %d, attempted %d, read %v", k, ctrAcked[i], ctrTried[i], vals)
		for _, v := range vals {
			if v != vals[0] || v < ctrAcked[i] || v > ctrTried[i] {
				t.Errorf("%s reads %v through the nodes: want one value between %d (acknowledged) and %d (attempted) (seed %d)", k, vals, ctrAcked[i], ctrTried[i], seed)
				break
			}
		}
	}
	checkColls(t, procs, collcheck.Set, sets, 60*time.Second)
	checkColls(t, procs, collcheck.Hash, hashes, 60*time.Second)
	if lost > 0 {
		t.Fatalf("%d acknowledged adds lost (seed %d)", lost, seed)
	}
	if total == 0 {
		t.Fatal("no add was acknowledged")
	}
}

// carts returns every cart the clients acknowledged an add to.
func (w *cartWorkload) carts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.acked))
}

// waitConverged waits until every cart's home replicas hold identical own
// copies, and no hints are pending.
func waitConverged(t *testing.T, procs []*proc, carts []string, limit time.Duration) {
	t.Helper()
	byID := map[string]*proc{}
	for i, p := range procs {
		byID[fmt.Sprint("node-", i+1)] = p
	}
	poll.Until(t, limit, "the replicas to converge", func() bool {
		if hintsPending(t, procs) != 0 {
			return false
		}
		c := procs[0].Shared(t)
		for _, cart := range carts {
			var first []string
			for j, h := range homesOf(t, c, cart) {
				_, sibs, err := vgetValues(testCtx(t, 5*time.Second), byID[h].Shared(t), cart, "LOCAL")
				if err != nil {
					return false
				}
				slices.Sort(sibs)
				if j == 0 {
					first = sibs
				} else if !slices.Equal(first, sibs) {
					return false
				}
			}
		}
		return true
	})
}

// report prints the checker's table.
func report(t *testing.T, w *cartWorkload, lost, total int, converge time.Duration, schedule []event) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "\n| fault | faults | adds tried | adds acknowledged | success |\n|---|---|---|---|---|\n")
	count := map[faultKind]int{}
	for _, ev := range schedule {
		count[ev.kind]++
	}
	for _, k := range []faultKind{faultNone, faultKill, faultPause, faultWipe, faultSplit, faultAlone} {
		st := w.perFault[k]
		if st == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.1f%% |\n", k, count[k], st.attempts, st.acked, 100*float64(st.acked)/float64(max(st.attempts, 1)))
	}
	reads := 0
	for _, n := range w.siblings {
		reads += n
	}
	fmt.Fprintf(&b, "\nacknowledged adds %d, lost %d; converged %v after healing, without client reads\n", total, lost, converge.Round(time.Millisecond))
	fmt.Fprintf(&b, "versions seen per read: ")
	for v := 0; v <= 4; v++ {
		label := strconv.Itoa(v)
		if v == 4 {
			label = "4+"
		}
		fmt.Fprintf(&b, "%s: %.2f%%  ", label, 100*float64(w.siblings[v])/float64(max(reads, 1)))
	}
	t.Log(b.String())
}
