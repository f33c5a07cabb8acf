package guest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/tetratelabs/wazero/api"
)

// throttleAfter is how long a guest call runs before it counts as long;
// hotAfter how long before it counts as a runaway (see tick). Long calls
// of all accounts together run on all cores but one (Load's long slots),
// taking turns, so that a core is always free for short requests, which
// are nearly all requests: the host sees a request only once a core has
// read it. While other accounts' requests are in flight, a long call is
// slowed to a twentieth of the time, and the runaways of one account
// together to a twentieth of a core. A guest that computes for long (or
// forever), or many of them at once, thus leave the cores to the short
// requests of every other account, and run at full speed when they are
// alone. The
// time a call waits or sleeps moves its deadline later, by up to its CPU
// limit in all, so that the limit still measures time spent running and
// the call ends within twice the limit of wall time.
const (
	throttleAfter = 5 * time.Millisecond
	hotAfter      = 50 * time.Millisecond
	// debtLongAfter is throttleAfter for the calls of an account whose
	// runaways owe time; busyLongAfter for those of an account with long
	// calls under way while other accounts are served (quota.CPU.Shared).
	// Such an account has shown what its calls do, and a new call of it
	// running for throttleAfter beside its long ones would take the core
	// kept for short requests.
	debtLongAfter = time.Millisecond
	busyLongAfter = 250 * time.Microsecond
	throttleShare = 20
	// maxNap is the longest a throttled call sleeps at once: it owes the
	// rest at its next checks, so that a call that owes much holds its
	// object no more than this at a time.
	maxNap = 100 * time.Millisecond
	// longTurn is how long a long call keeps its slot while other long
	// calls wait for one.
	longTurn = 2 * time.Millisecond
	// yieldEvery is how long any call runs at most (to its next check)
	// before it lets the goroutines waiting for its core run: the
	// scheduler cannot stop guest code, and a request made runnable on
	// this core (its connection read, its commit done) would otherwise
	// wait for the whole call.
	yieldEvery = 250 * time.Microsecond
)

// Load counts the work in flight on a server, for throttling: the
// requests and alarm runs under way, and the guest calls among them that
// have run long. A long call is slowed down only while others wait. It
// also stops every guest call when the server shuts down (Stop). It is
// safe for concurrent use.
type Load struct {
	// Read by every call and seldom written: on cache lines of their own,
	// apart from the counters below that every request writes (read beside
	// them, each reading waited for the line the other core had just
	// written).
	stopping atomic.Bool
	shared   atomic.Bool  // two accounts or more served: their guest calls are counted
	perMille atomic.Int64 // the cap on an account's share: a call's time is spent this many thousandths over (0: no cap)
	stopOnce sync.Once
	stopped  chan struct{} // closed by Stop
	long     chan struct{} // a token for each long call running: all cores but one
	procs    chan struct{} // a token for each call in guest code past its first turn (guestProcs)
	_        [64]byte

	inflight, throttled atomic.Int64
	running             atomic.Int64              // work counted by Enter (guest calls among it)
	last                atomic.Pointer[quota.CPU] // the account of the work Begin counted last
	longWaiting         atomic.Int64              // long calls waiting for a slot
	_                   [64]byte

	// The cores' share between accounts (share.go).
	shareMu  sync.Mutex
	accounts []*quota.CPU // every account served so far; guarded by shareMu, only appended to
}

// NewLoad returns a Load for a server on this machine: long calls run on
// all its cores but one (at least one), and calls past their first turn
// on guestProcs of its Ps.
func NewLoad() *Load { return newLoad(cores - 1) }

// guestProcs is how many of procs Ps guest code may hold at once beyond
// its first turn (yieldEvery): the Ps the process has beyond its cores
// stay free of it, at least one. The Go scheduler looks at the network
// only when a P runs out of goroutines (or every 10 ms): a guest call that
// yields puts itself back in the run queue, so with every P in guest code
// a request that arrived waited up to 10 ms to be read, however promptly
// the calls yielded (the soak's bigfill: every P busy through gaps of
// 10-18 ms between requests read, execution traces in RATIONALE.md, "A P
// kept from guest code, and the kernel's slice"). A call past its first
// turn takes a token at every yield; one that finds none waits, and its P
// goes looking for work, the network first.
func guestProcs(procs, cores int) int {
	return max(1, procs-max(1, procs-cores))
}

