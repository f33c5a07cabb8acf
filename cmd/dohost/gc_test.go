package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestSetGC: dohost collects at GOGC 400 with a soft limit of a quarter of
// the RAM, unless GOGC or GOMEMLIMIT is set.
func TestSetGC(t *testing.T) {
	pct := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	defer func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	}()

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	setGC(8 << 30)
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GOGC %d after setGC, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != 2<<30 {
		t.Errorf("memory limit %d after setGC with 8 GiB of RAM, want 2 GiB", got)
	}

	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "1GiB")
	setGC(8 << 30)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC %d after setGC with GOGC=50 in the environment, want it left at 100", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("memory limit %d after setGC with GOMEMLIMIT in the environment, want it left alone", got)
	}
}
