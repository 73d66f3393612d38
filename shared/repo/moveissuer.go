package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

// MoveTenantIssuer gives the tenant called name the issuer issuer (its
// host index and, when it was the issuer's host, its domain follow) and,
// in the same transaction, moves the audience derived from the issuer,
// audienceOf(old) → audienceOf(issuer): the identifier of the resource
// server that has it and the audience of every client grant to it. A
// tenant's Management API identifier is such an audience (<issuer>api/v1/),
// so tokens for the new issuer can be had and verify. Identifiers and
// grant audiences are otherwise immutable; this is the one way they move.
//
// The move is conditioned on the versions of everything it rewrites and
// retried like any update; the new issuer's host must be free
// (ErrDuplicate) and the new audience unused (ErrDuplicate).
func (r *Repo) MoveTenantIssuer(ctx context.Context, name, issuer string, audienceOf func(issuer string) string) (model.Tenant, error) {
	if audienceOf == nil {
		return model.Tenant{}, fmt.Errorf("%w: MoveTenantIssuer needs audienceOf", ErrInvalid)
	}
	setIssuer := func(old model.Tenant) (model.Tenant, error) {
		oldHost, err := HostOf(old.Internal.Issuer)
		if err != nil {
			return old, err
		}
		newHost, err := HostOf(issuer)
		if err != nil {
			return old, err
		}
		nv := old
		nv.Internal.Issuer = issuer
		if old.Domain == oldHost {
			nv.Domain = newHost
		}
		return nv, nil
	}
	moveAudience := func(b *Batch, old, nv model.Tenant) error {
		from, to := audienceOf(old.Internal.Issuer), audienceOf(nv.Internal.Issuer)
		if from == to {
			return nil
		}
		if err := r.renameResourceServer(b, name, from, to); err != nil {
			return err
		}
		return r.renameGrantAudience(b, name, from, to)
	}
	return updateCascade(ctx, r, tenantKind, name, name, setIssuer, moveAudience, setTenantVersion)
}

// renameResourceServer adds to b the move of the resource server with
// identifier from (if any) to identifier to, conditioned on its version.
func (r *Repo) renameResourceServer(b *Batch, tenant, from, to string) error {
	idx, err := r.st.Get(rsIdentKey(tenant, from))
	if errors.Is(err, store.ErrNotFound) {
		return nil // no such resource server: nothing to move
	}
	if err != nil {
		return fmt.Errorf("repo: get resource server %q: %w", from, err)
	}
	rs, it, err := load(r, resourceServerKind, tenant, string(idx.Value))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	rs.Identifier = to
	if rs, err = addRewrite(b, resourceServerKind, tenant, rs, it); err != nil {
		return err
	}
	b.del(rsIdentKey(tenant, from))
	return addIndex(b, resourceServerKind.index(tenant, rs))
}

// renameGrantAudience adds to b the rewrite of every client grant to
// audience from as a grant to to, each conditioned on its version.
func (r *Repo) renameGrantAudience(b *Batch, tenant, from, to string) error {
	pairs, err := r.grantPairs(tenant, cgPairPrefix(tenant), func(aud string) bool { return aud == from })
	if err != nil {
		return err
	}
	for _, pair := range pairs {
		g, it, err := load(r, clientGrantKind, tenant, string(pair.Value))
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the scan
		}
		if err != nil {
			return err
		}
		g.Audience = to
		if g, err = addRewrite(b, clientGrantKind, tenant, g, it); err != nil {
			return err
		}
		b.del(pair.Key)
		if err := addIndex(b, clientGrantKind.index(tenant, g)); err != nil {
			return err
		}
	}
	return nil
}

// addIndex adds to b index keys that must not exist yet.
func addIndex(b *Batch, idx []indexEntry) error {
	for _, e := range idx {
		b.absent(e.key, fmt.Errorf("%w: %s", ErrDuplicate, e.what))
		if err := b.put(e.key, e.value); err != nil {
			return err
		}
	}
	return nil
}
