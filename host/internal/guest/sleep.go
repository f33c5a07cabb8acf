package guest

import (
	"math"
	"time"
)

// nanosleep is the instance's WASI sleep: wazero calls it for a
// poll_oneoff whose subscriptions are all answered at once but for a
// clock (nanosleep and usleep in C, time.Sleep in Go, thread::sleep in
// Rust, a timer of the JavaScript runtime). The call waits, holding its
// object but no core (clock.pause): the time does not count against
// cpu_ms, and the call's time runs out as it does when throttling makes
// it wait, within twice cpu_ms of wall time; a sleep past that ends the
// call there. With no clock to wait for (wazero passes the longest
// duration) or outside a call, it returns at once.
func (i *Instance) nanosleep(ns int64) {
	c := i.cur
	if c == nil || ns <= 0 || ns == math.MaxInt64 {
		return
	}
	c.clock.sleepFor(time.Duration(ns))
}

// sleepFor is a sleep the guest asked for: a pause during which the call
// counts as throttled, wanting no core, so that other accounts' long
// calls do not slow down for it (Load.othersWaiting) — a tenant's sleeping
// requests would otherwise slow every other tenant's long ones.
func (k *clock) sleepFor(d time.Duration) {
	if k.load != nil && !k.throttled {
		k.throttle()
		defer k.unthrottle()
	}
	k.pause(d)
}
