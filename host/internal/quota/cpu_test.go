package quota

import (
	"testing"
	"time"
)

// TestCPU_Charge: runaway work of d owes d times share from the later of
// now and the account's previous turn, so that many calls of one account
// queue behind each other; an account that owes nothing is not in debt,
// and the debt ends on time.
func TestCPU_Charge(t *testing.T) {
	var c CPU
	now := time.Unix(1000, 0)
	if c.InDebt(now) {
		t.Fatal("a new account owes time")
	}
	if next := c.Charge(now, time.Millisecond, 20); !next.Equal(now.Add(20 * time.Millisecond)) {
		t.Errorf("1 ms at a share of 20: due again at +%v, want +20ms", next.Sub(now))
	}
	// A second call of the account, charged at the same moment, queues
	// behind the first.
	if next := c.Charge(now, time.Millisecond, 20); !next.Equal(now.Add(40 * time.Millisecond)) {
		t.Errorf("two calls: due again at +%v, want +40ms", next.Sub(now))
	}
	if !c.InDebt(now.Add(39 * time.Millisecond)) {
		t.Error("not in debt before its turn")
	}
	if c.InDebt(now.Add(40 * time.Millisecond)) {
		t.Error("still in debt at its turn")
	}
	// Time not used is not saved up: a charge long after starts from now.
	later := now.Add(time.Hour)
	if next := c.Charge(later, time.Millisecond, 20); !next.Equal(later.Add(20 * time.Millisecond)) {
		t.Errorf("after an idle hour: due again at +%v, want +20ms", next.Sub(later))
	}
	var nilCPU *CPU
	if nilCPU.InDebt(now) {
		t.Error("a nil schedule owes time")
	}
}

// TestCPU_Gate: the gate lets one holder through at a time.
func TestCPU_Gate(t *testing.T) {
	var c CPU
	g := c.Gate()
	if g != c.Gate() {
		t.Fatal("the gate changes")
	}
	g <- struct{}{}
	select {
	case g <- struct{}{}:
		t.Fatal("two holders at once")
	default:
	}
	<-g
	select {
	case g <- struct{}{}:
	default:
		t.Fatal("a free gate refused")
	}
}

// TestRate_Reserve: a bucket gives its burst at once, then makes the next
// taker wait until the debt is paid at its rate; a taker that cannot wait
// that long takes nothing.
func TestRate_Reserve(t *testing.T) {
	r := NewRate(1<<20, 4<<20)
	if d, ok := r.Reserve(4<<20, 0); d != 0 || !ok {
		t.Errorf("the burst waited %v (%v)", d, ok)
	}
	// 64 MiB more at 1 MiB/s would be a minute: refused, and not owed.
	if d, ok := r.Reserve(64<<20, 10*time.Second); ok || d < 50*time.Second {
		t.Errorf("64 MiB past the burst, waiting up to 10s: wait %v, ok %v; want refused", d, ok)
	}
	// 1 MiB more at 1 MiB/s: a second, less what came in since.
	if d, ok := r.Reserve(1<<20, 10*time.Second); !ok || d <= 0 || d > time.Second {
		t.Errorf("1 MiB past the burst: wait %v (%v), want up to 1s", d, ok)
	}
	var none *Rate
	if d, ok := none.Reserve(1<<30, 0); d != 0 || !ok {
		t.Errorf("no rate: wait %v (%v)", d, ok)
	}
}

// TestCPU_Shared: an account shares the host for sharedFor after its work
// last interleaved with another account's, and not before it ever did.
func TestCPU_Shared(t *testing.T) {
	var c CPU
	now := time.Unix(1000, 0)
	if c.Shared(now) {
		t.Fatal("a new account shares the host")
	}
	c.SharedAt(now)
	if !c.Shared(now.Add(sharedFor - time.Millisecond)) {
		t.Error("not shared within sharedFor")
	}
	if c.Shared(now.Add(sharedFor)) {
		t.Error("still shared after sharedFor")
	}
	if (*CPU)(nil).Shared(now) {
		t.Error("no account shares the host")
	}
}

// TestCPU_Debt: an account's share is spent perMille thousandths over,
// and neither it nor its runaway schedule runs more than MaxDebt ahead.
func TestCPU_Debt(t *testing.T) {
	var c CPU
	now := time.Unix(1000, 0)
	c.Spend(now, time.Millisecond, 5000)
	if got := c.Spent().Sub(now); got != 5*time.Millisecond {
		t.Errorf("1ms at a fifth of a core: spent %v ahead, want 5ms", got)
	}
	if !c.OverShare(now, 4*time.Millisecond) || c.OverShare(now, 5*time.Millisecond) {
		t.Error("OverShare does not compare the spent share with the burst")
	}
	c.Spend(now, time.Hour, 1000)
	if got := c.Spent().Sub(now); got != MaxDebt {
		t.Errorf("an hour spent: %v ahead, want MaxDebt", got)
	}
	if got := c.Charge(now, time.Hour, 20).Sub(now); got != MaxDebt {
		t.Errorf("an hour charged twenty times over: %v ahead, want MaxDebt", got)
	}
	var none *CPU
	if none.OverShare(now, 0) {
		t.Error("no schedule is over its share")
	}
}

// TestServedWithin: an account is served within d of its last end
// ServedAt recorded, and not before any.
func TestServedWithin(t *testing.T) {
	var c CPU
	now := time.Now()
	if c.ServedWithin(now, time.Hour) {
		t.Error("served before any end")
	}
	c.ServedAt(now)
	if !c.ServedWithin(now.Add(5*time.Millisecond), 10*time.Millisecond) {
		t.Error("not served 5ms after an end, within 10ms")
	}
	if c.ServedWithin(now.Add(20*time.Millisecond), 10*time.Millisecond) {
		t.Error("served 20ms after its last end, within 10ms")
	}
	var none *CPU
	if none.ServedWithin(now, time.Hour) || none.Dominant() {
		t.Error("a nil schedule is served or dominant")
	}
	c.SetDominant(true)
	if !c.Dominant() {
		t.Error("SetDominant(true) not recorded")
	}
}
