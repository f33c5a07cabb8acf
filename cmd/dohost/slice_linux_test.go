package main

import (
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSetSlice: every thread of the process gets the slice, and so do
// the threads made after; a kernel without slices is reported as such.
func TestSetSlice(t *testing.T) {
	const d = 200 * time.Microsecond
	n, err := setSlice(d)
	if errors.Is(err, errNoSlice) {
		// The kernel took the request and ignored it: say so, and check
		// that it did ignore it.
		if got, rerr := unix.SchedGetAttr(0, 0); rerr == nil && time.Duration(got.Runtime) == d {
			t.Fatalf("setSlice reported no slices (%v), but the thread's slice reads %v", err, d)
		}
		return
	}
	if err != nil || n == 0 {
		t.Fatalf("setSlice: %d threads, %v", n, err)
	}
	// New threads: goroutines blocked in system calls at once make the
	// runtime start threads for the others.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = syscall.Nanosleep(&syscall.Timespec{Nsec: int64(20 * time.Millisecond)}, nil)
		}()
	}
	wg.Wait()
	slices, err := threadSlices()
	if err != nil {
		t.Fatal(err)
	}
	if len(slices) <= n {
		t.Logf("no new threads: %d before, %d after", n, len(slices))
	}
	for tid, s := range slices {
		if s != d {
			t.Errorf("thread %d has a slice of %v, want %v", tid, s, d)
		}
	}
}

// threadSlices returns the slice of each of the process's threads.
func threadSlices() (map[int]time.Duration, error) {
	tids, err := threads()
	if err != nil {
		return nil, err
	}
	m := map[int]time.Duration{}
	for _, tid := range tids {
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // ended
		}
		m[tid] = time.Duration(attr.Runtime)
	}
	return m, nil
}
