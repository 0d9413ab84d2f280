package e2e

// The set workload, run by TestE2ESetsUnderFaults and beside the carts and
// counters of the fault checker (TestFaultsWorkload): clients SADD and SREM
// members of a few sets through random nodes, recording every command in
// an internal/setcheck history. Each client adds members of its own
// (unique names), and removes some of those it got acknowledged; everyone
// adds and removes a few shared members. After healing, SMEMBERS must read
// the same through every node, hold every acknowledged add no remove
// could have seen, and lack every member its owner removed.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/setcheck"
)

// setLoad is the set workload's configuration.
type setLoad struct {
	procs   []*proc
	seed    uint64
	clients int
	// keys returns the sets a command may go to now (the fault checker
	// starts new ones every few seconds, keeping each set small).
	keys func() []string
	// hold is taken shared around each command (the fault checker takes
	// it to pause the clients); nil: none.
	hold *sync.RWMutex
	// timeout bounds one command: more than the few coordinated requests
	// an SADD or SREM makes, each bounded by the nodes' request timeout.
	timeout time.Duration
	start   time.Time
}

// run starts the clients, which stop at stop; wg tracks them.
func (l setLoad) run(t *testing.T, h *setcheck.History, stop <-chan struct{}, wg *sync.WaitGroup) {
	for id := range l.clients {
		rng := rand.New(rand.NewPCG(l.seed, uint64(200+id)))
		conns := make([]*redis.Client, len(l.procs))
		for i, p := range l.procs {
			conns[i] = p.Client(t, func(o *redis.Options) {
				o.ReadTimeout, o.WriteTimeout, o.DialTimeout = l.timeout, l.timeout, time.Second
				o.MaxRetries = -1 // a retry would be an update the history does not know of
			})
		}
		wg.Go(func() {
			var mine []string // owned members acknowledged and not removed: "key\x00member"
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				keys := l.keys()
				key := keys[rng.IntN(len(keys))]
				c := conns[rng.IntN(len(conns))]
				if l.hold != nil {
					l.hold.RLock()
				}
				ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
				inv := time.Now()
				switch r := rng.IntN(10); {
				case r < 4 || (r < 6 && len(mine) == 0):
					m := fmt.Sprintf("s%d-%d", id, seq)
					err := c.SAdd(ctx, key, m).Err()
					h.Add(key, m, true, inv, err)
					if err == nil {
						mine = append(mine, key+"\x00"+m)
					}
				case r < 6:
					i := rng.IntN(len(mine))
					k, m, _ := strings.Cut(mine[i], "\x00")
					n, err := c.SRem(ctx, k, m).Result()
					h.Remove(k, m, true, inv, n, err)
					if !h.Present(k, m) {
						mine = slices.Delete(mine, i, i+1)
					}
				default: // a few shared members per set, new ones every 10 s
					m := fmt.Sprintf("x%d-%d", time.Since(l.start)/(10*time.Second), rng.IntN(3))
					if r < 8 {
						h.Add(key, m, false, inv, c.SAdd(ctx, key, m).Err())
					} else {
						n, err := c.SRem(ctx, key, m).Result()
						h.Remove(key, m, false, inv, n, err)
					}
				}
				cancel()
				if l.hold != nil {
					l.hold.RUnlock()
				}
			}
		})
	}
}

// checkSets waits until SMEMBERS of every set of h reads the same through
// every node, then checks each against h, failing t for each violation,
// and logs what was checked.
func checkSets(t *testing.T, procs []*proc, h *setcheck.History, limit time.Duration) {
	t.Helper()
	st := h.Stats()
	t.Logf("sets: SADD %d sent, %d acknowledged; SREM %d sent, %d answered, %d removed a member, %d answered 0 for an acknowledged own member (the coordinator did not hold the add yet)",
		st.Adds, st.AddsAcked, st.Removes, st.RemovesAcked, st.Removed, st.MissedRemoves)
	var total setcheck.Checked
	violations := 0
	start := time.Now()
	for _, key := range h.Keys() {
		var got []string
		reads := make([]string, len(procs)) // what each node read last, for the failure's message
		done := false
		defer func() {
			if !done {
				t.Logf("SMEMBERS %s through each node, last read:\n%s", key, strings.Join(reads, "\n"))
			}
		}()
		poll.Until(t, limit, "SMEMBERS "+key+" to read the same through every node", func() bool {
			var first []string
			same := true
			for i, p := range procs {
				ms, err := p.Shared(t).SMembers(testCtx(t, 10*time.Second), key).Result()
				slices.Sort(ms)
				reads[i] = fmt.Sprintf("%s: %v %v", p.Addr(), ms, err)
				if i == 0 {
					first = ms
				}
				same = same && err == nil && slices.Equal(first, ms)
			}
			got = first
			return same
		})
		done = true
		bad, c := h.Check(key, got)
		for _, b := range bad {
			t.Error(b)
		}
		violations += len(bad)
		total.MustHave += c.MustHave
		total.MustLack += c.MustLack
		total.Unknown += c.Unknown
	}
	t.Logf("sets: %d sets read alike through all %d nodes after %v; %d members that must be there, %d that must not, %d unknown (an update failed); %d violations",
		len(h.Keys()), len(procs), time.Since(start).Round(time.Millisecond), total.MustHave, total.MustLack, total.Unknown, violations)
	if st.AddsAcked == 0 || st.Removed == 0 {
		t.Errorf("the set workload did too little: %+v", st)
	}
}

// waitTreesAgree waits until every node has run two anti-entropy rounds
// in which it repaired nothing, all over the same stretch of time: every
// key, collections' elements included (VGET cannot read those), is then
// held alike by all its home replicas.
func waitTreesAgree(t *testing.T, procs []*proc, limit time.Duration) {
	t.Helper()
	type mark struct{ rounds, repaired int }
	read := func(p *proc) (mark, bool) {
		f := info(t, p.Shared(t), "cluster")
		r, err1 := strconv.Atoi(f["anti_entropy_rounds"])
		n, err2 := strconv.Atoi(f["anti_entropy_repaired"]) // the total so far
		return mark{r, n}, err1 == nil && err2 == nil && f["anti_entropy_trees"] == "ready"
	}
	base := make([]mark, len(procs))
	for i := range base {
		base[i] = mark{-1, -1}
	}
	poll.Until(t, limit, "two anti-entropy rounds repairing nothing on every node", func() bool {
		quiet := true
		for i, p := range procs {
			m, ok := read(p)
			if !ok || m.repaired != base[i].repaired {
				base[i] = m // a repair (or the first look): count rounds from here
				quiet = false
				continue
			}
			quiet = quiet && m.rounds >= base[i].rounds+2
		}
		return quiet
	})
}
