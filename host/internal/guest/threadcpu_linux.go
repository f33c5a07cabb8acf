package guest

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// threadCPU returns the calling thread's id and the CPU time it has used.
//
// Both come from one thread: the clock is read with a raw system call,
// which keeps the goroutine's P (clock_gettime of a thread's clock does
// not block). Through unix.ClockGettime the scheduler could take the P
// while the call was in the kernel and resume the goroutine on another
// thread, whose id then went with the first thread's time: the next
// reading on the new thread subtracted one thread's time from another's.
func threadCPU() (tid int, cpu time.Duration) {
	var ts unix.Timespec
	_, _, errno := unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_THREAD_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return -1, 0
	}
	return unix.Gettid(), time.Duration(ts.Nano())
}
