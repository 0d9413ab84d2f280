package crdt

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedis starts a redis-server on a free 127.0.0.1 port for the test.
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not installed (apt-get install redis-server): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Protocol: 2})
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer PING within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c
}

// TestHLLCountsAsRedis: for the same elements PFADD reports the same
// changes and PFCOUNT the same estimate as redis-server, at every size
// from empty to 200,000 elements, and PFMERGE's union too.
func TestHLLCountsAsRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("runs redis-server")
	}
	ctx := context.Background()
	r := startRedis(t)
	var h HLL
	// One element at a time: PFADD's answer is whether a register rose.
	for i := range 300 {
		e := fmt.Sprint("one:", i)
		want, err := r.PFAdd(ctx, "one", e).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := int64(min(len(h.Add([]byte(e))), 1)); got != want {
			t.Fatalf("PFADD %s: %d, redis-server %d", e, got, want)
		}
	}
	if want := r.PFCount(ctx, "one").Val(); int64(h.Count()) != want {
		t.Fatalf("PFCOUNT after 300: %d, redis-server %d", h.Count(), want)
	}

	// Growing sizes, elements of varied lengths (every tail length of the
	// hash).
	var big HLL
	added := 0
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 2, 3, 10, 100, 1000, 5000, 20000, 60000, 200000} {
		var batch []any
		for ; added < size; added++ {
			e := fmt.Sprintf("e%d-%s", added, "xxxxxxxxxxxxxxx"[:rng.IntN(16)])
			batch = append(batch, e)
			big.Add([]byte(e))
		}
		for len(batch) > 0 {
			n := min(len(batch), 10000)
			if err := r.PFAdd(ctx, "big", batch[:n]...).Err(); err != nil {
				t.Fatal(err)
			}
			batch = batch[n:]
		}
		want := r.PFCount(ctx, "big").Val()
		if got := big.Count(); int64(got) != want {
			t.Errorf("PFCOUNT of %d elements: %d, redis-server %d", size, got, want)
		}
	}
	// Empty, and binary elements.
	var empty HLL
	if empty.Count() != 0 {
		t.Errorf("empty Count = %d", empty.Count())
	}
	var bin HLL
	for i := range 1000 {
		e := []byte{byte(i), byte(i >> 8), 0, 0xff, byte(i * 7)}
		bin.Add(e)
		r.PFAdd(ctx, "bin", string(e))
	}
	if want := r.PFCount(ctx, "bin").Val(); int64(bin.Count()) != want {
		t.Errorf("PFCOUNT of binary elements: %d, redis-server %d", bin.Count(), want)
	}
	// The union: PFMERGE, and PFCOUNT of several keys.
	u := h.Clone()
	u.Merge(&big)
	u.Merge(&bin)
	if want := r.PFCount(ctx, "one", "big", "bin").Val(); int64(u.Count()) != want {
		t.Errorf("PFCOUNT one big bin: %d, redis-server %d", u.Count(), want)
	}
}

// randomHLL is a sketch of n random elements.
func randomHLL(rng *rand.Rand, n int) *HLL {
	h := &HLL{}
	for range n {
		h.Add([]byte(strconv.FormatUint(rng.Uint64(), 36)))
	}
	return h
}

// TestHLLMergeLaws: merge is commutative, associative and idempotent, and
// merging the delta of an update equals merging the state it came from.
func TestHLLMergeLaws(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		a, b, c := randomHLL(rng, rng.IntN(3000)), randomHLL(rng, rng.IntN(300)), randomHLL(rng, rng.IntN(30))
		ab, ba := a.Clone(), b.Clone()
		ab.Merge(b)
		ba.Merge(a)
		if !ab.Equal(ba) {
			t.Fatalf("round %d: merge is not commutative", round)
		}
		left := a.Clone()
		left.Merge(b)
		left.Merge(c)
		bc := b.Clone()
		bc.Merge(c)
		right := a.Clone()
		right.Merge(bc)
		if !left.Equal(right) {
			t.Fatalf("round %d: merge is not associative", round)
		}
		again := ab.Clone()
		if again.Merge(ab) || !again.Equal(ab) {
			t.Fatalf("round %d: merge is not idempotent", round)
		}
		// A replica that receives only the delta of c's next update ends
		// where one that receives c's whole state does.
		viaDelta, viaState := a.Clone(), a.Clone()
		viaState.Merge(c)
		viaDelta.Merge(c)
		next := c.Clone()
		d := next.Add([]byte("next"), []byte(strconv.Itoa(round)))
		viaDelta.ApplyDelta(d)
		viaState.Merge(next)
		if !viaDelta.Equal(viaState) {
			t.Fatalf("round %d: delta merge differs from state merge", round)
		}
		// A union never counts less than either side.
		if ab.Count() < a.Count() || ab.Count() < b.Count() {
			t.Fatalf("round %d: union %d below a side (%d, %d)", round, ab.Count(), a.Count(), b.Count())
		}
	}
}

func TestHLLEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, h := range []*HLL{{}, randomHLL(rng, 1), randomHLL(rng, 5000)} {
		got, err := DecodeHLL(h.AppendBinary(nil))
		if err != nil || !got.Equal(h) || got.Count() != h.Count() {
			t.Fatalf("round trip: %v, equal %v", err, got != nil && got.Equal(h))
		}
	}
	bad := randomHLL(rng, 10).AppendBinary(nil)
	bad[2+7] = hllQ + 2
	for _, b := range [][]byte{nil, {1}, {2, 0}, {1, 2}, {1, 0, 0}, {1, 1, 0}, bad} {
		if _, err := DecodeHLL(b); !errors.Is(err, ErrBadHLL) {
			t.Errorf("DecodeHLL(%.12q) = %v, want ErrBadHLL", b, err)
		}
	}
}

func FuzzDecodeHLL(f *testing.F) {
	f.Add((&HLL{}).AppendBinary(nil))
	f.Add(randomHLL(rand.New(rand.NewPCG(7, 8)), 100).AppendBinary(nil))
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHLL(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to itself and counts without panicking.
		if got := h.AppendBinary(nil); string(got) != string(b) {
			t.Fatalf("re-encoding differs")
		}
		h.Count()
	})
}
