package store

import (
	"context"
	"fmt"
	"sync"
)

// batcher is group commit on the leader: while earlier entries are in
// flight, concurrent writes queue up, and the next entry carries all of
// them. Each transaction keeps its own outcome; they share one index.
type batcher struct {
	n        *Node
	reqs     chan *batchReq
	sem      chan struct{}
	done     chan struct{} // closed to stop the loop
	stopped  chan struct{} // closed when the loop has exited
	inflight sync.WaitGroup
}

type batchReq struct {
	txn Txn
	res chan batchRes
}

type batchRes struct {
	res Result
	err error
}

const (
	maxBatchTxns    = 256
	maxBatchesAloft = 2 // entries in flight before new writes wait and coalesce
)

func startBatcher(n *Node) *batcher {
	b := &batcher{
		n:       n,
		reqs:    make(chan *batchReq, maxBatchTxns),
		sem:     make(chan struct{}, maxBatchesAloft),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go b.loop()
	return b
}

func (b *batcher) submit(ctx context.Context, t Txn) (Result, error) {
	r := &batchReq{txn: t, res: make(chan batchRes, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("store: apply: %w", ctx.Err())
	case <-b.done:
		return Result{}, errNodeClosed
	}
	select {
	case out := <-r.res:
		return out.res, out.err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("%w: %v", ErrOutcomeUnknown, ctx.Err())
	case <-b.stopped:
		// The loop has exited; a request it never took was never proposed.
		select {
		case out := <-r.res:
			return out.res, out.err
		default:
			return Result{}, errNodeClosed
		}
	}
}

func (b *batcher) loop() {
	defer close(b.stopped)
	for {
		select {
		case b.sem <- struct{}{}:
		case <-b.done:
			return
		}
		var batch []*batchReq
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-b.done:
			return
		}
	drain:
		for len(batch) < maxBatchTxns {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		b.inflight.Add(1)
		go b.commit(batch)
	}
}

func (b *batcher) commit(batch []*batchReq) {
	defer b.inflight.Done()
	defer func() { <-b.sem }()
	txns := make([]Txn, len(batch))
	for i, r := range batch {
		txns[i] = r.txn
	}
	data := encodeBatchCmd(txns)
	if len(txns) == 1 {
		data = encodeTxnCmd(txns[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.n.cfg.ApplyTimeout)
	defer cancel()
	results, index, err := b.n.proposeEntry(ctx, data)
	for i, r := range batch {
		switch {
		case err != nil:
			r.res <- batchRes{err: err}
		case results[i] != nil:
			r.res <- batchRes{err: results[i]}
		default:
			r.res <- batchRes{res: Result{Index: index}}
		}
	}
}

// stop ends the loop and waits for entries in flight to report back.
func (b *batcher) stop() {
	close(b.done)
	<-b.stopped
	b.inflight.Wait()
}
