package main

import (
	"runtime"
	"testing"
)

// TestSetProcs: dohost runs two Ps a core, unless GOMAXPROCS is set.
func TestSetProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)

	t.Setenv("GOMAXPROCS", "")
	setProcs()
	if got := runtime.GOMAXPROCS(0); got != procsPerCore*before {
		t.Errorf("GOMAXPROCS %d after setProcs, want %d (%d a core)", got, procsPerCore*before, procsPerCore)
	}
	runtime.GOMAXPROCS(before)

	t.Setenv("GOMAXPROCS", "3")
	setProcs()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS %d after setProcs with GOMAXPROCS=3 in the environment, want it left at %d", got, before)
	}
}
