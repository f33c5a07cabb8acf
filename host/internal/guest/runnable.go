package guest

import (
	"runtime/metrics"
	"sync"
)

// othersRunnable reports whether any goroutine waits in a run queue for a
// P: what a call's yield is for. A call alone on the host (no other guest
// call in flight) skips its yield when none does. A runtime.Gosched with
// nothing to run still wakes an idle thread to look for work (the
// scheduler's wakep), which finds none and sleeps again, and a long call
// yields at every host call: a JavaScript handler sending to 5,000 sockets
// one by one spent a quarter of the process's CPU in its yields
// (RATIONALE.md, "Long calls leave a core"). Calls with others in flight
// yield as before: skipping there, with sixteen of them, slowed the soak's
// victim. The count is the runtime's own (runtime/metrics), read under its
// scheduler lock: about half a microsecond.
func othersRunnable() bool {
	s := runnableSamples.Get().(*[1]metrics.Sample)
	metrics.Read(s[:])
	n := s[0].Value
	runnableSamples.Put(s)
	return n.Kind() != metrics.KindUint64 || n.Uint64() > 0
}

// runnableSample is the metric othersRunnable reads.
const runnableSample = "/sched/goroutines/runnable:goroutines"

var runnableSamples = sync.Pool{New: func() any {
	return &[1]metrics.Sample{{Name: runnableSample}}
}}
