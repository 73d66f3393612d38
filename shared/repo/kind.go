package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/authok-edge/authok/shared/store"
)

// recordVersion is the encoding version of every record this code writes.
const recordVersion = 1

// indexEntry is a unique secondary key and the value stored under it.
type indexEntry struct {
	key   []byte
	value []byte
	what  string // for ErrDuplicate: "resource server identifier \"x\""
}

// kind describes one record type to the generic operations below.
type kind[T any] struct {
	name   string // "client", in errors
	key    func(tenant, id string) []byte
	prefix func(tenant string) []byte
	id     func(T) string
	// prepare validates v and normalises it for storage under tenant.
	prepare func(tenant string, v T) (T, error)
	// index lists v's unique secondary keys.
	index func(tenant string, v T) []indexEntry
	// refs lists the keys v refers to: they must be present when v is
	// created (or be created by the same batch).
	refs func(tenant string, v T) []requirement
	// immutable reports a forbidden change made by an update.
	immutable func(old, new T) error
	encode    func(r *Repo, tenant string, v T) ([]byte, error)
	decode    func(r *Repo, tenant string, it store.Item) (T, error)
}

func (k kind[T]) notFound(id string) error {
	return fmt.Errorf("%w: %s %q", ErrNotFound, k.name, id)
}

// addCreate validates v and adds its creation to b.
func addCreate[T any](b *Batch, k kind[T], tenant string, v T) (T, error) {
	v, err := k.prepare(tenant, v)
	if err != nil {
		var zero T
		return zero, err
	}
	enc, err := k.encode(b.r, tenant, v)
	if err != nil {
		var zero T
		return zero, err
	}
	id := k.id(v)
	if err := b.create(fmt.Sprintf("%s %q", k.name, id), k.key(tenant, id), enc, k.index(tenant, v)); err != nil {
		var zero T
		return zero, err
	}
	for _, req := range k.refs(tenant, v) {
		b.require(req.key, req.onFail)
	}
	return v, nil
}

// addRewrite validates v, a record loaded at item it, and adds to b its
// write in place of that version (a change since makes the commit stale).
// Index keys are the caller's: only it knows which of them moved.
func addRewrite[T any](b *Batch, k kind[T], tenant string, v T, it store.Item) (T, error) {
	var zero T
	v, err := k.prepare(tenant, v)
	if err != nil {
		return zero, err
	}
	enc, err := k.encode(b.r, tenant, v)
	if err != nil {
		return zero, err
	}
	key := k.key(tenant, k.id(v))
	b.atVersion(key, it.Version, errStale)
	if err := b.put(key, enc); err != nil {
		return zero, err
	}
	return v, nil
}

// create commits one record.
func create[T any](ctx context.Context, r *Repo, k kind[T], tenant string, v T, setVersion func(*T, uint64)) (T, error) {
	var zero T
	b := r.NewBatch()
	v, err := addCreate(b, k, tenant, v)
	if err != nil {
		return zero, err
	}
	idx, err := r.Commit(ctx, b)
	if err != nil {
		return zero, err
	}
	setVersion(&v, idx)
	return v, nil
}

func get[T any](r *Repo, k kind[T], tenant, id string) (T, error) {
	v, _, err := load(r, k, tenant, id)
	return v, err
}

// load reads and decodes one record, with the item it came from (whose
// version a compare-and-swap conditions on).
func load[T any](r *Repo, k kind[T], tenant, id string) (T, store.Item, error) {
	var zero T
	if id == "" {
		return zero, store.Item{}, k.notFound(id)
	}
	it, err := r.st.Get(k.key(tenant, id))
	if errors.Is(err, store.ErrNotFound) {
		return zero, store.Item{}, k.notFound(id)
	}
	if err != nil {
		return zero, store.Item{}, fmt.Errorf("repo: get %s %q: %w", k.name, id, err)
	}
	v, err := k.decode(r, tenant, it)
	return v, it, err
}

