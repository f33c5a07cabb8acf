package store

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestGroupCommit: requests that commit while a commit is under way wait,
// and are committed together, as one batch, by the oldest of them once it
// ends; each returns with its writes durable and visible. A batch too
// large to merge commits alone.
func TestGroupCommit(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	release := make(chan struct{})
	first := true
	s.commits.hold = func() {
		if first { // the first committer waits for the queue to fill
			first = false
			<-release
		}
	}
	const waiters = 10
	var wg sync.WaitGroup
	errs := make(chan error, waiters+1)
	commit := func(key string) {
		defer wg.Done()
		tx := s.NewTxn()
		if err := o.Put(tx, []byte(key), []byte("v-"+key)); err != nil {
			errs <- err
			return
		}
		errs <- tx.Commit()
	}
	wg.Add(1)
	go commit("lead")
	for waiting(s) != 0 || inflight(s) != 1 { // the first commit holds
		runtime.Gosched()
	}
	for i := 0; i < waiters; i++ {
		wg.Add(1)
		go commit(fmt.Sprintf("w%d", i))
	}
	for waiting(s) != waiters {
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

	// A batch of a megabyte or more commits alone.
	s.commits.hold = nil
	before := s.commits.engine.Load()
	big := s.NewTxn()
	for i := 0; i < maxGroupBytes/(100<<10)+1; i++ {
		if err := o.Put(big, []byte(fmt.Sprintf("big%d", i)), bytes.Repeat([]byte("x"), 100<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := big.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := s.commits.engine.Load() - before; n != 1 {
		t.Errorf("a large batch made %d engine commits", n)
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
