package peer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestMemPartition(t *testing.T) {
	checkGoroutines(t)
	n := NewMemNetwork(1)
	for _, a := range []string{"a", "b", "c", "d"} {
		n.Listen(a, echo)
	}
	a, c := n.Endpoint("a"), n.Endpoint("c")
	n.Partition([]string{"a", "b"}, []string{"c"})

	start := time.Now()
	_, err := a.Call(callCtx(t, 50*time.Millisecond), "c", 0, nil)
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call across the partition = %v, want ErrUnreachable and DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("Call across the partition returned after %v, before its deadline", d)
	}
	if _, err := c.Call(callCtx(t, 50*time.Millisecond), "b", 0, nil); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Call c->b = %v, want ErrUnreachable", err)
	}
	for _, call := range []struct {
		from Transport
		to   string
	}{{a, "b"}, {a, "d"}, {c, "d"}, {n.Endpoint("d"), "c"}} {
		if _, err := call.from.Call(callCtx(t, time.Second), call.to, 0, nil); err != nil {
			t.Errorf("Call within a group or to an unnamed node -> %s = %v", call.to, err)
		}
	}

	n.Heal()
	if _, err := a.Call(callCtx(t, time.Second), "c", 0, nil); err != nil {
		t.Errorf("Call after Heal = %v", err)
	}
}

func TestMemDelay(t *testing.T) {
	checkGoroutines(t)
	n := NewMemNetwork(1)
	ran := make(chan struct{}, 10)
	n.Listen("b", func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		ran <- struct{}{}
		return echo(ctx, op, req)
	})
	n.Listen("c", echo)
	a := n.Endpoint("a")
	n.SetDelay("a", "b", 40*time.Millisecond)

	start := time.Now()
	if _, err := a.Call(callCtx(t, time.Second), "b", 0, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("delayed call took %v, want at least 40ms", d)
	}
	<-ran

	// A deadline shorter than the delay: the handler never runs.
	if _, err := a.Call(callCtx(t, 5*time.Millisecond), "b", 0, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call shorter than the delay = %v, want DeadlineExceeded", err)
	}
	select {
	case <-ran:
		t.Error("the handler ran for a call that timed out on the way")
	default:
	}

	// Other links are not delayed; "" matches any address.
	start = time.Now()
	if _, err := a.Call(callCtx(t, time.Second), "c", 0, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 40*time.Millisecond {
		t.Errorf("undelayed call took %v", d)
	}
	n.SetDelay("", "c", 40*time.Millisecond)
	start = time.Now()
	if _, err := n.Endpoint("z").Call(callCtx(t, time.Second), "c", 0, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("call under a wildcard delay took %v", d)
	}

	n.Heal()
	start = time.Now()
	if _, err := a.Call(callCtx(t, time.Second), "b", 0, nil); err != nil {
		t.Fatal(err)
	}
	<-ran
	if d := time.Since(start); d >= 40*time.Millisecond {
		t.Errorf("call after Heal took %v", d)
	}
}

// dropPattern makes 200 sequential calls on a network with seed and a
// 50% drop rate and returns which the network lost ('x') and which it
// delivered ('.'), as its own count of lost calls tells (a delivered call
// may still miss its 1 ms deadline on a loaded machine: the pattern is the
// network's decisions, not the callers' timing).
func dropPattern(t *testing.T, seed int64) string {
	n := NewMemNetwork(seed)
	n.Listen("b", echo)
	n.SetDrop("", "b", 0.5)
	a := n.Endpoint("a")
	var pattern []byte
	for range 200 {
		lost := n.Lost("a", "b")
		_, err := a.Call(callCtx(t, time.Millisecond), "b", 0, nil)
		switch {
		case n.Lost("a", "b") > lost:
			if !errors.Is(err, ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a lost call returned %v, want ErrUnreachable and DeadlineExceeded", err)
			}
			pattern = append(pattern, 'x')
		case err == nil, errors.Is(err, context.DeadlineExceeded):
			pattern = append(pattern, '.')
		default:
			t.Fatalf("Call = %v", err)
		}
	}
	if got := n.Calls("a", "b"); got != 200 {
		t.Errorf("Calls(a, b) = %d, want 200", got)
	}
	return string(pattern)
}

