package loadgen

import (
	"syscall"
	"time"
	"unsafe"
)

const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID

// threadCPU is the calling OS thread's CPU time from
// clock_gettime(CLOCK_THREAD_CPUTIME_ID), which the scheduler keeps in
// nanoseconds (getrusage(RUSAGE_THREAD) is only tick-accurate on many
// kernels). The caller locks itself to its OS thread.
func threadCPU() (time.Duration, error) {
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, errno
	}
	return time.Duration(ts.Nano()), nil
}
