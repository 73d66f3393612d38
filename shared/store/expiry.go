package store

import (
	"context"
	"log/slog"
	"time"
)

// reaper deletes expired keys with ordinary transactions, conditioned on the
// version it saw, so a key rewritten meanwhile is left alone. Only the
// leader reaps; followers see the deletes through the log. Expired keys are
// invisible to reads before the reaper reaches them.
type reaper struct {
	cancel context.CancelFunc
	done   chan struct{}
}

const reapBatch = 256

func startReaper(s Store, st *state, now func() time.Time, every time.Duration, isLeader func() bool, log *slog.Logger) *reaper {
	ctx, cancel := context.WithCancel(context.Background())
	r := &reaper{cancel: cancel, done: make(chan struct{})}
	if every == 0 {
		every = time.Second
	}
	if every < 0 {
		close(r.done)
		return r
	}
	go func() {
		defer close(r.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if !isLeader() {
				continue
			}
			if err := reapOnce(ctx, s, st, now()); err != nil && ctx.Err() == nil {
				log.Warn("store: reaping expired keys", "err", err)
			}
		}
	}()
	return r
}

// reapOnce deletes every key expired at now, one transaction per key so a
// conflict on one does not hold back the rest.
func reapOnce(ctx context.Context, s Store, st *state, now time.Time) error {
	for {
		conds, err := st.expired(now, reapBatch)
		if err != nil || len(conds) == 0 {
			return err
		}
		for _, c := range conds {
			_, err := s.Apply(ctx, Txn{Conds: []Cond{c}, Ops: []Op{Delete(c.Key)}, Now: now})
			if err != nil && !IsConflict(err) {
				return err
			}
		}
		if len(conds) < reapBatch {
			return nil
		}
	}
}

func (r *reaper) stop() {
	r.cancel()
	<-r.done
}