// cores is how many cores the process may run on: GOMAXPROCS as the
// runtime chose it at start (the CPUs of the process's affinity and
// cgroup limit), read before cmd/dohost runs more Ps than that (serving
// with two Ps a core: RATIONALE.md, "More Ps than cores").
var cores = min(runtime.GOMAXPROCS(0), runtime.NumCPU())

func newLoad(longSlots int) *Load {
	return &Load{stopped: make(chan struct{}), long: make(chan struct{}, max(1, longSlots)),
		procs: make(chan struct{}, guestProcs(runtime.GOMAXPROCS(0), cores))}
}

// Heavy runs fn holding one of the long slots: host work a guest's call
// leaves behind that costs as much as a long call — the teardown of a
// trapped instance, whose memory the kernel frees page by page, and the
// creation of the instance that replaces it — so that it takes its turn
// on the cores long calls share, not the one kept for short requests.
// While it waits it counts among the long calls waiting, so that the
// call holding the slot yields it after its turn. Once the host is
// stopping, or with no Load (nil: a module compiled outside a server),
// it runs fn without a slot.
func (l *Load) Heavy(fn func()) {
	if l != nil && l.takeLong() {
		defer func() { <-l.long }()
	}
	fn()
}

// takeLong takes a long slot, waiting while all are held (counted in
// longWaiting); it reports false if the host began to stop first.
func (l *Load) takeLong() bool {
	select {
	case l.long <- struct{}{}:
		return true
	default:
	}
	l.longWaiting.Add(1)
	defer l.longWaiting.Add(-1)
	select {
	case l.long <- struct{}{}:
		return true
	case <-l.stopped:
		return false
	}
}

// LongWaiting reports how many long calls and heavy work (Heavy) wait
// for a long slot.
func (l *Load) LongWaiting() int64 { return l.longWaiting.Load() }

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

// Begin counts one request (or alarm run) of the account whose schedule
// is cpu in flight; End ends it.
func (l *Load) Begin(cpu *quota.CPU) {
	l.inflight.Add(1)
	if cpu != nil {
		cpu.Inflight.Add(1)
		if cpu.List() {
			l.listAccount(cpu)
		}
		// Read before writing: one account's requests in a row, nearly
		// all of a single tenant's, leave the shared word unwritten.
		if l.last.Load() == cpu {
			return
		}
		if prev := l.last.Swap(cpu); prev != cpu && prev != nil {
			// Two accounts' work interleaves: each is served beside
			// another.
			now := mono.Now()
			cpu.SharedAt(now)
			prev.SharedAt(now)
		}
	}
}

// Inflight reports the requests and alarm runs Begin counted.
func (l *Load) Inflight() int64 { return l.inflight.Load() }

// End ends what Begin counted.
func (l *Load) End(cpu *quota.CPU) {
	l.inflight.Add(-1)
	if cpu != nil {
		cpu.Inflight.Add(-1)
		if l.perMille.Load() > 0 { // congested: the share needs to know who is served
			cpu.ServedAt(mono.Now())
		}
	}
}

// othersWaiting reports whether requests of accounts other than cpu's
// are in flight and not throttled: work a long call of cpu's account
// slows down for.
func (l *Load) othersWaiting(cpu *quota.CPU) bool {
	in, th := l.inflight.Load(), l.throttled.Load()
	if cpu != nil {
		in -= cpu.Inflight.Load()
		th -= cpu.Throttled.Load()
	}
	return in > th
}

// clock is the time of one guest call: its deadline, its running time and
// its throttling. The call's goroutine alone uses it.
type clock struct {
	load      *Load
	cpu       *quota.CPU    // the account's schedule of throttled work
	deadline  time.Time     // when the fuel function ends it
	owed      time.Duration // a slow request's throttling: sleep not yet taken
	slack     time.Duration // how much later throttling may still move the deadline
	throttled bool          // counted in load.throttled
	long      bool          // counted in cpu.Long
	gated     bool          // holds its account's gate (quota.CPU.Gate)
	slotted   bool          // holds one of the load's long slots
	onProc    bool          // holds one of the load's guest Ps (guestProcs)
	slotAt    time.Time     // when it took it
	yielded   time.Time     // when it last let other goroutines run, or waited (rebase)

	// The call's running time, read from its thread's CPU clock (once the
	// call may have run measureAfter, then every measureEvery at most: a
	// reading costs two system calls). Time spent
	// waiting for a core is not running time, so that a short request on
	// a busy host is not taken for a long one.
	ran      time.Duration // CPU time of the call so far
	slice    time.Duration // of it, since the last check
	tid      int           // the thread last read
	tcpu     time.Duration // its CPU time then
	measured time.Time     // when
}

