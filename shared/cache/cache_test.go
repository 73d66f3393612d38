package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/store"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/prometheus/client_golang/prometheus"
)

// rec is the decoded form used by the tests: the value and the version it
// was read at.
type rec struct {
	Value   string
	Version uint64
}

var errBadValue = errors.New("bad value")

func decodeRec(it store.Item) (rec, error) {
	if string(it.Value) == "bad" {
		return rec{}, errBadValue
	}
	return rec{Value: string(it.Value), Version: it.Version}, nil
}

func openStore(t testing.TB) *store.Local {
	t.Helper()
	st, err := store.OpenLocalWith(t.TempDir(), store.LocalOptions{ReapInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newCache(t testing.TB, src Source, opts Options) *Cache[rec] {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "test"
	}
	c, err := New(src, decodeRec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func apply(t testing.TB, st store.Store, ops ...store.Op) uint64 {
	t.Helper()
	res, err := st.Apply(context.Background(), store.Txn{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	return res.Index
}

func put(t testing.TB, st store.Store, key, val string) uint64 {
	t.Helper()
	return apply(t, st, store.Put([]byte(key), []byte(val)))
}

func del(t testing.TB, st store.Store, key string) uint64 {
	t.Helper()
	return apply(t, st, store.Delete([]byte(key)))
}

func stripeOf(key []byte) uint64 { return z.MemHash(key) >> (64 - stripeBits) }

// sameStripe returns a key other than key that hashes to key's stripe, so a
// test can aim a write at the stripe without touching the key itself.
func sameStripe(key string) string {
	want := stripeOf([]byte(key))
	for i := 0; ; i++ {
		cand := fmt.Sprintf("%s-neighbour-%d", key, i)
		if stripeOf([]byte(cand)) == want {
			return cand
		}
	}
}

// once wraps f so it runs on the first call only; the tests that use it
// run the hooks on one goroutine.
func once(f func()) func() {
	done := false
	return func() {
		if !done {
			done = true
			f()
		}
	}
}

// want is the expected outcome of one Get.
type want struct {
	value    string // ignored when notFound
	version  uint64 // 0: do not check
	notFound bool
}

func checkGet(t *testing.T, c *Cache[rec], key string, w want) {
	t.Helper()
	got, err := c.Get([]byte(key))
	if w.notFound {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get(%q) = %+v, %v; want store.ErrNotFound", key, got, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if got.Value != w.value || (w.version != 0 && got.Version != w.version) {
		t.Fatalf("Get(%q) = %+v; want value %q version %d", key, got, w.value, w.version)
	}
}

func TestOptionsValidate(t *testing.T) {
	one := func(store.Item) int64 { return 1 }
	tests := []struct {
		name string
		opts Options
		errs []string // substrings, all expected; none means valid
	}{
		{name: "minimal", opts: Options{Name: "clients"}},
		{name: "cost with counters", opts: Options{Name: "clients", Cost: one, NumCounters: 1000, MaxCost: 1 << 20}},
		{name: "no name", opts: Options{}, errs: []string{"Name is required"}},
		{name: "negative sizes", opts: Options{Name: "x", MaxCost: -1, NumCounters: -1},
			errs: []string{"MaxCost is negative", "NumCounters is negative"}},
		{name: "cost without counters", opts: Options{Name: "x", Cost: one}, errs: []string{"NumCounters is required"}},
		{name: "every error at once", opts: Options{MaxCost: -1, Cost: one},
			errs: []string{"Name is required", "MaxCost is negative", "NumCounters is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if len(tt.errs) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil; want %q", tt.errs)
			}
			for _, s := range tt.errs {
				if !strings.Contains(err.Error(), s) || !strings.HasPrefix(err.Error(), "cache: ") {
					t.Errorf("Validate() = %q; want it to contain %q", err, s)
				}
			}
		})
	}
}

func TestGetCountsHitsAndMisses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, st store.Store)
		gets  int
		want  want
		stats Stats
	}{
		{
			name:  "present key is read once",
			setup: func(t *testing.T, st store.Store) { put(t, st, "k", "v1") },
			gets:  3,
			want:  want{value: "v1", version: 1},
			stats: Stats{Hits: 2, Misses: 1},
		},
		{
			name:  "missing key is cached too",
			setup: func(t *testing.T, st store.Store) {},
			gets:  3,
			want:  want{notFound: true},
			stats: Stats{Hits: 2, Misses: 1},
		},
		{
			name:  "deleted key reads as missing",
			setup: func(t *testing.T, st store.Store) { put(t, st, "k", "v1"); del(t, st, "k") },
			gets:  2,
			want:  want{notFound: true},
			stats: Stats{Hits: 1, Misses: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			tt.setup(t, st)
			c := newCache(t, st, Options{})
			for range tt.gets {
				checkGet(t, c, "k", tt.want)
			}
			if got := c.Stats(); got != tt.stats {
				t.Fatalf("Stats() = %+v; want %+v", got, tt.stats)
			}
		})
	}
}

func TestAppliedWritesInvalidate(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, st store.Store)
		before want
		// write runs after the key is cached and returns what Get must
		// see next.
		write    func(t *testing.T, st store.Store) want
		wantHits uint64 // hits among the two Gets
	}{
		{
			name:   "update",
			setup:  func(t *testing.T, st store.Store) { put(t, st, "k", "v1") },
			before: want{value: "v1"},
			write: func(t *testing.T, st store.Store) want {
				return want{value: "v2", version: put(t, st, "k", "v2")}
			},
		},
		{
			name:   "delete",
			setup:  func(t *testing.T, st store.Store) { put(t, st, "k", "v1") },
			before: want{value: "v1"},
			write: func(t *testing.T, st store.Store) want {
				del(t, st, "k")
				return want{notFound: true}
			},
		},
		{
			name:   "put after a cached miss",
			setup:  func(t *testing.T, st store.Store) {},
			before: want{notFound: true},
			write: func(t *testing.T, st store.Store) want {
				return want{value: "v1", version: put(t, st, "k", "v1")}
			},
		},
		{
			name:   "one transaction of several keys",
			setup:  func(t *testing.T, st store.Store) { put(t, st, "k", "v1") },
			before: want{value: "v1"},
			write: func(t *testing.T, st store.Store) want {
				idx := apply(t, st, store.Put([]byte("a"), []byte("x")), store.Put([]byte("k"), []byte("v2")))
				return want{value: "v2", version: idx}
			},
		},
		{
			name:   "a write to another key of the stripe keeps a settled entry",
			setup:  func(t *testing.T, st store.Store) { put(t, st, "k", "v1") },
			before: want{value: "v1", version: 1},
			write: func(t *testing.T, st store.Store) want {
				put(t, st, sameStripe("k"), "x")
				return want{value: "v1", version: 1}
			},
			wantHits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			tt.setup(t, st)
			c := newCache(t, st, Options{})
			checkGet(t, c, "k", tt.before)
			inv := c.Stats().Invalidations
			after := tt.write(t, st)
			if c.Stats().Invalidations == inv {
				t.Fatal("the write invalidated nothing")
			}
			checkGet(t, c, "k", after)
			if got := c.Stats().Hits; got != tt.wantHits {
				t.Fatalf("hits = %d; want %d", got, tt.wantHits)
			}
		})
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	st := openStore(t)
	put(t, st, "k", "bad")
	calls := 0
	c, err := New(st, func(it store.Item) (rec, error) { calls++; return decodeRec(it) }, Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		_, err := c.Get([]byte("k"))
		if !errors.Is(err, errBadValue) || !strings.HasPrefix(err.Error(), "cache: test: decode") {
			t.Fatalf("Get = %v; want a wrapped decode error", err)
		}
	}
	if calls != 2 {
		t.Fatalf("decoder called %d times; want 2 (errors are not cached)", calls)
	}
	if got, want := c.Stats(), (Stats{Misses: 2, Invalidations: 0}); got != want {
		t.Fatalf("Stats() = %+v; want %+v", got, want)
	}
	idx := put(t, st, "k", "good")
	checkGet(t, c, "k", want{value: "good", version: idx})
}

