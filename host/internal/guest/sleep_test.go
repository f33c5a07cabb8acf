package guest

import (
	"errors"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/quota"
)

// during runs sleep on a goroutine of its own (the call's, as a guest's
// sleep runs) and waits until cond holds while it lasts; it fails the
// test if the sleep ends first.
func during(t *testing.T, sleep func(), what string, cond func() bool) {
	t.Helper()
	asleep := make(chan struct{})
	go func() {
		defer close(asleep)
		sleep()
	}()
	for !cond() {
		select {
		case <-asleep:
			t.Fatalf("the sleep ended before %s", what)
		default:
			time.Sleep(time.Millisecond)
		}
	}
	<-asleep
}

// TestClock_SleepFor: a guest's sleep is not running time (the deadline
// moves by the time slept); while it lasts the call counts as throttled,
// so that other accounts' long calls do not slow down for a request that
// wants no core, and afterwards as waiting again; a long call gives up
// its slot to sleep. A sleep past the end of the call's time ends the
// call there.
func TestClock_SleepFor(t *testing.T) {
	l := newLoad(1)
	var a, b quota.CPU
	l.Begin(&a)
	defer l.End(&a)

	k := &clock{load: l, cpu: &a}
	k.start(time.Minute)
	deadline := k.deadline
	during(t, func() { k.sleepFor(200 * time.Millisecond) }, "b's calls stopped waiting for it",
		func() bool { return !l.othersWaiting(&b) })
	if !l.othersWaiting(&b) {
		t.Error("after the sleep, a's request no longer makes b's calls wait")
	}
	if moved := k.deadline.Sub(deadline); moved < 200*time.Millisecond {
		t.Errorf("the deadline moved %v for a 200 ms sleep", moved)
	}
	k.stop()

	long := &clock{load: l, cpu: &a}
	long.start(time.Minute)
	spin(long, func() bool { return long.slotted })
	during(t, func() { long.sleepFor(200 * time.Millisecond) }, "it gave up its long slot",
		func() bool { return len(l.long) == 0 })
	long.stop()

	// With 100 ms of time in all, a sleep of a minute ends the call.
	short := &clock{load: l, cpu: &a}
	short.start(50 * time.Millisecond)
	func() {
		defer func() {
			if r := recover(); r == nil || !errors.Is(r.(error), errDeadline) {
				t.Errorf("a sleep past the call's time: recovered %v, want errDeadline", r)
			}
		}()
		short.sleepFor(time.Minute)
	}()
	short.stop()
	if a.Throttled.Load() != 0 || l.throttled.Load() != 0 {
		t.Errorf("throttled counts after the sleeps: account %d, load %d", a.Throttled.Load(), l.throttled.Load())
	}
}
