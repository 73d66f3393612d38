package heaptest

import "runtime"

// Alloc is the live heap in bytes after a full collection. It collects
// twice: the first collection's finalizers can free more for the second.
func Alloc() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
