package store

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestGroupCommit: requests that commit while a commit is under way wait,
// and are committed together, as one batch, by the oldest of them once it
// ends; each returns with its writes durable and visible.
func TestGroupCommit(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	const waiters = 10
	commitGrouped(t, s, o, "lead", keysN("w", waiters), func(k string) []byte { return []byte("v-" + k) })
	if n := s.commits.engine.Load(); n != 2 {
		t.Errorf("%d requests made %d engine commits, want 2 (one alone, then the queue as one)", waiters+1, n)
	}
	tx := s.NewTxn()
	defer tx.Discard()
	for _, k := range append([]string{"lead"}, keysN("w", waiters)...) {
		v, ok, err := o.Get(tx, []byte(k))
		if err != nil || !ok || string(v) != "v-"+k {
			t.Errorf("%s: %q, %v, %v after its commit", k, v, ok, err)
		}
	}
}

// TestGroupCommitLargeAlone: a batch of aloneBytes or more commits alone,
// beside a group in flight and not after it.
func TestGroupCommitLargeAlone(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	release := make(chan struct{})
	s.commits.hold = func() { <-release }
	small := make(chan error, 1)
	go func() {
		tx := s.NewTxn()
		if err := o.Put(tx, []byte("small"), []byte("v")); err != nil {
			small <- err
			return
		}
		small <- tx.Commit()
	}()
	for inflight(s) != 1 { // the small commit holds
		runtime.Gosched()
	}
	big := s.NewTxn()
	value := bytes.Repeat([]byte("x"), aloneBytes)
	if err := o.Put(big, []byte("big"), value); err != nil {
		t.Fatal(err)
	}
	if err := big.Commit(); err != nil { // returns while the group holds
		t.Fatal(err)
	}
	if n := waiting(s); n != 0 {
		t.Errorf("%d batches queued behind the group", n)
	}
	close(release)
	if err := <-small; err != nil {
		t.Fatal(err)
	}
	if n := s.commits.engine.Load(); n != 2 {
		t.Errorf("two commits made %d engine commits", n)
	}
	tx := s.NewTxn()
	defer tx.Discard()
	for k, want := range map[string][]byte{"small": []byte("v"), "big": value} {
		if v, ok, err := o.Get(tx, []byte(k)); err != nil || !ok || !bytes.Equal(v, want) {
			t.Errorf("%s: %d bytes, %v, %v after its commit", k, len(v), ok, err)
		}
	}
}

