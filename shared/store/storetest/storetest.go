package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/store"
)

// Clock is a settable clock the suite hands to the store under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Factory opens a fresh, empty store whose expiry decisions use now, and
// whose reaper runs often (every few tens of milliseconds). The store is
// closed by the factory's own t.Cleanup.
type Factory func(t *testing.T, now func() time.Time) store.Store

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, clock *Clock)
	}{
		{"PutGetVersion", testPutGetVersion},
		{"MultiOpAtomic", testMultiOpAtomic},
		{"Preconditions", testPreconditions},
		{"FailedPreconditionChangesNothing", testFailedPreconditionChangesNothing},
		{"Delete", testDelete},
		{"Expiry", testExpiry},
		{"ReaperDeletes", testReaperDeletes},
		{"ScanPagination", testScanPagination},
		{"FeedBeforeVisible", testFeedBeforeVisible},
		{"WaitAppliedTimeout", testWaitAppliedTimeout},
		{"InvalidTxn", testInvalidTxn},
		{"ConcurrentCAS", testConcurrentCAS},
		{"ReturnedBytesAreCopies", testReturnedBytesAreCopies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each test has a store of its own; a cluster spends most of
			// its start waiting for its first election, so overlap them.
			t.Parallel()
			clock := NewClock()
			s := newStore(t, clock.Now)
			tc.fn(t, s, clock)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return c
}

func mustApply(t *testing.T, s store.Store, txn store.Txn) store.Result {
	t.Helper()
	r, err := ApplyAsClient(ctx(t), t, s, txn)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return r
}

func mustGet(t *testing.T, s store.Store, key string) store.Item {
	t.Helper()
	it, err := s.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return it
}

func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	if it, err := s.Get([]byte(key)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %+v, %v; want ErrNotFound", key, it, err)
	}
}

func put(k, v string) store.Op { return store.Put([]byte(k), []byte(v)) }

func testPutGetVersion(t *testing.T, s store.Store, _ *Clock) {
	r1 := mustApply(t, s, store.Txn{Ops: []store.Op{put("a", "1")}})
	if r1.Index == 0 {
		t.Fatal("result index is 0")
	}
	it := mustGet(t, s, "a")
	if string(it.Value) != "1" || it.Version != r1.Index || string(it.Key) != "a" {
		t.Fatalf("got %+v, want value 1 at version %d", it, r1.Index)
	}
	r2 := mustApply(t, s, store.Txn{Ops: []store.Op{put("a", "2")}})
	if r2.Index <= r1.Index {
		t.Fatalf("second write index %d <= first %d", r2.Index, r1.Index)
	}
	if it := mustGet(t, s, "a"); string(it.Value) != "2" || it.Version != r2.Index {
		t.Fatalf("got %+v after update", it)
	}
	if s.AppliedIndex() < r2.Index {
		t.Fatalf("AppliedIndex %d < %d after Apply returned", s.AppliedIndex(), r2.Index)
	}
	wantMissing(t, s, "nope")
	// Empty values are values.
	mustApply(t, s, store.Txn{Ops: []store.Op{put("empty", "")}})
	if it := mustGet(t, s, "empty"); len(it.Value) != 0 {
		t.Fatalf("empty value came back as %q", it.Value)
	}
}

func testMultiOpAtomic(t *testing.T, s store.Store, _ *Clock) {
	mustApply(t, s, store.Txn{Ops: []store.Op{put("x", "old")}})
	r := mustApply(t, s, store.Txn{Ops: []store.Op{put("a", "1"), put("b", "2"), store.Delete([]byte("x"))}})
	for _, k := range []string{"a", "b"} {
		if it := mustGet(t, s, k); it.Version != r.Index {
			t.Fatalf("%s at version %d, want %d", k, it.Version, r.Index)
		}
	}
	wantMissing(t, s, "x")
	// Writing one key twice in a transaction keeps the last write.
	mustApply(t, s, store.Txn{Ops: []store.Op{put("d", "first"), put("d", "second")}})
	if it := mustGet(t, s, "d"); string(it.Value) != "second" {
		t.Fatalf("d = %q, want second", it.Value)
	}
}

