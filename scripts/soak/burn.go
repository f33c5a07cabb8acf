package main

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// burn is the soak's floor control: not dohost's doing at all, a process
// of its own (at dohost's niceness, as every attacker's clients are) that
// spins on the cores for cores of their time, in bursts of burnBurst at
// random moments, and talks to nobody. What it costs the victim is what
// that much of someone else's CPU costs a server on this machine: a
// host that holds an attacker to that many cores cannot keep the victim
// better than this, whatever it does with its own threads. It returns
// how many bursts it made.
func burn(ctx context.Context, cores float64) int64 {
	if cores <= 0 {
		return 0
	}
	// Two spinners at least, so that a burst can fall on either core;
	// one more for each core beyond, so that none spins more than all
	// the time.
	spinners := max(2, int(math.Ceil(cores)))
	duty := cores / float64(spinners)
	period := time.Duration(float64(burnBurst) / duty)
	var bursts atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < spinners; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each burst starts at a random point of its period, so that
			// the spinners' bursts fall apart as often as together.
			next := time.Now()
			for {
				start := next.Add(time.Duration(rand.Int64N(max(1, int64(period-burnBurst)))))
				t := time.NewTimer(time.Until(start))
				select {
				case <-ctx.Done():
					t.Stop()
				case <-t.C:
				}
				// Not past the deadline either, which ctx may learn late
				// on a busy machine.
				if d, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(d) {
					break
				}
				for end := time.Now().Add(burnBurst); time.Now().Before(end); {
				}
				bursts.Add(1)
				next = next.Add(period)
			}
		}()
	}
	wg.Wait()
	return bursts.Load()
}

// burnBurst is how long the burn control spins at a time: about what one
// of the smallwrites attacker's requests runs (two Go guest calls and a
// commit, RATIONALE).
const burnBurst = time.Millisecond
