package guest

import (
	"time"

	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/quota"
)

// Host work for an account: what the host does because of an account's
// requests outside any guest call's clock. An object's start is the large
// one — its record, the eviction that makes it room, its instance, its
// constructor — and a tenant that starts objects without end (a chain of
// stub calls through new unique IDs, each object calling the next) spent
// the host's cores on it in short pieces that no call's clock counted:
// none of it was slowed for the other accounts' requests, as a long call
// is. Starts now run on the account's schedule (quota.CPU), the one its
// runaway calls run on.

// startShare is how many times over an object start's time is charged
// to its account's schedule while other accounts' requests are in flight:
// an account's starts then get at most a fourth of a core, and run at
// full speed when it is alone. (A twentieth, as for runaway calls, is
// for work that has shown itself runaway; a burst of new objects is
// ordinary work.)
const startShare = 4

// AccountWork runs fn, host work for the account whose schedule is cpu
// (an object's start), and charges its time to that schedule,
// startShare times over, if other accounts' requests are in flight when it
// ends. Before fn runs, while the account owes time and others' requests
// are in flight, it waits for the account's turn, at most maxNap at a
// time, counted as throttled meanwhile (others do not slow down for it);
// a host that stops ends the wait. With no Load or no schedule (nil) it
// runs fn alone.
func (l *Load) AccountWork(cpu *quota.CPU, fn func()) {
	if l == nil || cpu == nil {
		fn()
		return
	}
	l.awaitTurn(cpu, func(cpu *quota.CPU, _ time.Time) bool { return l.othersWaiting(cpu) }, cpu.Next)
	start := mono.Now()
	fn()
	now := mono.Now()
	d := min(now.Sub(start), maxWorkCharge)
	l.spend(cpu, now, d)
	if l.othersWaiting(cpu) {
		cpu.Charge(now, d, startShare)
	}
}

// maxWorkCharge is the most of one piece of host work AccountWork charges.
// The work is timed by the wall clock: the thread's CPU clock costs two
// system calls, 3 µs a reading on this VM, as much as a tenth of a
// recycled instance's whole start. A start that runs longer than this is
// mostly its constructor, a guest call that its own clock slows down.
const maxWorkCharge = time.Millisecond

// awaitTurn waits while cpu's account's next turn (nextTurn) is later
// than now and others reports other accounts' work to make way for, or
// until the host stops.
func (l *Load) awaitTurn(cpu *quota.CPU, others func(*quota.CPU, time.Time) bool, nextTurn func() time.Time) {
	throttled := false
	defer func() {
		if throttled {
			l.throttled.Add(-1)
			cpu.Throttled.Add(-1)
		}
	}()
	for {
		now := mono.Now()
		next := nextTurn()
		if !next.After(now) || !others(cpu, now) {
			return
		}
		if !throttled {
			throttled = true
			l.throttled.Add(1)
			cpu.Throttled.Add(1)
		}
		t := time.NewTimer(min(next.Sub(now), maxNap))
		select {
		case <-t.C:
		case <-l.Stopping():
			t.Stop()
			return
		}
	}
}
