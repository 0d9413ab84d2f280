package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// handlerBatch is a BatchHandler that serves each request of a batch with
// h, one after the other, for the ops batchable accepts.
type handlerBatch struct {
	h         Handler
	batchable func(op byte) bool
	largest   atomic.Int64 // the most requests seen in one batch
	batched   atomic.Int64 // requests served by ServeBatch
}

func (b *handlerBatch) Batchable(op byte) bool { return b.batchable(op) }

func (b *handlerBatch) ServeBatch(ctx context.Context, reqs []Request) {
	if n := int64(len(reqs)); n > b.largest.Load() {
		b.largest.Store(n) // ServeBatch calls of one connection never overlap; one connection here
	}
	b.batched.Add(int64(len(reqs)))
	for i := range reqs {
		reqs[i].Resp, reqs[i].Err = b.h(ctx, reqs[i].Op, reqs[i].Payload)
	}
}

// notOne batches every op but 1, which the suite's slow handlers block on:
// a request that waits belongs in the Handler, not in a batch.
func notOne(op byte) bool { return op != 1 }

// tcpBatchEnv is tcpEnv with a BatchHandler serving every op but 1, so the
// shared suite runs through both paths of one connection.
func tcpBatchEnv(t *testing.T, h Handler) (Transport, string) {
	ts := startServer(t, Config{Secret: "s3cret", Batch: &handlerBatch{h: h, batchable: notOne}}, h)
	return newTestClient(t, Config{Secret: "s3cret", ConnsPerPeer: 1}), ts.addr
}

// memBatchEnv is memEnv with the same BatchHandler as tcpBatchEnv.
func memBatchEnv(t *testing.T, h Handler) (Transport, string) {
	n := NewMemNetwork(1)
	n.ListenBatch("server", h, &handlerBatch{h: h, batchable: notOne})
	return n.Endpoint("client"), "server"
}

// TestBatchesGrowUnderLoad checks that concurrent calls on one connection
// are served in batches of more than one request, each answered with its
// own response, and that requests of other ops still reach the Handler.
func TestBatchesGrowUnderLoad(t *testing.T) {
	checkGoroutines(t)
	var handled atomic.Int64
	h := func(ctx context.Context, op byte, req []byte) ([]byte, error) {
		handled.Add(1)
		return echo(ctx, op, req)
	}
	b := &handlerBatch{h: echo, batchable: func(op byte) bool { return op < 200 }}
	ts := startServer(t, Config{Secret: "s", Batch: b}, h)
	c := newTestClient(t, Config{Secret: "s", ConnsPerPeer: 1})
	const goroutines, calls = 64, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				op := byte((g*calls + i) % 256)
				req := taggedPayload(uint64(g)<<32|uint64(i), 8+i%64)
				resp, err := c.Call(callCtx(t, 30*time.Second), ts.addr, op, req)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d call %d: %w", g, i, err)
					return
				}
				if len(resp) != len(req)+1 || resp[0] != op || !bytes.Equal(resp[1:], req) {
					errs <- fmt.Errorf("goroutine %d call %d: not its own response", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := int64(goroutines * calls)
	if got := b.batched.Load() + handled.Load(); got != total {
		t.Fatalf("%d requests served, want %d", got, total)
	}
	if handled.Load() == 0 || b.batched.Load() == 0 {
		t.Fatalf("handler served %d, batches %d: want both paths used", handled.Load(), b.batched.Load())
	}
	if b.largest.Load() < 2 {
		t.Fatalf("largest batch %d: 64 concurrent callers on one connection were never batched", b.largest.Load())
	}
	t.Logf("largest batch %d requests", b.largest.Load())
}

// panicBatch panics in ServeBatch when a request's payload is "boom".
type panicBatch struct{}

func (panicBatch) Batchable(op byte) bool { return true }

func (panicBatch) ServeBatch(ctx context.Context, reqs []Request) {
	for i, r := range reqs {
		if string(r.Payload) == "boom" {
			panic("batch went boom")
		}
		reqs[i].Resp = append([]byte("ok:"), r.Payload...)
	}
}

// TestBatchPanic checks that a panic in ServeBatch answers the batch's
// requests with an error naming it, and that the connection goes on.
func TestBatchPanic(t *testing.T) {
	checkGoroutines(t)
	ts := startServer(t, Config{Secret: "s", Batch: panicBatch{}}, echo)
	c := newTestClient(t, Config{Secret: "s", ConnsPerPeer: 1})
	_, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 3, []byte("boom"))
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "batch went boom") {
		t.Fatalf("Call(panicking batch) = %v, want a *RemoteError naming the panic", err)
	}
	resp, err := c.Call(callCtx(t, 5*time.Second), ts.addr, 3, []byte("after"))
	if err != nil || string(resp) != "ok:after" {
		t.Fatalf("Call after the panic = %q, %v", resp, err)
	}
}