func testPreconditions(t *testing.T, s store.Store, _ *Clock) {
	r := mustApply(t, s, store.Txn{Conds: []store.Cond{store.Absent([]byte("k"))}, Ops: []store.Op{put("k", "v1")}})
	tests := []struct {
		name     string
		cond     store.Cond
		conflict bool
	}{
		{"absent on present key", store.Absent([]byte("k")), true},
		{"absent on missing key", store.Absent([]byte("other")), false},
		{"present on present key", store.Present([]byte("k")), false},
		{"present on missing key", store.Present([]byte("missing")), true},
		{"version matches", store.AtVersion([]byte("k"), r.Index), false},
		{"version stale", store.AtVersion([]byte("k"), r.Index-1), true},
		{"version of missing key", store.AtVersion([]byte("missing"), 1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Conditions only: nothing written either way.
			_, err := ApplyAsClient(ctx(t), t, s, store.Txn{Conds: []store.Cond{tc.cond}})
			var ce *store.ConflictError
			if tc.conflict {
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want *ConflictError", err)
				}
				if !bytes.Equal(ce.Key, tc.cond.Key) || ce.Want != tc.cond.Kind || ce.Cond != 0 {
					t.Fatalf("conflict = %+v, want key %q kind %s", ce, tc.cond.Key, tc.cond.Kind)
				}
				if !store.IsConflict(fmt.Errorf("wrapped: %w", err)) {
					t.Fatal("IsConflict does not see through wrapping")
				}
			} else if err != nil {
				t.Fatalf("err = %v, want success", err)
			}
		})
	}
	if it := mustGet(t, s, "k"); it.Version != r.Index || string(it.Value) != "v1" {
		t.Fatalf("condition-only transactions changed k: %+v", it)
	}
}

func testFailedPreconditionChangesNothing(t *testing.T, s store.Store, _ *Clock) {
	r := mustApply(t, s, store.Txn{Ops: []store.Op{put("a", "1"), put("b", "1")}})
	before := s.AppliedIndex()
	_, err := ApplyAsClient(ctx(t), t, s, store.Txn{
		Conds: []store.Cond{store.AtVersion([]byte("a"), r.Index), store.Absent([]byte("b"))},
		Ops:   []store.Op{put("a", "2"), store.Delete([]byte("b")), put("c", "new")},
	})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Cond != 1 || ce.Actual != r.Index {
		t.Fatalf("err = %#v, want conflict on condition 1 at version %d", err, r.Index)
	}
	for _, k := range []string{"a", "b"} {
		if it := mustGet(t, s, k); string(it.Value) != "1" || it.Version != r.Index {
			t.Fatalf("%s changed by a failed transaction: %+v", k, it)
		}
	}
	wantMissing(t, s, "c")
	if s.AppliedIndex() < before {
		t.Fatal("applied index went backwards")
	}
}

func testDelete(t *testing.T, s store.Store, _ *Clock) {
	mustApply(t, s, store.Txn{Ops: []store.Op{put("a", "1")}})
	mustApply(t, s, store.Txn{Conds: []store.Cond{store.Present([]byte("a"))}, Ops: []store.Op{store.Delete([]byte("a"))}})
	wantMissing(t, s, "a")
	// Deleting a missing key is not an error.
	mustApply(t, s, store.Txn{Ops: []store.Op{store.Delete([]byte("a"))}})
	// A deleted key is absent for preconditions.
	mustApply(t, s, store.Txn{Conds: []store.Cond{store.Absent([]byte("a"))}, Ops: []store.Op{put("a", "again")}})
}

func testExpiry(t *testing.T, s store.Store, clock *Clock) {
	at := clock.Now().Add(time.Minute)
	mustApply(t, s, store.Txn{Ops: []store.Op{store.PutExpiring([]byte("flow/1"), []byte("code"), at), put("flow/2", "keeps")}})
	it := mustGet(t, s, "flow/1")
	if !it.ExpiresAt.Equal(at) {
		t.Fatalf("ExpiresAt = %v, want %v", it.ExpiresAt, at)
	}
	// Single use: a second consumer conditioned on the first version loses.
	clock.Advance(2 * time.Minute)
	wantMissing(t, s, "flow/1")
	items, _, err := s.Scan([]byte("flow/"), nil, 10)
	if err != nil || len(items) != 1 || string(items[0].Key) != "flow/2" {
		t.Fatalf("Scan after expiry = %v, %v; want only flow/2", keysOf(items), err)
	}
	// An expired key is absent for preconditions, so it can be recreated.
	mustApply(t, s, store.Txn{Conds: []store.Cond{store.Absent([]byte("flow/1"))}, Ops: []store.Op{put("flow/1", "fresh")}})
	if it := mustGet(t, s, "flow/1"); string(it.Value) != "fresh" || !it.ExpiresAt.IsZero() {
		t.Fatalf("recreated key = %+v", it)
	}
}

