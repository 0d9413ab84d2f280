package resp

import (
	"sync"
	"sync/atomic"
)

// maxWorkers is how many idle goroutines a Server keeps for pipelined
// commands; beyond it, a command gets a goroutine that ends with it.
const maxWorkers = 512

// workerPool runs pipelined commands on long-lived goroutines. A command
// that starts on a new goroutine grows the goroutine's stack anew down the
// coordinator and store call path (runtime.newstack was a tenth of a
// coordinator's CPU under redis-benchmark -P 16); a worker keeps its grown
// stack for the next command. Safe for concurrent use.
type workerPool struct {
	jobs chan func()   // unbuffered: a send succeeds only to an idle worker
	done chan struct{} // closed by stop: idle workers end
	wg   *sync.WaitGroup
	n    atomic.Int32 // workers running, idle or not
}

func newWorkerPool(wg *sync.WaitGroup) *workerPool {
	return &workerPool{jobs: make(chan func()), done: make(chan struct{}), wg: wg}
}

// run runs f on an idle worker, or on a new goroutine, without waiting.
func (p *workerPool) run(f func()) {
	select {
	case p.jobs <- f:
		return
	default:
	}
	p.wg.Add(1)
	if p.n.Add(1) <= maxWorkers {
		go p.work(f)
		return
	}
	p.n.Add(-1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// work runs f, then the jobs handed to it, until stop.
func (p *workerPool) work(f func()) {
	defer p.wg.Done()
	defer p.n.Add(-1)
	for {
		f()
		select {
		case f = <-p.jobs:
		case <-p.done:
			return
		}
	}
}

// stop ends the idle workers and makes busy ones end after their command.
// It is called once.
func (p *workerPool) stop() { close(p.done) }