// measureEvery is how often, at most, a check reads the thread's CPU
// clock; measureAfter how long a call may have run (by the wall clock)
// before one does, no longer than the shortest time after which a call
// counts as long (debtLongAfter).
const (
	measureEvery = 100 * time.Microsecond
	measureAfter = debtLongAfter
)

// copyCost is what a host call is expected to spend on each byte the
// guest passes it (a 25 MiB value took 10 ms to put in a batch): the time
// it is counted as long for before it runs (tickAhead).
const copyCost = time.Nanosecond

// measure adds the call's running time since the last reading. If the
// goroutine moved to another thread meanwhile (it was descheduled, so it
// waited), or there was no reading (rebase), the wall time counts, up to
// a millisecond.
func (k *clock) measure(now time.Time) {
	tid, c := threadCPU()
	d := min(now.Sub(k.measured), time.Millisecond)
	if tid == k.tid && c >= k.tcpu {
		d = c - k.tcpu
	}
	k.ran += d
	k.slice += d
	k.tid, k.tcpu, k.measured = tid, c, now
}

// rebase starts the next reading from now: after the call waited, which
// is not running time. It reads no clock: the interval until the next
// reading counts as wall time up to a millisecond, so that the calls that
// end within measureAfter, nearly all, never pay for a reading.
func (k *clock) rebase() {
	k.tid = -1
	k.measured = mono.Now()
	k.yielded = k.measured // it waited: others had the core meanwhile
}

// start starts the clock: the guest may run for limit from now. The time
// throttling makes it sleep moves the deadline, but by no more than limit
// in all: a call that others keep waiting ends within twice its limit of
// wall time (plus the time it waits for other objects), however busy the
// host is.
func (k *clock) start(limit time.Duration) {
	k.slack = limit
	k.ran, k.slice = 0, 0
	k.rebase()
	k.deadline = k.measured.Add(limit)
}

// blocked stops the clock for d, the time the call waited in a host call
// for another object: that is neither running time against the limit nor
// a reason to throttle the call.
func (k *clock) blocked(d time.Duration) {
	k.deadline = k.deadline.Add(d)
	k.rebase()
}

// stop ends the clock, and counts the call's running time against its
// account's share of the cores (Load.spend).
func (k *clock) stop() {
	if k.load != nil && k.cpu != nil && k.load.shared.Load() {
		now := mono.Now()
		k.load.spend(k.cpu, now, k.ran+min(now.Sub(k.measured), time.Millisecond))
	}
	k.release()
	if k.long {
		k.long = false
		k.cpu.Long.Add(-1)
	}
	k.unthrottle()
}

// release gives back the long slot, the account's gate and the guest P,
// if the call holds them: before it waits for another object (which may
// be its account's too, and need them), before it sleeps, and at its end.
func (k *clock) release() {
	k.dropSlot()
	k.leaveProc()
	if k.gated {
		k.gated = false
		<-k.cpu.Gate()
	}
}

// leaveProc gives back the guest P, if the call holds one: whenever it
// yields or waits.
func (k *clock) leaveProc() {
	if k.onProc {
		k.onProc = false
		<-k.load.procs
	}
}

// takeProc takes a guest P, waiting while all are held (the wait is
// not running time: yield starts the reading afresh after it), unless
// the host began to stop (the next check then ends the call).
func (k *clock) takeProc() {
	select {
	case k.load.procs <- struct{}{}:
		k.onProc = true
		return
	default:
	}
	select {
	case k.load.procs <- struct{}{}:
		k.onProc = true
	case <-k.load.Stopping():
	}
}

// dropSlot gives back the long slot, if the call holds one.
func (k *clock) dropSlot() {
	if k.slotted {
		k.slotted = false
		<-k.load.long
	}
}

// throttle counts the call as throttled (slowed or waiting its turn):
// other calls do not slow down for it.
func (k *clock) throttle() {
	if !k.throttled {
		k.throttled = true
		k.load.throttled.Add(1)
		if k.cpu != nil {
			k.cpu.Throttled.Add(1)
		}
	}
}

// unthrottle undoes throttle.
func (k *clock) unthrottle() {
	if k.throttled {
		k.throttled = false
		k.load.throttled.Add(-1)
		if k.cpu != nil {
			k.cpu.Throttled.Add(-1)
		}
	}
}

