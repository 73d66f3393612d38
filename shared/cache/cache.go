package cache

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authok-edge/authok/shared/store"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/dgraph-io/ristretto/v2/z"
)

// Source is what a Cache reads through and listens to. store.Local and
// store.Node (any store.Store) satisfy it.
type Source interface {
	Get(key []byte) (store.Item, error)
	Subscribe(fn func(store.Event)) (cancel func())
}

var _ Source = store.Store(nil)

const (
	stripeBits = 8
	numStripes = 1 << stripeBits
)

// Entry states; see doc.go for why an entry is not served while pending.
const (
	pending uint32 = iota
	live
	dead
)

var errClosed = errors.New("cache: closed")

// Cache is a read-through cache of values of type T decoded from the store.
// It is safe for concurrent use; Close must not run concurrently with Get.
type Cache[T any] struct {
	name     string
	src      Source
	decode   func(store.Item) (T, error)
	cost     func(store.Item) int64
	now      func() time.Time
	notFound error // returned for every missing key, so a cached miss does not allocate

	rc      *ristretto.Cache[uint64, *entry[T]]
	stripes [numStripes]stripe
	gen     atomic.Uint64 // bumped by a Reset event
	counters

	closed atomic.Bool
	mu     sync.RWMutex // the feed callback holds it for reading, Close for writing
	cancel func()
	unreg  func()

	hooks testHooks
}

type stripe struct {
	mu    sync.Mutex
	epoch atomic.Uint64 // written under mu; read without it when a fill starts
}

type entry[T any] struct {
	key     []byte
	val     T
	found   bool
	expires time.Time
	gen     uint64 // the cache generation when the fill started
	epoch   uint64 // the stripe epoch when the fill started
	state   atomic.Uint32
}

// testHooks let tests land a write at the exact points the staleness
// argument is about; nil in production.
type testHooks struct {
	afterRead func() // after the store read, before the insert
	afterSet  func() // after ristretto accepted the Set, before Wait
}