func testReaperDeletes(t *testing.T, s store.Store, clock *Clock) {
	deleted := make(chan uint64, 16)
	cancel := s.Subscribe(func(ev store.Event) {
		for _, k := range ev.Keys {
			if string(k) == "ttl" {
				deleted <- ev.Index
			}
		}
	})
	defer cancel()
	r := mustApply(t, s, store.Txn{Ops: []store.Op{store.PutExpiring([]byte("ttl"), []byte("x"), clock.Now().Add(time.Second))}})
	if idx := <-deleted; idx != r.Index {
		t.Fatalf("first event for ttl at %d, want the put at %d", idx, r.Index)
	}
	clock.Advance(2 * time.Second)
	select {
	case idx := <-deleted:
		if idx <= r.Index {
			t.Fatalf("reaper delete at index %d <= put %d", idx, r.Index)
		}
	case <-time.After(waitLimit):
		t.Fatalf("expired key was not reaped within %s", waitLimit)
	}
	wantMissing(t, s, "ttl")
}

func keysOf(items []store.Item) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, string(it.Key))
	}
	return ks
}

func testScanPagination(t *testing.T, s store.Store, _ *Clock) {
	var ops []store.Op
	for i := 0; i < 25; i++ {
		ops = append(ops, put(fmt.Sprintf("t/a/client/%02d", i), strconv.Itoa(i)))
	}
	ops = append(ops, put("t/a/clientx", "other"), put("t/b/client/00", "other tenant"), put("t/a/client", "the bare prefix"))
	mustApply(t, s, store.Txn{Ops: ops})

	var got []string
	var cursor []byte
	pages := 0
	for {
		items, next, err := s.Scan([]byte("t/a/client/"), cursor, 10)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		pages++
		got = append(got, keysOf(items)...)
		if next == nil {
			break
		}
		cursor = next
		if pages > 5 {
			t.Fatal("pagination does not terminate")
		}
	}
	if pages != 3 || len(got) != 25 || got[0] != "t/a/client/00" || got[24] != "t/a/client/24" {
		t.Fatalf("pages=%d keys=%v", pages, got)
	}
	// An exact multiple of the page size ends with a nil cursor.
	items, next, err := s.Scan([]byte("t/a/client/2"), nil, 5)
	if err != nil || len(items) != 5 || next != nil {
		t.Fatalf("exact page: %v next=%q err=%v", keysOf(items), next, err)
	}
	if _, _, err := s.Scan([]byte("t/a/"), []byte("t/b/zzz"), 10); err == nil {
		t.Fatal("a cursor outside the prefix was accepted")
	}
	if items, _, _ := s.Scan([]byte("nothing/"), nil, 10); len(items) != 0 {
		t.Fatalf("empty prefix returned %v", keysOf(items))
	}
}

func testFeedBeforeVisible(t *testing.T, s store.Store, _ *Clock) {
	type seen struct {
		index, appliedThen uint64
		keys               []string
	}
	var mu sync.Mutex
	var events []seen
	cancel := s.Subscribe(func(ev store.Event) {
		var ks []string
		for _, k := range ev.Keys {
			ks = append(ks, string(k))
		}
		mu.Lock()
		events = append(events, seen{ev.Index, s.AppliedIndex(), ks})
		mu.Unlock()
	})
	r1 := mustApply(t, s, store.Txn{Ops: []store.Op{put("f1", "a"), put("f2", "b")}})
	r2 := mustApply(t, s, store.Txn{Ops: []store.Op{store.Delete([]byte("f1"))}})
	_, err := ApplyAsClient(ctx(t), t, s, store.Txn{Conds: []store.Cond{store.Absent([]byte("f2"))}, Ops: []store.Op{put("f3", "c")}})
	if !store.IsConflict(err) {
		t.Fatalf("want conflict, got %v", err)
	}
	cancel()
	mustApply(t, s, store.Txn{Ops: []store.Op{put("after-cancel", "x")}})

	mu.Lock()
	defer mu.Unlock()
	var mine []seen
	for _, e := range events {
		// A keyless event is a conditions-only entry: ApplyAsClient's
		// barrier when a write's outcome was unknown.
		if e.index >= r1.Index && len(e.keys) > 0 {
			mine = append(mine, e)
		}
	}
	if len(mine) < 2 {
		t.Fatalf("events = %+v, want at least the two writes", events)
	}
	if mine[0].index != r1.Index || fmt.Sprint(mine[0].keys) != "[f1 f2]" {
		t.Fatalf("first event %+v, want index %d keys [f1 f2]", mine[0], r1.Index)
	}
	if mine[1].index != r2.Index || fmt.Sprint(mine[1].keys) != "[f1]" {
		t.Fatalf("second event %+v, want index %d keys [f1]", mine[1], r2.Index)
	}
	for i, e := range mine {
		if e.appliedThen >= e.index {
			t.Fatalf("event %d delivered after its index was visible (%d >= %d)", i, e.appliedThen, e.index)
		}
		if i > 0 && e.index <= mine[i-1].index {
			t.Fatalf("events out of order: %+v", mine)
		}
		for _, k := range e.keys {
			if k == "f3" || k == "after-cancel" {
				t.Fatalf("event carries %q, which was never written while subscribed", k)
			}
		}
	}
}