// await takes a token of ch, waiting if it must at most until the end of
// the call's time (then the call ends there) or until the host stops, and
// sets *held. The time it waited moves the deadline, as a sleep does.
func (k *clock) await(ch chan struct{}, waiters *atomic.Int64, held *bool) {
	select {
	case ch <- struct{}{}:
		*held = true
		return
	default:
	}
	k.leaveProc() // a wait holds no P: its holders may wait for what this call holds
	if waiters != nil {
		waiters.Add(1)
		defer waiters.Add(-1)
	}
	start := time.Now()
	t := time.NewTimer(max(0, k.end().Sub(start)))
	defer t.Stop()
	select {
	case ch <- struct{}{}:
		*held = true // before waited, which may end the call
	case <-t.C:
		panic(errDeadline)
	case <-k.load.Stopping():
		panic(ErrStopping)
	}
	k.waited(time.Since(start))
}

// left is how long the call may still wait: to the end of its time.
func (k *clock) left() time.Duration { return max(0, time.Until(k.end())) }

// end is the end of the call's time: its deadline, moved as far as the
// slack left allows. A wait or sleep goes no further.
func (k *clock) end() time.Time { return k.deadline.Add(k.slack) }

// pause waits d, or to the end of the call's time, holding nothing (no
// slot, no gate), as time that is not running (waited).
func (k *clock) pause(d time.Duration) {
	k.release()
	k.waited(k.sleep(min(d, max(0, time.Until(k.end())))))
}

// waited moves the deadline by d, the time the call waited or slept, up
// to the slack left, and ends the call if it is past the deadline even so
// (its turn came too late: it stops before the host call, or the slice,
// that the check stands before).
func (k *clock) waited(d time.Duration) {
	ext := min(d, k.slack)
	k.slack -= ext
	k.deadline = k.deadline.Add(ext)
	if k.load != nil && k.load.stopping.Load() {
		panic(ErrStopping)
	}
	if mono.Now().After(k.deadline) {
		panic(errDeadline)
	}
	k.rebase()
}

// tick is called at every fuel slice and around every host call. It ends
// the call if it is past its deadline, and schedules it if it has been
// running for long, or if its account owes time:
//
//   - every call lets the goroutines waiting for its core run once it has
//     run yieldEvery since it last did or waited;
//   - a call that has run past throttleAfter (a long call; busyLongAfter
//     for an account with long calls under way beside other accounts,
//     debtLongAfter for one that owes time) runs only with one of the
//     load's long slots, all cores but one, taking turns of longTurn with
//     the other long calls that wait for one;
//   - while other accounts' requests are in flight, a long call that has
//     not run past hotAfter (a slow request) is slowed alone, to a
//     twentieth of the time;
//   - the calls of an account that have run past hotAfter (its runaways)
//     run on the account's schedule (quota.CPU) while other accounts'
//     requests are in flight: together, a twentieth of a core, one at a time while the
//     account owes time. Its short calls are not held back for them.
//
// A call waits holding nothing: it gives its slot and its account's gate
// back before it sleeps or waits for the gate.
func (k *clock) tick() { k.tickAhead(0) }

