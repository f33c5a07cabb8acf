package guest

import (
	"context"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/quota"
)

// TestAccountWork: host work for an account is charged to its schedule,
// startShare times over, only while another account's requests are in
// flight; while the account owes time and others wait, its next work
// waits for its turn (counted as throttled), and it runs at once when it
// is alone or the host stops.
func TestAccountWork(t *testing.T) {
	l := newLoad(1)
	var a, b quota.CPU
	spin := func(d time.Duration) func() {
		return func() {
			for start := time.Now(); time.Since(start) < d; {
			}
		}
	}

	// Alone: nothing is charged.
	l.Begin(&a)
	l.AccountWork(&a, spin(2*time.Millisecond))
	if a.InDebt(mono.Now()) {
		t.Fatal("work charged while no other account's request was in flight")
	}

	// Beside b's request: charged startShare times over, each piece
	// at most maxWorkCharge.
	l.Begin(&b)
	before := mono.Now()
	l.AccountWork(&a, spin(maxWorkCharge/2))
	if owed := a.Next().Sub(before); owed < startShare*maxWorkCharge/2 {
		t.Fatalf("%v of work beside another account's request: owes %v, want at least %v", maxWorkCharge/2, owed, startShare*maxWorkCharge/2)
	}
	var c quota.CPU
	l.AccountWork(&c, spin(3*maxWorkCharge))
	if owed := c.Next().Sub(mono.Now()); owed <= 0 || owed > startShare*maxWorkCharge {
		t.Fatalf("%v of work: owes %v, more than its cap of %v", 3*maxWorkCharge, owed, startShare*maxWorkCharge)
	}

	// The next work waits for the account's turn, throttled meanwhile.
	a.Charge(mono.Now(), 300*time.Millisecond, 1)
	turn := a.Next()
	var ran time.Time
	var throttled int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.AccountWork(&a, func() { ran, throttled = mono.Now(), a.Throttled.Load() })
	}()
	<-done
	if ran.Before(turn) {
		t.Errorf("work ran %v before its account's turn", turn.Sub(ran))
	}
	if throttled != 0 || l.throttled.Load() != 0 {
		t.Errorf("the work still counted as throttled while it ran: %d, host %d", throttled, l.throttled.Load())
	}

	// With b's request gone, a debt of an hour holds nothing back.
	a.Charge(mono.Now(), time.Hour, 1)
	l.End(&b)
	ranAlone := false
	l.AccountWork(&a, func() { ranAlone = true })
	if !ranAlone {
		t.Fatal("the work did not run")
	}

	// Beside b's request again, a host that stops ends the wait.
	l.Begin(&b)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		l.AccountWork(&a, func() {})
	}()
	for a.Throttled.Load() == 0 { // it waits for its turn
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Stop needs no wait: nothing Enter counted runs
	l.Stop(ctx)
	<-stopped
	if a.Throttled.Load() != 0 {
		t.Error("the wait still counts as throttled after it ended")
	}
}
