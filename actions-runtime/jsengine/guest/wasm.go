//go:build wasip1

package main

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

var (
	eng       *engine
	inBuf     []byte // the event or init payload the host wrote
	resultBuf []byte // kept until the next call, as the ABI requires
)

func theEngine() *engine {
	if eng == nil {
		eng = newEngine()
	}
	return eng
}

//go:wasmexport authok_abi_v1
func abiV1() {}

//go:wasmexport authok_alloc
func alloc(n int32) int32 {
	if n <= 0 {
		inBuf = inBuf[:0]
		return 0
	}
	if int(n) > cap(inBuf) {
		inBuf = make([]byte, n)
	}
	inBuf = inBuf[:n]
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(inBuf))))
}

// authokInit loads the action (jsengine.InitPayload JSON) and returns 0,
// or (ptr << 32) | len of the error message.
//
//go:wasmexport authok_init
func authokInit(ptr, n int32) int64 {
	var p payload
	err := json.Unmarshal(inBuf[:n], &p)
	if err == nil {
		err = theEngine().load(p)
	}
	if err == nil {
		return 0
	}
	return ret([]byte(truncate(err.Error(), 4096)))
}

//go:wasmexport authok_on_trigger
func onTrigger(trigger, ptr, n int32) int64 {
	out := theEngine().call(trigger, inBuf[:n])
	// As in actions-runtime/sdk: yield so the garbage collector's
	// background work runs; without it a guest entered only through
	// exports stalls its collector and grows to the memory ceiling.
	runtime.Gosched()
	return ret(out)
}

func ret(b []byte) int64 {
	resultBuf = b
	if len(b) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))<<32 | int64(len(b))
}
