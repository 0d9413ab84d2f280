package e2e

// The collection workloads, run by TestE2ECollectionsUnderFaults and
// beside the carts and counters of the fault checker
// (TestFaultsWorkload): clients SADD and SREM set members, HSET and HDEL
// hash fields, through random nodes, recording every command in an
// internal/collcheck history. Each client writes members of its own
// (unique names), rewrites (hashes) and removes some of those it got
// acknowledged; everyone writes and removes a few shared members. After
// healing, every collection must read the same through every node, hold
// every acknowledged write no remove could have seen (an owned hash field
// with its last value), and lack every member its owner wrote once and
// removed.

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/collcheck"
	"github.com/dynakv/dynakv/internal/poll"
)

// collClients returns a workload of kind through procs: n clients, each
// with a connection to every node that never retries a command, and
// commands bounded by timeout.
func collClients(t *testing.T, procs []*proc, kind collcheck.Kind, n int, seed uint64, timeout time.Duration, keys func() []string) collcheck.Clients {
	return collcheck.Clients{Kind: kind, N: n, Seed: seed, Name: kind.Name[:1], Keys: keys, Timeout: timeout,
		Start: time.Now(), SharedEvery: 10 * time.Second,
		Conns: func() []*redis.Client {
			conns := make([]*redis.Client, len(procs))
			for i, p := range procs {
				conns[i] = p.Client(t, func(o *redis.Options) {
					o.ReadTimeout, o.WriteTimeout, o.DialTimeout = timeout, timeout, time.Second
					o.MaxRetries = -1 // a retry would be an update the history does not know of
				})
			}
			return conns
		}}
}

// checkColls waits until every collection of h reads the same through
// every node, then checks each against h, failing t for each violation,
// and logs what was checked.
func checkColls(t *testing.T, procs []*proc, kind collcheck.Kind, h *collcheck.History, limit time.Duration) {
	t.Helper()
	st := h.Stats()
	t.Logf("%s workload: %d writes sent, %d acknowledged; %d removes sent, %d answered, %d removed a member, %d answered 0 for an acknowledged own member (the coordinator did not hold the write yet)",
		kind.Name, st.Adds, st.AddsAcked, st.Removes, st.RemovesAcked, st.Removed, st.MissedRemoves)
	conns := make([]*redis.Client, len(procs))
	for i, p := range procs {
		conns[i] = p.Shared(t)
	}
	var total collcheck.Checked
	violations := 0
	start := time.Now()
	for _, key := range h.Keys() {
		var (
			got   map[string]string
			lines []string
			done  bool
		)
		defer func() {
			if !done {
				t.Logf("%s through each node, last read:\n%s", key, strings.Join(lines, "\n"))
			}
		}()
		poll.Until(t, limit, key+" to read the same through every node", func() bool {
			var same bool
			got, same, lines = kind.Agree(testCtx(t, 10*time.Second), conns, key)
			return same
		})
		done = true
		bad, c := h.Check(key, got)
		for _, b := range bad {
			t.Error(b)
		}
		violations += len(bad)
		total.Add(c)
	}
	t.Logf("%s workload: %d collections read alike through all %d nodes after %v; %d members that must be there (%d values compared), %d that must not, %d unknown (an update failed); %d violations",
		kind.Name, len(h.Keys()), len(procs), time.Since(start).Round(time.Millisecond), total.MustHave, total.Values, total.MustLack, total.Unknown, violations)
	if st.AddsAcked == 0 || st.Removed == 0 {
		t.Errorf("the %s workload did too little: %+v", kind.Name, st)
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
