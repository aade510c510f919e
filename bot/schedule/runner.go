package schedule

import (
	"context"
	"log/slog"
	"sync"

	"github.com/jonboulle/clockwork"
)

// runner runs a job one run at a time: Config.Evaluate, or a flush of the
// outbox asked for by FlushSoon. A run asked for while one is going is
// neither lost nor stacked: the requests that come during a run make
// exactly one more run after it, so that the data they came for is judged,
// or the messages they queued sent, once.
type runner struct {
	name  string                          // in logs: "evaluate", "flush"
	fn    func(ctx context.Context) error // Config.Evaluate, or a flush
	clock clockwork.Clock
	log   *slog.Logger
	leads func(ctx context.Context) bool // nil: always; else a run is skipped when it says no

	mu      sync.Mutex
	running bool           // a run is going
	again   bool           // another run was asked for while it goes
	closed  bool           // close was called: runAsync starts nothing more
	started sync.WaitGroup // the goroutines runAsync started
}

// run runs fn now in the caller's goroutine and returns when done, or,
// when a run is going, asks for one more after it and returns at once. The
// caller that finds no run going runs the ones asked for meanwhile too.
// After ctx ends it starts no run.
func (e *runner) run(ctx context.Context) {
	e.mu.Lock()
	if ctx.Err() != nil {
		e.mu.Unlock()
		return
	}
	if e.running {
		e.again = true
		e.mu.Unlock()
		return
	}
	e.running = true
	e.mu.Unlock()
	for {
		e.once(ctx)
		e.mu.Lock()
		if !e.again || ctx.Err() != nil {
			e.running, e.again = false, false
			e.mu.Unlock()
			return
		}
		e.again = false
		e.mu.Unlock()
	}
}

// runAsync is run in a goroutine, for a caller that should not wait for the
// run (a sync's job, which would otherwise hold its singleton slot; a chat
// command whose notices are to go out).
// close waits for the goroutine; after close, runAsync does nothing.
func (e *runner) runAsync(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.started.Go(func() { e.run(ctx) })
}

// close makes runAsync start nothing more and waits for the goroutines it
// started: promptly once their context is cancelled, if fn heeds it.
func (e *runner) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.started.Wait()
}

// once runs fn once, if this replica leads, logging its error and its
// panic rather than dying of it or stopping the runs.
func (e *runner) once(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("schedule: "+e.name+" panicked", "panic", p)
		}
	}()
	if e.leads != nil && !e.leads(ctx) {
		e.log.Debug("schedule: " + e.name + " skipped: another replica leads")
		return
	}
	start := e.clock.Now()
	if err := e.fn(ctx); err != nil {
		e.log.Error("schedule: "+e.name, "err", err)
		return
	}
	e.log.Debug("schedule: "+e.name+" done", "took", e.clock.Since(start))
}
