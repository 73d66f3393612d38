package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

// Ensure gives tenant a current and a next generation if it has no keys
// yet; otherwise it does nothing (and writes nothing). The tenant must
// exist (ErrNotFound). Concurrent calls, on one node or several, create
// one pair of generations.
func (m *Manager) Ensure(ctx context.Context, tenant string) error {
	_, err := m.change(ctx, tenant, true)
	return err
}

// Rotate rotates tenant's keys (API.md E.4) in one transaction and returns
// the new next keys, one per algorithm. A tenant without keys gets a
// current and a next generation. See the package doc for the semantics.
func (m *Manager) Rotate(ctx context.Context, tenant string) ([]Key, error) {
	return m.change(ctx, tenant, false)
}

// change is Rotate, or Ensure when ensure is set.
func (m *Manager) change(ctx context.Context, tenant string, ensure bool) ([]Key, error) {
	if m.err != nil {
		return nil, m.err
	}
	var made []generation // generated keys not yet committed, reused across attempts
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kr, err := m.repo.LoadSigningKeys(tenant)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		if ensure && kr.Found {
			return nil, nil
		}
		if !kr.Found && len(made) == 0 { // don't generate keys for a missing tenant
			if _, err := m.st.Get(repo.TenantKey(tenant)); errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("%w: tenant %q", ErrNotFound, tenant)
			} else if err != nil {
				return nil, fmt.Errorf("keys: %w", err)
			}
		}
		now := m.now()
		p := plan(kr, model.NewTime(now))
		for len(made) < p.newGenerations {
			g, err := m.generate(tenant, now)
			if err != nil {
				return nil, err
			}
			made = append(made, g)
		}
		if err := checkKIDs(kr, made[:p.newGenerations]); err != nil {
			return nil, err
		}
		txn, next, err := m.rotationTxn(tenant, kr, p, made[:p.newGenerations])
		if err != nil {
			return nil, err
		}
		txn.Now = now
		res, err := m.st.Apply(ctx, txn)
		if err == nil {
			for i := range next {
				next[i].Version = res.Index
			}
			return next, nil
		}
		if err := m.retryable(err, tenant, attempt); err != nil {
			return nil, err
		}
		if err := sleepCtx(ctx, backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

// retryable returns nil when a failed Apply should be planned again, or
// the error to return.
func (m *Manager) retryable(err error, tenant string, attempt int) error {
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		return fmt.Errorf("keys: commit: %w", err)
	}
	if bytes.Equal(ce.Key, repo.TenantKey(tenant)) {
		return fmt.Errorf("%w: tenant %q", ErrNotFound, tenant)
	}
	if attempt >= m.maxAttempts {
		return fmt.Errorf("%w: keys of tenant %q after %d attempts", ErrConflict, tenant, attempt)
	}
	return nil
}

// checkKIDs refuses new kids that repeat each other or a stored one: only
// a broken random source (WithRand) makes them, and committing them would
// overwrite a key.
func checkKIDs(kr repo.SigningKeyring, made []generation) error {
	seen := make(map[string]bool, len(kr.Keys)+len(made)*len(tokens.Algs))
	for _, rec := range kr.Keys {
		seen[rec.Key.KID] = true
	}
	for _, g := range made {
		for _, mat := range g {
			if seen[mat.kid] {
				return fmt.Errorf("keys: generated kid %q twice; the random source repeats itself", mat.kid)
			}
			seen[mat.kid] = true
		}
	}
	return nil
}

// rotationPlan is what a rotation does to the stored keys.
type rotationPlan struct {
	changed        []repo.SigningKeyRecord // existing records with new flags
	deleted        []repo.SigningKeyRecord // records of generations past Retained
	newGenerations int                     // 1 (next) or 2 (current and next)
	firstNew       uint64                  // generation number of the first new one
	now            model.Time
}

