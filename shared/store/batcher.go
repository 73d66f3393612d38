package store

import (
	"context"
	"fmt"
)

// batcher is group commit on the leader: while earlier entries are in
// flight, concurrent writes queue up, and the next entry carries all of
// them. Each transaction keeps its own outcome; they share one index.
type batcher struct {
	n    *Node
	reqs chan *batchReq
	sem  chan struct{}
	done chan struct{}
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
		n:    n,
		reqs: make(chan *batchReq, maxBatchTxns),
		sem:  make(chan struct{}, maxBatchesAloft),
		done: make(chan struct{}),
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
	}
}

func (b *batcher) loop() {
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
		go b.commit(batch)
	}
}

func (b *batcher) commit(batch []*batchReq) {
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

func (b *batcher) stop() { close(b.done) }
