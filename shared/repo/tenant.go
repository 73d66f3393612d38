package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

type tenantRecord struct {
	V        int                  `json:"v"`
	Tenant   model.Tenant         `json:"tenant"`
	Internal model.TenantInternal `json:"internal"`
}

// The tenant kind ignores its tenant argument: the registry is global and
// the id is the name.
var tenantKind = kind[model.Tenant]{
	name:   "tenant",
	key:    func(_, name string) []byte { return tenantKey(name) },
	prefix: func(string) []byte { return tenantPrefix() },
	id:     func(t model.Tenant) string { return t.Name },
	prepare: func(_ string, t model.Tenant) (model.Tenant, error) {
		if err := checkTenantName(t.Name); err != nil {
			return t, err
		}
		if t.ID == "" {
			t.ID = t.Name
		}
		if t.ID != t.Name {
			return t, fmt.Errorf("%w: tenant id %q must equal its name %q", ErrInvalid, t.ID, t.Name)
		}
		if t.Internal.Issuer == "" {
			return t, fmt.Errorf("%w: tenant %q has no issuer", ErrInvalid, t.Name)
		}
		if !strings.HasSuffix(t.Internal.Issuer, "/") {
			return t, fmt.Errorf("%w: tenant issuer %q must end in /", ErrInvalid, t.Internal.Issuer)
		}
		if _, err := HostOf(t.Internal.Issuer); err != nil {
			return t, err
		}
		t.Version = 0
		return t, nil
	},
	index: func(_ string, t model.Tenant) []indexEntry {
		host, err := HostOf(t.Internal.Issuer)
		if err != nil {
			return nil // prepare rejects such a tenant; a stored one always has a host
		}
		return []indexEntry{{key: hostKey(host), value: []byte(t.Name), what: fmt.Sprintf("host %q is already served by another tenant", host)}}
	},
	refs: func(string, model.Tenant) []requirement { return nil },
	immutable: func(old, nv model.Tenant) error {
		if old.ID != nv.ID {
			return fmt.Errorf("%w: tenant id is immutable", ErrInvalid)
		}
		return nil
	},
	encode: func(_ *Repo, _ string, t model.Tenant) ([]byte, error) {
		b, err := json.Marshal(tenantRecord{V: recordVersion, Tenant: t, Internal: t.Internal})
		if err != nil {
			return nil, fmt.Errorf("repo: encode tenant %q: %w", t.Name, err)
		}
		return b, nil
	},
	decode: func(_ *Repo, _ string, it store.Item) (model.Tenant, error) {
		var rec tenantRecord
		if err := decodeRecord(it, &rec, &rec.V); err != nil {
			return model.Tenant{}, err
		}
		t := rec.Tenant
		t.Internal = rec.Internal
		t.Version = it.Version
		return t, nil
	},
}

func decodeRecord(it store.Item, rec any, v *int) error {
	if err := json.Unmarshal(it.Value, rec); err != nil {
		return fmt.Errorf("repo: decode %q: %w", it.Key, err)
	}
	if *v != recordVersion {
		return fmt.Errorf("repo: decode %q: record version %d, this build reads %d", it.Key, *v, recordVersion)
	}
	return nil
}

func setTenantVersion(t *model.Tenant, v uint64) { t.Version = v }

// CreateTenant adds t to b. Its name must be a DNS label; its id, when
// set, must equal the name; Internal.Issuer is required (its host becomes
// the tenant's host, which must be free).
func (b *Batch) CreateTenant(t model.Tenant) error {
	if err := b.r.checkNoLeftovers(t.Name); err != nil {
		return err
	}
	_, err := addCreate(b, tenantKind, t.Name, t)
	return err
}

// CreateTenant creates a tenant. See Batch.CreateTenant.
func (r *Repo) CreateTenant(ctx context.Context, t model.Tenant) (model.Tenant, error) {
	if err := r.checkNoLeftovers(t.Name); err != nil {
		return model.Tenant{}, err
	}
	return create(ctx, r, tenantKind, t.Name, t, setTenantVersion)
}

