package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Local is a single-node store with no Raft: transactions are applied
// straight to Pebble, each at the next index, with a synced write. It meets
// the same contract as Node (see storetest) and serves tests and tools.
type Local struct {
	st     *state
	mu     sync.Mutex // serialises Apply, as a Raft log would
	reaper *reaper
}

var _ Store = (*Local)(nil)

// LocalOptions tunes a Local store; the zero value is ready to use.
type LocalOptions struct {
	Now          func() time.Time // clock for expiry; default time.Now
	Logger       *slog.Logger
	ReapInterval time.Duration // how often expired keys are deleted; default 1s, <0 disables
}

// OpenLocal opens (or creates) a Local store in dir.
func OpenLocal(dir string) (*Local, error) { return OpenLocalWith(dir, LocalOptions{}) }

// OpenLocalWith opens a Local store with options.
func OpenLocalWith(dir string, o LocalOptions) (*Local, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	st, err := openState(dir, true, o.Now, o.Logger)
	if err != nil {
		return nil, err
	}
	l := &Local{st: st}
	l.reaper = startReaper(l, st, o.Now, o.ReapInterval, func() bool { return true }, o.Logger)
	return l, nil
}

func (l *Local) Apply(ctx context.Context, t Txn) (Result, error) {
	if err := t.Validate(); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("store: apply: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.Now.IsZero() {
		t.Now = l.st.now()
	}
	// Round-trip through the log encoding so Local accepts exactly what a
	// Raft node would.
	txns, err := decodeCmd(encodeTxnCmd(t))
	if err != nil {
		return Result{}, err
	}
	index := l.st.applied.Load() + 1
	results, err := l.st.apply(index, txns)
	if err != nil {
		return Result{}, err
	}
	if results[0] != nil {
		return Result{}, results[0]
	}
	return Result{Index: index}, nil
}

func (l *Local) Get(key []byte) (Item, error) { return l.st.get(key) }

func (l *Local) Scan(prefix, after []byte, limit int) ([]Item, []byte, error) {
	return l.st.scan(prefix, after, limit)
}

func (l *Local) AppliedIndex() uint64 { return l.st.applied.Load() }

func (l *Local) WaitApplied(ctx context.Context, index uint64) error {
	return l.st.waitApplied(ctx, index)
}

func (l *Local) Subscribe(fn func(Event)) func() { return l.st.subscribe(fn) }

func (l *Local) Close() error {
	l.reaper.stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.close()
}