// New builds a cache over src and subscribes it to src's apply feed.
// decode turns a stored item into T; its error is returned by Get and the
// result is not cached.
func New[T any](src Source, decode func(store.Item) (T, error), opts Options) (*Cache[T], error) {
	if src == nil || decode == nil {
		return nil, errors.New("cache: New needs a source and a decoder")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	rc, err := ristretto.NewCache(&ristretto.Config[uint64, *entry[T]]{
		NumCounters:        opts.NumCounters,
		MaxCost:            opts.MaxCost,
		BufferItems:        64, // ristretto's recommended value
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %s: %w", opts.Name, err)
	}
	c := &Cache[T]{
		name:     opts.Name,
		src:      src,
		decode:   decode,
		cost:     opts.Cost,
		now:      opts.Now,
		notFound: fmt.Errorf("cache: %s: %w", opts.Name, store.ErrNotFound),
		rc:       rc,
		unreg:    func() {},
	}
	if reg := opts.Registerer; reg != nil {
		col := newCollector(opts.Name, &c.counters)
		if err := reg.Register(col); err != nil {
			rc.Close()
			return nil, fmt.Errorf("cache: %s: register metrics: %w", opts.Name, err)
		}
		c.unreg = func() { reg.Unregister(col) }
	}
	c.cancel = src.Subscribe(c.apply)
	return c, nil
}

// Get returns the decoded value of key, reading the store on a miss. The
// value is shared with other callers: do not modify it. A missing key
// returns an error that matches store.ErrNotFound and does not name the
// key, so a cached miss costs no allocation.
func (c *Cache[T]) Get(key []byte) (T, error) {
	var zero T
	if c.closed.Load() {
		return zero, errClosed
	}
	h := z.MemHash(key)
	if e, ok := c.rc.Get(h); ok && c.servable(e, key, h) {
		c.hits.Add(1)
		if !e.found {
			return zero, c.notFound
		}
		return e.val, nil
	}
	c.misses.Add(1)
	return c.fill(key, h)
}

// Stats returns the counters; cheap enough for tests and benchmarks.
func (c *Cache[T]) Stats() Stats {
	return Stats{
		Hits:          c.hits.Load(),
		Misses:        c.misses.Load(),
		Invalidations: c.invalidations.Load(),
		Stale:         c.stale.Load(),
	}
}

// Close unsubscribes from the feed, frees the cache and unregisters its
// metrics. Later Gets fail. It must not run concurrently with Get.
func (c *Cache[T]) Close() {
	if c.closed.Swap(true) {
		return
	}
	c.cancel()
	// The store may be running our callback right now (unsubscribing does
	// not wait for it); the write lock keeps it off a closed ristretto.
	c.mu.Lock()
	c.rc.Close()
	c.mu.Unlock()
	c.unreg()
}

func (c *Cache[T]) stripe(h uint64) *stripe {
	// The top bits: ristretto shards its map by the low ones.
	return &c.stripes[h>>(64-stripeBits)]
}

// servable reports whether e, found in ristretto under key's hash, may be
// returned for key.
func (c *Cache[T]) servable(e *entry[T], key []byte, h uint64) bool {
	if e.gen != c.gen.Load() || !bytes.Equal(e.key, key) {
		return false
	}
	if !e.expires.IsZero() && !c.now().Before(e.expires) {
		return false // the store hides it from this instant on
	}
	switch e.state.Load() {
	case live:
		return true
	case dead:
		return false
	}
	// We found e in ristretto's map, so its buffered Set has been applied.
	return c.settle(e, c.stripe(h))
}

// settle decides a pending entry once it is known to be in ristretto's map
// (or never to get there): live if no invalidation hit its stripe since its
// fill started, dead otherwise. It reports whether e is live.
func (c *Cache[T]) settle(e *entry[T], s *stripe) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.state.Load() {
	case live:
		return true
	case dead:
		return false
	}
	if s.epoch.Load() == e.epoch {
		e.state.Store(live)
		return true
	}
	e.state.Store(dead)
	c.stale.Add(1)
	return false
}

func (c *Cache[T]) fill(key []byte, h uint64) (T, error) {
	var zero T
	s := c.stripe(h)
	// Read both counters before the store: a write applied after this
	// point changes one of them, and then the result is not kept.
	e := &entry[T]{key: bytes.Clone(key), gen: c.gen.Load(), epoch: s.epoch.Load()}
	item, err := c.src.Get(key)
	if f := c.hooks.afterRead; f != nil {
		f()
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		item = store.Item{Key: e.key}
	case err != nil:
		return zero, fmt.Errorf("cache: %s: get %q: %w", c.name, key, err)
	default:
		v, err := c.decode(item)
		if err != nil {
			return zero, fmt.Errorf("cache: %s: decode %q at version %d: %w", c.name, key, item.Version, err)
		}
		e.val, e.found, e.expires = v, true, item.ExpiresAt
	}
	c.insert(e, s, h, item)
	if !e.found {
		return zero, c.notFound
	}
	return e.val, nil
}

func (c *Cache[T]) insert(e *entry[T], s *stripe, h uint64, item store.Item) {
	var ttl time.Duration // ristretto's TTL only frees memory; servable decides
	if !e.expires.IsZero() {
		if ttl = e.expires.Sub(c.now()); ttl <= 0 {
			return
		}
	}
	cost := max(c.cost(item), 1)
	s.mu.Lock()
	if s.epoch.Load() != e.epoch || c.gen.Load() != e.gen {
		s.mu.Unlock()
		c.stale.Add(1)
		return
	}
	ok := c.rc.SetWithTTL(h, e, cost, ttl)
	s.mu.Unlock()
	if !ok {
		return // dropped by ristretto under contention
	}
	if f := c.hooks.afterSet; f != nil {
		f()
	}
	// Settle now rather than on the first hit: the window in which a write
	// to another key of the stripe can kill the entry stays as short as the
	// fill.
	c.rc.Wait()
	c.settle(e, s)
}

// apply is the store's feed callback: it runs before the transaction's
// index is visible to anyone, so it must be quick and must not block on Get.
func (c *Cache[T]) apply(ev store.Event) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed.Load() {
		return
	}
	if ev.Reset {
		c.gen.Add(1)
		c.invalidations.Add(1)
	}
	for _, k := range ev.Keys {
		h := z.MemHash(k)
		s := c.stripe(h)
		s.mu.Lock()
		s.epoch.Add(1)
		s.mu.Unlock()
		// Outside the lock: once the epoch moved nothing can settle live
		// for this stripe, and Del may block on ristretto's buffer.
		c.rc.Del(h)
	}
	c.invalidations.Add(uint64(len(ev.Keys)))
}
