package sandbox

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// ceilingAllocator backs an instance's linear memory and enforces the
// memory ceiling itself, so that a refused growth is known: wazero's
// WithMemoryLimitPages refuses before any hook runs, and the host could not
// tell "out of memory" from any other trap. A refused growth makes
// memory.grow return -1 to the guest, exactly as a limit would.
type ceilingAllocator struct {
	ceiling uint64
	in      *instance // told of its memory, for the idle-memory bound
}

func (a ceilingAllocator) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	ceiling := min(a.ceiling, maxBytes)
	m := &ceilingMemory{buf: make([]byte, 0, min(capBytes, ceiling)), ceiling: ceiling, oom: &a.in.oom}
	a.in.mem = m
	return m
}

type ceilingMemory struct {
	buf     []byte
	ceiling uint64
	oom     *atomic.Bool
}

func (m *ceilingMemory) Reallocate(size uint64) []byte {
	if size > m.ceiling {
		m.oom.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Memory never shrinks, so bytes between len and cap were never
		// handed out and are still zero.
		m.buf = m.buf[:size]
		return m.buf
	}
	newCap := min(max(size, 2*uint64(cap(m.buf))), m.ceiling)
	buf := make([]byte, size, newCap)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

func (m *ceilingMemory) Free() { m.buf = nil }
