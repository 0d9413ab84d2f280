package node

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// Sorted sets across a real cluster: range reads through the score index
// of each replica, settled by the coordinator when replicas disagree.

// zsetModel is what a sorted set must read as: members and scores.
type zsetModel map[string]float64

// sorted returns the model's members in Redis's order (score, member).
func (z zsetModel) sorted() []redis.Z {
	var out []redis.Z
	for m, s := range z {
		out = append(out, redis.Z{Member: m, Score: s})
	}
	slices.SortFunc(out, func(a, b redis.Z) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Member.(string), b.Member.(string)))
	})
	return out
}

// TestClusterZSetRangeWhileAReplicaLags: a sorted set is updated (scores
// moved, members added and removed) through one home while another home
// cannot hear it (the third hears both); range reads coordinated by the
// lagging home, whose own index still orders the old scores, answer the
// new state: the coordinator reads the index of two homes and settles the
// members they disagree on at quorum.
func TestClusterZSetRangeWhileAReplicaLags(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	mc.buildTrees()
	cl := mc.serveRESP()
	const key = "board"
	homes := mc.homes(key)
	writer, lagging := homes[0], homes[2]
	ctx, cancel := cmdCtx()
	defer cancel()
	model := zsetModel{}
	var zs []redis.Z
	for i := range 30 {
		m := fmt.Sprintf("m%02d", i)
		model[m] = float64(i)
		zs = append(zs, redis.Z{Member: m, Score: float64(i)})
	}
	must(t, cl[writer].ZAdd(ctx, key, zs...))
	mc.setConvergedZ(key, model)

	mc.net.Partition([]string{peerAddrOf(writer)}, []string{peerAddrOf(lagging)})
	// Moves across the set, new members, removals: the lagging home
	// misses all of them.
	for i := 0; i < 30; i += 3 {
		m := fmt.Sprintf("m%02d", i)
		model[m] = float64(100 - i)
		must(t, cl[writer].ZAdd(ctx, key, redis.Z{Member: m, Score: model[m]}))
	}
	for i := 30; i < 34; i++ {
		m := fmt.Sprintf("m%02d", i)
		model[m] = -float64(i)
		must(t, cl[writer].ZAdd(ctx, key, redis.Z{Member: m, Score: model[m]}))
	}
	for _, m := range []string{"m01", "m02", "m10"} {
		delete(model, m)
		if n := must(t, cl[writer].ZRem(ctx, key, m)); n != 1 {
			t.Fatalf("ZREM %s = %d", m, n)
		}
	}
	elem := func(m string) string { return string(ring.ElementKey(replication.ZSetType, []byte(key), []byte(m))) }
	if f, _ := replication.ScoreOf(mc.own(lagging, elem("m03"))); f != 3 {
		t.Fatalf("the lagging home already has m03 at %v", f)
	}
	want := model.sorted()
	check := func(via string) {
		t.Helper()
		got, err := cl[via].ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("ZRANGE 0 -1 through %s = %v, %v\nwant %v", via, got, err, want)
		}
		top, err := cl[via].ZRevRangeWithScores(ctx, key, 0, 2).Result()
		rev := slices.Clone(want)
		slices.Reverse(rev)
		if err != nil || !slices.Equal(top, rev[:3]) {
			t.Fatalf("ZREVRANGE 0 2 through %s = %v, %v; want %v", via, top, err, rev[:3])
		}
		page, err := cl[via].ZRange(ctx, key, 5, 9).Result()
		if err != nil || !slices.Equal(page, members(want[5:10])) {
			t.Fatalf("ZRANGE 5 9 through %s = %v, %v; want %v", via, page, err, members(want[5:10]))
		}
		byScore, err := cl[via].ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: "(5", Max: "80"}).Result()
		var wantScore []string
		for _, z := range want {
			if z.Score > 5 && z.Score <= 80 {
				wantScore = append(wantScore, z.Member.(string))
			}
		}
		if err != nil || !slices.Equal(byScore, wantScore) {
			t.Fatalf("ZRANGEBYSCORE (5 80 through %s = %v, %v; want %v", via, byScore, err, wantScore)
		}
		if n, err := cl[via].ZCard(ctx, key).Result(); err != nil || n != int64(len(want)) {
			t.Fatalf("ZCARD through %s = %d, %v; want %d", via, n, err, len(want))
		}
		if n, err := cl[via].ZCount(ctx, key, "-inf", "+inf").Result(); err != nil || n != int64(len(want)) {
			t.Fatalf("ZCOUNT through %s = %d, %v; want %d", via, n, err, len(want))
		}
		i := slices.IndexFunc(want, func(z redis.Z) bool { return z.Member == "m03" })
		if r, err := cl[via].ZRank(ctx, key, "m03").Result(); err != nil || r != int64(i) {
			t.Fatalf("ZRANK m03 through %s = %d, %v; want %d", via, r, err, i)
		}
	}
	// Through the lagging home while it is still cut off from the
	// writer: it reads its own stale index and the third home's.
	check(lagging)
	check(writer)
	mc.net.Heal()
	mc.setConvergedZ(key, model)
	for _, via := range homes {
		check(via)
	}
}

