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

// A burst's instances are closed once idle for idleFor, all but the one
// used last, which the next request gets.
func TestPool_RetiresIdleInstances(t *testing.T) {
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	p := NewPool(m, 8, 8, 20*time.Millisecond, nil)
	defer p.Close(context.Background())
	insts := getN(t, p, 4)
	for _, inst := range insts {
		p.Done(context.Background(), inst, false)
	}
	deadline := time.Now().Add(time.Minute) // a bound on a busy machine, not the expected wait
	for p.Idle() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d instances still idle after a minute (retired %d)", p.Idle(), p.Retired())
		}
		time.Sleep(5 * time.Millisecond)
	}
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
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	p := NewPool(m, 8, 8, time.Hour, nil)
	defer p.Close(context.Background())
	insts := getN(t, p, 3)
	for _, inst := range insts {
		p.Done(context.Background(), inst, false)
	}
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
	p := NewPool(m, 8, 8, time.Hour, nil)
	inst := getN(t, p, 1)[0]
	p.Close(context.Background())
	p.Done(context.Background(), inst, false)
	if n := p.Idle(); n != 0 {
		t.Fatalf("%d idle after Close, want 0", n)
	}
}
