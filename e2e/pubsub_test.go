package e2e

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/poll"
)

// TestE2EPubSubAcrossClusterSIGSTOP: three nodes of the real binary; a
// go-redis and a python3-redis subscriber on node 3; PUBLISH through
// nodes 1 and 2 reaches both (and answers 0: the receivers on the node
// published to). With node 3 paused (SIGSTOP), PUBLISH through the others
// keeps answering at once; after SIGCONT, publishing again reaches the
// subscribers. No message arrives twice, nothing crashes.
func TestE2EPubSubAcrossClusterSIGSTOP(t *testing.T) {
	procs := startCluster(t, 3)
	const channel = "e2e:news"
	ctx := testCtx(t, 3*time.Minute)

	// go-redis subscriber on node 3: its messages go to goMsgs.
	sub := procs[2].Client(t, func(o *redis.Options) { o.ReadTimeout = 2 * time.Minute }).Subscribe(ctx, channel)
	t.Cleanup(func() { sub.Close() })
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	goMsgs := make(chan string, 10000)
	go func() {
		for {
			m, err := sub.ReceiveMessage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue // a reconnect after the pause; go-redis resubscribes
			}
			goMsgs <- m.Payload
		}
	}()

	// python3-redis subscriber on node 3: its lines go to pyMsgs.
	py := exec.CommandContext(ctx, "/usr/bin/python3", filepath.Join("testdata", "pubsub_sub.py"), procs[2].Port(), channel)
	stdout, err := py.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var pyErr strings.Builder
	py.Stderr = &pyErr
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	pyDone := make(chan error, 1)
	pyMsgs := make(chan string, 10000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			pyMsgs <- sc.Text()
		}
		close(pyMsgs)
		pyDone <- py.Wait()
	}()
	t.Cleanup(func() { py.Process.Kill() })
	if line := <-pyMsgs; line != "subscribed" {
		t.Fatalf("python subscriber: %q, %s", line, pyErr.String())
	}

	c1, c2, c3 := procs[0].Shared(t), procs[1].Shared(t), procs[2].Shared(t)
	poll.Until(t, 10*time.Second, "two subscribers on node 3", func() bool {
		return c3.PubSubNumSub(ctx, channel).Val()[channel] == 2
	})
	// The reply counts the receivers on the node published to.
	for i, c := range []*redis.Client{c1, c2, c3} {
		want := int64(0)
		if i == 2 {
			want = 2
		}
		if n, err := c.Publish(ctx, channel, fmt.Sprint("hello from node ", i+1)).Result(); err != nil || n != want {
			t.Fatalf("PUBLISH through node %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	seen := map[string]map[string]int{"go-redis": {}, "python3-redis": {}}
	var seenMu sync.Mutex
	collect := func() {
		for {
			select {
			case m := <-goMsgs:
				seenMu.Lock()
				seen["go-redis"][m]++
				seenMu.Unlock()
			case m, ok := <-pyMsgs:
				if !ok {
					return
				}
				seenMu.Lock()
				seen["python3-redis"][m]++
				seenMu.Unlock()
			default:
				return
			}
		}
	}
	got := func(client, msg string) bool {
		collect()
		seenMu.Lock()
		defer seenMu.Unlock()
		return seen[client][msg] > 0
	}
	for _, client := range []string{"go-redis", "python3-redis"} {
		for i := range 3 {
			msg := fmt.Sprint("hello from node ", i+1)
			poll.Until(t, 10*time.Second, client+" to get "+msg, func() bool { return got(client, msg) })
		}
	}

	// Pause node 3: publishing through the others never waits for it.
	if err := syscall.Kill(procs[2].PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			syscall.Kill(procs[2].PID(), syscall.SIGCONT)
		}
	})
	// Publish for a few seconds of pause (bounded in count too): long
	// enough for the relay's batches to node 3 to time out and its queue
	// to fill, and for the failure detector to suspect node 3.
	var slowest time.Duration
	paused := 0
	for pauseStart := time.Now(); time.Since(pauseStart) < 4*time.Second && paused < 20000; paused++ {
		i := paused
		c := []*redis.Client{c1, c2}[i%2]
		start := time.Now()
		if n, err := c.Publish(ctx, channel, fmt.Sprint("paused ", i)).Result(); err != nil || n != 0 {
			t.Fatalf("PUBLISH with node 3 paused = %d, %v", n, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	if slowest > 500*time.Millisecond {
		t.Fatalf("slowest PUBLISH with node 3 paused took %v", slowest)
	}
	t.Logf("%d PUBLISHes with node 3 paused, slowest %v", paused, slowest)
	if err := syscall.Kill(procs[2].PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true

	// After the resume, publishing again reaches both subscribers (node 1
	// may have held node 3 dead for a while: publish until it arrives).
	for _, via := range []struct {
		name string
		c    *redis.Client
	}{{"node 1", c1}, {"node 2", c2}} {
		i := 0
		poll.Until(t, 60*time.Second, "a message through "+via.name+" to reach both subscribers after SIGCONT", func() bool {
			i++
			msg := fmt.Sprint("after from ", via.name, " ", i)
			if err := via.c.Publish(ctx, channel, msg).Err(); err != nil {
				t.Fatalf("PUBLISH after SIGCONT: %v", err)
			}
			deadline := time.Now().Add(time.Second)
			for time.Now().Before(deadline) {
				if got("go-redis", msg) && got("python3-redis", msg) {
					return true
				}
				time.Sleep(5 * time.Millisecond) // polling the collected messages, bounded
			}
			return false
		})
	}
	// Stop the python subscriber through node 1 and check what it saw.
	poll.Until(t, 30*time.Second, "the python subscriber to stop", func() bool {
		c1.Publish(ctx, channel, "STOP")
		select {
		case err := <-pyDone:
			if err != nil {
				t.Fatalf("python subscriber: %v\n%s", err, pyErr.String())
			}
			return true
		case <-time.After(200 * time.Millisecond):
			return false
		}
	})
	collect()
	seenMu.Lock()
	defer seenMu.Unlock()
	for client, msgs := range seen {
		pausedGot := 0
		for msg, n := range msgs {
			if n != 1 {
				t.Errorf("%s got %q %d times (at most once)", client, msg, n)
			}
			if strings.HasPrefix(msg, "paused ") {
				pausedGot++
			}
		}
		t.Logf("%s: %d messages, %d of the %d published while node 3 was paused", client, len(msgs), pausedGot, paused)
	}
	for i, p := range procs[:2] {
		var fields []string
		status, _ := p.Shared(t).Do(ctx, "RING", "STATUS").Result()
		if m, ok := status.(map[any]any); ok {
			for _, k := range []string{"pubsub_relay_sent", "pubsub_relay_dropped", "pubsub_relay_failed"} {
				fields = append(fields, fmt.Sprint(k, "=", m[k]))
			}
		}
		t.Logf("node %d RING STATUS: %s", i+1, strings.Join(fields, " "))
	}
	for i, p := range procs {
		if !p.running() {
			t.Fatalf("node %d exited:\n%s", i+1, tail(p.Output(), 40))
		}
	}
	if _, err := c3.Ping(ctx).Result(); err != nil {
		t.Fatalf("node 3 after SIGCONT: %v", err)
	}
}
