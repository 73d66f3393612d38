package store

import (
	"context"
	"time"
)

// Item is a stored value with its version.
type Item struct {
	Key       []byte
	Value     []byte
	Version   uint64    // Raft index of the last write
	ExpiresAt time.Time // zero when the key does not expire
}

// Reader is local, non-blocking reading. Values returned are copies the
// caller owns.
type Reader interface {
	// Get returns the key's current value, or ErrNotFound.
	Get(key []byte) (Item, error)
	// Scan returns up to limit live items whose key starts with prefix and
	// is greater than after (nil = from the start), in key order, and the
	// cursor for the next page (nil when there is none).
	Scan(prefix, after []byte, limit int) (items []Item, next []byte, err error)
	// AppliedIndex is the index of the last transaction applied locally.
	AppliedIndex() uint64
}

// Event is published for every applied transaction, in index order.
type Event struct {
	Index uint64
	Keys  [][]byte // every key the transaction wrote or deleted
	// Reset means the whole state was replaced (a snapshot was restored):
	// every key may have changed.
	Reset bool
}

// Store is the contract both Local and Node meet (see storetest).
type Store interface {
	Reader
	// Apply commits txn and returns once it is applied locally. A failed
	// precondition returns a *ConflictError and changes nothing.
	Apply(ctx context.Context, txn Txn) (Result, error)
	// WaitApplied blocks until the local store has applied index.
	WaitApplied(ctx context.Context, index uint64) error
	// Subscribe registers fn to be called synchronously, in index order, for
	// every transaction applied from now on, before AppliedIndex reports it
	// and before any Apply or WaitApplied waiting on it returns. fn must be
	// fast and must not call Apply. The returned func unsubscribes.
	Subscribe(fn func(Event)) (cancel func())
	Close() error
}
