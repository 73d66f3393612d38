package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

type resourceServerRecord struct {
	V              int                  `json:"v"`
	ResourceServer model.ResourceServer `json:"resource_server"`
	// SealedSigningSecret is the HS256 signing_secret sealed with secretbox.
	SealedSigningSecret []byte `json:"sealed_signing_secret,omitempty"`
}

func rsSigningSecretAD(tenant, id string) []byte {
	return []byte("authok/rs_signing_secret\x00" + tenant + "\x00" + id)
}

var resourceServerKind = kind[model.ResourceServer]{
	name:   "resource server",
	key:    rsKey,
	prefix: rsPrefix,
	id:     func(rs model.ResourceServer) string { return rs.ID },
	prepare: func(tenant string, rs model.ResourceServer) (model.ResourceServer, error) {
		if err := checkTenantName(tenant); err != nil {
			return rs, err
		}
		if err := checkID("resource server id", rs.ID); err != nil {
			return rs, err
		}
		if err := checkID("resource server identifier", rs.Identifier); err != nil {
			return rs, err
		}
		rs.Client = nil // read-only
		rs.Version = 0
		return rs, nil
	},
	index: func(tenant string, rs model.ResourceServer) []indexEntry {
		return []indexEntry{{
			key:   rsIdentKey(tenant, rs.Identifier),
			value: []byte(rs.ID),
			what:  fmt.Sprintf("resource server with identifier %q already exists", rs.Identifier),
		}}
	},
	refs: func(tenant string, _ model.ResourceServer) []requirement {
		return []requirement{tenantRequired(tenant)}
	},
	immutable: func(old, nv model.ResourceServer) error {
		if old.Identifier != nv.Identifier {
			return fmt.Errorf("%w: resource server identifier is immutable", ErrInvalid)
		}
		if old.IsSystem != nv.IsSystem {
			return fmt.Errorf("%w: resource server is_system is immutable", ErrInvalid)
		}
		return nil
	},
	encode: func(r *Repo, tenant string, rs model.ResourceServer) ([]byte, error) {
		rec := resourceServerRecord{V: recordVersion, ResourceServer: rs}
		rec.ResourceServer.SigningSecret = ""
		if rs.SigningSecret != "" {
			sealed, err := r.box.Seal([]byte(rs.SigningSecret.Reveal()), rsSigningSecretAD(tenant, rs.ID))
			if err != nil {
				return nil, fmt.Errorf("repo: seal signing secret of resource server %q: %w", rs.ID, err)
			}
			rec.SealedSigningSecret = sealed
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("repo: encode resource server %q: %w", rs.ID, err)
		}
		return b, nil
	},
	decode: func(r *Repo, tenant string, it store.Item) (model.ResourceServer, error) {
		var rec resourceServerRecord
		if err := decodeRecord(it, &rec, &rec.V); err != nil {
			return model.ResourceServer{}, err
		}
		rs := rec.ResourceServer
		rs.SigningSecret = ""
		if rec.SealedSigningSecret != nil {
			pt, err := r.box.Open(rec.SealedSigningSecret, rsSigningSecretAD(tenant, rs.ID))
			if err != nil {
				return model.ResourceServer{}, fmt.Errorf("repo: open signing secret of resource server %q: %w", rs.ID, err)
			}
			rs.SigningSecret = model.Secret(pt)
		}
		rs.Version = it.Version
		return rs, nil
	},
}

func setRSVersion(rs *model.ResourceServer, v uint64) { rs.Version = v }

// CreateResourceServer adds rs to b. Its identifier must be unused in the
// tenant.
func (b *Batch) CreateResourceServer(tenant string, rs model.ResourceServer) error {
	_, err := addCreate(b, resourceServerKind, tenant, rs)
	return err
}

// CreateResourceServer creates rs (ErrDuplicate if its id or identifier is
// taken, ErrNotFound if the tenant does not exist).
func (r *Repo) CreateResourceServer(ctx context.Context, tenant string, rs model.ResourceServer) (model.ResourceServer, error) {
	return create(ctx, r, resourceServerKind, tenant, rs, setRSVersion)
}

// GetResourceServer returns a resource server by id.
func (r *Repo) GetResourceServer(ctx context.Context, tenant, id string) (model.ResourceServer, error) {
	return get(r, resourceServerKind, tenant, id)
}

// GetResourceServerByIdentifier returns the resource server whose
// identifier (audience) is exactly identifier. Callers normalise audience
// spellings (A.2: trailing slash, /api/v2/) before asking.
func (r *Repo) GetResourceServerByIdentifier(ctx context.Context, tenant, identifier string) (model.ResourceServer, error) {
	if identifier == "" {
		return model.ResourceServer{}, fmt.Errorf("%w: resource server with empty identifier", ErrNotFound)
	}
	return getByIndex(r, resourceServerKind, tenant, rsIdentKey(tenant, identifier),
		fmt.Sprintf("resource server with identifier %q", identifier),
		func(rs model.ResourceServer) bool { return rs.Identifier == identifier })
}

// ListResourceServers returns up to limit resource servers in id order after
// the id after ("" = from the start), and the next cursor ("" at the end).
func (r *Repo) ListResourceServers(ctx context.Context, tenant, after string, limit int) ([]model.ResourceServer, string, error) {
	return list(r, resourceServerKind, tenant, after, limit)
}

// UpdateResourceServer applies fn with compare-and-swap (see UpdateClient).
// The id, identifier and is_system cannot change. Scopes the update removes
// are removed, in the same transaction, from every client grant of its
// audience (a grant holds only scopes its API defines); a sweep then
// removes them from grants written concurrently (see sweepScopes). An
// error of the sweep is returned with the committed update.
func (r *Repo) UpdateResourceServer(ctx context.Context, tenant, id string, fn func(old model.ResourceServer) (model.ResourceServer, error)) (model.ResourceServer, error) {
	var removed []string
	nv, err := updateCascade(ctx, r, resourceServerKind, tenant, id, fn, func(b *Batch, old, nv model.ResourceServer) error {
		removed = slices.DeleteFunc(scopeValues(old), nv.HasScope)
		return r.pruneGrants(b, tenant, nv, removed)
	}, setRSVersion)
	if err != nil || len(removed) == 0 {
		return nv, err
	}
	return nv, r.sweepScopes(ctx, tenant, id, removed)
}

func scopeValues(rs model.ResourceServer) []string {
	out := make([]string, len(rs.Scopes))
	for i, s := range rs.Scopes {
		out[i] = s.Value
	}
	return out
}

// DeleteResourceServer deletes a resource server, its identifier index and
// every client grant for its audience. The system API (is_system) cannot be
// deleted (ErrInvalid); it goes only with its tenant.
func (r *Repo) DeleteResourceServer(ctx context.Context, tenant, id string) error {
	var audience string
	matchAudience := func(aud string) bool { return aud == audience }
	_, err := deleteRecord(ctx, r, resourceServerKind, tenant, id,
		func(rs model.ResourceServer) error {
			if rs.IsSystem {
				return fmt.Errorf("%w: the system resource server %q cannot be deleted", ErrInvalid, rs.Identifier)
			}
			audience = rs.Identifier
			return nil
		},
		func(b *Batch, rs model.ResourceServer) error {
			return r.deleteGrantsByPair(b, tenant, cgPairPrefix(tenant), matchAudience)
		})
	if err != nil {
		return err
	}
	// A resource server created again with the same identifier between the
	// delete and this sweep would lose grants made in that instant; the
	// window is one local scan.
	return r.sweepGrants(ctx, tenant, cgPairPrefix(tenant), matchAudience)
}
