package cache

import (
	"errors"
	"runtime"
	"strconv"
	"testing"

	"github.com/authok-edge/authok/shared/heaptest"
	"github.com/authok-edge/authok/shared/store"
)

// Every entry, a cached miss included, costs its size in bytes: thousands
// of distinct long keys that do not exist (an attacker probing ids) hold
// about MaxCost bytes, not their total length. At one per entry, as before,
// the 16 MiB of keys below all stayed in memory.
func TestMissesAreWeighedByTheirSize(t *testing.T) {
	const (
		maxCost = 1 << 20
		keyLen  = 4 << 10
		keys    = 4000 // 16 MiB of keys
	)
	st := openStore(t)
	c := newCache(t, st, Options{MaxCost: maxCost})
	key := make([]byte, keyLen)
	for i := range key {
		key[i] = 'x'
	}
	before := heaptest.Alloc()
	for i := range keys {
		copy(key, strconv.Itoa(i)+"/")
		if _, err := c.Get(key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get: %v; want not found", err)
		}
	}
	grew := heaptest.Alloc() - before
	runtime.KeepAlive(c)
	t.Logf("%d misses of %d-byte keys grew the heap by %d KiB (MaxCost %d KiB)", keys, keyLen, grew>>10, maxCost>>10)
	if grew > 4*maxCost {
		t.Fatalf("the heap grew by %d KiB, more than 4 × MaxCost (%d KiB)", grew>>10, 4*maxCost>>10)
	}
}

func TestEntryCost(t *testing.T) {
	for _, tc := range []struct {
		name string
		item store.Item
		want int64
	}{
		{"miss", store.Item{Key: make([]byte, 100)}, entryOverhead + 100},
		{"value", store.Item{Key: make([]byte, 10), Value: make([]byte, 1000)}, entryOverhead + 10 + 2*1000},
	} {
		if got := EntryCost(tc.item); got != tc.want {
			t.Errorf("%s: EntryCost = %d; want %d", tc.name, got, tc.want)
		}
	}
}
