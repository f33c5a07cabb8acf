package main

import (
	"os"
	"runtime"
)

// procsPerCore is how many Go Ps dohost runs for each core it may use.
// With one P a core, a goroutine that computes without blocking (a
// compaction, a GC worker, guest code between its clock's checks) holds
// its P until it blocks or the runtime preempts it after 10 ms, and a
// thread that waits inside the kernel while it runs (a page fault of a
// new instance's memory, the mmap lock) holds its P too: requests wait
// for a P while a core is idle or busy with work that can wait. With two,
// they get a P at once and the kernel shares the cores among the threads,
// preempting at wake-up. Long guest calls still run on all cores but one
// (guest.NewLoad counts cores, not Ps). Measured in RATIONALE.md, "More
// Ps than cores".
const procsPerCore = 2

// setProcs gives the process procsPerCore Ps for each core it may use,
// unless GOMAXPROCS is set in its environment (the operator's choice
// stands).
func setProcs() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	runtime.GOMAXPROCS(procsPerCore * runtime.GOMAXPROCS(0))
}
