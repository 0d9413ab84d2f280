package e2e

// kill -9 durability (DESIGN.md §2 property 1, single node): every write acknowledged before
// the crash is readable after a restart on the same data directory.

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ackedSet is one acknowledged SET.
type ackedSet struct{ key, val string }

// ackedVSet is one acknowledged VSET with an empty context.
type ackedVSet struct{ key, val string }

func TestE2EKill9Durability(t *testing.T) {
	dynakvOnly(t)
	const (
		writers   = 4
		maxAcks   = 20000            // stop writing after this many acknowledged writes
		killAfter = 5000             // kill -9 once this many writes were acknowledged
		loadLimit = 10 * time.Second // and never write for longer than this
	)
	n := startNode(t)

	var (
		acks     atomic.Int64
		killOnce sync.Once
		killNow  = make(chan struct{})
		wg       sync.WaitGroup
		sets     = make([][]ackedSet, writers)
		vsets    = make([][]ackedVSet, writers)
		errs     = make([]error, writers)
	)
	ack := func() {
		if acks.Add(1) == killAfter {
			killOnce.Do(func() { close(killNow) })
		}
	}
	loadCtx := testCtx(t, 3*loadLimit)
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// No retries: an error means the write is unacknowledged and the writer stops.
			rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1, PoolSize: 1})
			defer rdb.Close()
			ctx := loadCtx
			for i := 0; acks.Load() < maxAcks && time.Since(start) < loadLimit; i++ {
				key := fmt.Sprintf("crash:w%d:%d", w, i)
				if i%10 == 0 {
					for _, v := range []string{"a", "b"} {
						if err := rdb.Do(ctx, "VSET", key, "", v).Err(); err != nil {
							errs[w] = fmt.Errorf("VSET %s %s: %w", key, v, err)
							return
						}
						vsets[w] = append(vsets[w], ackedVSet{key, v})
						ack()
					}
					continue
				}
				val := fmt.Sprintf("val-%d-%d", w, i)
				if err := rdb.Set(ctx, key, val, 0).Err(); err != nil {
					errs[w] = fmt.Errorf("SET %s: %w", key, err)
					return
				}
				sets[w] = append(sets[w], ackedSet{key, val})
				ack()
			}
		}()
	}

	select {
	case <-killNow:
		n.Kill9()
		t.Logf("killed -9 after %d acknowledged writes, %v into the load", acks.Load(), time.Since(start).Round(time.Millisecond))
	case <-time.After(2 * loadLimit):
		t.Fatalf("only %d writes acknowledged in %v; never reached %d", acks.Load(), 2*loadLimit, killAfter)
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Logf("writer %d stopped at: %v", w, err)
		}
	}
	if acks.Load() >= maxAcks {
		t.Errorf("writers reached %d acknowledged writes after the kill", acks.Load())
	}

	n.Restart()
	rdb := n.Client(t)
	ctx := testCtx(t, 5*time.Minute)

	var allSets []ackedSet
	var allVSets []ackedVSet
	for w := range writers {
		allSets = append(allSets, sets[w]...)
		allVSets = append(allVSets, vsets[w]...)
	}
	t.Logf("checking %d acknowledged SETs and %d acknowledged VSETs", len(allSets), len(allVSets))

	lost := 0
	for chunk := range slices.Chunk(allSets, 1000) {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(chunk))
		for i, s := range chunk {
			cmds[i] = pipe.Get(ctx, s.key)
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			t.Fatalf("reading back after restart: %v", err)
		}
		for i, s := range chunk {
			if got, err := cmds[i].Result(); got != s.val {
				if lost++; lost <= 10 {
					t.Errorf("acknowledged SET %s = %q lost after kill -9: GET = %q, %v", s.key, s.val, got, err)
				}
			}
		}
	}

	want := map[string][]string{}
	for _, v := range allVSets {
		want[v.key] = append(want[v.key], v.val)
	}
	keys := slices.Sorted(maps.Keys(want))
	for chunk := range slices.Chunk(keys, 500) {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(chunk))
		for i, k := range chunk {
			cmds[i] = pipe.Do(ctx, "VGET", k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("VGET after restart: %v", err)
		}
		for i, k := range chunk {
			res, err := cmds[i].Slice()
			var have []string
			if err == nil && len(res) > 1 {
				for _, r := range res[1:] {
					if s, ok := r.(string); ok {
						have = append(have, s)
					}
				}
			}
			for _, v := range want[k] {
				if !slices.Contains(have, v) {
					if lost++; lost <= 20 {
						t.Errorf("acknowledged VSET %s \"\" %s lost after kill -9: VGET = %v, %v", k, v, res, err)
					}
				}
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost in total", lost)
	}
}

// TestE2ERestartKeepsData: after a graceful stop (SIGTERM) and a restart on the same data
// directory, values, deletions and expiry times are as they were.
func TestE2ERestartKeepsData(t *testing.T) {
	dynakvOnly(t)
	n := startNode(t)
	ctx := testCtx(t, time.Minute)
	rdb := n.Client(t)

	pipe := rdb.Pipeline()
	for i := range 500 {
		pipe.Set(ctx, fmt.Sprintf("keep:%d", i), fmt.Sprintf("v%d", i), 0)
	}
	pipe.Set(ctx, "keep:ttl", "t", time.Hour)
	pipe.Set(ctx, "keep:deleted", "d", 0)
	_, err := pipe.Exec(ctx)
	if err != nil {
		t.Fatalf("SETs: %v", err)
	}
	if cnt := rdb.Del(ctx, "keep:deleted").Val(); cnt != 1 {
		t.Fatalf("DEL = %d", cnt)
	}
	if err := rdb.Do(ctx, "VSET", "keep:sib", "", "a").Err(); err != nil {
		t.Fatalf("VSET: %v", err)
	}
	if err := rdb.Do(ctx, "VSET", "keep:sib", "", "b").Err(); err != nil {
		t.Fatalf("VSET: %v", err)
	}

	n.Stop()
	n.Restart()
	rdb = n.Client(t)

	pipe = rdb.Pipeline()
	gets := make([]*redis.StringCmd, 500)
	for i := range gets {
		gets[i] = pipe.Get(ctx, fmt.Sprintf("keep:%d", i))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("GETs after restart: %v", err)
	}
	bad := 0
	for i, c := range gets {
		if c.Val() != fmt.Sprintf("v%d", i) {
			if bad++; bad <= 5 {
				t.Errorf("keep:%d after restart = %q, %v", i, c.Val(), c.Err())
			}
		}
	}
	if ttl := rdb.TTL(ctx, "keep:ttl").Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL after restart = %v, want about 1h", ttl)
	}
	if _, err := rdb.Get(ctx, "keep:deleted").Result(); err != redis.Nil {
		t.Errorf("deleted key after restart: %v, want redis.Nil (no resurrection)", err)
	}
	if _, vals := vget(t, rdb, "keep:sib"); !slices.Equal(vals, []string{"a", "b"}) {
		t.Errorf("siblings after restart = %q, want [a b]", vals)
	}
}
