package guest

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/quota"
)

// TestNextLimit: the cap falls while the host's goroutines wait for a
// core, never below half again the second-busiest account's rate nor
// minShare, rises again while they do not, and is all the cores with one
// account.
func TestNextLimit(t *testing.T) {
	all := float64(cores)
	for _, c := range []struct {
		what         string
		limit        float64
		active       int
		n, slow      uint64
		second, want float64
	}{
		{"one account", 0.5, 1, 1000, 1000, 0, all},
		{"congested", all, 2, 1000, 20, 0, max(all*0.7, minShare)},
		{"congested, at the floor", minShare, 2, 1000, 20, 0, minShare},
		{"congested, the second account's rate", 1, 2, 1000, 20, 0.6, min(0.9, all)},
		{"too few waits to tell", 0.5, 2, shareMinSamples - 1, shareMinSamples - 1, 0, 0.5},
		{"not congested", 0.5, 2, 1000, 5, 0, 0.55},
		{"not congested, at all the cores", all, 2, 1000, 0, 0, all},
	} {
		if got := nextLimit(c.limit, c.active, c.n, c.slow, c.second); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%s: nextLimit(%v, %d, %d, %d, %v) = %v, want %v", c.what, c.limit, c.active, c.n, c.slow, c.second, got, c.want)
		}
	}
}

// TestWaitsSince: the waits since the last reading, and those from
// shareLatency on.
func TestWaitsSince(t *testing.T) {
	h := &metrics.Float64Histogram{Buckets: []float64{0, 1e-4, 1e-3, 1e-2, 1}, Counts: []uint64{5, 5, 5, 5}}
	var prev []uint64
	if n, slow := waitsSince(h, &prev); n != 0 || slow != 0 {
		t.Errorf("first reading: %d, %d; want nothing yet", n, slow)
	}
	h.Counts = []uint64{105, 6, 8, 9}
	if n, slow := waitsSince(h, &prev); n != 108 || slow != 7 {
		t.Errorf("second reading: %d waits, %d slow; want 108, 7", n, slow)
	}
}

// TestSpend: once two accounts are served, each call's time is counted
// to its account; it is spent from the account's share only under a cap,
// while the account is held and another account's request is in flight.
func TestSpend(t *testing.T) {
	l := newLoad(1)
	defer l.Stop(context.Background())
	var a, b quota.CPU
	l.Begin(&a)
	l.End(&a)
	now := mono.Now()
	if l.spend(&a, now, time.Millisecond); a.Used() != 0 {
		t.Errorf("one account served: counted %v", a.Used())
	}
	// The second account, served, without the loop that would list it
	// (shareLoop sets who is held at every tick).
	b.List()
	l.shared.Store(true)
	l.Begin(&b) // in flight
	l.spend(&a, now, time.Millisecond)
	if a.Used() != time.Millisecond || a.Spent().After(now) {
		t.Errorf("no cap: used %v, spent to %v after now", a.Used(), a.Spent().Sub(now))
	}
	l.perMille.Store(2000) // half a core
	l.spend(&a, now, time.Millisecond)
	if a.Spent().After(now) {
		t.Errorf("an account not held: spent to %v after now", a.Spent().Sub(now))
	}
	a.SetHeld(true)
	l.spend(&a, now, time.Millisecond)
	if got := a.Spent().Sub(now); got != 2*time.Millisecond {
		t.Errorf("under a cap of half a core, 1ms spent %v ahead, want 2ms", got)
	}
	l.End(&b)
	l.spend(&a, now, time.Millisecond)
	if got := a.Spent().Sub(now); got != 2*time.Millisecond {
		t.Errorf("with no other request in flight the share moved to %v", got)
	}
}

// TestAwaitShare: a held account whose share is spent waits before new
// work while another account's request is in flight, counted as
// throttled, and goes on once none is, or once it is no longer held; with
// none, or not held, it does not wait.
func TestAwaitShare(t *testing.T) {
	l := newLoad(1)
	defer l.Stop(context.Background())
	var a, b quota.CPU
	a.List() // not listed: no shareLoop, which sets who is held at every tick
	b.List()
	l.Begin(&a)
	l.End(&a)
	a.Spend(mono.Now(), time.Second, 1000)
	if l.overShare(&a, mono.Now()) {
		t.Error("waits with no other account's request in flight")
	}
	l.Begin(&b)
	if l.overShare(&a, mono.Now()) {
		t.Error("an account not held waits")
	}
	a.SetHeld(true)
	if !l.overShare(&a, mono.Now()) {
		t.Fatal("does not wait beside another account's request")
	}
	done := make(chan struct{})
	go func() { defer close(done); l.AwaitShare(&a) }()
	for a.Throttled.Load() == 0 {
		a.Spend(mono.Now(), time.Second, 1000) // stays spent ahead however slow the machine
		select {
		case <-done:
			t.Fatal("AwaitShare returned while its account was over its share beside another's request")
		default:
		}
		runtime.Gosched()
	}
	l.End(&b)
	<-done
	if a.Throttled.Load() != 0 || l.throttled.Load() != 0 {
		t.Errorf("after the wait: throttled %d, %d", a.Throttled.Load(), l.throttled.Load())
	}

	// Released by no longer being held, another request still in flight.
	l.Begin(&b)
	defer l.End(&b)
	done = make(chan struct{})
	go func() { defer close(done); l.AwaitShare(&a) }()
	for a.Throttled.Load() == 0 {
		a.Spend(mono.Now(), time.Second, 1000)
		runtime.Gosched()
	}
	a.SetHeld(false)
	<-done
}