// plan works out a rotation of kr at now. It changes no state.
func plan(kr repo.SigningKeyring, now model.Time) rotationPlan {
	p := rotationPlan{newGenerations: 1, now: now}
	if !usableNext(kr.Keys) {
		p.newGenerations = 2
	}
	promote := p.newGenerations == 1
	last := kr.Generation
	for _, rec := range kr.Keys {
		last = max(last, rec.Generation)
		k := &rec.Key
		switch {
		case k.Next:
			k.Next = false
			if promote {
				k.Current, k.CurrentSince = true, now
			} else if !k.Revoked {
				k.Revoked, k.RevokedAt = true, now
			}
		case k.Current:
			k.Current, k.Previous, k.CurrentUntil = false, true, now
		case k.Previous:
			k.Previous = false
			if !k.Revoked {
				k.Revoked, k.RevokedAt = true, now
			}
		default:
			continue
		}
		p.changed = append(p.changed, rec)
	}
	p.firstNew = last + 1

	// Retention: keep the Retained newest generations, counting the new
	// ones; never delete a key that is still flagged.
	gens := []uint64{}
	for _, rec := range kr.Keys {
		if !slices.Contains(gens, rec.Generation) {
			gens = append(gens, rec.Generation)
		}
	}
	slices.Sort(gens)
	keepOld := max(Retained-p.newGenerations, 0)
	if len(gens) > keepOld {
		oldest := gens[:len(gens)-keepOld]
		flagged := map[string]bool{}
		for _, rec := range p.changed {
			if rec.Key.Current || rec.Key.Next || rec.Key.Previous {
				flagged[rec.Key.KID] = true
			}
		}
		for _, rec := range kr.Keys {
			if slices.Contains(oldest, rec.Generation) && !flagged[rec.Key.KID] {
				p.deleted = append(p.deleted, rec)
			}
		}
	}
	// A deleted record need not be rewritten first.
	p.changed = slices.DeleteFunc(p.changed, func(rec repo.SigningKeyRecord) bool {
		return slices.ContainsFunc(p.deleted, func(d repo.SigningKeyRecord) bool { return d.Key.KID == rec.Key.KID })
	})
	return p
}

// usableNext reports whether the keys flagged next form a generation that
// can become current: one unrevoked key per algorithm, all of one
// generation.
func usableNext(keys []repo.SigningKeyRecord) bool {
	var seen [len(tokens.Algs)]bool
	var gen uint64
	n := 0
	for _, rec := range keys {
		if !rec.Key.Next {
			continue
		}
		i := tokens.Alg(rec.Alg).Index()
		if rec.Key.Revoked || i < 0 || seen[i] || (n > 0 && rec.Generation != gen) {
			return false
		}
		seen[i], gen = true, rec.Generation
		n++
	}
	return n == len(tokens.Algs)
}

