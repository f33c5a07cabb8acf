package guest

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/quota"
)

// TestLoad_OthersWaiting: a long call slows down for other accounts' work
// in flight, not for its own account's, nor for calls already throttled.
func TestLoad_OthersWaiting(t *testing.T) {
	l := newLoad(1)
	var a, b quota.CPU
	l.Begin(&a)
	if l.othersWaiting(&a) {
		t.Error("account a's own request made a's calls wait")
	}
	if !l.othersWaiting(&b) {
		t.Error("a's request does not make b's calls wait")
	}
	k := clock{load: l, cpu: &a}
	k.throttle()
	if l.othersWaiting(&b) {
		t.Error("a's throttled call makes b's calls wait")
	}
	k.stop()
	l.End(&a)
	if l.othersWaiting(&b) || a.Inflight.Load() != 0 || a.Throttled.Load() != 0 {
		t.Errorf("after End: inflight %d, throttled %d", a.Inflight.Load(), a.Throttled.Load())
	}
}

// spin runs k's checks on busy work until done says so, as metered guest
// code does at every fuel slice.
func spin(k *clock, done func() bool) {
	x := 0
	for !done() {
		for i := 0; i < 10000; i++ {
			x += i
		}
		k.tick()
	}
	runtime.KeepAlive(x)
}

// TestClock_LongSlots: a call that has run past throttleAfter of CPU time
// runs only with one of the load's long slots; another long call waits
// for it, and gets it when the first ends.
func TestClock_LongSlots(t *testing.T) {
	l := newLoad(1)
	l.procs = make(chan struct{}, 2) // k1 holds one while this test waits, not yielding
	var a, b quota.CPU
	k1 := &clock{load: l, cpu: &a}
	k1.start(time.Minute)
	spin(k1, func() bool { return k1.slotted })
	if k1.ran <= throttleAfter {
		t.Errorf("a slot taken after %v of CPU time", k1.ran)
	}
	got, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		k2 := &clock{load: l, cpu: &b}
		k2.start(time.Minute)
		spin(k2, func() bool { return k2.slotted })
		close(got)
		k2.stop()
	}()
	for l.longWaiting.Load() == 0 {
		runtime.Gosched()
	}
	select {
	case <-got:
		t.Fatal("two long calls hold the one slot")
	default:
	}
	k1.stop()
	<-got
	<-done
	if n := len(l.long); n != 0 {
		t.Errorf("%d slots still taken after both calls ended", n)
	}
}

// TestClock_DebtHoldsOnlyRunaways: an account whose runaways owe time
// (here an hour) has its short calls run as usual: not gated, not
// throttled, not charged, even while another account's requests wait. A
// tenant under steady load whose one call once ran long must not starve
// itself.
func TestClock_DebtHoldsOnlyRunaways(t *testing.T) {
	l := newLoad(1)
	var a, b quota.CPU
	now := time.Now()
	a.Charge(now, time.Hour, 1)
	l.Begin(&b)
	defer l.End(&b)
	k := &clock{load: l, cpu: &a}
	k.start(time.Minute)
	k.tick()
	if k.gated || k.throttled || k.slotted {
		t.Errorf("a short call of an indebted account: gated %v, throttled %v, slotted %v", k.gated, k.throttled, k.slotted)
	}
	k.stop()
	if !a.InDebt(time.Now()) || a.Charge(now, 0, 1).After(now.Add(time.Hour)) {
		t.Error("the short call changed the account's debt")
	}
}

// TestLoad_Shared: work of two accounts that interleaves marks both as
// sharing the host; one account's work alone marks neither.
func TestLoad_Shared(t *testing.T) {
	l := newLoad(1)
	var a, b quota.CPU
	for i := 0; i < 3; i++ {
		l.Begin(&a)
		l.End(&a)
	}
	if a.Shared(time.Now()) {
		t.Fatal("an account alone on the host counts as sharing it")
	}
	l.Begin(&b)
	l.End(&b)
	if !a.Shared(time.Now()) || !b.Shared(time.Now()) {
		t.Errorf("after interleaved work: a shared %v, b shared %v", a.Shared(time.Now()), b.Shared(time.Now()))
	}
}

// slotAfter runs a new call of account cpu on l until it holds a long
// slot, and returns the CPU time it had run by then.
func slotAfter(l *Load, cpu *quota.CPU) time.Duration {
	k := &clock{load: l, cpu: cpu}
	k.start(time.Minute)
	defer k.stop()
	spin(k, func() bool { return k.slotted })
	return k.ran
}

