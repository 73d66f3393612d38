package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/authok-edge/authok/shared/store"
)

// Batch collects the creation of several records so they are committed in
// one transaction: all of them or none. References between records of the
// same batch (a grant to a client created alongside it) are satisfied by
// the batch itself. A Batch is not safe for concurrent use.
type Batch struct {
	r        *Repo
	conds    []store.Cond
	onFail   []error // onFail[i] is returned when conds[i] fails
	ops      []store.Op
	written  map[string]bool
	requires []requirement
}

type requirement struct {
	key    []byte
	onFail error
}

// NewBatch starts an empty batch.
func (r *Repo) NewBatch() *Batch {
	return &Batch{r: r, written: map[string]bool{}}
}

// Len is the number of writes in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// absent requires key to be missing and records the error to report.
func (b *Batch) absent(key []byte, onFail error) {
	b.conds = append(b.conds, store.Absent(key))
	b.onFail = append(b.onFail, onFail)
}

func (b *Batch) atVersion(key []byte, version uint64, onFail error) {
	b.conds = append(b.conds, store.AtVersion(key, version))
	b.onFail = append(b.onFail, onFail)
}

// require makes key's presence a condition unless the batch writes it.
func (b *Batch) require(key []byte, onFail error) {
	b.requires = append(b.requires, requirement{key: key, onFail: onFail})
}

func (b *Batch) put(key, value []byte) error {
	if b.written[string(key)] {
		return fmt.Errorf("%w: key %q written twice in one batch", ErrDuplicate, key)
	}
	b.written[string(key)] = true
	b.ops = append(b.ops, store.Put(key, value))
	return nil
}

func (b *Batch) del(key []byte) {
	if b.written[string(key)] {
		return
	}
	b.written[string(key)] = true
	b.ops = append(b.ops, store.Delete(key))
}

// create adds a record and its unique index keys, all required absent.
func (b *Batch) create(what string, key, value []byte, idx []indexEntry) error {
	b.absent(key, fmt.Errorf("%w: %s already exists", ErrDuplicate, what))
	if err := b.put(key, value); err != nil {
		return err
	}
	for _, e := range idx {
		b.absent(e.key, fmt.Errorf("%w: %s", ErrDuplicate, e.what))
		if err := b.put(e.key, e.value); err != nil {
			return err
		}
	}
	return nil
}

// Commit applies the batch as one transaction and returns its index: the
// Version of every record it wrote. A failed precondition changes nothing
// and returns ErrDuplicate, ErrNotFound or a stale-version error.
func (r *Repo) Commit(ctx context.Context, b *Batch) (uint64, error) {
	if b.r != r {
		return 0, errors.New("repo: batch of another repo")
	}
	if len(b.ops) == 0 {
		return 0, errors.New("repo: empty batch")
	}
	conds := append([]store.Cond(nil), b.conds...)
	onFail := append([]error(nil), b.onFail...)
	for _, req := range b.requires {
		if b.written[string(req.key)] {
			continue
		}
		conds = append(conds, store.Present(req.key))
		onFail = append(onFail, req.onFail)
	}
	res, err := r.st.Apply(ctx, store.Txn{Conds: conds, Ops: b.ops, Now: r.now()})
	if err != nil {
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			if ce.Cond >= 0 && ce.Cond < len(onFail) {
				return 0, onFail[ce.Cond]
			}
			return 0, fmt.Errorf("%w: %v", ErrConflict, err)
		}
		return 0, fmt.Errorf("repo: commit: %w", err)
	}
	return res.Index, nil
}
