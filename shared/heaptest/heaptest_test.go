package heaptest

import (
	"runtime"
	"testing"
)

// TestAllocSeesWhatIsKeptAndFreed holds 64 MiB, checks Alloc counts it,
// then drops it and checks Alloc no longer does.
func TestAllocSeesWhatIsKeptAndFreed(t *testing.T) {
	const size = 64 << 20
	before := Alloc()
	kept := make([]byte, size)
	for i := range kept {
		kept[i] = byte(i)
	}
	held := Alloc()
	if grew := held - before; grew < size {
		t.Fatalf("heap grew by %d bytes while holding %d", grew, size)
	}
	runtime.KeepAlive(kept)
	if freed := held - Alloc(); freed < size/2 {
		t.Fatalf("heap shrank by %d bytes after dropping %d", freed, size)
	}
}
