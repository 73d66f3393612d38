package repo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

type clientRecord struct {
	V      int              `json:"v"`
	Client model.Client     `json:"client"`
	OIDC   model.ClientOIDC `json:"oidc"`
	// SealedSecret is client_secret sealed with secretbox; absent for a
	// client without a secret.
	SealedSecret []byte `json:"sealed_secret,omitempty"`
}

func clientSecretAD(tenant, clientID string) []byte {
	return []byte("authok/client_secret\x00" + tenant + "\x00" + clientID)
}

func tenantRequired(tenant string) requirement {
	return requirement{key: tenantKey(tenant), onFail: fmt.Errorf("%w: tenant %q", ErrNotFound, tenant)}
}

var clientKind = kind[model.Client]{
	name:   "client",
	key:    clientKey,
	prefix: clientPrefix,
	id:     func(c model.Client) string { return c.ClientID },
	prepare: func(tenant string, c model.Client) (model.Client, error) {
		if err := checkTenantName(tenant); err != nil {
			return c, err
		}
		if err := checkID("client_id", c.ClientID); err != nil {
			return c, err
		}
		c.Tenant = tenant
		c.SigningKeys = nil // read-only, derived from the tenant's keys
		c.Version = 0
		return c, nil
	},
	index:     func(string, model.Client) []indexEntry { return nil },
	refs:      func(tenant string, _ model.Client) []requirement { return []requirement{tenantRequired(tenant)} },
	immutable: func(old, nv model.Client) error { return nil }, // client_id is checked by update
	encode: func(r *Repo, tenant string, c model.Client) ([]byte, error) {
		rec := clientRecord{V: recordVersion, Client: c, OIDC: c.OIDC}
		rec.Client.ClientSecret = ""
		if c.ClientSecret != "" {
			sealed, err := r.box.Seal([]byte(c.ClientSecret.Reveal()), clientSecretAD(tenant, c.ClientID))
			if err != nil {
				return nil, fmt.Errorf("repo: seal secret of client %q: %w", c.ClientID, err)
			}
			rec.SealedSecret = sealed
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("repo: encode client %q: %w", c.ClientID, err)
		}
		return b, nil
	},
	decode: func(r *Repo, tenant string, it store.Item) (model.Client, error) {
		var rec clientRecord
		if err := decodeRecord(it, &rec, &rec.V); err != nil {
			return model.Client{}, err
		}
		c := rec.Client
		c.OIDC = rec.OIDC
		c.ClientSecret = ""
		if rec.SealedSecret != nil {
			pt, err := r.box.Open(rec.SealedSecret, clientSecretAD(tenant, c.ClientID))
			if err != nil {
				return model.Client{}, fmt.Errorf("repo: open secret of client %q: %w", c.ClientID, err)
			}
			c.ClientSecret = model.Secret(pt)
		}
		c.Version = it.Version
		return c, nil
	},
}

func setClientVersion(c *model.Client, v uint64) { c.Version = v }

// CreateClient adds c to b. Its tenant must exist (or be created by b).
func (b *Batch) CreateClient(tenant string, c model.Client) error {
	_, err := addCreate(b, clientKind, tenant, c)
	return err
}

// CreateClient creates c under tenant (ErrNotFound if the tenant does not
// exist, ErrDuplicate if the client_id is taken) and returns it as stored.
func (r *Repo) CreateClient(ctx context.Context, tenant string, c model.Client) (model.Client, error) {
	return create(ctx, r, clientKind, tenant, c, setClientVersion)
}

// GetClient returns a client with its secret decrypted.
func (r *Repo) GetClient(ctx context.Context, tenant, clientID string) (model.Client, error) {
	return get(r, clientKind, tenant, clientID)
}

// ListClients returns up to limit clients in client_id order after the
// client_id after ("" = from the start), and the next cursor ("" at the end).
func (r *Repo) ListClients(ctx context.Context, tenant, after string, limit int) ([]model.Client, string, error) {
	return list(r, clientKind, tenant, after, limit)
}

// UpdateClient applies fn to the client with compare-and-swap, retrying on
// concurrent writes; ErrConflict if they persist. fn may run several times
// and must not have side effects; its error is returned as is. The
// client_id cannot change.
func (r *Repo) UpdateClient(ctx context.Context, tenant, clientID string, fn func(old model.Client) (model.Client, error)) (model.Client, error) {
	return update(ctx, r, clientKind, tenant, clientID, fn, setClientVersion)
}

// DeleteClient deletes the client and, in the same transaction, its client
// grants; a final sweep removes grants created concurrently.
func (r *Repo) DeleteClient(ctx context.Context, tenant, clientID string) error {
	_, err := deleteRecord(ctx, r, clientKind, tenant, clientID, nil, func(b *Batch, c model.Client) error {
		return r.deleteGrantsByPair(b, tenant, cgPairClientPrefix(tenant, clientID), nil)
	})
	if err != nil {
		return err
	}
	return r.sweepGrants(ctx, tenant, cgPairClientPrefix(tenant, clientID), nil)
}
