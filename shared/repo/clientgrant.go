package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

type clientGrantRecord struct {
	V           int               `json:"v"`
	ClientGrant model.ClientGrant `json:"client_grant"`
}

var clientGrantKind = kind[model.ClientGrant]{
	name:   "client grant",
	key:    cgKey,
	prefix: cgPrefix,
	id:     func(g model.ClientGrant) string { return g.ID },
	prepare: func(tenant string, g model.ClientGrant) (model.ClientGrant, error) {
		if err := checkTenantName(tenant); err != nil {
			return g, err
		}
		if err := checkID("client grant id", g.ID); err != nil {
			return g, err
		}
		if err := checkID("client grant client_id", g.ClientID); err != nil {
			return g, err
		}
		if err := checkID("client grant audience", g.Audience); err != nil {
			return g, err
		}
		if g.Scope == nil {
			g.Scope = []string{}
		}
		g.Version = 0
		return g, nil
	},
	index: func(tenant string, g model.ClientGrant) []indexEntry {
		return []indexEntry{{
			key:   cgPairKey(tenant, g.ClientID, g.Audience),
			value: []byte(g.ID),
			what:  fmt.Sprintf("client grant for client %q and audience %q already exists", g.ClientID, g.Audience),
		}}
	},
	refs: func(tenant string, g model.ClientGrant) []requirement {
		return []requirement{
			tenantRequired(tenant),
			{key: clientKey(tenant, g.ClientID), onFail: fmt.Errorf("%w: client %q", ErrNotFound, g.ClientID)},
			{key: rsIdentKey(tenant, g.Audience), onFail: fmt.Errorf("%w: resource server with identifier %q", ErrNotFound, g.Audience)},
		}
	},
	immutable: func(old, nv model.ClientGrant) error {
		if old.ClientID != nv.ClientID || old.Audience != nv.Audience {
			return fmt.Errorf("%w: a client grant's client_id and audience are immutable", ErrInvalid)
		}
		return nil
	},
	encode: func(_ *Repo, _ string, g model.ClientGrant) ([]byte, error) {
		b, err := json.Marshal(clientGrantRecord{V: recordVersion, ClientGrant: g})
		if err != nil {
			return nil, fmt.Errorf("repo: encode client grant %q: %w", g.ID, err)
		}
		return b, nil
	},
	decode: func(_ *Repo, _ string, it store.Item) (model.ClientGrant, error) {
		var rec clientGrantRecord
		if err := decodeRecord(it, &rec, &rec.V); err != nil {
			return model.ClientGrant{}, err
		}
		g := rec.ClientGrant
		g.Version = it.Version
		return g, nil
	},
}

func setGrantVersion(g *model.ClientGrant, v uint64) { g.Version = v }

// CreateClientGrant adds g to b. Its client and its audience's resource
// server must exist (or be created by b).
func (b *Batch) CreateClientGrant(tenant string, g model.ClientGrant) error {
	_, err := addCreate(b, clientGrantKind, tenant, g)
	return err
}

// GrantCheck validates a client grant against the resource server of its
// audience as the write storing the grant reads it; its error is returned
// as is. The write is conditioned on that version of the resource server:
// if the API changes before the grant commits, the write runs again, check
// included, against the new version. So a grant validated against one
// version of its API never commits once the API has changed, and an update
// of the API that removes scopes (which prunes them from the grants it
// sees) cannot be undone by a grant write that had validated them.
type GrantCheck func(g model.ClientGrant, rs model.ResourceServer) error

// guardGrant reads the resource server of g's audience, runs check (if
// any) against it and conditions b on its version.
func (r *Repo) guardGrant(ctx context.Context, b *Batch, tenant string, g model.ClientGrant, check GrantCheck) error {
	rs, err := r.GetResourceServerByIdentifier(ctx, tenant, g.Audience)
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(g, rs); err != nil {
			return err
		}
	}
	b.atVersion(rsKey(tenant, rs.ID), rs.Version, errStale)
	return nil
}