func TestExpiredItemsAreNotServed(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	st, err := store.OpenLocalWith(t.TempDir(), store.LocalOptions{Now: clock, ReapInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := newCache(t, st, Options{Now: clock})
	apply(t, st, store.PutExpiring([]byte("k"), []byte("v1"), clock().Add(time.Minute)))

	checkGet(t, c, "k", want{value: "v1"})
	checkGet(t, c, "k", want{value: "v1"})
	advance(time.Minute) // the store hides the key from this instant on
	checkGet(t, c, "k", want{notFound: true})
	checkGet(t, c, "k", want{notFound: true})
	if got, want := c.Stats(), (Stats{Hits: 2, Misses: 2, Invalidations: 1}); got != want {
		t.Fatalf("Stats() = %+v; want %+v", got, want)
	}
}

// TestWriteRacingAFill lands a write at each point of a fill where a stale
// value could slip in, and checks the next Get sees the write.
func TestWriteRacingAFill(t *testing.T) {
	tests := []struct {
		name string
		// hook installs the race; it returns what the next Get must see.
		hook func(t *testing.T, c *Cache[rec], st store.Store) want
		// stale: the race must have discarded the fill.
		stale bool
	}{
		{
			name: "update between store read and insert",
			hook: func(t *testing.T, c *Cache[rec], st store.Store) want {
				c.hooks.afterRead = once(func() { put(t, st, "k", "v2") })
				return want{value: "v2", version: 2}
			},
			stale: true,
		},
		{
			name: "update between Set and Wait",
			hook: func(t *testing.T, c *Cache[rec], st store.Store) want {
				c.hooks.afterSet = once(func() { put(t, st, "k", "v2") })
				return want{value: "v2", version: 2}
			},
			stale: true,
		},
		{
			name: "delete between Set and Wait",
			hook: func(t *testing.T, c *Cache[rec], st store.Store) want {
				c.hooks.afterSet = once(func() { del(t, st, "k") })
				return want{notFound: true}
			},
			stale: true,
		},
		{
			name: "update after ristretto applied the Set, before settling",
			hook: func(t *testing.T, c *Cache[rec], st store.Store) want {
				c.hooks.afterSet = once(func() {
					c.rc.Wait() // the pending entry is now in ristretto's map
					put(t, st, "k", "v2")
				})
				return want{value: "v2", version: 2}
			},
			stale: true,
		},
		{
			name: "a reader settles a pending entry live",
			hook: func(t *testing.T, c *Cache[rec], st store.Store) want {
				c.hooks.afterSet = once(func() {
					c.rc.Wait()
					checkGet(t, c, "k", want{value: "v1", version: 1})
					if c.Stats().Hits != 1 {
						t.Error("the reader did not settle the pending entry")
					}
				})
				return want{value: "v1", version: 1}
			},
		},
		{
			name: "a reader finds a pending entry whose stripe moved",
			hook: func(t *testing.T, c *Cache[rec], st store.Store) want {
				c.hooks.afterSet = once(func() {
					c.rc.Wait()
					put(t, st, sameStripe("k"), "x")
					checkGet(t, c, "k", want{value: "v1", version: 1}) // refilled, not served
					if c.Stats().Hits != 0 {
						t.Error("a pending entry was served after its stripe moved")
					}
				})
				return want{value: "v1", version: 1}
			},
			stale: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			put(t, st, "k", "v1")
			c := newCache(t, st, Options{})
			next := tt.hook(t, c, st)
			// This Get started before the write, so the old value is fine.
			checkGet(t, c, "k", want{value: "v1", version: 1})
			checkGet(t, c, "k", next)
			checkGet(t, c, "k", next)
			if got := c.Stats().Stale; (got > 0) != tt.stale {
				t.Fatalf("Stale = %d; want stale %v", got, tt.stale)
			}
		})
	}
}

// resettable passes a store's feed through, except while muted; the test
// then delivers a Reset as a snapshot restore would.
type resettable struct {
	*store.Local
	mu    sync.Mutex
	muted bool
	fn    func(store.Event)
}

func (r *resettable) Subscribe(fn func(store.Event)) func() {
	r.fn = fn
	return r.Local.Subscribe(func(ev store.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.muted {
			fn(ev)
		}
	})
}

func TestResetDropsEverything(t *testing.T) {
	src := &resettable{Local: openStore(t)}
	put(t, src, "k", "v1")
	c := newCache(t, src, Options{})
	checkGet(t, c, "k", want{value: "v1"})
	checkGet(t, c, "other", want{notFound: true})

	// The state changes under the cache, as a restored snapshot does.
	src.mu.Lock()
	src.muted = true
	src.mu.Unlock()
	idx := apply(t, src, store.Put([]byte("k"), []byte("v2")), store.Put([]byte("other"), []byte("o")))
	src.fn(store.Event{Index: idx, Reset: true})

	checkGet(t, c, "k", want{value: "v2", version: idx})
	checkGet(t, c, "other", want{value: "o", version: idx})
}

func TestCloseIsFinal(t *testing.T) {
	st := openStore(t)
	put(t, st, "k", "v1")
	c, err := New(st, decodeRec, Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	checkGet(t, c, "k", want{value: "v1"})
	c.Close()
	c.Close()
	if _, err := c.Get([]byte("k")); err == nil || !strings.HasPrefix(err.Error(), "cache: ") {
		t.Fatalf("Get after Close = %v; want an error", err)
	}
	put(t, st, "k", "v2") // the feed must no longer reach the closed cache
}

func TestHitsDoNotAllocate(t *testing.T) {
	st := openStore(t)
	put(t, st, "k", "v1")
	c := newCache(t, st, Options{})
	for _, key := range [][]byte{[]byte("k"), []byte("missing")} {
		c.Get(key) // fill and settle
		if n := testing.AllocsPerRun(1000, func() { c.Get(key) }); n != 0 {
			t.Errorf("Get(%q) hit: %v allocations; want 0", key, n)
		}
	}
}

func TestNewRejectsBadArguments(t *testing.T) {
	st := openStore(t)
	tests := []struct {
		name   string
		src    Source
		decode func(store.Item) (rec, error)
		opts   Options
	}{
		{name: "no source", decode: decodeRec, opts: Options{Name: "x"}},
		{name: "no decoder", src: st, opts: Options{Name: "x"}},
		{name: "invalid options", src: st, decode: decodeRec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := New(tt.src, tt.decode, tt.opts); err == nil {
				c.Close()
				t.Fatal("New succeeded; want an error")
			}
		})
	}
}

func TestMetricsShareOneFamily(t *testing.T) {
	st := openStore(t)
	put(t, st, "k", "v1")
	reg := prometheus.NewRegistry()
	clients := newCache(t, st, Options{Name: "clients", Registerer: reg})
	grants := newCache(t, st, Options{Name: "grants", Registerer: reg})
	for range 3 {
		clients.Get([]byte("k"))
	}
	grants.Get([]byte("k"))
	put(t, st, "k", "v2")

	tests := []struct {
		metric, name string
		want         float64
	}{
		{"authok_cache_hits_total", "clients", 2},
		{"authok_cache_misses_total", "clients", 1},
		{"authok_cache_hits_total", "grants", 0},
		{"authok_cache_misses_total", "grants", 1},
		{"authok_cache_invalidations_total", "grants", 1},
		{"authok_cache_stale_fills_total", "clients", 0},
	}
	for _, tt := range tests {
		t.Run(tt.metric+"/"+tt.name, func(t *testing.T) {
			if got := gathered(t, reg, tt.metric, tt.name); got != tt.want {
				t.Fatalf("%s{name=%q} = %v; want %v", tt.metric, tt.name, got, tt.want)
			}
		})
	}

	// A second cache under a taken name is an error, not a panic; closing
	// the first frees the name.
	if c, err := New(st, decodeRec, Options{Name: "clients", Registerer: reg}); err == nil {
		c.Close()
		t.Fatal("a second cache named clients registered")
	} else if are := (prometheus.AlreadyRegisteredError{}); !errors.As(err, &are) {
		t.Fatalf("New = %v; want an AlreadyRegisteredError", err)
	}
	clients.Close()
	again := newCache(t, st, Options{Name: "clients", Registerer: reg})
	again.Get([]byte("k"))
	if got := gathered(t, reg, "authok_cache_misses_total", "clients"); got != 1 {
		t.Fatalf("misses of the new clients cache = %v; want 1", got)
	}
}

func gathered(t *testing.T, reg *prometheus.Registry, metric, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "name" && l.GetValue() == name {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{name=%q}", metric, name)
	return 0
}