// TestClock_BusyAccountLongSooner: while an account has a long call under
// way and shares the host with others, its new calls count as long after
// busyLongAfter rather than throttleAfter: they take turns with its long
// calls instead of taking the core kept for the others' short requests.
// An account alone on the host keeps the usual threshold.
func TestClock_BusyAccountLongSooner(t *testing.T) {
	l := newLoad(2)
	var a, b quota.CPU
	a.Long.Add(1) // a call of a's runs long
	if ran := slotAfter(l, &a); ran <= throttleAfter {
		t.Errorf("alone on the host, a's new call counted as long after %v of CPU time, want past %v", ran, throttleAfter)
	}
	l.Begin(&b) // b's work interleaves with a's
	l.Begin(&a)
	defer l.End(&b)
	defer l.End(&a)
	if ran := slotAfter(l, &a); ran <= busyLongAfter || ran > debtLongAfter+measureEvery {
		t.Errorf("beside b, a's new call counted as long after %v of CPU time, want past %v and about then", ran, busyLongAfter)
	}
	if ran := slotAfter(l, &b); ran <= throttleAfter {
		t.Errorf("b's call (no long calls of b's) counted as long after %v, want past %v", ran, throttleAfter)
	}
}

// TestClock_Yields: a call that is not long still lets a goroutine
// waiting for its core run every yieldEvery or so, well before it would
// count as long: the scheduler cannot stop guest code, and a request
// made runnable on the call's core would otherwise wait for the whole
// call.
func TestClock_Yields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	l := newLoad(1)
	var a quota.CPU
	started, ran := make(chan struct{}), make(chan struct{})
	var cpu time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		k := &clock{load: l, cpu: &a}
		k.start(time.Minute)
		defer k.stop()
		_, c0 := threadCPU()
		go func() { <-started; close(ran) }() // runnable on the one P from here
		close(started)
		spin(k, func() bool {
			select {
			case <-ran:
				return true
			default:
				return false
			}
		})
		_, c1 := threadCPU()
		cpu = c1 - c0
	}()
	<-done
	if cpu >= throttleAfter/2 {
		t.Errorf("a goroutine waiting for the call's core ran after %v of the call's CPU time, want well under %v", cpu, throttleAfter/2)
	}
	if k := len(l.long); k != 0 {
		t.Errorf("the call took a long slot")
	}
}

// TestLoad_Heavy: heavy work waits for a long slot while long calls hold
// them all, runs once one is free (holding it meanwhile), and runs at once
// when the host is stopping.
func TestLoad_Heavy(t *testing.T) {
	l := newLoad(1)
	l.long <- struct{}{} // a long call holds the only slot
	ran := make(chan bool, 1)
	go l.Heavy(func() {
		select {
		case l.long <- struct{}{}: // the slot is not free while fn runs
			ran <- false
		default:
			ran <- true
		}
	})
	select {
	case <-ran:
		t.Fatal("heavy work ran while the long slot was taken")
	default:
	}
	<-l.long // the long call ends
	if held := <-ran; !held {
		t.Error("heavy work ran without holding the slot")
	}
	l.long <- struct{}{}
	l.Stop(context.Background())
	done := false
	l.Heavy(func() { done = true })
	if !done {
		t.Error("heavy work did not run once the host was stopping")
	}
}

// hog keeps a core busy in turns of 20 ms until stop is closed, yielding
// between turns; after a turn it tells turns when it ended, unless a time
// is already waiting there.
func hog(stop <-chan struct{}, turns chan<- time.Time) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); {
		}
		select {
		case turns <- mono.Now():
		default:
		}
		runtime.Gosched()
	}
}

// TestClock_YieldWaitIsNotRunning: the time a call waits for its core
// after it yields is not running time. A short call that yields at every
// check on a busy host — another goroutine takes the only P for 20 ms
// each time — does not become long; counting each wait as up to a
// millisecond of running time made it long after five.
func TestClock_YieldWaitIsNotRunning(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	l := newLoad(1)
	var a, b quota.CPU
	l.Begin(&b) // another account's request in flight
	defer l.End(&b)
	k := &clock{load: l, cpu: &a}
	k.start(time.Minute)
	stop := make(chan struct{})
	hogged := make(chan time.Time, 1)
	go hog(stop, hogged)
	for i := 0; i < 20; i++ {
		k.yielded = time.Time{} // this check yields
		k.tick()
	}
	close(stop)
	select {
	case <-hogged:
	default:
		t.Fatal("the busy goroutine never ran while the call yielded")
	}
	if k.long || k.slotted || k.ran > throttleAfter {
		t.Errorf("after 20 yields of ~20 ms waits: ran %v, long %v, slotted %v; want a short call", k.ran, k.long, k.slotted)
	}
	k.stop()
}