// CreateClientGrant creates g: ErrDuplicate when the id or the pair
// (client_id, audience) is taken, ErrNotFound when the tenant, the client or
// a resource server with identifier audience does not exist.
func (r *Repo) CreateClientGrant(ctx context.Context, tenant string, g model.ClientGrant) (model.ClientGrant, error) {
	return r.CreateClientGrantChecked(ctx, tenant, g, nil)
}

// CreateClientGrantChecked is CreateClientGrant with check run against the
// resource server of g's audience (see GrantCheck); ErrConflict if that
// resource server keeps changing.
func (r *Repo) CreateClientGrantChecked(ctx context.Context, tenant string, g model.ClientGrant, check GrantCheck) (model.ClientGrant, error) {
	var created model.ClientGrant
	err := r.retryStale(ctx, fmt.Sprintf("create client grant %q", g.ID), func() error {
		b := r.NewBatch()
		v, err := addCreate(b, clientGrantKind, tenant, g)
		if err != nil {
			return err
		}
		if err := r.guardGrant(ctx, b, tenant, v, check); err != nil {
			return err
		}
		idx, err := r.Commit(ctx, b)
		if err != nil {
			return err
		}
		setGrantVersion(&v, idx)
		created = v
		return nil
	})
	if err != nil {
		return model.ClientGrant{}, err
	}
	return created, nil
}

// GetClientGrant returns a client grant by id.
func (r *Repo) GetClientGrant(ctx context.Context, tenant, id string) (model.ClientGrant, error) {
	return get(r, clientGrantKind, tenant, id)
}

// GetClientGrantByPair returns the grant of clientID for audience: the
// lookup of the client_credentials grant.
func (r *Repo) GetClientGrantByPair(ctx context.Context, tenant, clientID, audience string) (model.ClientGrant, error) {
	if clientID == "" || audience == "" {
		return model.ClientGrant{}, fmt.Errorf("%w: client grant with empty client_id or audience", ErrNotFound)
	}
	return getByIndex(r, clientGrantKind, tenant, cgPairKey(tenant, clientID, audience),
		fmt.Sprintf("client grant for client %q and audience %q", clientID, audience),
		func(g model.ClientGrant) bool { return g.ClientID == clientID && g.Audience == audience })
}

// ListClientGrants returns up to limit grants in id order after the id
// after ("" = from the start), and the next cursor ("" at the end).
func (r *Repo) ListClientGrants(ctx context.Context, tenant, after string, limit int) ([]model.ClientGrant, string, error) {
	return list(r, clientGrantKind, tenant, after, limit)
}

