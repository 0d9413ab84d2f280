package resp

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipelined sends every command in one write and returns the replies, as
// one string. It reads while it writes, as a client must when replies may
// fill the socket buffers before the server has read the whole pipeline.
func (c *rawConn) pipelined(cmds ...[]string) string {
	c.t.Helper()
	sent := make(chan error, 1)
	go func() {
		_, err := c.nc.Write(rdEncode(cmds...))
		sent <- err
	}()
	var b strings.Builder
	for range cmds {
		b.WriteString(c.read())
	}
	if err := <-sent; err != nil {
		c.t.Fatalf("write: %v", err)
	}
	return b.String()
}

// TestPipelineRepliesInOrder sends a long pipeline of reads, writes,
// barriers and errors on a few keys in one write, and checks every reply
// against a model of the keyspace run command by command.
func TestPipelineRepliesInOrder(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	model := map[string]string{}
	get := func(k string) string {
		if v, ok := model[k]; ok {
			return bulk(v)
		}
		return nullBulk
	}
	var cmds [][]string
	var want strings.Builder
	for i := range 600 {
		k := "k" + strconv.Itoa(i%7)
		switch i % 6 {
		case 0:
			v := "v" + strconv.Itoa(i)
			cmds = append(cmds, cmd("SET", k, v))
			want.WriteString(okReply)
			model[k] = v
		case 1:
			cmds = append(cmds, cmd("GET", k))
			want.WriteString(get(k))
		case 2:
			suffix := "+" + strconv.Itoa(i)
			cmds = append(cmds, cmd("APPEND", k, suffix))
			model[k] += suffix
			want.WriteString(integer(int64(len(model[k]))))
		case 3:
			cmds = append(cmds, cmd("DEL", k, "k6"))
			n := 0
			for _, d := range []string{k, "k6"} {
				if _, ok := model[d]; ok {
					delete(model, d)
					n++
				}
			}
			want.WriteString(integer(int64(n)))
		case 4:
			cmds = append(cmds, cmd("MGET", "k0", "k1", k))
			want.WriteString(array(get("k0"), get("k1"), get(k)))
		case 5:
			switch i % 30 {
			case 5:
				cmds = append(cmds, cmd("PING"))
				want.WriteString(simple("PONG"))
			case 11:
				cmds = append(cmds, cmd("GET"))
				want.WriteString(errReply("ERR wrong number of arguments for 'get' command"))
			case 17:
				cmds = append(cmds, cmd("SET", k, "x", "EX", "0"))
				want.WriteString(errReply("ERR invalid expire time in 'set' command"))
			default:
				cmds = append(cmds, cmd("EXISTS", k, "k0"))
				n := 0
				for _, d := range []string{k, "k0"} {
					if _, ok := model[d]; ok {
						n++
					}
				}
				want.WriteString(integer(int64(n)))
			}
		}
	}
	if got := c.pipelined(cmds...); got != want.String() {
		t.Fatalf("pipelined replies differ from the model:\n got %q\nwant %q", firstDiff(got, want.String()), firstDiff(want.String(), got))
	}
	// Each command counted once, in its own stats.
	stats := infoFields(t, c, "commandstats")
	if !strings.HasPrefix(stats["cmdstat_set"], "calls=120,") || !strings.HasSuffix(stats["cmdstat_set"], ",failed_calls=20") {
		t.Errorf("cmdstat_set = %q, want 120 calls, 20 failed", stats["cmdstat_set"])
	}
	if !strings.HasPrefix(stats["cmdstat_append"], "calls=100,") {
		t.Errorf("cmdstat_append = %q, want 100 calls", stats["cmdstat_append"])
	}
}

// firstDiff returns a from shortly before where it first differs from b.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-40)
	return "..." + a[from:min(len(a), i+80)]
}

// TestPipelineSameKey: commands on one key run in order even when they run
// concurrently with others, also when one command names the key twice.
func TestPipelineSameKey(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	cmds := [][]string{cmd("SET", "k", "")}
	want := okReply
	var val strings.Builder
	for i := range 150 {
		s := strconv.Itoa(i % 10)
		val.WriteString(s)
		cmds = append(cmds, cmd("APPEND", "k", s), cmd("GET", "other"+s))
		want += integer(int64(val.Len())) + nullBulk
	}
	cmds = append(cmds, cmd("MSET", "d", "1", "d", "2"), cmd("GET", "d"), cmd("GET", "k"))
	want += okReply + bulk("2") + bulk(val.String())
	if got := c.pipelined(cmds...); got != want {
		t.Fatalf("pipelined APPENDs:\n got %q\nwant %q", firstDiff(got, want), firstDiff(want, got))
	}
}