// tickAhead is tick before a host call that will copy about ahead's worth
// of bytes: the call counts as long if it will be, so that it waits for a
// long slot before the work, not after it.
func (k *clock) tickAhead(ahead time.Duration) {
	now := mono.Now()
	if now.After(k.deadline) {
		panic(errDeadline)
	}
	if k.load == nil {
		return
	}
	if k.load.stopping.Load() {
		panic(ErrStopping)
	}
	if !k.slotted && now.Sub(k.yielded) >= yieldEvery {
		k.yield(now)
		now = k.measured
	}
	indebted := k.cpu.InDebt(now)
	// An account whose runaways owe time, or that has long calls under
	// way while other accounts are served, has shown what its calls do:
	// they count as long sooner.
	longAfter := throttleAfter
	switch {
	case k.cpu.Shared(now) && k.cpu.Long.Load() > 0:
		longAfter = busyLongAfter
	case indebted:
		longAfter = debtLongAfter
	}
	// The wall time since the last reading bounds the running time in it:
	// while that bound is under measureAfter, nothing below applies and
	// the thread's clock is not read (nearly all calls end so, never
	// paying for a reading).
	if k.ran+now.Sub(k.measured)+ahead <= min(measureAfter, longAfter) && !k.slotted && !k.gated {
		return
	}
	if now.Sub(k.measured) >= measureEvery {
		k.measure(now)
	}
	ran, run := k.ran+ahead, k.slice
	hot := ran > hotAfter
	debt := hot && indebted
	waiting := k.load.othersWaiting(k.cpu)
	switch {
	case debt && waiting && !k.gated:
		// The account's runaways owe time: they run one at a time.
		k.release()
		k.throttle()
		k.await(k.cpu.Gate(), nil, &k.gated)
	case !debt && k.gated:
		k.gated = false
		<-k.cpu.Gate()
	}
	if ran > longAfter && waiting {
		k.throttle()
		var wait time.Duration
		if hot {
			wait = k.cpu.Charge(now, run, throttleShare).Sub(now)
		} else {
			k.owed += (throttleShare - 1) * run
			wait = k.owed
		}
		// Not past the end of the call's time; sleeps shorter than the
		// timer's granularity (about a millisecond) wait for the next
		// check.
		if wait = min(wait, maxNap, k.end().Sub(now)); wait >= time.Millisecond {
			k.dropSlot()
			k.leaveProc()
			slept := k.sleep(wait)
			k.owed = max(0, k.owed-slept)
			k.waited(slept)
		}
	}
	if ran > longAfter {
		if !k.long && k.cpu != nil {
			k.long = true
			k.cpu.Long.Add(1)
		}
		switch {
		case !k.slotted:
			k.throttle()
			k.await(k.load.long, &k.load.longWaiting, &k.slotted)
			k.slotAt = mono.Now()
		case k.load.longWaiting.Load() > 0 && now.Sub(k.slotAt) >= longTurn:
			// Others wait for a slot: to the back of the line.
			k.dropSlot()
			k.await(k.load.long, &k.load.longWaiting, &k.slotted)
			k.slotAt = mono.Now()
		}
	}
	if k.slotted {
		// A long call lets the goroutines that wait for its core run at
		// every check (the scheduler cannot stop guest code between
		// them): a request, or the database's log writer, waits at most
		// a slice for it, not the scheduler's 10 ms. The wait is not its
		// running time (yield).
		k.yield(mono.Now())
	}
	k.slice = 0
}

// yield lets the goroutines waiting for the call's core run
// (runtime.Gosched; a call alone on the host skips it when none waits:
// othersRunnable), and the calls waiting for a guest P take it: the
// call gives its own back first and takes one again after. The time
// until the call runs again is waiting, not running time — on a busy
// host, most of an ordinary request's wall time — so the reading starts
// afresh after it. The running time up to the yield is counted first:
// bounded by the wall clock while the call is short (tickAhead's fast
// path, no reading), read from the thread's clock once it may have run
// long; after the yield, the next reading is of the thread the call
// resumed on. (Counting the wait, up to a millisecond a
// yield, made cold requests on a saturated host pass throttleAfter and
// queue for the long slot: a p99 of 140 ms, most of it waiting there.)
func (k *clock) yield(now time.Time) {
	light := k.ran+now.Sub(k.measured) <= measureAfter
	if light {
		d := now.Sub(k.measured)
		k.ran += d
		k.slice += d
	} else if now.After(k.measured) {
		k.measure(now)
	}
	k.leaveProc() // a call waiting for a guest P is runnable from here
	if k.load.inflight.Load() > 1 || othersRunnable() {
		runtime.Gosched()
	}
	k.takeProc()
	if light {
		k.tid = -1 // the next reading counts the wall time since, up to a millisecond
	} else {
		k.tid, k.tcpu = threadCPU()
	}
	k.measured = mono.Now()
	k.yielded = k.measured
}

// sleep waits for d, or until the host stops (the next check then ends
// the call), and returns how long it slept.
func (k *clock) sleep(d time.Duration) time.Duration {
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	var stopping <-chan struct{} // none without a Load
	if k.load != nil {
		stopping = k.load.Stopping()
	}
	select {
	case <-t.C:
	case <-stopping:
	}
	return time.Since(start)
}

// fuel is called by metered guest code when a slice of fuel is used up. It
// runs the call's clock and returns the next slice.
func fuel(ctx context.Context, _ api.Module, s []uint64) {
	if c := callFrom(ctx); c != nil {
		c.clock.tick()
	}
	s[0] = fuelPerSlice
}