// TestHeld: the busiest account is held, and those near it; one the cap
// leaves at two thirds of the busiest (half again its rate, nextLimit)
// is not, nor an idle one.
func TestHeld(t *testing.T) {
	for _, c := range []struct {
		avg, top float64
		want     bool
	}{
		{0.5, 0.5, true},
		{0.45, 0.5, true},
		{0.5 / 1.5, 0.5, false},
		{0.05, 0.5, false},
		{0, 0, false},
	} {
		if got := held(c.avg, c.top); got != c.want {
			t.Errorf("held(%v, %v) = %v, want %v", c.avg, c.top, got, c.want)
		}
	}
}

// TestDominant: an account is dominant when its rate is at least
// dominantOver times every other account's.
func TestDominant(t *testing.T) {
	for _, c := range []struct {
		avgs []float64
		i    int
		want bool
	}{
		{[]float64{0.9, 0.1}, 0, true},
		{[]float64{0.9, 0.1, 0.45}, 0, true},
		{[]float64{0.9, 0.1, 0.5}, 0, false},
		{[]float64{0.1, 0.9}, 0, false},
		{[]float64{0.5, 0.5}, 1, false},
		{[]float64{0.3}, 0, true},
		{[]float64{0, 0}, 0, false},
	} {
		if got := dominant(c.avgs, c.i); got != c.want {
			t.Errorf("dominant(%v, %d) = %v, want %v", c.avgs, c.i, got, c.want)
		}
	}
}

// TestDominantMakesWay: a held account far busier than the others spends
// its share and waits for it whenever another account was served within
// shareRecent, even at a moment when none of the other's requests is in
// flight (a victim answered in a millisecond, 2,000 times a second); an
// account held but not dominant makes way only for requests in flight.
func TestDominantMakesWay(t *testing.T) {
	l := newLoad(1)
	defer l.Stop(context.Background())
	var a, b quota.CPU
	a.List() // listed by hand: no shareLoop, which sets who is held at every tick
	b.List()
	l.shareMu.Lock()
	l.accounts = []*quota.CPU{&a, &b}
	l.shareMu.Unlock()
	l.shared.Store(true)
	l.perMille.Store(5000) // a fifth of a core: congested
	l.Begin(&b)
	l.End(&b) // served just now, nothing in flight
	a.SetHeld(true)
	now := mono.Now()
	if l.spend(&a, now, time.Millisecond); a.Spent().After(now) {
		t.Error("held, not dominant: spent its share with no other request in flight")
	}
	a.SetDominant(true)
	if l.spend(&a, now, time.Millisecond); !a.Spent().After(now) {
		t.Error("dominant: did not spend its share beside an account served just now")
	}
	a.SetDominant(false)
	a.Spend(now, time.Second, 1000)
	if l.overShare(&a, now) {
		t.Error("held, not dominant: waits with no other request in flight")
	}
	a.SetDominant(true)
	if !l.overShare(&a, now) {
		t.Error("dominant: does not wait for an account served just now")
	}
	if later := now.Add(shareRecent + time.Millisecond); l.overShare(&a, later) {
		t.Error("dominant: waits for an account last served over shareRecent ago")
	}

	// AwaitShare waits while the other is served, and goes on once its
	// last end is older than shareRecent.
	done := make(chan struct{})
	go func() { defer close(done); l.AwaitShare(&a) }()
	for a.Throttled.Load() == 0 {
		b.ServedAt(mono.Now()) // stays served however slow the machine
		a.Spend(mono.Now(), time.Second, 1000)
		select {
		case <-done:
			t.Fatal("AwaitShare returned while its account was over its share beside an account being served")
		default:
		}
		runtime.Gosched()
	}
	<-done
	if a.Throttled.Load() != 0 || l.throttled.Load() != 0 {
		t.Errorf("after the wait: throttled %d, %d", a.Throttled.Load(), l.throttled.Load())
	}
}
