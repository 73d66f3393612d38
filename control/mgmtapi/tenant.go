package mgmtapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net"
	"strings"

	"github.com/authok-edge/authok/shared/bootstrap"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

// DefaultTenantName is the tenant a request falls back to when its Host
// names no tenant: the one bootstrap creates.
const DefaultTenantName = bootstrap.DefaultTenantName

// TenantLookup is what ResolveTenant reads; *repo.Repo implements it.
type TenantLookup interface {
	GetTenantByHost(ctx context.Context, host string) (model.Tenant, error)
	GetTenant(ctx context.Context, name string) (model.Tenant, error)
}

var _ TenantLookup = (*repo.Repo)(nil)

// ResolveTenant returns the tenant a request's Host header names (API.md
// A.1: tenancy is by host):
//
//  1. the tenant whose host is host, compared case-insensitively (the
//     repository lower-cases and drops a trailing dot);
//  2. if host carries a port, the tenant whose host is host without it —
//     which matches only a stored host that has no port, since stored
//     hosts keep theirs (issuer http://127.0.0.1:8080/ → "127.0.0.1:8080");
//  3. the tenant named "default" (single-tenant deployments and dev, where
//     the API is reached by whatever name routes to the machine).
//
// It returns an error wrapping repo.ErrNotFound when none of them exists.
// The fallback is safe: a Management API token is only accepted when its
// issuer is the resolved tenant's and it verifies against that tenant's
// keys. The edge mirrors this function (it must not import control/).
func ResolveTenant(ctx context.Context, l TenantLookup, host string) (model.Tenant, error) {
	host = strings.TrimSpace(host)
	if host != "" {
		t, err := l.GetTenantByHost(ctx, host)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, repo.ErrNotFound) {
			return model.Tenant{}, err
		}
		if name, _, err := net.SplitHostPort(host); err == nil && name != "" {
			if strings.Contains(name, ":") { // IPv6 literal: stored bracketed
				name = "[" + name + "]"
			}
			t, err := l.GetTenantByHost(ctx, name)
			if err == nil {
				return t, nil
			}
			if !errors.Is(err, repo.ErrNotFound) {
				return model.Tenant{}, err
			}
		}
	}
	t, err := l.GetTenant(ctx, DefaultTenantName)
	if errors.Is(err, repo.ErrNotFound) {
		return model.Tenant{}, fmt.Errorf("%w: no tenant for host %q and no %q tenant", repo.ErrNotFound, host, DefaultTenantName)
	}
	return t, err
}

// managementAudiences are the spellings of a tenant's Management API
// identifier that tokens and client grants may use (API.md A.2): the
// canonical <issuer>api/v1/ first, then without the trailing slash and the
// backend's /api/v2/ forms.
func managementAudiences(issuer string) []string {
	return []string{issuer + "api/v1/", issuer + "api/v1", issuer + "api/v2/", issuer + "api/v2"}
}

// canonicalAudience maps a spelling of the Management API identifier to
// the canonical one; other audiences are returned unchanged.
func canonicalAudience(issuer, aud string) string {
	all := managementAudiences(issuer)
	for _, a := range all[1:] {
		if aud == a {
			return all[0]
		}
	}
	return aud
}

// canonicalAudienceFilter maps the values of a list query's filter on field, which
// holds an audience (a grant's audience, a resource server's identifier),
// with canonicalAudience: records store the canonical spelling, so any
// spelling of the Management API identifier finds them.
func canonicalAudienceFilter(field, issuer string) func(rest.ListQuery) {
	return func(q rest.ListQuery) {
		for i, aud := range q.Filters[field] {
			q.Filters[field][i] = canonicalAudience(issuer, aud)
		}
	}
}
