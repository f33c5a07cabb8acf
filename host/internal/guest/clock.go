package guest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// throttleAfter is how long a guest call runs before it may be throttled:
// from then on, while other requests are in flight, it gets a twentieth
// of the time, sleeping at each fuel slice nineteen times as long as the
// slice ran. A guest that computes for long (or forever) thus leaves the
// cores to the short requests of every other object, which are nearly all
// requests, and runs at full speed when it is alone. The time it sleeps is
// added to its deadline, so that the CPU limit still measures time spent
// running.
const (
	throttleAfter = 5 * time.Millisecond
	throttleSleep = 19 // sleep per unit of running, once throttled
)

// Load counts the work in flight on a server, for throttling: the
// requests and alarm runs under way, and the guest calls among them that
// have run long. A long call is slowed down only while others wait. It
// also stops every guest call when the server shuts down (Stop). It is
// safe for concurrent use.
type Load struct {
	inflight, throttled atomic.Int64
	running             atomic.Int64 // work counted by Enter (guest calls among it)
	stopping            atomic.Bool
	stopOnce            sync.Once
	stopped             chan struct{} // closed by Stop
}

// NewLoad returns a Load for a server.
func NewLoad() *Load { return &Load{stopped: make(chan struct{})} }

// Stopping is closed when Stop is called: waits for a turn or a slot
// give up on it.
func (l *Load) Stopping() <-chan struct{} { return l.stopped }

// ErrStopping is the cause of a guest call stopped, or not started,
// because the host is shutting down.
var ErrStopping = errors.New("guest: the host is shutting down")

// Enter counts work that uses guest instances or the store (a guest
// call, a request or alarm run around it) until Exit, unless the host is
// stopping: then it reports false and counts nothing. Stop waits for all
// that Enter counted.
func (l *Load) Enter() bool {
	l.running.Add(1)
	if l.stopping.Load() {
		l.running.Add(-1)
		return false
	}
	return true
}

// Running reports how much work Enter counted is under way.
func (l *Load) Running() int64 { return l.running.Load() }

// Exit ends what Enter counted.
func (l *Load) Exit() { l.running.Add(-1) }

// Stop makes every guest call under way trap at its next fuel slice or
// host call (within about a millisecond of guest code), and every later
// call fail before it starts; then it waits until no call runs, or until
// ctx is done. Only then may instances be closed: closing one unmaps the
// memory its call would go on using. It returns how many calls still run.
func (l *Load) Stop(ctx context.Context) int64 {
	l.stopping.Store(true)
	l.stopOnce.Do(func() { close(l.stopped) })
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		n := l.running.Load()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
		}
	}
}

// Begin counts one request (or alarm run) in flight; End ends it.
func (l *Load) Begin() { l.inflight.Add(1) }

// Inflight reports the requests and alarm runs Begin counted.
func (l *Load) Inflight() int64 { return l.inflight.Load() }

// End ends what Begin counted.
func (l *Load) End() { l.inflight.Add(-1) }

// clock is the time of one guest call: when it started, its deadline and
// its throttling. The call's goroutine alone uses it.
type clock struct {
	load      *Load
	started   time.Time     // when the guest call began
	deadline  time.Time     // when the fuel function ends it
	lastSlice time.Time     // when the fuel function last ran
	owed      time.Duration // throttling: sleep not yet taken
	slack     time.Duration // how much later throttling may still move the deadline
	throttled bool          // counted in load.throttled
}

// start starts the clock: the guest may run for limit from now. The time
// throttling makes it sleep moves the deadline, but by no more than limit
// in all: a call that others keep waiting ends within twice its limit of
// wall time (plus the time it waits for other objects), however busy the
// host is.
func (k *clock) start(limit time.Duration) {
	k.started = time.Now()
	k.lastSlice = k.started
	k.deadline = k.started.Add(limit)
	k.slack = limit
}

// blocked stops the clock for d, the time the call waited in a host call
// for another object: that is neither running time against the limit nor
// a reason to throttle the call.
func (k *clock) blocked(d time.Duration) {
	k.started = k.started.Add(d)
	k.lastSlice = k.lastSlice.Add(d)
	k.deadline = k.deadline.Add(d)
}

// stop ends the clock.
func (k *clock) stop() {
	if k.throttled {
		k.throttled = false
		k.load.throttled.Add(-1)
	}
}

// tick is called at every fuel slice. It ends the call if it is past its
// deadline, and throttles a call that has been running for long.
func (k *clock) tick() {
	now := time.Now()
	if now.After(k.deadline) {
		panic(errDeadline)
	}
	if k.load != nil && k.load.stopping.Load() {
		panic(ErrStopping)
	}
	if now.Sub(k.started) > throttleAfter && k.load != nil {
		if !k.throttled {
			k.throttled = true
			k.load.throttled.Add(1)
		}
		// Sleeps shorter than the timer's granularity (about a
		// millisecond) last that long anyway: owe the pause until it is
		// worth a sleep, and count what the sleep really took.
		if k.load.inflight.Load() > k.load.throttled.Load() {
			k.owed += throttleSleep * now.Sub(k.lastSlice)
		}
		if k.owed >= time.Millisecond {
			time.Sleep(k.owed)
			slept := time.Since(now)
			k.owed -= slept
			ext := min(slept, k.slack)
			k.slack -= ext
			k.deadline = k.deadline.Add(ext)
			now = now.Add(slept)
		}
	}
	k.lastSlice = now
}

// fuel is called by metered guest code when a slice of fuel is used up. It
// runs the call's clock and returns the next slice.
func fuel(ctx context.Context, _ api.Module, s []uint64) {
	if c := callFrom(ctx); c != nil {
		c.clock.tick()
	}
	s[0] = fuelPerSlice
}
