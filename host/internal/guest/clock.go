package guest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/host/internal/quota"
	"github.com/tetratelabs/wazero/api"
)

// throttleAfter is how long a guest call runs before it may be throttled,
// while other requests are in flight; hotAfter how long before it counts
// as a runaway (see tick). Throttled, a call gets a twentieth of the time,
// and the runaways of one account together a twentieth of a core. A guest
// that computes for long (or forever), or many of them at once, thus leave
// the cores to the short requests of every other account, which are
// nearly all requests, and run at full speed when they are alone. The
// time a call sleeps moves its deadline later, by up to its CPU limit in
// all, so that the limit still measures time spent running and the call
// ends within twice the limit of wall time.
const (
	throttleAfter = 5 * time.Millisecond
	hotAfter      = 50 * time.Millisecond
	throttleShare = 20
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
	cpu       *quota.CPU    // the account's schedule of throttled work
	started   time.Time     // when the guest call began
	deadline  time.Time     // when the fuel function ends it
	lastSlice time.Time     // when the fuel function last ran
	owed      time.Duration // a slow request's throttling: sleep not yet taken
	slack     time.Duration // how much later throttling may still move the deadline
	throttled bool          // counted in load.throttled
	gated     bool          // holds its account's gate (quota.CPU.Gate)
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
	if k.gated {
		k.gated = false
		<-k.cpu.Gate()
	}
}

// release gives the account's gate back, if the call holds it: before it
// waits for another object, which may be its account's too.
func (k *clock) release() {
	if k.gated {
		k.gated = false
		<-k.cpu.Gate()
	}
}

// wait takes a token of gate, waiting at most until the end of the call's
// time (then the call ends there) or until the host stops.
func (k *clock) wait(gate chan struct{}) {
	select {
	case gate <- struct{}{}:
		return
	default:
	}
	t := time.NewTimer(max(0, k.deadline.Add(k.slack).Sub(time.Now())))
	defer t.Stop()
	select {
	case gate <- struct{}{}:
	case <-t.C:
		panic(errDeadline)
	case <-k.load.Stopping():
		panic(ErrStopping)
	}
}

// tick is called at every fuel slice and around every host call. It ends
// the call if it is past its deadline, and throttles it while others wait
// if it has been running for long, or if its account owes time:
//
//   - a call that has run past throttleAfter but not past hotAfter (a slow
//     request) is slowed alone, to a twentieth of the time;
//   - a call that has run past hotAfter (a runaway), and any call of an
//     account whose runaways have used their share, run on the account's
//     schedule (quota.CPU): together, a twentieth of a core, one call of
//     the account at a time while it owes time.
func (k *clock) tick() {
	now := time.Now()
	if now.After(k.deadline) {
		panic(errDeadline)
	}
	if k.load == nil {
		k.lastSlice = now
		return
	}
	if k.load.stopping.Load() {
		panic(ErrStopping)
	}
	ran, run := now.Sub(k.started), now.Sub(k.lastSlice)
	debt := k.cpu.InDebt(now)
	waiting := k.load.inflight.Load() > k.load.throttled.Load()
	switch {
	case debt && waiting && !k.gated:
		// The account owes time: its calls run one at a time.
		k.wait(k.cpu.Gate())
		k.gated = true
		now = time.Now()
		k.lastSlice = now // waiting is not running
		return
	case !debt && k.gated:
		k.gated = false
		<-k.cpu.Gate()
	}
	if (ran > throttleAfter || debt) && waiting {
		if !k.throttled {
			k.throttled = true
			k.load.throttled.Add(1)
		}
		var wait time.Duration
		if ran > hotAfter || debt {
			wait = k.cpu.Charge(now, run, throttleShare).Sub(now)
		} else {
			k.owed += (throttleShare - 1) * run
			wait = k.owed
		}
		// Not past the end of the call's time; sleeps shorter than the
		// timer's granularity (about a millisecond) wait for the next
		// check.
		if wait = min(wait, k.deadline.Add(k.slack).Sub(now)); wait >= time.Millisecond {
			k.sleep(wait)
			slept := time.Since(now)
			k.owed = max(0, k.owed-slept)
			ext := min(slept, k.slack)
			k.slack -= ext
			k.deadline = k.deadline.Add(ext)
			now = now.Add(slept)
			if k.load.stopping.Load() {
				panic(ErrStopping)
			}
			if now.After(k.deadline) {
				// Its turn came too late: stop here, before the host
				// call (or the slice) this check stands before.
				panic(errDeadline)
			}
		}
	}
	k.lastSlice = now
}

// sleep waits for d, or until the host stops (the next check then ends
// the call).
func (k *clock) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-k.load.Stopping():
	}
}

// fuel is called by metered guest code when a slice of fuel is used up. It
// runs the call's clock and returns the next slice.
func fuel(ctx context.Context, _ api.Module, s []uint64) {
	if c := callFrom(ctx); c != nil {
		c.clock.tick()
	}
	s[0] = fuelPerSlice
}
