package main

import (
	"os"
	"runtime/debug"

	"github.com/dohost/dohost/host"
)

// gcPercent is dohost's GOGC. Go's default, 100, collects each time the
// heap doubles its live part; dohost's live heap is small (100–150 MiB
// serving thousands of objects) while what it allocates and drops is
// large (request bodies, write batches, a new object's instance), so under
// load it collected several times a second, and each collection's
// stop-the-world pauses and mark work landed on every tenant's requests.
// At 400 it collects a quarter as often. Measured in RATIONALE.md, "A
// collection a quarter as often".
const gcPercent = 400

// gcMemoryShare is the part of the RAM the Go heap may grow to before the
// collector works harder than gcPercent asks (the soft memory limit): a
// quarter, beside the half the guests' memory may use.
const gcMemoryShare = 4

// setGC sets the collector's target and soft memory limit for a machine
// with memTotal bytes of RAM, unless GOGC or GOMEMLIMIT is set in the
// environment (the operator's choice stands).
func setGC(memTotal int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memTotal / gcMemoryShare)
	}
}

// setGCForMachine is setGC for this machine's RAM.
func setGCForMachine() { setGC(host.PhysicalMemory()) }
