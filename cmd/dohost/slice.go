package main

import (
	"errors"
	"fmt"
	"time"
)

// defaultSlice is the time slice dohost asks the kernel for its threads
// (--sched-slice). The kernel's scheduler (EEVDF, Linux 6.6 on) lets a
// running thread finish its slice before a thread that wakes takes its
// core: 0.75 ms × (1 + log2 of the cores) by default, 1.5 ms on two
// cores. A thread running guest code then kept a thread that had a
// request to read off its core for that long, and a request that arrived
// while every core ran guest code waited a slice or more: the soak's
// victim p99 under endless loops was 1.8-1.9× its baseline with the
// default slice and 1.0-1.2× with 100 µs (RATIONALE.md, "A P kept from
// guest code, and the kernel's slice"). Guest threads get the short slice too (the host cannot tell
// which thread will run guest code: goroutines move), so they are
// preempted sooner when others wait, and run on when none does.
const defaultSlice = 100 * time.Microsecond

// minSlice and maxSlice bound the slices the kernel accepts.
const (
	minSlice = 100 * time.Microsecond
	maxSlice = 100 * time.Millisecond
)

// errNoSlice is setSlice's error where the kernel has no slices to set
// (before Linux 6.12, or not Linux) or refuses the system call (a
// container's seccomp filter).
var errNoSlice = errors.New("this system sets no time slice for a thread (Linux 6.12 and later do, where sched_setattr is allowed)")

// checkSlice reports whether d is a slice the kernel accepts, or 0 (the
// kernel's default left alone).
func checkSlice(d time.Duration) error {
	if d != 0 && (d < minSlice || d > maxSlice) {
		return fmt.Errorf("--sched-slice %v: give 0 (the kernel's) or from %v to %v", d, minSlice, maxSlice)
	}
	return nil
}