// TestClock_LongYieldReadsAfter: a long call yields at every check, and
// its next reading starts after the yield, on the thread it resumed on:
// the time others ran meanwhile is not its running time.
func TestClock_LongYieldReadsAfter(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	l := newLoad(1)
	var a quota.CPU
	k := &clock{load: l, cpu: &a}
	k.start(time.Minute)
	spin(k, func() bool { return k.slotted })
	stop := make(chan struct{})
	defer close(stop)
	hogged := make(chan time.Time, 1)
	go hog(stop, hogged)
	for {
		k.tick()
		var ended time.Time
		select {
		case ended = <-hogged: // the check's yield let the busy goroutine run
		default:
			continue
		}
		if k.measured.Before(ended) {
			t.Errorf("the reading was taken %v before the other goroutine's turn ended, want after the yield", ended.Sub(k.measured))
		}
		if tid, _ := threadCPU(); tid != k.tid {
			t.Errorf("the reading is of thread %d, the call runs on %d", k.tid, tid)
		}
		break
	}
	k.stop()
}

// TestNewLoad_CountsCores: long calls get all cores but one, however many
// Ps the process runs (cmd/dohost runs two a core).
func TestNewLoad_CountsCores(t *testing.T) {
	before := runtime.GOMAXPROCS(0) // the test binary's: one P a core
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2 * before))
	if got, want := cap(NewLoad().long), max(1, before-1); got != want {
		t.Errorf("%d long slots with GOMAXPROCS %d (%d cores), want %d", got, runtime.GOMAXPROCS(0), before, want)
	}
}

// TestGuestProcs: guest code past its first turn leaves the Ps beyond
// the cores' count free, at least one, and always has one to run on.
func TestGuestProcs(t *testing.T) {
	for _, c := range []struct{ procs, cores, want int }{
		{4, 2, 2}, {2, 2, 1}, {8, 4, 4}, {2, 1, 1}, {1, 1, 1}, {3, 2, 2},
	} {
		if got := guestProcs(c.procs, c.cores); got != c.want {
			t.Errorf("guestProcs(%d Ps, %d cores) = %d, want %d", c.procs, c.cores, got, c.want)
		}
	}
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2 * before))
	if got, want := cap(NewLoad().procs), guestProcs(2*before, cores); got != want {
		t.Errorf("%d guest Ps with GOMAXPROCS %d, want %d", got, 2*before, want)
	}
}

// TestClock_GuestProcsTakeTurns: calls computing past their first turn
// hold a guest P while they run; with one P, two such calls take turns
// at their yields (never both on it, both going on), and a call that
// waits (here for the long slot) holds none meanwhile.
func TestClock_GuestProcsTakeTurns(t *testing.T) {
	l := newLoad(1)
	l.procs = make(chan struct{}, 1)
	var a, b quota.CPU
	var on atomic.Int64
	var both atomic.Bool
	turns := func(k *clock, n int) {
		k.start(time.Minute)
		held := 0
		spin(k, func() bool {
			if k.onProc {
				if on.Add(1) > 1 {
					both.Store(true)
				}
				on.Add(-1)
				held++
			}
			return held >= n
		})
		k.stop()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		turns(&clock{load: l, cpu: &b}, 200)
	}()
	turns(&clock{load: l, cpu: &a}, 200)
	<-done
	if both.Load() {
		t.Error("two calls held the one guest P at once")
	}
	if n := len(l.procs); n != 0 {
		t.Errorf("%d guest Ps still held after both calls ended", n)
	}

	// A call waiting for the long slot gives its guest P back: the
	// call holding the slot needs one to go on, and ends.
	k1 := &clock{load: l, cpu: &a}
	k1.start(time.Minute)
	spin(k1, func() bool { return k1.slotted && k1.onProc })
	waiting := make(chan struct{})
	go func() {
		defer close(waiting)
		k2 := &clock{load: l, cpu: &b}
		k2.start(time.Minute)
		spin(k2, func() bool { return k2.slotted })
		k2.stop()
	}()
	// k1 goes on computing (it yields its P at every check, so k2 runs
	// too) until k2 has run long and waits for the slot — or has had it
	// and ended: on a busy machine k2 may take longer than longTurn to run
	// long, and then k1, seeing it wait, gives it the slot at once and
	// waits its turn for it, holding no guest P, which k2 needs to go on.
	spin(k1, func() bool {
		select {
		case <-waiting:
			return true
		default:
			return l.longWaiting.Load() > 0
		}
	})
	// k1 yields at every check and takes the P again each time: were it
	// held by k2, waiting, k1 would wait for it for ever.
	held := 0
	spin(k1, func() bool {
		if k1.onProc {
			held++
		}
		return held >= 100
	})
	k1.stop()
	<-waiting
	if n := len(l.procs) + len(l.long); n != 0 {
		t.Errorf("%d guest Ps and long slots still held", n)
	}
}