// TestPipelineRunsConcurrently: the data commands of a pipeline run at
// the same time: the write of a waits until the write of b has started,
// which would never happen if they ran one after the other. The replies
// still come in command order.
func TestPipelineRunsConcurrently(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	bStarted := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var overlapped bool
	e.backend.setHook(func(op string, key []byte) {
		switch string(key) {
		case "b":
			once.Do(func() { close(bStarted) })
		case "a":
			select {
			case <-bStarted:
				mu.Lock()
				overlapped = true
				mu.Unlock()
			case <-time.After(5 * time.Second):
			}
		}
	})
	got := c.pipelined(cmd("SET", "a", "1"), cmd("SET", "b", "2"), cmd("MGET", "a", "b"))
	if want := okReply + okReply + bulks("1", "2"); got != want {
		t.Fatalf("replies %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if !overlapped {
		t.Fatal("SET a finished before SET b started: the pipeline ran its commands one at a time")
	}
}

// TestPipelineBarriers: commands that change the connection wait for the
// commands before them and apply to the ones after.
func TestPipelineBarriers(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	id := c.clientID()
	got := c.pipelined(
		cmd("SET", "k", "v"), cmd("GET", "nokey"),
		cmd("HELLO", "3"),
		cmd("GET", "nokey"), cmd("GET", "k"),
		cmd("CLIENT", "SETNAME", "piped"),
		cmd("GET", "nokey"), cmd("CLIENT", "GETNAME"),
		cmd("HELLO", "2"),
		cmd("GET", "nokey"), cmd("NOSUCH"), cmd("GET", "k"),
	)
	want := okReply + nullBulk +
		helloReply(3, id) +
		nullResp3 + bulk("v") +
		okReply +
		nullResp3 + bulk("piped") +
		helloReply(2, id) +
		nullBulk + errReply("ERR unknown command 'NOSUCH', with args beginning with: ") + bulk("v")
	if got != want {
		t.Fatalf("replies:\n got %q\nwant %q", got, want)
	}
}

// TestPipelineBigArgumentsAndReplies: commands too big to copy run inline;
// big replies are written out in pieces; all in order.
func TestPipelineBigArgumentsAndReplies(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	big := strings.Repeat("B", 100<<10)
	kb := strings.Repeat("k", 1<<10)
	cmds := [][]string{cmd("SET", "small", kb), cmd("SET", "big", big), cmd("GET", "big")}
	want := okReply + okReply + bulk(big)
	for i := range 300 {
		cmds = append(cmds, cmd("GET", "small"))
		want += bulk(kb)
		if i%100 == 0 {
			cmds = append(cmds, cmd("GET", "big"), cmd("STRLEN", "big"))
			want += bulk(big) + integer(int64(len(big)))
		}
	}
	if got := c.pipelined(cmds...); got != want {
		t.Fatalf("replies differ: %q", firstDiff(got, want))
	}
	// A reply over 1 MiB, alone.
	huge := strings.Repeat("H", 3<<20)
	if got := c.do("SET", "huge", huge); got != okReply {
		t.Fatalf("SET huge: %q", got)
	}
	if got := c.do("GET", "huge"); got != bulk(huge) {
		t.Fatalf("GET huge: %q", clip(got))
	}
	if got := c.do("PING"); got != simple("PONG") {
		t.Fatalf("PING after a huge reply: %q", got)
	}
}

// TestPipelineManyArguments: a command with many small arguments is
// copied to run concurrently (when the commands after it are already read,
// as they are here but for a most unlucky split of the stream).
func TestPipelineManyArguments(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{{cmd("SET", "t", "x"), okReply}})
	mget := []string{"MGET"}
	for range 20000 {
		mget = append(mget, "t")
	}
	for range 2 {
		got := c.pipelined(mget, cmd("GET", "t"), cmd("GET", "t"))
		if want := "*20000\r\n" + strings.Repeat(bulk("x"), 20000) + bulk("x") + bulk("x"); got != want {
			t.Fatalf("replies differ: %q", firstDiff(got, want))
		}
	}
}

// TestPipelineThenProtocolError: the replies of the commands before a
// protocol error go out before the error, then the connection closes.
func TestPipelineThenProtocolError(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send(string(rdEncode(cmd("SET", "a", "1"), cmd("GET", "a"), cmd("SET", "b", "2"))) + "*1\r\n$-5\r\n")
	got := c.read() + c.read() + c.read() + c.read()
	if want := okReply + bulk("1") + okReply + errReply("ERR Protocol error: invalid bulk length"); got != want {
		t.Fatalf("replies %q, want %q", got, want)
	}
	c.expectClosed()
	runRaw(t, e.dial(), []rawCase{{cmd("MGET", "a", "b"), bulks("1", "2")}})
}

// TestPipelineGoRedis pipelines through go-redis, as applications do.
func TestPipelineGoRedis(t *testing.T) {
	e := newTestEnv(t)
	rdb := e.client()
	pipe := rdb.Pipeline()
	for i := range 100 {
		k := fmt.Sprintf("k%d", i)
		pipe.Set(ctx, k, i, 0)
		pipe.Get(ctx, k)
		pipe.Incr(ctx, k)
	}
	cmds, _ := pipe.Exec(ctx)
	if len(cmds) != 300 {
		t.Fatalf("%d replies", len(cmds))
	}
	for i := range 100 {
		set, get, incr := cmds[3*i], cmds[3*i+1], cmds[3*i+2]
		if set.Err() != nil || get.(interface{ Val() string }).Val() != strconv.Itoa(i) ||
			incr.(interface{ Val() int64 }).Val() != int64(i+1) {
			t.Fatalf("key %d: SET %v, GET %v, INCR %v", i, set, get, incr)
		}
	}
	if n, err := rdb.DBSize(ctx).Result(); n != 100 || err != nil {
		t.Fatalf("DBSIZE = %d, %v", n, err)
	}
}
