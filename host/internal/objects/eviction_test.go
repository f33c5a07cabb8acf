package objects

import (
	"fmt"
	"testing"
	"time"
)

// TestEvictLRU: the registry keeps its records in parts, each with its own
// LRU list, and eviction still takes the least recently used idle object
// of them all, skipping one with a reference, and one of another account
// when it is asked for an account's.
func TestEvictLRU(t *testing.T) {
	r, ns := testRegistry(t, 1)
	other := r.NewNamespace(NamespaceConfig{Account: "b", Class: "Other", Binding: "O", Key: [16]byte{2}, Log: ns.cfg.Log,
		Limits: ns.version().Limits})
	// Eight objects in eight parts, live, idle, used in an order of their
	// own; then one of another account, used before all of them.
	var objs []*object
	parts := map[*registryShard]bool{}
	for i := 0; len(objs) < 8; i++ {
		id := ns.keys().fromName(fmt.Sprint(i)).id
		if parts[r.shardOf(id)] {
			continue
		}
		parts[r.shardOf(id)] = true
		o := r.get(ns, id)
		r.started(o)
		objs = append(objs, o)
	}
	foreign := r.get(other, other.keys().fromName("f").id)
	r.started(foreign)
	base := time.Now()
	use := func(o *object, at time.Duration) {
		r.put(o, true)
		o.sh.mu.Lock()
		o.lastUsed = base.Add(at) // the order of use, whatever the clock's resolution
		o.sh.mu.Unlock()
	}
	use(foreign, 0)
	order := []int{5, 2, 7, 0, 3, 6, 1, 4} // least recently used first
	for rank, i := range order {
		use(objs[i], time.Duration(rank+1)*time.Millisecond)
	}
	// The least recently used of account a, with a reference taken again:
	// not evicted while it is held.
	held := r.get(ns, objs[order[0]].id)

	live := func(o *object) bool {
		o.sh.mu.Lock()
		defer o.sh.mu.Unlock()
		return o.inLRU
	}
	for _, i := range order[1:] {
		if !r.evictLRU(nil, "a", "test") {
			t.Fatalf("nothing evicted; object %d is idle", i)
		}
		if live(objs[i]) {
			t.Fatalf("object %d (the least recently used idle one of account a) is still live", i)
		}
		for _, j := range order {
			if j == i {
				break
			}
			if j != order[0] && live(objs[j]) {
				t.Fatalf("object %d, used before %d, is still live", j, i)
			}
		}
	}
	if !live(held) || !live(foreign) {
		t.Fatal("an object held, or of another account, was evicted for account a")
	}
	if r.evictLRU(nil, "a", "test") {
		t.Fatal("evicted for account a with only a held object of it left")
	}
	// Any account's: the other account's object is the only idle one.
	if !r.evictLRU(nil, "", "test") || live(foreign) {
		t.Fatal("the idle object of account b was not evicted for any account")
	}
	r.put(held, false)
	if !r.evictLRU(nil, "", "test") || live(held) {
		t.Fatal("the object no longer held was not evicted")
	}
	if s := r.Stats(); s.Live != 0 || s.Evicted != 9 {
		t.Errorf("after evicting all: %d live, %d evicted, want 0 and 9", s.Live, s.Evicted)
	}
}
