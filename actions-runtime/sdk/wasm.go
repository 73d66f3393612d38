//go:build wasip1

package sdk

import (
	"runtime"
	"unsafe"
)

var (
	eventBuf  []byte
	resultBuf []byte // kept until the next call, as the ABI requires
)

//go:wasmexport authok_abi_v1
func abiV1() {}

//go:wasmexport authok_alloc
func alloc(n int32) int32 {
	if n <= 0 {
		eventBuf = eventBuf[:0]
		return 0
	}
	if int(n) > cap(eventBuf) {
		eventBuf = make([]byte, n)
	}
	eventBuf = eventBuf[:n]
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(eventBuf))))
}

//go:wasmexport authok_on_trigger
func onTrigger(trigger, ptr, n int32) int64 {
	resultBuf = dispatch(Trigger(trigger), eventBuf)
	// Let the runtime's background work run: entered through an export,
	// the guest never yields otherwise, and with the sandbox's clock the
	// garbage collector stalls after some thousands of calls and the heap
	// grows until the memory ceiling (TestSDKGuestCollectsGarbage).
	runtime.Gosched()
	if len(resultBuf) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(resultBuf))))<<32 | int64(len(resultBuf))
}

//go:wasmimport authok log
func hostLog(ptr, n uint32)

// Log writes one line to the invocation's logs (10 KiB per invocation).
func Log(line string) {
	if line == "" {
		return
	}
	hostLog(uint32(uintptr(unsafe.Pointer(unsafe.StringData(line)))), uint32(len(line)))
}