func testWaitAppliedTimeout(t *testing.T, s store.Store, _ *Clock) {
	r := mustApply(t, s, store.Txn{Ops: []store.Op{put("w", "1")}})
	if err := s.WaitApplied(ctx(t), r.Index); err != nil {
		t.Fatalf("WaitApplied(current) = %v", err)
	}
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.WaitApplied(c, r.Index+1000); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitApplied(future) = %v, want deadline exceeded", err)
	}
}

func testInvalidTxn(t *testing.T, s store.Store, _ *Clock) {
	tests := []struct {
		name string
		txn  store.Txn
	}{
		{"empty", store.Txn{}},
		{"empty key", store.Txn{Ops: []store.Op{put("", "v")}}},
		{"empty cond key", store.Txn{Conds: []store.Cond{store.Absent(nil)}}},
		{"unknown op", store.Txn{Ops: []store.Op{{Kind: 99, Key: []byte("k")}}}},
		{"oversized key", store.Txn{Ops: []store.Op{store.Put(make([]byte, store.MaxKeySize+1), nil)}}},
		// The log's decoder refuses each of these: proposed, they would
		// stop every replica at that entry.
		{"oversized cond key", store.Txn{Conds: []store.Cond{store.Absent(make([]byte, store.MaxKeySize+1))}, Ops: []store.Op{put("k", "v")}}},
		{"oversized value", store.Txn{Ops: []store.Op{store.Put([]byte("k"), make([]byte, store.MaxValueSize+1))}}},
		{"too many ops", store.Txn{Ops: slices.Repeat([]store.Op{put("k", "v")}, store.MaxTxnOps+1)}},
		{"too many conds", store.Txn{Conds: slices.Repeat([]store.Cond{store.Present([]byte("k"))}, store.MaxTxnOps+1)}},
	}
	before := s.AppliedIndex()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Apply(ctx(t), tc.txn); err == nil || store.IsConflict(err) {
				t.Fatalf("Apply = %v, want a validation error", err)
			}
		})
	}
	if s.AppliedIndex() != before {
		t.Fatal("invalid transactions were applied")
	}
	// And the store still takes writes, at the limits too.
	mustApply(t, s, store.Txn{
		Conds: []store.Cond{store.Absent(make([]byte, store.MaxKeySize))},
		Ops:   []store.Op{store.Put(make([]byte, store.MaxKeySize), make([]byte, 1<<20))},
	})
}

func testConcurrentCAS(t *testing.T, s store.Store, _ *Clock) {
	key := []byte("counter")
	mustApply(t, s, store.Txn{Ops: []store.Op{store.Put(key, []byte("0"))}})
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				it, err := s.Get(key)
				if err != nil {
					errs <- err
					return
				}
				n, _ := strconv.Atoi(string(it.Value))
				_, err = ApplyAsClient(ctx(t), t, s, store.Txn{
					Conds: []store.Cond{store.AtVersion(key, it.Version)},
					Ops:   []store.Op{store.Put(key, []byte(strconv.Itoa(n+1)))},
				})
				if store.IsConflict(err) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				i++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if it := mustGet(t, s, "counter"); string(it.Value) != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d: a lost update", it.Value, workers*each)
	}
}

func testReturnedBytesAreCopies(t *testing.T, s store.Store, _ *Clock) {
	val := []byte("original")
	mustApply(t, s, store.Txn{Ops: []store.Op{store.Put([]byte("c"), val)}})
	val[0] = 'X'
	it := mustGet(t, s, "c")
	it.Value[1] = 'Y'
	items, _, _ := s.Scan([]byte("c"), nil, 1)
	items[0].Value[2] = 'Z'
	if it := mustGet(t, s, "c"); string(it.Value) != "original" {
		t.Fatalf("stored value aliased a caller's slice: %q", it.Value)
	}
}

// Local opens a single-node store in a fresh temporary folder; it is closed
// when the test ends.
func Local(tb testing.TB) *store.Local {
	tb.Helper()
	st, err := store.OpenLocal(tb.TempDir())
	if err != nil {
		tb.Fatalf("open local store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
