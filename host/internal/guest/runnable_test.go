package guest

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// TestOthersRunnable: the runtime still has the metric (without it every
// yield would happen, as it should, but the saving would be gone
// silently), and a goroutine waiting for the only P counts.
func TestOthersRunnable(t *testing.T) {
	s := []metrics.Sample{{Name: runnableSample}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("runtime/metrics has no %s", runnableSample)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	done := make(chan struct{})
	seen := false
	// With one P, a goroutine just started waits for it while this one
	// runs; a preemption between the two lines can run it first, so try
	// a few times.
	for i := 0; i < 100 && !seen; i++ {
		go func() { done <- struct{}{} }()
		seen = othersRunnable()
		<-done
	}
	if !seen {
		t.Fatal("a goroutine waiting for the only P was never counted as runnable")
	}
}
