package resp

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestWorkerPool: a command runs on an idle worker or a new one; beyond
// maxWorkers busy workers, on a goroutine of its own; after stop every
// goroutine ends.
func TestWorkerPool(t *testing.T) {
	var wg sync.WaitGroup
	p := newWorkerPool(&wg)
	release := make(chan struct{})
	var started, ran atomic.Int32
	const jobs = maxWorkers + 20
	for range jobs {
		p.run(func() {
			started.Add(1)
			<-release
			ran.Add(1)
		})
	}
	waitFor(t, "every job to start", func() bool { return started.Load() == jobs })
	if n := p.n.Load(); n != maxWorkers {
		t.Errorf("%d workers with %d jobs running, want maxWorkers = %d", n, jobs, maxWorkers)
	}
	close(release)
	waitFor(t, "every job to finish", func() bool { return ran.Load() == jobs })

	// The workers stay for the next jobs; the goroutines of the jobs
	// beyond maxWorkers ended with them.
	for range 100 {
		done := make(chan struct{})
		p.run(func() { close(done) })
		<-done
	}
	if n := p.n.Load(); n != maxWorkers {
		t.Errorf("%d workers, want %d", n, maxWorkers)
	}
	p.stop()
	wg.Wait()
	if n := p.n.Load(); n != 0 {
		t.Errorf("%d workers after stop", n)
	}
}
