package store

import (
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// blockCacheBytes is each database's block cache.
const blockCacheBytes = 64 << 20

// openPebble opens a database tuned for the store's access pattern: every
// put first looks up the key's old value (for its expiry index entry), and
// most puts of flow state and log events are of keys that do not exist.
// Bloom filters on every level answer those lookups without reading a
// block; Pebble's default has no filters and an 8 MiB cache.
func openPebble(dir string, log *slog.Logger) (*pebble.DB, error) {
	cache := pebble.NewCache(blockCacheBytes)
	defer cache.Unref() // the DB holds its own reference
	opts := &pebble.Options{Logger: pebbleLogger{log}, Cache: cache}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	return db, nil
}
