package peer

// Batched serving of cheap requests.
//
// Without a BatchHandler a Server starts a goroutine per request. For the
// cheap, frequent requests of a replica (a point read, a one-key merge) that
// goroutine costs more than the work: its stack grows anew down the store's
// deep call path, and each response wakes the writer on its own. With one,
// the reader takes every complete frame already buffered after the one it
// waited for and queues the batchable ones for a long-lived worker goroutine
// per connection, which serves what has accumulated in one ServeBatch call
// and queues the responses to the writer in one go. Under load the worker
// is busy while the next requests arrive, so batches grow with the load
// (self-clocking) and the application can amortise per-call costs over a
// batch, such as one store write for many merges.

import (
	"context"
	"sync"
)

// maxBatch bounds the frames the reader takes without waiting on the
// network after the one it waited for, and the requests in one ServeBatch
// call.
const maxBatch = 256

// Request is one request of a batch handed to a BatchHandler: the caller's
// op and payload, and the answer ServeBatch fills in.
type Request struct {
	// Op is the caller's operation code.
	Op byte
	// Payload is the request payload, owned by the handler.
	Payload []byte
	// Resp is the response payload, set by ServeBatch. It is owned by the
	// transport once ServeBatch returns and must not be modified then.
	Resp []byte
	// Err, when set by ServeBatch, is sent back to the caller instead of
	// Resp, as a *RemoteError carrying Err.Error() and its code (WithCode).
	Err error
}

// BatchHandler serves cheap requests several at a time. A Server given one
// in Config.Batch hands every request whose op Batchable accepts to
// ServeBatch, together with the others received on the same connection
// meanwhile, from one long-lived goroutine per connection; requests of the
// other ops run the Handler, each in its own goroutine, as without a
// BatchHandler. A MemNetwork address registered with ListenBatch hands each
// batchable call to ServeBatch in a batch of its own.
type BatchHandler interface {
	// Batchable reports whether requests of op are served by ServeBatch.
	// It is called by a connection's reader for every request and must be
	// quick and safe for concurrent use. Only quick ops belong in batches:
	// a request that waits (on other nodes, a scan, a lock held for long)
	// holds up every request behind it on its connection.
	Batchable(op byte) bool

	// ServeBatch serves reqs, setting each one's Resp or Err; each request
	// is answered on its own, with its own id. ctx is as for Handler. The
	// calls for one connection never overlap; calls for different
	// connections run concurrently. A panic is recovered and answered as
	// an error to every request of the batch, whatever ServeBatch had set.
	ServeBatch(ctx context.Context, reqs []Request)
}

// batchWorker serves one connection's batchable requests: the reader
// queues them (push), the worker goroutine (run) serves whatever has
// accumulated in one ServeBatch call.
type batchWorker struct {
	s   *Server
	b   BatchHandler
	ctx context.Context
	w   *wireConn
	sem chan struct{} // the connection's in-flight slots, one per queued frame

	wake chan struct{} // one pending wake-up for run

	mu    sync.Mutex
	queue []frame
}

func newBatchWorker(s *Server, ctx context.Context, w *wireConn, sem chan struct{}) *batchWorker {
	return &batchWorker{s: s, b: s.cfg.Batch, ctx: ctx, w: w, sem: sem, wake: make(chan struct{}, 1)}
}

// push queues fs for the worker and wakes it. fs is copied: the caller may
// reuse it.
func (bw *batchWorker) push(fs []frame) {
	bw.mu.Lock()
	bw.queue = append(bw.queue, fs...)
	bw.mu.Unlock()
	select {
	case bw.wake <- struct{}{}:
	default:
	}
}

// take moves up to maxBatch queued frames into batch and returns it.
func (bw *batchWorker) take(batch []frame) []frame {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	n := min(len(bw.queue), maxBatch)
	batch = append(batch[:0], bw.queue[:n]...)
	rest := copy(bw.queue, bw.queue[n:])
	clear(bw.queue[rest:]) // drop the payload references
	bw.queue = bw.queue[:rest]
	return batch
}

// run serves queued batches until the connection closes; frames still
// queued then are dropped, as their responses could not be sent.
func (bw *batchWorker) run() {
	var (
		batch []frame
		reqs  []Request
		out   []outFrame
	)
	for {
		select {
		case <-bw.wake:
		case <-bw.w.done:
			return
		}
		for {
			select {
			case <-bw.w.done:
				return
			default:
			}
			if batch = bw.take(batch); len(batch) == 0 {
				break
			}
			reqs = reqs[:0]
			for _, f := range batch {
				reqs = append(reqs, Request{Op: f.kind, Payload: f.payload})
			}
			bw.s.runBatch(bw.ctx, bw.b, reqs)
			out = out[:0]
			for i, f := range batch {
				o := bw.s.respond(f.id, reqs[i].Resp, reqs[i].Err)
				o.sem = bw.sem
				out = append(out, o)
			}
			bw.w.sendMany(out)
			// Drop the references to payloads and responses, which the
			// buffers would otherwise pin until the next batch.
			clear(batch)
			clear(reqs)
			clear(out)
		}
	}
}

// runBatch calls b.ServeBatch; if it panics, it logs the panic and answers
// every request of the batch with the error.
func (s *Server) runBatch(ctx context.Context, b BatchHandler, reqs []Request) {
	p := safeServeBatch(ctx, b, reqs)
	if p == nil {
		return
	}
	s.log.Error("peer: batch handler panicked", "requests", len(reqs), "panic", p.val, "stack", string(p.stack))
	for i := range reqs {
		reqs[i].Resp, reqs[i].Err = nil, p
	}
}
