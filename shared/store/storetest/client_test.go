package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/authok-edge/authok/shared/store"
)

// outcome is what lossy does with one Apply.
type outcome int

const (
	pass       outcome = iota // apply and answer
	commitLost                // apply, then answer ErrOutcomeUnknown (leader lost after the commit)
	dropped                   // do not apply, answer ErrOutcomeUnknown (leader lost before the commit)
)

// lossy is a real store whose next Applies lose their answer as scripted:
// what a leader lost at the wrong moment does to a client.
type lossy struct {
	store.Store
	mu     sync.Mutex
	script []outcome
	calls  int
}

func (l *lossy) Apply(ctx context.Context, txn store.Txn) (store.Result, error) {
	l.mu.Lock()
	l.calls++
	o := pass
	if len(l.script) > 0 {
		o, l.script = l.script[0], l.script[1:]
	}
	l.mu.Unlock()
	switch o {
	case dropped:
		return store.Result{}, store.ErrOutcomeUnknown
	case commitLost:
		if _, err := l.Store.Apply(ctx, txn); err != nil {
			return store.Result{}, err
		}
		return store.Result{}, store.ErrOutcomeUnknown
	}
	return l.Store.Apply(ctx, txn)
}

func TestApplyAsClient(t *testing.T) {
	k := []byte("k")
	putK := store.Txn{Ops: []store.Op{store.Put(k, []byte("v"))}}
	tests := []struct {
		name   string
		seed   bool // k exists (value "seed") before the write
		txn    store.Txn
		script []outcome
		// want: the error (nil, a conflict or unknown) and k's value after
		// (nil = absent); writesOfK is how many applied entries touched k.
		wantErr   func(error) bool
		wantValue []byte
		writesOfK int
	}{
		{"answered", false, putK, nil, nil, []byte("v"), 1},
		{"committed, answer lost", false, putK, []outcome{commitLost}, nil, []byte("v"), 1},
		{"lost before the commit", false, putK, []outcome{dropped}, nil, []byte("v"), 1},
		{"barrier lost too", false, putK, []outcome{dropped, dropped, commitLost, commitLost}, nil, []byte("v"), 1},
		{"same value already there is not taken as committed", true,
			store.Txn{Ops: []store.Op{store.Put(k, []byte("seed"))}}, []outcome{dropped}, nil, []byte("seed"), 2},
		{"conditioned put committed, answer lost: not a conflict", false,
			store.Txn{Conds: []store.Cond{store.Absent(k)}, Ops: []store.Op{store.Put(k, []byte("v"))}}, []outcome{commitLost}, nil, []byte("v"), 1},
		{"conditioned put lost before the commit", false,
			store.Txn{Conds: []store.Cond{store.Absent(k)}, Ops: []store.Op{store.Put(k, []byte("v"))}}, []outcome{dropped}, nil, []byte("v"), 1},
		{"last put of a key decides", false,
			store.Txn{Ops: []store.Op{store.Put(k, []byte("first")), store.Put(k, []byte("v")), store.Put([]byte("other"), nil)}}, []outcome{commitLost}, nil, []byte("v"), 1},
		{"put and delete committed, answer lost", true,
			store.Txn{Ops: []store.Op{store.Delete(k), store.Put([]byte("other"), []byte("x"))}}, []outcome{commitLost}, nil, nil, 2},
		{"unconditioned delete is applied again", true,
			store.Txn{Ops: []store.Op{store.Delete(k)}}, []outcome{dropped}, nil, nil, 2},
		{"conditions only are asked again", true,
			store.Txn{Conds: []store.Cond{store.Present(k)}}, []outcome{dropped, commitLost}, nil, []byte("seed"), 1},
		{"conditioned delete is left undecided", true,
			store.Txn{Conds: []store.Cond{store.Present(k)}, Ops: []store.Op{store.Delete(k)}}, []outcome{commitLost},
			func(err error) bool { return errors.Is(err, store.ErrOutcomeUnknown) }, nil, 2},
		{"a conflict is an answer", true,
			store.Txn{Conds: []store.Cond{store.Absent(k)}, Ops: []store.Op{store.Put(k, []byte("v"))}}, nil,
			store.IsConflict, []byte("seed"), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := Local(t)
			writes := 0
			defer base.Subscribe(func(ev store.Event) {
				for _, key := range ev.Keys {
					if string(key) == "k" {
						writes++
						break
					}
				}
			})()
			if tc.seed {
				if _, err := base.Apply(context.Background(), store.Txn{Ops: []store.Op{store.Put(k, []byte("seed"))}}); err != nil {
					t.Fatal(err)
				}
			}
			l := &lossy{Store: base, script: tc.script}
			res, err := ApplyAsClient(context.Background(), t, l, tc.txn)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want success", err)
			}
			it, gerr := base.Get(k)
			switch {
			case tc.wantValue == nil && !errors.Is(gerr, store.ErrNotFound):
				t.Fatalf("k = %+v, %v; want absent", it, gerr)
			case tc.wantValue != nil && (gerr != nil || string(it.Value) != string(tc.wantValue)):
				t.Fatalf("k = %+v, %v; want %q", it, gerr, tc.wantValue)
			case err == nil && tc.wantValue != nil && len(tc.txn.Ops) > 0 && res.Index != it.Version:
				t.Fatalf("result index %d, k's version %d", res.Index, it.Version)
			}
			if writes != tc.writesOfK {
				t.Fatalf("%d applied entries wrote k, want %d: a write applied twice or not at all", writes, tc.writesOfK)
			}
			if len(l.script) != 0 {
				t.Fatalf("%d scripted Applies never happened", len(l.script))
			}
		})
	}
}

// A write whose context has ended is not retried: the caller's deadline
// is the client's patience.
func TestApplyAsClientStopsAtItsDeadline(t *testing.T) {
	l := &lossy{Store: Local(t), script: []outcome{dropped}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ApplyAsClient(ctx, t, l, store.Txn{Ops: []store.Op{store.Put([]byte("k"), []byte("v"))}})
	if !errors.Is(err, store.ErrOutcomeUnknown) || l.calls != 1 {
		t.Fatalf("err = %v after %d calls; want the unknown outcome after one", err, l.calls)
	}
}
