package guest

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU returns the calling thread's id and the CPU time it has used.
func threadCPU() (tid int, cpu time.Duration) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return -1, 0
	}
	return unix.Gettid(), time.Duration(ts.Nano())
}