// members returns the members of zs.
func members(zs []redis.Z) []string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = z.Member.(string)
	}
	return out
}

// setConvergedZ runs anti-entropy until every home holds the same own copy
// of the sorted set's elements the model names, and checks that each
// home's index then orders them as the model does.
func (mc *memCluster) setConvergedZ(key string, model zsetModel) {
	mc.t.Helper()
	var ms []string
	for m := range model {
		ms = append(ms, m)
	}
	keys := []string{key}
	for _, m := range ms {
		keys = append(keys, string(ring.ElementKey(replication.ZSetType, []byte(key), []byte(m))))
	}
	homes := mc.homes(key)
	poll.Until(mc.t, 30*time.Second, "the replicas of "+key+" to converge", func() bool {
		mc.aeRound()
		for _, k := range keys {
			first := mc.own(homes[0], k)
			for _, h := range homes[1:] {
				if !mc.own(h, k).Equal(first) {
					return false
				}
			}
		}
		return true
	})
	want := model.sorted()
	for _, h := range mc.homes(key) {
		res, err := mc.nodes[h].local.ReadIndex(context.Background(), replication.IndexQuery{Pos: ring.HashKey([]byte(key)).Hi,
			Prefix: ring.ElementPrefix(replication.ZSetType, []byte(key)), Limit: 1000})
		if err != nil {
			mc.t.Fatal(err)
		}
		var got []string
		for _, e := range res.Entries {
			f, m, _ := replication.SplitSortKey(e.Sort)
			got = append(got, string(m)+"="+strconv.FormatFloat(f, 'g', -1, 64))
		}
		var exp []string
		for _, z := range want {
			exp = append(exp, z.Member.(string)+"="+strconv.FormatFloat(z.Score, 'g', -1, 64))
		}
		if !slices.Equal(got, exp) {
			mc.t.Fatalf("the index of %s after convergence: %v\nwant %v", h, got, exp)
		}
	}
}

// TestClusterZSetIndexMovesWithItsPartition: sorted sets written to three
// nodes, then a fourth joins: the partitions it takes over are
// transferred to it, element by element, and its score index is built by
// those writes; the node that hands a partition off drops its index
// entries with its data. Every home then indexes every set as the data
// says, and no other node indexes any.
func TestClusterZSetIndexMovesWithItsPartition(t *testing.T) {
	mc, _, four := joinLater(t)
	ctx := context.Background()
	models := map[string]zsetModel{}
	var keys []string
	for i := range 24 {
		key := fmt.Sprint("z", i)
		models[key] = zsetModel{}
		for j := range 15 {
			m := fmt.Sprint("m", j)
			f := float64((i*7 + j*3) % 11)
			models[key][m] = f
			ek := ring.ElementKey(replication.ZSetType, []byte(key), []byte(m))
			_, err := mc.nodes["a"].coord.Update(ctx, ek, func(cur *replication.Object) (*replication.Write, error) {
				return &replication.Write{Context: cur.Context(), Value: replication.FormatScore(f)}, nil
			}, replication.WriteOptions{W: 3})
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, string(ek))
		}
	}
	for _, id := range mc.ids {
		if err := mc.nodes[id].cluster.setMembers(four); err != nil {
			t.Fatal(err)
		}
	}
	mc.buildTrees()
	mc.roundsUntilHomed(keys, 101)
	moved := 0
	for key, model := range models {
		homes := mc.homes(key)
		if slices.Contains(homes, "d") {
			moved++
		}
		want := model.sorted()
		for _, id := range mc.ids {
			res, err := mc.nodes[id].local.ReadIndex(ctx, replication.IndexQuery{Pos: ring.HashKey([]byte(key)).Hi,
				Prefix: ring.ElementPrefix(replication.ZSetType, []byte(key)), Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var got []redis.Z
			for _, e := range res.Entries {
				f, m, _ := replication.SplitSortKey(e.Sort)
				got = append(got, redis.Z{Member: string(m), Score: f})
			}
			switch {
			case slices.Contains(homes, id) && !slices.Equal(got, want):
				t.Fatalf("%s's index of %s (a home) = %v\nwant %v", id, key, got, want)
			case !slices.Contains(homes, id) && len(got) > 0:
				t.Fatalf("%s, no home of %s, still indexes %d of its members", id, key, len(got))
			}
		}
	}
	if moved == 0 || moved == len(models) {
		t.Fatalf("%d of %d sets moved to the new node: the test checked no transfer, or no drop", moved, len(models))
	}
}
