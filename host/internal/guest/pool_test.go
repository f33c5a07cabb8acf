package guest

import (
	"context"
	"testing"
	"time"
)

// getN takes n instances from p without giving any back: n different ones.
func getN(t *testing.T, p *Pool, n int) []*Instance {
	t.Helper()
	insts := make([]*Instance, n)
	for i := range insts {
		inst, err := p.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		insts[i] = inst
	}
	return insts
}

// burstPool returns a pool of 8 instances of a small guest with o's times,
// after a burst of n requests: n instances made at once and given back in
// order, all idle. The pool is closed when the test ends.
func burstPool(t *testing.T, o PoolOptions, n int) (*Pool, []*Instance) {
	t.Helper()
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	o.Size, o.MaxWait = 8, 8
	p := NewPool(m, o, nil)
	t.Cleanup(func() { p.Close(context.Background()) })
	insts := getN(t, p, n)
	for _, inst := range insts {
		p.Done(context.Background(), inst, false)
	}
	return p, insts
}

// A burst's instances are closed once idle for idleFor, all but the one
// used last, which the next request gets.
func TestPool_RetiresIdleInstances(t *testing.T) {
	p, insts := burstPool(t, PoolOptions{IdleFor: 20 * time.Millisecond}, 4)
	waitUntil(t, "idle instances retired down to one", func() bool { return p.Idle() == 1 })
	if got := p.Retired(); got != 3 {
		t.Fatalf("retired %d instances, want 3", got)
	}
	inst, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if inst != insts[3] {
		t.Fatal("the instance kept is not the one used last")
	}
	p.Done(context.Background(), inst, false)
}

// Idle instances are used most recently used first, and only those idle
// for idleFor count as expired, never the last one.
func TestPool_MostRecentFirst(t *testing.T) {
	p, insts := burstPool(t, PoolOptions{IdleFor: time.Hour}, 3)
	again := getN(t, p, 2)
	if again[0] != insts[2] || again[1] != insts[1] {
		t.Fatal("Get did not return the most recently used instances first")
	}
	for _, inst := range again {
		p.Done(context.Background(), inst, false)
	}
	now := time.Now()
	p.mu.Lock()
	if n := p.expired(now); n != 0 {
		t.Errorf("%d expired right after use, want 0", n)
	}
	p.idle[0].since = now.Add(-2 * time.Hour)
	if n := p.expired(now); n != 1 {
		t.Errorf("%d expired with the oldest idle for two hours, want 1", n)
	}
	for i := range p.idle {
		p.idle[i].since = now.Add(-2 * time.Hour)
	}
	if n := p.expired(now); n != len(p.idle)-1 {
		t.Errorf("%d expired with all idle for two hours, want all but one (%d)", n, len(p.idle)-1)
	}
	p.mu.Unlock()
}

// An instance given back after the pool closed is closed, not kept.
func TestPool_PutAfterClose(t *testing.T) {
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	p := NewPool(m, PoolOptions{Size: 8, MaxWait: 8, IdleFor: time.Hour}, nil)
	inst := getN(t, p, 1)[0]
	p.Close(context.Background())
	p.Done(context.Background(), inst, false)
	if n := p.Idle(); n != 0 {
		t.Fatalf("%d idle after Close, want 0", n)
	}
}

// An instance idle for TrimAfter is trimmed, once, and stays in the pool;
// used again, it is trimmed again once idle.
func TestPool_TrimsIdle(t *testing.T) {
	p, insts := burstPool(t, PoolOptions{IdleFor: time.Hour, TrimAfter: 20 * time.Millisecond}, 2)
	waitUntil(t, "both idle instances trimmed", func() bool { return p.Trimmed() == 2 })
	if n := p.Idle(); n != 2 {
		t.Fatalf("%d idle after trimming, want 2", n)
	}
	again := getN(t, p, 1)[0]
	if again != insts[1] {
		t.Fatal("the pool did not give the most recently used instance after trimming")
	}
	p.Done(context.Background(), again, false)
	waitUntil(t, "the instance used again trimmed again", func() bool { return p.Trimmed() == 3 })
	if p.Retired() != 0 {
		t.Errorf("%d retired, want 0 (IdleFor is an hour)", p.Retired())
	}
}

// An instance trimmed while an older one, trimmed before, stays idle goes
// back behind it: the next request gets the one used last.
func TestPool_TrimKeepsOrder(t *testing.T) {
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	p := NewPool(m, PoolOptions{Size: 8, MaxWait: 8, IdleFor: time.Hour, TrimAfter: 20 * time.Millisecond}, nil)
	t.Cleanup(func() { p.Close(context.Background()) })
	insts := getN(t, p, 2)
	p.Done(context.Background(), insts[0], false)
	waitUntil(t, "the first instance trimmed", func() bool { return p.Trimmed() == 1 })
	p.Done(context.Background(), insts[1], false)
	waitUntil(t, "the second instance trimmed", func() bool { return p.Trimmed() == 2 })
	again := getN(t, p, 1)[0]
	if again != insts[1] {
		t.Fatal("after trimming, the pool gave an older instance before the one used last")
	}
	p.Done(context.Background(), again, false)
}

// waitUntil waits for cond, failing after a minute: a bound for a busy
// machine, not the expected wait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
