package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

// CreateClientGrant creates g: ErrDuplicate when the id or the pair
// (client_id, audience) is taken, ErrNotFound when the tenant, the client or
// a resource server with identifier audience does not exist.
func (r *Repo) CreateClientGrant(ctx context.Context, tenant string, g model.ClientGrant) (model.ClientGrant, error) {
	return create(ctx, r, clientGrantKind, tenant, g, setGrantVersion)
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
// the scope may change.
func (r *Repo) UpdateClientGrant(ctx context.Context, tenant, id string, fn func(old model.ClientGrant) (model.ClientGrant, error)) (model.ClientGrant, error) {
	return update(ctx, r, clientGrantKind, tenant, id, fn, setGrantVersion)
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

// deleteGrantsByPair adds to b the deletion of every grant whose pair index
// key is under prefix and whose audience matches (nil = all).
func (r *Repo) deleteGrantsByPair(b *Batch, tenant string, prefix []byte, match func(audience string) bool) error {
	items, err := r.scanAll(prefix)
	if err != nil {
		return err
	}
	for _, it := range items {
		if match != nil {
			aud, ok := pairAudience(tenant, it.Key)
			if !ok || !match(aud) {
				continue
			}
		}
		b.del(it.Key)
		b.del(cgKey(tenant, string(it.Value)))
	}
	return nil
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