// getByIndex follows a unique index key to its record and checks the
// record still carries the indexed value (match).
func getByIndex[T any](r *Repo, k kind[T], tenant string, idxKey []byte, what string, match func(T) bool) (T, error) {
	var zero T
	it, err := r.st.Get(idxKey)
	if errors.Is(err, store.ErrNotFound) {
		return zero, fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	if err != nil {
		return zero, fmt.Errorf("repo: get %s: %w", what, err)
	}
	v, err := get(r, k, tenant, string(it.Value))
	if errors.Is(err, ErrNotFound) {
		return zero, fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	if err != nil {
		return zero, err
	}
	if !match(v) {
		return zero, fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return v, nil
}

func list[T any](r *Repo, k kind[T], tenant, after string, limit int) ([]T, string, error) {
	prefix := k.prefix(tenant)
	var cursor []byte
	if after != "" {
		cursor = append(bytes.Clone(prefix), esc(after)...)
	}
	items, next, err := r.st.Scan(prefix, cursor, clampLimit(limit))
	if err != nil {
		return nil, "", fmt.Errorf("repo: list %s: %w", k.name, err)
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := k.decode(r, tenant, it)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	nextID := ""
	if next != nil && len(out) > 0 {
		nextID = k.id(out[len(out)-1])
	}
	return out, nextID, nil
}

// update is the compare-and-swap loop shared by every kind.
func update[T any](ctx context.Context, r *Repo, k kind[T], tenant, id string, fn func(T) (T, error), setVersion func(*T, uint64)) (T, error) {
	return updateCascade(ctx, r, k, tenant, id, fn, nil, setVersion)
}

// updateCascade is update whose cascade adds to the transaction what goes
// with the change from old to nv (as deleteRecord's: it runs on every
// attempt, against the current state). A condition it adds with errStale
// makes the loop retry.
func updateCascade[T any](ctx context.Context, r *Repo, k kind[T], tenant, id string, fn func(T) (T, error), cascade func(b *Batch, old, nv T) error, setVersion func(*T, uint64)) (T, error) {
	var out T
	key := k.key(tenant, id)
	err := r.retryStale(ctx, fmt.Sprintf("%s %q", k.name, id), func() error {
		old, it, err := load(r, k, tenant, id)
		if err != nil {
			return err
		}
		// The closure may mutate old's maps and slices; take the old index
		// keys first.
		oldIdx := k.index(tenant, old)
		oldID := k.id(old)
		// Hand the closure its own copy so its edits never alias the one we
		// compare against for immutables.
		mine, err := k.decode(r, tenant, it)
		if err != nil {
			return err
		}
		nv, err := fn(mine)
		if err != nil {
			return err
		}
		nv, err = k.prepare(tenant, nv)
		if err != nil {
			return err
		}
		if k.id(nv) != oldID {
			return fmt.Errorf("%w: %s id is immutable (%q → %q)", ErrInvalid, k.name, oldID, k.id(nv))
		}
		if err := k.immutable(old, nv); err != nil {
			return err
		}
		enc, err := k.encode(r, tenant, nv)
		if err != nil {
			return err
		}
		b := r.NewBatch()
		b.atVersion(key, it.Version, errStale)
		if err := b.put(key, enc); err != nil {
			return err
		}
		newIdx := k.index(tenant, nv)
		keep := map[string]bool{}
		for _, e := range newIdx {
			keep[string(e.key)] = true
		}
		for _, e := range oldIdx {
			if !keep[string(e.key)] {
				b.del(e.key)
			}
		}
		had := map[string]bool{}
		for _, e := range oldIdx {
			had[string(e.key)] = true
		}
		for _, e := range newIdx {
			if had[string(e.key)] {
				continue
			}
			b.absent(e.key, fmt.Errorf("%w: %s", ErrDuplicate, e.what))
			if err := b.put(e.key, e.value); err != nil {
				return err
			}
		}
		if cascade != nil {
			if err := cascade(b, old, nv); err != nil {
				return err
			}
		}
		idx, err := r.Commit(ctx, b)
		if err != nil {
			return err
		}
		setVersion(&nv, idx)
		out = nv
		return nil
	})
	return out, err
}

// deleteRecord removes a record and its index keys; cascade adds what goes
// with it (it runs on every attempt, against the current state).
func deleteRecord[T any](ctx context.Context, r *Repo, k kind[T], tenant, id string, check func(T) error, cascade func(*Batch, T) error) (T, error) {
	var out T
	key := k.key(tenant, id)
	err := r.retryStale(ctx, fmt.Sprintf("delete %s %q", k.name, id), func() error {
		v, it, err := load(r, k, tenant, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		b := r.NewBatch()
		b.atVersion(key, it.Version, errStale)
		b.del(key)
		for _, e := range k.index(tenant, v) {
			b.del(e.key)
		}
		if cascade != nil {
			if err := cascade(b, v); err != nil {
				return err
			}
		}
		if _, err := r.Commit(ctx, b); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

// scanAll returns every live item under prefix.
func (r *Repo) scanAll(prefix []byte) ([]store.Item, error) {
	var all []store.Item
	var after []byte
	for {
		items, next, err := r.st.Scan(prefix, after, MaxListLimit)
		if err != nil {
			return nil, fmt.Errorf("repo: scan %q: %w", prefix, err)
		}
		all = append(all, items...)
		if next == nil {
			return all, nil
		}
		after = next
	}
}

// retryStale runs attempt until it fails with something other than
// errStale, at most r.maxAttempts times with r.backoff between tries; then
// ErrConflict naming what. It is the optimistic loop of every write that
// reads, decides and commits on the versions it read.
func (r *Repo) retryStale(ctx context.Context, what string, attempt func() error) error {
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := attempt()
		if !errors.Is(err, errStale) {
			return err
		}
		if n >= r.maxAttempts {
			return fmt.Errorf("%w: %s after %d attempts", ErrConflict, what, n)
		}
		if err := sleepCtx(ctx, r.backoff(n)); err != nil {
			return err
		}
	}
}