// checkNoLeftovers refuses to create a tenant over data left by an
// interrupted DeleteTenant: the new tenant would inherit it.
func (r *Repo) checkNoLeftovers(name string) error {
	if err := checkTenantName(name); err != nil {
		return err
	}
	items, _, err := r.st.Scan(tenantDataPrefix(name), nil, 1)
	if err != nil {
		return fmt.Errorf("repo: scan tenant %q: %w", name, err)
	}
	if len(items) > 0 {
		if _, err := r.st.Get(tenantKey(name)); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: tenant %q still has data from a deleted tenant; run DeleteTenant again to purge it", ErrInvalid, name)
		}
	}
	return nil
}

// GetTenant returns the tenant called name.
func (r *Repo) GetTenant(ctx context.Context, name string) (model.Tenant, error) {
	return get(r, tenantKind, name, name)
}

// GetTenantByHost returns the tenant served on host (a Host header value:
// compared in lower case, without a trailing dot; give the port only when
// it is not the scheme's default).
func (r *Repo) GetTenantByHost(ctx context.Context, host string) (model.Tenant, error) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	what := fmt.Sprintf("tenant for host %q", host)
	return getByIndex(r, tenantKind, "", hostKey(host), what, func(t model.Tenant) bool {
		h, err := HostOf(t.Internal.Issuer)
		return err == nil && h == host
	})
}

// ListTenants returns up to limit tenants in name order after the name
// after ("" = from the start), and the cursor of the next page ("" when
// there is none).
func (r *Repo) ListTenants(ctx context.Context, after string, limit int) ([]model.Tenant, string, error) {
	return list(r, tenantKind, "", after, limit)
}

// UpdateTenant applies fn to the tenant called name with compare-and-swap,
// retrying on concurrent writes (ErrConflict when they persist). A new
// issuer moves the host index.
func (r *Repo) UpdateTenant(ctx context.Context, name string, fn func(old model.Tenant) (model.Tenant, error)) (model.Tenant, error) {
	return update(ctx, r, tenantKind, name, name, fn, setTenantVersion)
}

// purgeBatch is how many keys one purge transaction deletes.
const purgeBatch = 256

// DeleteTenant deletes the tenant and its host index in one transaction,
// which stops any new record being created under it, then purges every key
// the tenant owns in transactions of purgeBatch keys. If interrupted it may
// be called again: with the tenant already gone it finishes the purge, and
// returns ErrNotFound only when there was nothing left at all.
func (r *Repo) DeleteTenant(ctx context.Context, name string) error {
	if err := checkTenantName(name); err != nil {
		return err
	}
	_, err := deleteRecord(ctx, r, tenantKind, name, name, nil, nil)
	gone := errors.Is(err, ErrNotFound)
	if err != nil && !gone {
		return err
	}
	purged, perr := r.purge(ctx, tenantDataPrefix(name))
	if perr != nil {
		return perr
	}
	if gone && purged == 0 {
		return err
	}
	return nil
}

// purge deletes every key under prefix and returns how many it deleted.
func (r *Repo) purge(ctx context.Context, prefix []byte) (int, error) {
	n := 0
	for {
		items, _, err := r.st.Scan(prefix, nil, purgeBatch)
		if err != nil {
			return n, fmt.Errorf("repo: purge %q: %w", prefix, err)
		}
		if len(items) == 0 {
			return n, nil
		}
		ops := make([]store.Op, len(items))
		for i, it := range items {
			ops[i] = store.Delete(it.Key)
		}
		if _, err := r.st.Apply(ctx, store.Txn{Ops: ops, Now: r.now()}); err != nil {
			return n, fmt.Errorf("repo: purge %q: %w", prefix, err)
		}
		n += len(items)
	}
}
