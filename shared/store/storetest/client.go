package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/authok-edge/authok/shared/store"
)

// BarrierKey is the key ApplyAsClient's barrier conditions on; it is never
// written.
var BarrierKey = []byte("storetest/barrier")

// ApplyAsClient applies txn the way a careful client does, for tests that
// are not about ambiguous outcomes. A write that ends in
// store.ErrOutcomeUnknown (its leader was lost after it was sent: on a
// starved machine, a spurious election) is decided by re-reading, then
// retried only if it did not commit:
//
//   - first a barrier: a conditions-only transaction, which writes nothing,
//     is committed through the current leader and applied here; from then
//     on every entry of the lost leader's term is either applied here or
//     will never be committed;
//   - a txn that puts is taken as committed when every key it leaves
//     holds what it wrote (deleted keys absent), all at one version newer
//     than anything applied here before it was sent; that version is its
//     Result.Index. Otherwise it did not commit and is applied again;
//   - a txn that only checks (writes nothing) is asked again, and so is
//     one that only deletes, unconditioned (the same end state either
//     way); a conditioned delete is left undecided (the error is
//     returned): a retry could fail on what its own first attempt changed.
//
// It assumes no one else writes those keys between the lost answer and the
// re-read: a committed write that another writer overwrote meanwhile looks
// lost and is applied again (a CAS loop racing writers on one key would
// then count it twice). Conflicts and every other error are returned as
// they are. Each ambiguous attempt is logged on tb.
func ApplyAsClient(ctx context.Context, tb testing.TB, s store.Store, txn store.Txn) (store.Result, error) {
	tb.Helper()
	for {
		sentAfter := s.AppliedIndex()
		res, err := s.Apply(ctx, txn)
		if !errors.Is(err, store.ErrOutcomeUnknown) || ctx.Err() != nil {
			return res, err
		}
		tb.Logf("storetest: %v; deciding by re-reading", err)
		puts := finalState(txn)
		if !hasPut(puts) {
			if len(txn.Ops) > 0 && len(txn.Conds) > 0 {
				return store.Result{}, fmt.Errorf("storetest: a conditioned delete cannot be decided by re-reading: %w", err)
			}
			continue // writes nothing, or leaves the same state either way
		}
		if err := barrier(ctx, tb, s); err != nil {
			return store.Result{}, err
		}
		if index, ok := committed(s, puts, sentAfter); ok {
			tb.Logf("storetest: the write had committed at %d", index)
			return store.Result{Index: index}, nil
		}
		tb.Logf("storetest: the write had not committed; applying it again")
	}
}

// barrier commits a transaction that writes nothing and returns once it is
// applied locally. Retrying it is always safe.
func barrier(ctx context.Context, tb testing.TB, s store.Store) error {
	tb.Helper()
	for {
		_, err := s.Apply(ctx, store.Txn{Conds: []store.Cond{store.Absent(BarrierKey)}})
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrOutcomeUnknown) || ctx.Err() != nil {
			return fmt.Errorf("storetest: barrier after an unknown outcome: %w", err)
		}
	}
}

// finalState is what txn leaves in each key it writes: the value of its
// last put, or nil for a delete.
func finalState(txn store.Txn) map[string][]byte {
	out := make(map[string][]byte, len(txn.Ops))
	for _, op := range txn.Ops {
		if op.Kind == store.OpPut {
			out[string(op.Key)] = append([]byte{}, op.Value...)
		} else {
			out[string(op.Key)] = nil
		}
	}
	return out
}

func hasPut(state map[string][]byte) bool {
	for _, v := range state {
		if v != nil {
			return true
		}
	}
	return false
}

// committed reports whether the store shows state, every put at one
// version above sentAfter, and that version.
func committed(s store.Store, state map[string][]byte, sentAfter uint64) (uint64, bool) {
	var version uint64
	for key, want := range state {
		it, err := s.Get([]byte(key))
		if want == nil {
			if !errors.Is(err, store.ErrNotFound) {
				return 0, false
			}
			continue
		}
		if err != nil || !bytes.Equal(it.Value, want) || it.Version <= sentAfter || (version != 0 && it.Version != version) {
			return 0, false
		}
		version = it.Version
	}
	return version, true
}