// ListClientGrantsByClient returns every grant of clientID, in audience
// order.
func (r *Repo) ListClientGrantsByClient(ctx context.Context, tenant, clientID string) ([]model.ClientGrant, error) {
	items, err := r.scanAll(cgPairClientPrefix(tenant, clientID))
	if err != nil {
		return nil, err
	}
	out := make([]model.ClientGrant, 0, len(items))
	for _, it := range items {
		g, err := get(r, clientGrantKind, tenant, string(it.Value))
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the scan
		}
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// UpdateClientGrant applies fn with compare-and-swap (see UpdateClient). Only
// the scope may change. The write is conditioned on the version of the
// audience's resource server (see GrantCheck).
func (r *Repo) UpdateClientGrant(ctx context.Context, tenant, id string, fn func(old model.ClientGrant) (model.ClientGrant, error)) (model.ClientGrant, error) {
	return r.UpdateClientGrantChecked(ctx, tenant, id, fn, nil)
}

// UpdateClientGrantChecked is UpdateClientGrant with check run on fn's
// result against the resource server of the grant's audience, on every
// attempt (see GrantCheck).
func (r *Repo) UpdateClientGrantChecked(ctx context.Context, tenant, id string, fn func(old model.ClientGrant) (model.ClientGrant, error), check GrantCheck) (model.ClientGrant, error) {
	return updateCascade(ctx, r, clientGrantKind, tenant, id, fn, func(b *Batch, _, nv model.ClientGrant) error {
		return r.guardGrant(ctx, b, tenant, nv, check)
	}, setGrantVersion)
}

// DeleteClientGrant deletes a grant and its pair index.
func (r *Repo) DeleteClientGrant(ctx context.Context, tenant, id string) error {
	_, err := deleteRecord(ctx, r, clientGrantKind, tenant, id, nil, nil)
	return err
}

// pairAudience extracts the audience from a pair index key.
func pairAudience(tenant string, key []byte) (string, bool) {
	rest, ok := strings.CutPrefix(string(key), string(cgPairPrefix(tenant)))
	if !ok {
		return "", false
	}
	_, escAud, ok := strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	aud, err := url.PathUnescape(escAud)
	return aud, err == nil
}

// grantPairs returns the pair index items under prefix whose audience
// matches (nil = all); an item's value is its grant's id.
func (r *Repo) grantPairs(tenant string, prefix []byte, match func(audience string) bool) ([]store.Item, error) {
	items, err := r.scanAll(prefix)
	if err != nil || match == nil {
		return items, err
	}
	return slices.DeleteFunc(items, func(it store.Item) bool {
		aud, ok := pairAudience(tenant, it.Key)
		return !ok || !match(aud)
	}), nil
}

// deleteGrantsByPair adds to b the deletion of every grant whose pair index
// key is under prefix and whose audience matches (nil = all).
func (r *Repo) deleteGrantsByPair(b *Batch, tenant string, prefix []byte, match func(audience string) bool) error {
	items, err := r.grantPairs(tenant, prefix, match)
	if err != nil {
		return err
	}
	for _, it := range items {
		b.del(it.Key)
		b.del(cgKey(tenant, string(it.Value)))
	}
	return nil
}

// pruneGrants adds to b, for every grant of rs's audience holding one of
// scopes, its rewrite without them, conditioned on the grant's version (a
// concurrent change of the grant makes the caller retry). The rewritten
// grant's updated_at becomes rs's when that is later.
func (r *Repo) pruneGrants(b *Batch, tenant string, rs model.ResourceServer, scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	items, err := r.grantPairs(tenant, cgPairPrefix(tenant), func(aud string) bool { return aud == rs.Identifier })
	if err != nil {
		return err
	}
	for _, pair := range items {
		g, it, err := load(r, clientGrantKind, tenant, string(pair.Value))
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the scan
		}
		if err != nil {
			return err
		}
		kept := slices.DeleteFunc(slices.Clone(g.Scope), func(s string) bool { return slices.Contains(scopes, s) })
		if len(kept) == len(g.Scope) {
			continue
		}
		g.Scope = kept
		if rs.UpdatedAt.After(g.UpdatedAt.Time) {
			g.UpdatedAt = rs.UpdatedAt
		}
		if _, err := addRewrite(b, clientGrantKind, tenant, g, it); err != nil {
			return err
		}
	}
	return nil
}

// sweepScopes removes from the grants of resource server id the scopes of
// removed it no longer defines: the ones a grant write validated against
// the version before the update that removed them put back by committing
// between that update's scan of the grants and its own commit. Grant
// writes are conditioned on their API's version, so none validated against
// an older version commits after the update; one pass (retried while the
// API or a grant changes under it) suffices, as sweepGrants does for
// deletes.
func (r *Repo) sweepScopes(ctx context.Context, tenant, id string, removed []string) error {
	return r.retryStale(ctx, fmt.Sprintf("sweep the client grants of resource server %q", id), func() error {
		rs, err := r.GetResourceServer(ctx, tenant, id)
		if errors.Is(err, ErrNotFound) {
			return nil // deleted, and its grants with it
		}
		if err != nil {
			return err
		}
		b := r.NewBatch()
		if err := r.pruneGrants(b, tenant, rs, slices.DeleteFunc(slices.Clone(removed), rs.HasScope)); err != nil {
			return err
		}
		if b.Len() == 0 {
			return nil
		}
		b.atVersion(rsKey(tenant, rs.ID), rs.Version, errStale)
		_, err = r.Commit(ctx, b)
		return err
	})
}

// sweepGrants deletes grants that a concurrent create slipped in while
// their parent was being deleted. With the parent gone no new ones can
// appear, so one pass suffices.
func (r *Repo) sweepGrants(ctx context.Context, tenant string, prefix []byte, match func(audience string) bool) error {
	b := r.NewBatch()
	if err := r.deleteGrantsByPair(b, tenant, prefix, match); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := r.Commit(ctx, b)
	return err
}