func TestMemDropDeterministic(t *testing.T) {
	checkGoroutines(t)
	p1, p2 := dropPattern(t, 42), dropPattern(t, 42)
	if p1 != p2 {
		t.Fatalf("same seed, different drops:\n%s\n%s", p1, p2)
	}
	var lost int
	for _, c := range p1 {
		if c == 'x' {
			lost++
		}
	}
	if lost < 60 || lost > 140 {
		t.Errorf("%d of 200 calls lost at p=0.5", lost)
	}
	if p3 := dropPattern(t, 43); p3 == p1 {
		t.Errorf("seeds 42 and 43 dropped the same calls")
	}

	n := NewMemNetwork(1)
	n.Listen("b", echo)
	n.SetDrop("a", "b", 1)
	if _, err := n.Endpoint("a").Call(callCtx(t, time.Millisecond), "b", 0, nil); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Call with p=1 = %v, want ErrUnreachable", err)
	}
	n.SetDrop("a", "b", 0)
	if _, err := n.Endpoint("a").Call(callCtx(t, time.Second), "b", 0, nil); err != nil {
		t.Errorf("Call after removing the drop = %v", err)
	}
}

func TestMemDownListen(t *testing.T) {
	checkGoroutines(t)
	n := NewMemNetwork(1)
	a := n.Endpoint("a")
	if _, err := a.Call(context.Background(), "b", 0, nil); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Call to an unknown address = %v, want ErrUnreachable", err)
	}
	n.Listen("b", echo)
	if _, err := a.Call(context.Background(), "b", 0, nil); err != nil {
		t.Fatal(err)
	}
	n.Down("b")
	if _, err := a.Call(context.Background(), "b", 0, nil); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Call to a crashed node = %v, want ErrUnreachable at once", err)
	}
	n.Listen("b", func(context.Context, byte, []byte) ([]byte, error) { return []byte("v2"), nil })
	if resp, err := a.Call(context.Background(), "b", 0, nil); err != nil || string(resp) != "v2" {
		t.Errorf("Call after restart = %q, %v; want the new handler's answer", resp, err)
	}
	if got := n.Calls("a", "b"); got != 4 {
		t.Errorf("Calls(a, b) = %d, want 4", got)
	}
}

func TestMemCalls(t *testing.T) {
	n := NewMemNetwork(1)
	n.Listen("x", echo)
	n.Listen("y", echo)
	for from, count := range map[string]int{"a": 3, "b": 2} {
		for i := range count {
			to := []string{"x", "y"}[i%2]
			n.Endpoint(from).Call(context.Background(), to, 0, nil)
		}
	}
	for _, tc := range []struct {
		from, to string
		want     int64
	}{{"a", "x", 2}, {"a", "y", 1}, {"b", "x", 1}, {"", "x", 3}, {"a", "", 3}, {"", "", 5}, {"x", "a", 0}} {
		if got := n.Calls(tc.from, tc.to); got != tc.want {
			t.Errorf("Calls(%q, %q) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestMemHandlerContext checks that the handler's context carries the
// caller's values and cancellation.
func TestMemHandlerContext(t *testing.T) {
	checkGoroutines(t)
	type key struct{}
	n := NewMemNetwork(1)
	n.Listen("b", func(ctx context.Context, _ byte, _ []byte) ([]byte, error) {
		v, _ := ctx.Value(key{}).(string)
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("no deadline")
		}
		<-ctx.Done()
		return []byte(v), nil
	})
	ctx := context.WithValue(callCtx(t, 20*time.Millisecond), key{}, "hello")
	if _, err := n.Endpoint("a").Call(ctx, "b", 0, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call = %v, want DeadlineExceeded (the handler waits for the caller's context)", err)
	}
}

// TestMemConcurrentFaults changes faults while calls run, for the race
// detector.
func TestMemConcurrentFaults(t *testing.T) {
	checkGoroutines(t)
	n := NewMemNetwork(1)
	addrs := []string{"a", "b", "c"}
	for _, a := range addrs {
		n.Listen(a, echo)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			from := n.Endpoint(addrs[i%3])
			for j := range 200 {
				from.Call(callCtx(t, time.Millisecond), addrs[j%3], 0, []byte(fmt.Sprint(j)))
			}
		})
	}
	wg.Go(func() {
		for j := range 200 {
			switch j % 5 {
			case 0:
				n.Partition([]string{"a"}, []string{"b", "c"})
			case 1:
				n.SetDrop("", "c", 0.3)
			case 2:
				n.SetDelay("b", "", 100*time.Microsecond)
			case 3:
				n.Down("c")
				n.Listen("c", echo)
			case 4:
				n.Heal()
			}
			_ = n.Calls("", "")
		}
	})
	wg.Wait()
	if got := n.Calls("", ""); got != 8*200 {
		t.Errorf("Calls = %d, want %d", got, 8*200)
	}
}