// commitGrouped commits lead's write, and while that commit is held, one
// commit for each of keys, from goroutines of their own: the first
// commits alone, and the rest wait for it and commit as one group. Each
// key is put with value(key).
func commitGrouped(t *testing.T, s *Store, o *Object, lead string, keys []string, value func(string) []byte) {
	t.Helper()
	release := make(chan struct{})
	first := true
	s.commits.hold = func() {
		if first { // the first committer waits for the queue to fill
			first = false
			<-release
		}
	}
	defer func() { s.commits.hold = nil }()
	var wg sync.WaitGroup
	errs := make(chan error, len(keys)+1)
	commit := func(key string) {
		defer wg.Done()
		tx := s.NewTxn()
		if err := o.Put(tx, []byte(key), value(key)); err != nil {
			errs <- err
			return
		}
		errs <- tx.Commit()
	}
	wg.Add(1)
	go commit(lead)
	for waiting(s) != 0 || inflight(s) != 1 { // the first commit holds
		runtime.Gosched()
	}
	for _, k := range keys {
		wg.Add(1)
		go commit(k)
	}
	for waiting(s) != len(keys) {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestGroupCommitKeepsMergedBatch: the batch a group is merged into is
// kept, its buffer with it, and the next group is merged into it again;
// each group's writes are all there after.
func TestGroupCommitKeepsMergedBatch(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	value := func(k string) []byte { return bytes.Repeat([]byte(k), (16<<10)/len(k)) }
	commitGrouped(t, s, o, "a", keysN("a", 8), value)
	kept := s.commits.spare
	if bufCap(kept) < mergedBatchSize {
		t.Fatalf("after a group, the kept batch is %p (buffer %d bytes)", kept, bufCap(kept))
	}
	if !kept.Empty() {
		t.Fatalf("the kept batch holds %d writes", kept.Count())
	}
	commitGrouped(t, s, o, "b", keysN("b", 8), value)
	if s.commits.spare != kept {
		t.Errorf("the second group was merged into a new batch")
	}
	if n := s.commits.engine.Load(); n != 4 {
		t.Errorf("two groups made %d engine commits, want 4", n)
	}
	tx := s.NewTxn()
	defer tx.Discard()
	for _, k := range append(append([]string{"a", "b"}, keysN("a", 8)...), keysN("b", 8)...) {
		v, ok, err := o.Get(tx, []byte(k))
		if err != nil || !ok || !bytes.Equal(v, value(k)) {
			t.Errorf("%s: %d bytes, %v, %v after its commit", k, len(v), ok, err)
		}
	}
}

// TestWakeOrder: a group's requests not behind (Txn.SetBehind) are woken
// before those behind; when no hand-over follows, the first of them is
// woken last of all, so that it is the one the waker's P runs next.
func TestWakeOrder(t *testing.T) {
	for _, tc := range []struct {
		behind string // a letter a request: b behind, n not
		last   bool
		want   []int // the order of the wake-ups
	}{
		{"nnn", true, []int{0, 1, 2}},
		{"bbb", false, []int{0, 1, 2}},
		{"bnbn", false, []int{1, 3, 0, 2}},
		{"bnbn", true, []int{3, 0, 2, 1}},
		{"bbn", true, []int{0, 1, 2}},
		{"nbb", false, []int{0, 1, 2}},
	} {
		group := make([]*commitReq, len(tc.behind))
		cases := make([]reflect.SelectCase, len(group))
		for i := range group {
			// Unbuffered: each wake-up waits for the receiver below, so
			// the order received is the order woken.
			group[i] = &commitReq{behind: tc.behind[i] == 'b', done: make(chan bool)}
			cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(group[i].done)}
		}
		go wake(group, nil, tc.last)
		var got []int
		for range group {
			i, _, _ := reflect.Select(cases)
			got = append(got, i)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s, last %v: woken in the order %v, want %v", tc.behind, tc.last, got, tc.want)
		}
	}
}

// TestGroupCommitBehind: requests behind and not behind commit at once
// from many goroutines, grouped; each finds its write when its commit
// returns, and no request is told its outcome before its group's sync (a
// request woken early would read its write missing). With -race it also
// checks that a woken request's pooled commitReq is not read again.
func TestGroupCommitBehind(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	const writers, each = 32, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				key := []byte(fmt.Sprintf("g%d/%d", g, i))
				tx := s.NewTxn()
				tx.SetBehind((g+i)%2 == 0)
				if err := o.Put(tx, key, key); err != nil {
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
				rx := s.NewTxn()
				v, ok, err := o.Get(rx, key)
				rx.Discard()
				if err != nil || !ok || !bytes.Equal(v, key) {
					errs <- fmt.Errorf("%s after its commit: %q, %v, %v", key, v, ok, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.commits.engine.Load(); n >= writers*each {
		t.Logf("%d commits made %d engine commits: none grouped", writers*each, n)
	}
}

func waiting(s *Store) int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return len(s.commits.queue)
}

func inflight(s *Store) int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return s.commits.inflight
}

func keysN(prefix string, n int) []string {
	var ks []string
	for i := 0; i < n; i++ {
		ks = append(ks, fmt.Sprintf("%s%d", prefix, i))
	}
	return ks
}

func bufCap(b *pebble.Batch) int {
	if b == nil {
		return 0
	}
	return cap(b.Repr())
}

// TestGroupCommitHeirTakenOver: a request that comes to commit while the
// queue's heir has not run yet leads in its place: one engine commit
// holds both batches, the heir is told the outcome after its nudge, and
// the committer is idle after.
func TestGroupCommitHeirTakenOver(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	c := &s.commits
	heirTx := s.NewTxn()
	defer heirTx.Discard()
	if err := o.Put(heirTx, []byte("heir"), []byte("h")); err != nil {
		t.Fatal(err)
	}
	// The queue as a leader leaves it when it hands over to a request
	// whose goroutine has not run since.
	r := &commitReq{b: heirTx.b, done: make(chan bool, 2)}
	c.mu.Lock()
	c.inflight = 1
	c.queue = append(c.queue, r)
	c.heir = r
	c.nudge(r)
	c.nudge(r) // one nudge pending at most
	c.mu.Unlock()
	before := c.engine.Load()

	tx := s.NewTxn()
	if err := o.Put(tx, []byte("other"), []byte("o")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !<-r.done {
		t.Fatal("the heir's first signal is not its nudge")
	}
	if <-r.done {
		t.Fatal("the heir was nudged twice")
	}
	if r.err != nil {
		t.Fatalf("the heir's outcome: %v", r.err)
	}
	if n := c.engine.Load() - before; n != 1 {
		t.Errorf("%d engine commits for the two batches, want 1", n)
	}
	if waiting(s) != 0 || inflight(s) != 0 || c.heir != nil {
		t.Errorf("after: %d waiting, %d in flight, heir %v", waiting(s), inflight(s), c.heir)
	}
	rx := s.NewTxn()
	defer rx.Discard()
	for _, k := range []string{"heir", "other"} {
		if _, ok, err := o.Get(rx, []byte(k)); err != nil || !ok {
			t.Errorf("%s after the commit: found %v, %v", k, ok, err)
		}
	}
}
