package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authok-edge/authok/shared/store"
)

// floor is the last write of a key whose Apply has returned: every Get that
// starts afterwards must see it or something newer.
type floor struct {
	index   uint64
	deleted bool
}

// TestReadersNeverSeeOlderThanApplied runs readers against one writer that
// keeps rewriting and deleting a few keys (two of them share a stripe), and
// checks every read against the last write that had returned when the read
// began. Run it with -race.
func TestReadersNeverSeeOlderThanApplied(t *testing.T) {
	writes, readers := 1000, 4
	if testing.Short() {
		writes = 200
	}
	st := openStore(t)
	c := newCache(t, st, Options{})
	keys := []string{"h0", sameStripe("h0"), "h1", "h2"}

	var (
		floors    = make([]atomic.Pointer[floor], len(keys))
		histMu    sync.Mutex
		deletes   = make([][]uint64, len(keys)) // indexes of each key's deletes, ascending
		completed atomic.Uint64                 // index of the last write whose Apply returned
		done      atomic.Bool
		failures  atomic.Int64
		checked   atomic.Int64
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	record := func(idx uint64, which []int, deleted bool) {
		histMu.Lock()
		for _, j := range which {
			if deleted {
				deletes[j] = append(deletes[j], idx)
			}
			floors[j].Store(&floor{index: idx, deleted: deleted})
		}
		histMu.Unlock()
		completed.Store(idx)
	}
	// deletedWithin reports whether key j was deleted at an index in (lo, hi].
	deletedWithin := func(j int, lo, hi uint64) bool {
		histMu.Lock()
		defer histMu.Unlock()
		i, _ := slices.BinarySearch(deletes[j], lo+1)
		return i < len(deletes[j]) && deletes[j][i] <= hi
	}

	all := []int{0, 1, 2, 3}
	var ops []store.Op
	for _, k := range keys {
		ops = append(ops, store.Put([]byte(k), []byte("v0")))
	}
	record(apply(t, st, ops...), all, false)

	var wg sync.WaitGroup
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for !done.Load() {
				j := rng.IntN(len(keys))
				f := floors[j].Load()
				got, err := c.Get([]byte(keys[j]))
				checked.Add(1)
				switch {
				case errors.Is(err, store.ErrNotFound):
					if f.deleted {
						continue
					}
					// Not-found is right only if a delete newer than the floor
					// was applied before the Get returned. Local applies one
					// transaction at a time, so that delete is at most one past
					// the published index; wait until the writer has recorded it.
					bound := st.AppliedIndex() + 1
					for completed.Load() < bound && !done.Load() {
						runtime.Gosched()
					}
					if !deletedWithin(j, f.index, bound) {
						fail("Get(%q) = not found, but it was written at %d and not deleted since", keys[j], f.index)
					}
				case err != nil:
					fail("Get(%q): %v", keys[j], err)
				case got.Version < f.index || (f.deleted && got.Version == f.index):
					fail("Get(%q) = version %d; a write at %d (deleted %v) had returned before the Get", keys[j], got.Version, f.index, f.deleted)
				}
			}
		}()
	}

	for i := 1; i <= writes && failures.Load() == 0; i++ {
		j := i % len(keys)
		switch {
		case i%9 == 0:
			ops = ops[:0]
			for _, k := range keys {
				ops = append(ops, store.Put([]byte(k), fmt.Appendf(nil, "v%d", i)))
			}
			record(apply(t, st, ops...), all, false)
		case i%5 == 3:
			record(del(t, st, keys[j]), []int{j}, true)
		default:
			record(put(t, st, keys[j], fmt.Sprintf("v%d", i)), []int{j}, false)
		}
	}
	done.Store(true)
	wg.Wait()

	s := c.Stats()
	t.Logf("%d writes, %d checked reads, %+v", writes, checked.Load(), s)
	if s.Hits == 0 || s.Misses == 0 {
		t.Fatalf("the cache was not exercised: %+v", s)
	}
}
