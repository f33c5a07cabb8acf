package quota

import (
	"sync"
	"sync/atomic"
	"time"
)

// CPU schedules one account's runaway guest work (calls that have run
// long while others wait), and the host work it causes outside any call
// (its objects' starts): together it gets 1/share of a core, however
// many calls it is, and while the account owes time its runaway calls run
// one at a time (Gate): an account cannot gain by starting many. It is
// safe for concurrent use; its zero value owes nothing.
type CPU struct {
	// Inflight and Throttled count the account's requests and alarm runs
	// in flight, and its guest calls throttled among them: another
	// account's long calls slow down for its waiting work, its own do not.
	Inflight, Throttled atomic.Int64
	// Long counts the account's guest calls under way that have run long
	// (hold or wait for a long slot): while it has any and shares the
	// host with other accounts (Shared), its other calls count as long
	// sooner.
	Long atomic.Int64

	shared atomic.Int64 // unix nanoseconds when its work last interleaved with another account's
	served atomic.Int64 // unix nanoseconds when a request or run of it last ended while the host was congested (ServedAt)

	mu   sync.Mutex
	next atomic.Int64 // unix nanoseconds when the account's runaway work may run on; written under mu
	fair atomic.Int64 // unix nanoseconds up to which the account's share of the cores is spent; written under mu

	used   atomic.Int64 // nanoseconds its guest calls have run, in all
	listed atomic.Bool  // known to the host's share of the cores (guest.Load)
	held   atomic.Bool  // among the busiest accounts while the host is congested (SetHeld)
	ahead  atomic.Bool  // held, and far busier than any other account (SetDominant)

	gateOnce sync.Once
	gate     chan struct{} // capacity 1: held by the one call of an indebted account that runs
}

// MaxDebt is the most an account may owe, of its runaway work's schedule
// or of its share of the cores: once it behaves, its new work waits no
// longer than this. (Sixteen calls each reading a 25 MiB value in a
// loop, every read charged twenty times over, left their account owing
// minutes: its new objects, long after, could not start.)
const MaxDebt = time.Second

// Gate returns the account's gate: while the account owes time, one of its
// calls runs at a time, the others wait for the gate at their next check.
func (c *CPU) Gate() chan struct{} {
	c.gateOnce.Do(func() { c.gate = make(chan struct{}, 1) })
	return c.gate
}

// Charge records that the account's runaway work ran for d (up to now)
// and returns when it may run again: d times share after the later of
// now and the account's previous turn, but no later than MaxDebt from
// now.
func (c *CPU) Charge(now time.Time, d time.Duration, share int64) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := min(max(c.next.Load(), now.UnixNano())+int64(d)*share, now.UnixNano()+int64(MaxDebt))
	c.next.Store(next)
	return time.Unix(0, next)
}

// Use records that one of the account's guest calls ran for d.
func (c *CPU) Use(d time.Duration) { c.used.Add(int64(d)) }

// SetHeld records whether the account is among those the host's share
// of the cores holds down (the busiest, while the host is congested):
// only they spend their share (Spend) and wait for it.
func (c *CPU) SetHeld(held bool) {
	if c.held.Load() != held {
		c.held.Store(held)
	}
}

// SetDominant records whether the account, held, is far busier than
// every other: it makes way for the others whenever they are being
// served, not only while their requests are in flight.
func (c *CPU) SetDominant(dominant bool) {
	if c.ahead.Load() != dominant {
		c.ahead.Store(dominant)
	}
}

// Dominant reports what SetDominant last recorded.
func (c *CPU) Dominant() bool { return c != nil && c.ahead.Load() }

// Held reports what SetHeld last recorded.
func (c *CPU) Held() bool { return c != nil && c.held.Load() }

// Used returns how long the account's guest calls have run, in all.
func (c *CPU) Used() time.Duration { return time.Duration(c.used.Load()) }

// List reports whether this is the first call of List for c: whether the
// caller is the first to see the account.
func (c *CPU) List() bool { return !c.listed.Load() && c.listed.CompareAndSwap(false, true) }

// Spend records that one of the account's guest calls ran for d, up to
// now, under a cap on its share of the cores: d is spent perMille
// thousandths over (a cap of half a core spends it twice), from now or
// from where the account's share was spent to, whichever is later, up to
// MaxDebt from now. Time it did not use does not accumulate.
func (c *CPU) Spend(now time.Time, d time.Duration, perMille int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fair.Store(min(max(c.fair.Load(), now.UnixNano())+int64(d)*perMille/1000, now.UnixNano()+int64(MaxDebt)))
}

// OverShare reports whether the account has spent its share of the cores
// (Spend) more than burst ahead of now.
func (c *CPU) OverShare(now time.Time, burst time.Duration) bool {
	return c != nil && c.fair.Load() > now.UnixNano()+int64(burst)
}

// Spent returns the time up to which the account's share is spent.
func (c *CPU) Spent() time.Time { return time.Unix(0, c.fair.Load()) }

// Next returns when the account's runaway work may run again: while it
// is later than now, the account owes time.
func (c *CPU) Next() time.Time { return time.Unix(0, c.next.Load()) }

// InDebt reports whether the account's runaway work is not due to run
// again yet.
func (c *CPU) InDebt(now time.Time) bool {
	if c == nil {
		return false
	}
	return c.next.Load() > now.UnixNano()
}

// sharedFor is how long after its work last interleaved with another
// account's an account counts as sharing the host.
const sharedFor = 100 * time.Millisecond

// SharedAt records that the account's work interleaved with another
// account's at now: a request or alarm run of one began right after one
// of the other.
func (c *CPU) SharedAt(now time.Time) { c.shared.Store(now.UnixNano()) }

// ServedAt records that a request or alarm run of the account ended at
// now.
func (c *CPU) ServedAt(now time.Time) { c.served.Store(now.UnixNano()) }

// ServedWithin reports whether ServedAt recorded an end within d of now:
// the account is being served, even at a moment when none of its work
// is in flight.
func (c *CPU) ServedWithin(now time.Time, d time.Duration) bool {
	return c != nil && now.UnixNano()-c.served.Load() < int64(d)
}

// Shared reports whether the account's work interleaved with another
// account's within the last sharedFor: other accounts are being served
// beside it, and may be waiting for a core without the host knowing yet
// (a request counts once a core has read it).
func (c *CPU) Shared(now time.Time) bool {
	if c == nil {
		return false
	}
	return now.UnixNano()-c.shared.Load() < int64(sharedFor)
}
