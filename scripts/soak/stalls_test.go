package main

import (
	"testing"
	"time"
)

// TestQuantiles: the p99 is weighted by the time each wakeup spans, so
// that five stalls of 20 ms among 995 punctual wakeups (a tenth of the
// time) show, where the p99 of the wakeups alone would be zero.
func TestQuantiles(t *testing.T) {
	s := make([]time.Duration, 0, 1000)
	for i := 0; i < 995; i++ {
		s = append(s, 0)
	}
	for i := 0; i < 5; i++ {
		s = append(s, 20*time.Millisecond)
	}
	s[3], s[998] = s[998], s[3] // unsorted
	p99, top := quantiles(s)
	if p99 != 20*time.Millisecond || top != 20*time.Millisecond {
		t.Errorf("quantiles = %v, %v; want 20ms, 20ms", p99, top)
	}

	punctual := make([]time.Duration, 1000)
	for i := range punctual {
		punctual[i] = time.Duration(i) * time.Microsecond
	}
	if p99, top := quantiles(punctual); p99 < 985*time.Microsecond || p99 > 992*time.Microsecond || top != 999*time.Microsecond {
		t.Errorf("quantiles of 0..999 µs = %v, %v; want about 990µs, 999µs", p99, top)
	}
	if p99, top := quantiles(nil); p99 != 0 || top != 0 {
		t.Errorf("quantiles(nil) = %v, %v", p99, top)
	}
}
