// Package cache is a read-through, in-memory cache of decoded store values
// (clients, grants, resource servers, ...), kept coherent by the store's
// apply feed.
//
// A Cache[T] owns the decoded copies it holds and nothing else: a miss reads
// the key from its Source, decodes it once and keeps the result (or the fact
// that the key is missing); every applied transaction drops the keys it
// touched. Values are shared by every caller that gets them, so T must be
// treated as immutable.
//
// It must never:
//   - serve a value older than the local apply index: once Apply (or
//     WaitApplied) for index i has returned, every Get started afterwards
//     returns a version >= i or a not-found that is current at i or later;
//   - write to the store, or call back into it from the apply feed;
//   - keep a caller's key slice (fasthttp reuses them): keys are copied;
//   - import edge/ or control/.
//
// # Why a value is never stale
//
// The store calls the subscriber after a transaction is committed and
// before Apply, WaitApplied or AppliedIndex can report it. Each key hashes to
// one of 256 stripes holding an epoch. An invalidation bumps the epoch of the
// key's stripe under the stripe's mutex, then deletes the key from
// ristretto. A fill reads the epoch before it reads the store and stamps the
// entry with it; an unchanged epoch later means no write to the stripe was
// applied after the store read, so the value is current.
//
// Ristretto applies Set asynchronously (through a buffer its own goroutine
// drains) but Del at once, so an entry Set just before an invalidation can
// land in the map after the Del and stay there until the queued delete is
// processed. Checking the epoch before Set is therefore not enough: a new
// entry starts pending and is served only once settled. Settling happens
// under the stripe mutex (live if the epoch is unchanged, dead otherwise)
// and only when the entry is known to be in ristretto's map: the filler
// settles after ristretto's Wait, a reader settles an entry it found. From
// then on no buffered Set of that entry remains, so the next invalidation's
// Del removes it for good, and an entry settled live is one no invalidation
// raced.
//
// A Reset event (a snapshot replaced the whole state) bumps a cache-wide
// generation that every hit compares, so no older entry is served again.
//
// Stripes are shared by keys: a write to another key of the same stripe
// kills a fill that is in flight (counted as stale, the next read refills).
// Settled entries are dropped only by writes to their own key.
//
// Missing keys are cached too (an attacker probing client ids should not
// reach Pebble every time); they are invalidated exactly like values, and
// ristretto's admission policy keeps one-off misses from evicting hot
// entries. Every entry, a miss included, is weighed by its size in bytes
// (EntryCost: key, value, overhead) against a MaxCost in bytes, so misses
// on long keys cannot hold more than MaxCost however many there are. Errors from the store (other than not-found) and from the
// decoder are returned and never cached.
//
// Not done: concurrent misses on one key are not collapsed into one store
// read (singleflight); a shared flight would need the same epoch argument.
package cache
