package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// setSlice asks the kernel for a time slice of d for every thread of the
// process, and returns how many it set. Threads made later inherit the
// slice of the thread that makes them, so once every thread has it, all
// will; a second pass takes the threads made during the first.
func setSlice(d time.Duration) (int, error) {
	set := map[int]bool{}
	for pass := 0; pass < 2; pass++ {
		tids, err := threads()
		if err != nil {
			return 0, err
		}
		for _, tid := range tids {
			if set[tid] {
				continue
			}
			if err := threadSlice(tid, d); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue // the thread ended
				}
				return len(set), err
			}
			set[tid] = true
		}
	}
	return len(set), nil
}

// threads returns the ids of the process's threads.
func threads() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list the process's threads: %w", err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// threadSlice sets the slice of thread tid to d, keeping its policy and
// niceness, and reads it back: a kernel without slices for its fair class
// takes the request and ignores it.
func threadSlice(tid int, d time.Duration) error {
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		if refused(err) {
			return fmt.Errorf("%w: %v", errNoSlice, err)
		}
		return fmt.Errorf("read thread %d's scheduling: %w", tid, err)
	}
	attr.Runtime = uint64(d)
	if err := unix.SchedSetAttr(tid, attr, 0); err != nil {
		if refused(err) || errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("%w: %v", errNoSlice, err)
		}
		return fmt.Errorf("set thread %d's slice: %w", tid, err)
	}
	got, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return fmt.Errorf("read thread %d's scheduling: %w", tid, err)
	}
	if got.Runtime != uint64(d) {
		return errNoSlice
	}
	return nil
}

// refused reports whether err says the system calls are not there or not
// allowed (an older kernel, a container's seccomp filter).
func refused(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM)
}
