package main

import (
	"context"
	"testing"
	"time"
)

func TestBurn(t *testing.T) {
	for _, cores := range []float64{0, -1} {
		if n := burn(context.Background(), cores); n != 0 {
			t.Errorf("burn(%v cores) made %d bursts, want none", cores, n)
		}
	}
	// Half a core: each of the two spinners a burst every 4 ms, none begun
	// past the deadline, so at most 25 each in 100 ms however late the
	// machine wakes them (26 allowed: the timer's start and the context's
	// are not the same instant).
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if n := burn(ctx, 0.5); n < 1 || n > 2*26 {
		t.Errorf("burn(0.5 cores) for 100 ms made %d bursts, want 1 to 52", n)
	}
	// Three cores: three spinners, each all the time, a burst a
	// millisecond at most.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if n := burn(ctx, 3); n < 1 || n > 3*21 {
		t.Errorf("burn(3 cores) for 20 ms made %d bursts, want 1 to 63", n)
	}
}
