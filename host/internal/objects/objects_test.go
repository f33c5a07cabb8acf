package objects

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// testRegistry returns a registry over a store in a temporary directory,
// with one namespace "Test" whose objects have no module: enough for what
// happens before a guest runs (IDs, records, turns, cycles).
func testRegistry(t *testing.T, queue int) (*Registry, *Namespace) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	r := New(Options{Store: st, Log: log, IdleTimeout: time.Hour, TrimAfter: time.Hour})
	ns := r.NewNamespace(NamespaceConfig{Account: "a", Class: "Test", Binding: "T", Key: [16]byte{1}, Log: log,
		Limits: Limits{Queue: queue, Storage: store.DefaultObjectLimits}})
	return r, ns
}

func TestIDs(t *testing.T) {
	_, ns := testRegistry(t, 1)
	a, b := ns.IDFromName("room"), ns.IDFromName("room")
	if a != b || len(a) != 64 || a == ns.IDFromName("other") {
		t.Errorf("IDFromName: %s, %s", a, b)
	}
	if got, err := ns.ParseID(strings.ToUpper(a)); err != nil || got != a {
		t.Errorf("ParseID(upper case): %q, %v", got, err)
	}
	u, err := ns.NewUniqueID()
	if err != nil || u == a {
		t.Fatalf("NewUniqueID: %q, %v", u, err)
	}
	if _, err := ns.ParseID(u); err != nil {
		t.Errorf("ParseID(unique): %v", err)
	}
	other := &Namespace{cfg: NamespaceConfig{Key: [16]byte{2}}}
	for _, bad := range []string{other.IDFromName("room"), a[:63], a[:63] + "g", ""} {
		if _, err := ns.ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) succeeded", bad)
		}
	}
}

// TestIDCache: the IDs of names and of checked IDs that the namespace
// remembers are the ones it derives; more names than the cache holds
// evict each other without mixing up; a cached ID does not make a forged
// one pass.
func TestIDCache(t *testing.T) {
	_, ns := testRegistry(t, 1)
	fresh := newKeyState(ns.cfg.Key) // a second state: derives what ns's has cached
	for round := 0; round < 2; round++ {
		for i := 0; i < 3*idCacheSlots; i++ {
			name := fmt.Sprintf("room-%d", i)
			got := ns.IDFromName(name)
			if want := fresh.fromName(name).hex; got != want {
				t.Fatalf("round %d: IDFromName(%q) = %s, want %s", round, name, got, want)
			}
			if p, err := ns.ParseID(got); err != nil || p != got {
				t.Fatalf("ParseID(%s) = %q, %v", got, p, err)
			}
			forged := got[:63] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", got[63])+1)%16])
			if _, err := ns.ParseID(forged); err == nil {
				t.Fatalf("ParseID(%s), one digit off %s, succeeded", forged, got)
			}
		}
	}
}

// TestCycles: a request that would wait on an object waiting on it is
// refused with the cycle, and nothing is recorded.
func TestCycles(t *testing.T) {
	r, ns := testRegistry(t, 1)
	var os []*object
	for _, n := range []string{"a", "b", "c"} {
		id := ns.keys().fromName(n).id
		os = append(os, r.get(ns, id))
	}
	a, b, c := os[0], os[1], os[2]
	if err := r.enter(a, b); err != nil {
		t.Fatal(err)
	}
	if err := r.enter(b, c); err != nil {
		t.Fatal(err)
	}
	err := r.enter(c, a)
	if !errors.Is(err, ErrCycle) || strings.Count(err.Error(), "Test:") != 4 {
		t.Fatalf("c → a: %v; want a cycle of a, b, c", err)
	}
	if c.waitingOn != nil {
		t.Error("a refused wait was recorded")
	}
	if err := r.enter(a, a); !errors.Is(err, ErrCycle) {
		t.Errorf("a → a: %v", err)
	}
	r.leave(b)
	if err := r.enter(c, a); err != nil {
		t.Errorf("c → a once b no longer waits: %v", err)
	}
}

// TestTurn: one request at a time; past the queue limit a request fails at
// once with OVERLOADED, and a waiter gives up at its deadline.
func TestTurn(t *testing.T) {
	r, ns := testRegistry(t, 1)
	id := ns.keys().fromName("busy").id
	o := r.get(ns, id)
	defer r.put(o, false)
	ctx := context.Background()
	if code, err := o.acquire(ctx, time.Now().Add(time.Hour)); code != abi.OK || err != nil {
		t.Fatalf("acquire: %v %v", code, err)
	}
	waiting := make(chan abi.Code)
	go func() {
		code, _ := o.acquire(ctx, time.Now().Add(time.Hour))
		waiting <- code
	}()
	for o.waiters.Load() != 1 { // the waiter is queued
		time.Sleep(time.Millisecond)
	}
	if code, _ := o.acquire(ctx, time.Now().Add(time.Hour)); code != abi.Overloaded {
		t.Errorf("a second waiter with max_queue 1: %v, want OVERLOADED", code)
	}
	o.release()
	if code := <-waiting; code != abi.OK {
		t.Errorf("the queued request: %v", code)
	}
	if code, _ := o.acquire(ctx, time.Now()); code != abi.Timeout {
		t.Errorf("a request past its deadline: %v, want TIMEOUT", code)
	}
	o.release()
}

// TestRecords: a record without an instance lives as long as references
// to it; one ID never has two records.
func TestRecords(t *testing.T) {
	r, ns := testRegistry(t, 1)
	id := ns.keys().fromName("x").id
	o1, o2 := r.get(ns, id), r.get(ns, id)
	if o1 != o2 || r.Stats().Records != 1 {
		t.Fatalf("two references to one ID: %p %p, %d records", o1, o2, r.Stats().Records)
	}
	r.put(o1, false)
	if r.Stats().Records != 1 {
		t.Error("the record went while a reference was held")
	}
	r.put(o2, false)
	if r.Stats().Records != 0 {
		t.Error("the record stayed without references or an instance")
	}
}
