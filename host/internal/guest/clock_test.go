package guest

import (
	"runtime"
	"testing"
	"time"

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