// rotationTxn builds the transaction of p, with made holding the keys of
// the p.newGenerations new generations (the last one becomes next, a first
// one current). It returns the new next keys.
func (m *Manager) rotationTxn(tenant string, kr repo.SigningKeyring, p rotationPlan, made []generation) (store.Txn, []Key, error) {
	txn := store.Txn{Conds: []store.Cond{store.Present(repo.TenantKey(tenant))}}
	ring := repo.SigningKeyringKey(tenant)
	if kr.Found {
		txn.Conds = append(txn.Conds, store.AtVersion(ring, kr.Version))
	} else {
		txn.Conds = append(txn.Conds, store.Absent(ring))
	}
	for _, rec := range p.changed {
		b, err := repo.EncodeSigningKey(tenant, rec)
		if err != nil {
			return store.Txn{}, nil, fmt.Errorf("keys: %w", err)
		}
		key := repo.SigningKeyKey(tenant, rec.Key.KID)
		txn.Conds = append(txn.Conds, store.AtVersion(key, rec.Key.Version))
		txn.Ops = append(txn.Ops, store.Put(key, b))
	}
	for _, rec := range p.deleted {
		key := repo.SigningKeyKey(tenant, rec.Key.KID)
		txn.Conds = append(txn.Conds, store.AtVersion(key, rec.Key.Version))
		txn.Ops = append(txn.Ops, store.Delete(key))
	}
	var next []Key
	for i, g := range made {
		gen := p.firstNew + uint64(i)
		isNext := i == len(made)-1
		for _, mat := range g {
			sk, err := publicFields(mat.kid, mat.certDER)
			if err != nil {
				return store.Txn{}, nil, err
			}
			if isNext {
				sk.Next = true
			} else {
				sk.Current, sk.CurrentSince = true, p.now
			}
			rec := repo.SigningKeyRecord{Key: sk, Alg: string(mat.alg), Generation: gen, CreatedAt: p.now}
			rec, err = m.repo.SealSigningKey(tenant, rec, model.SigningKeyPrivate{KID: mat.kid, PKCS8: mat.pkcs8})
			if err != nil {
				return store.Txn{}, nil, fmt.Errorf("keys: %w", err)
			}
			b, err := repo.EncodeSigningKey(tenant, rec)
			if err != nil {
				return store.Txn{}, nil, fmt.Errorf("keys: %w", err)
			}
			key := repo.SigningKeyKey(tenant, mat.kid)
			txn.Conds = append(txn.Conds, store.Absent(key))
			txn.Ops = append(txn.Ops, store.Put(key, b))
			if isNext {
				next = append(next, Key{SigningKey: sk, Alg: mat.alg, Generation: gen, Public: mat.pub})
			}
		}
	}
	last := p.firstNew + uint64(len(made)) - 1
	txn.Ops = append(txn.Ops, store.Put(ring, repo.EncodeKeyring(last)))
	return txn, next, nil
}

// Revoke marks tenant's key kid revoked and returns it. A current key
// cannot be revoked (ErrInvalid: rotate first); a revoked one gives
// ErrAlreadyRevoked and changes nothing; an unknown kid gives ErrNotFound.
// The key leaves Published (JWKS, Verify) at once.
func (m *Manager) Revoke(ctx context.Context, tenant, kid string) (Key, error) {
	if m.err != nil {
		return Key{}, m.err
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Key{}, err
		}
		kr, err := m.repo.LoadSigningKeys(tenant)
		if err != nil {
			return Key{}, fmt.Errorf("keys: %w", err)
		}
		i := slices.IndexFunc(kr.Keys, func(rec repo.SigningKeyRecord) bool { return rec.Key.KID == kid })
		if i < 0 || !kr.Found {
			return Key{}, fmt.Errorf("%w: signing key %q of tenant %q", ErrNotFound, kid, tenant)
		}
		rec := kr.Keys[i]
		switch {
		case rec.Key.Revoked:
			return Key{}, fmt.Errorf("%w: %q", ErrAlreadyRevoked, kid)
		case rec.Key.Current:
			return Key{}, fmt.Errorf("%w: signing key %q is current; rotate before revoking it", ErrInvalid, kid)
		}
		now := m.now()
		version := rec.Key.Version
		rec.Key.Revoked, rec.Key.RevokedAt = true, model.NewTime(now)
		b, err := repo.EncodeSigningKey(tenant, rec)
		if err != nil {
			return Key{}, fmt.Errorf("keys: %w", err)
		}
		key, ring := repo.SigningKeyKey(tenant, kid), repo.SigningKeyringKey(tenant)
		res, err := m.st.Apply(ctx, store.Txn{
			Conds: []store.Cond{store.Present(repo.TenantKey(tenant)), store.AtVersion(ring, kr.Version), store.AtVersion(key, version)},
			Ops:   []store.Op{store.Put(key, b), store.Put(ring, repo.EncodeKeyring(kr.Generation))},
			Now:   now,
		})
		if err == nil {
			k, err := keyOf(rec)
			k.Version = res.Index
			return k, err
		}
		if err := m.retryable(err, tenant, attempt); err != nil {
			return Key{}, err
		}
		if err := sleepCtx(ctx, backoff(attempt)); err != nil {
			return Key{}, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
