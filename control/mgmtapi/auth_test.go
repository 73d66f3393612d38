package mgmtapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authok-edge/authok/control/mgmtapi"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/tokens"
)

func TestAuthentication(t *testing.T) {
	e := sharedEnv(t)
	ctx := context.Background()

	// Another tenant in the same store, with its own keys.
	const otherIssuer = "http://other.example/"
	if _, err := e.repo.CreateTenant(ctx, model.Tenant{Name: "other", Internal: model.TenantInternal{Issuer: otherIssuer}}); err != nil && !errors.Is(err, repo.ErrDuplicate) {
		t.Fatal(err)
	}
	if err := e.keys.Ensure(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	mgmtAud := e.issuer + "api/v1/"
	withClaims := func(change func(*tokens.AccessClaims)) string {
		return mint(t, e.keys, e.tenant, func(c *tokens.AccessClaims) {
			c.Issuer, c.Subject, c.ClientID = e.issuer, e.mgmtClient, e.mgmtClient
			c.Audience = []string{mgmtAud}
			c.Scope = "read:clients"
			change(c)
		})
	}
	otherTenantToken := mint(t, e.keys, "other", func(c *tokens.AccessClaims) {
		c.Issuer, c.Subject = otherIssuer, "x"
		c.Audience = []string{otherIssuer + "api/v1/"}
		c.Scope = "read:clients"
	})
	// Signed by the other tenant's key but claiming this tenant's issuer
	// and audience: the key is not one of this tenant's.
	otherKeyToken := mint(t, e.keys, "other", func(c *tokens.AccessClaims) {
		c.Issuer, c.Subject = e.issuer, "x"
		c.Audience = []string{mgmtAud}
		c.Scope = "read:clients"
	})

	tests := []struct {
		name      string
		header    string // Authorization; "-" = none
		host      string
		status    int
		code      string
		challenge string // substring of WWW-Authenticate
	}{
		{"no token", "-", "", 401, "invalid_token", `Bearer realm=`},
		{"not bearer", "Basic dXNlcjpwYXNz", "", 401, "invalid_token", `Bearer realm=`},
		{"empty bearer", "Bearer ", "", 401, "invalid_token", `Bearer realm=`},
		{"garbage", "Bearer abc.def.ghi", "", 401, "invalid_token", `error="invalid_token"`},
		{"not a JWT", "Bearer hello", "", 401, "invalid_token", `error="invalid_token"`},
		{"expired", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.IssuedAt -= 7200; c.ExpiresAt = time.Now().Add(-time.Hour).Unix() }), "", 401, "invalid_token", `error="invalid_token"`},
		{"wrong audience", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.Audience = []string{"https://api.example.com/"} }), "", 401, "invalid_token", `error="invalid_token"`},
		{"wrong issuer", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.Issuer = "http://evil.example/" }), "", 401, "invalid_token", `error="invalid_token"`},
		{"token of another tenant", "Bearer " + otherTenantToken, "", 401, "invalid_token", `error="invalid_token"`},
		{"another tenant's key", "Bearer " + otherKeyToken, "", 401, "invalid_token", `error="invalid_token"`},
		{"this tenant's token at the other tenant's host", "Bearer " + withClaims(func(*tokens.AccessClaims) {}), "other.example", 401, "invalid_token", `error="invalid_token"`},
		{"tampered signature", "Bearer " + withClaims(func(*tokens.AccessClaims) {}) + "x", "", 401, "invalid_token", `error="invalid_token"`},
		{"insufficient scope", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.Scope = "read:users create:clients" }), "", 403, "insufficient_scope", `error="insufficient_scope", scope="read:clients"`},
		{"no scope", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.Scope = "" }), "", 403, "insufficient_scope", `error="insufficient_scope"`},
		{"scheme case-insensitive", "bearer " + withClaims(func(*tokens.AccessClaims) {}), "", 200, "", ""},
		{"audience without slash", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.Audience = []string{e.issuer + "api/v1"} }), "", 200, "", ""},
		{"audience /api/v2/", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.Audience = []string{e.issuer + "api/v2/"} }), "", 200, "", ""},
		{"audience among several", "Bearer " + withClaims(func(c *tokens.AccessClaims) { c.Audience = []string{"https://x/", mgmtAud} }), "", 200, "", ""},
		{"unknown host falls back to default", "Bearer " + withClaims(func(*tokens.AccessClaims) {}), "unknown.example:8443", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req{path: "/clients", token: "-", host: tt.host}
			if tt.header != "-" {
				r.headers = map[string]string{"Authorization": tt.header}
			}
			resp := e.do(t, r)
			if tt.status == 200 {
				wantStatus(t, resp, 200)
				return
			}
			wantError(t, resp, tt.status, tt.code)
			if got := resp.header.Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) {
				t.Errorf("WWW-Authenticate = %q, want it to contain %q", got, tt.challenge)
			}
		})
	}
}

// TestScopesPerRoute checks each route asks for its own scopes, all of
// them.
func TestScopesPerRoute(t *testing.T) {
	e := sharedEnv(t)
	tests := []struct {
		method, path string
		scopes       []string
	}{
		{"GET", "/clients", []string{"read:clients"}},
		{"POST", "/clients", []string{"create:clients"}},
		{"GET", "/clients/x", []string{"read:clients"}},
		{"PATCH", "/clients/x", []string{"update:clients"}},
		{"DELETE", "/clients/x", []string{"delete:clients"}},
		{"POST", "/clients/x/rotate-secret", []string{"update:client_keys"}},
		{"GET", "/resource-servers", []string{"read:resource_servers"}},
		{"POST", "/resource-servers", []string{"create:resource_servers"}},
		{"GET", "/resource-servers/x", []string{"read:resource_servers"}},
		{"PATCH", "/resource-servers/x", []string{"update:resource_servers"}},
		{"DELETE", "/resource-servers/x", []string{"delete:resource_servers"}},
		{"GET", "/client-grants", []string{"read:client_grants"}},
		{"POST", "/client-grants", []string{"create:client_grants"}},
		{"GET", "/client-grants/x", []string{"read:client_grants"}},
		{"PATCH", "/client-grants/x", []string{"update:client_grants"}},
		{"DELETE", "/client-grants/x", []string{"delete:client_grants"}},
		{"GET", "/keys/signing", []string{"read:signing_keys"}},
		{"GET", "/keys/signing/x", []string{"read:signing_keys"}},
		{"POST", "/keys/signing/rotate", []string{"create:signing_keys", "update:signing_keys"}},
		{"POST", "/keys/rotate", []string{"create:signing_keys", "update:signing_keys"}},
		{"PUT", "/keys/signing/x/revoke", []string{"update:signing_keys"}},
		{"GET", "/tenants/settings", []string{"read:tenant_settings"}},
		{"PATCH", "/tenants/settings", []string{"update:tenant_settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			// Every scope but the needed ones: 403 naming them.
			var others []string
			for _, s := range allScopes {
				if !contains(tt.scopes, s) {
					others = append(others, s)
				}
			}
			r := e.do(t, req{method: tt.method, path: tt.path, token: e.token(t, others...), body: bodyFor(tt.method)})
			wantError(t, r, 403, "insufficient_scope", strings.Join(tt.scopes, ", "))
			// Each needed scope alone is not enough when several are needed.
			if len(tt.scopes) > 1 {
				for _, s := range tt.scopes {
					r := e.do(t, req{method: tt.method, path: tt.path, token: e.token(t, s), body: bodyFor(tt.method)})
					wantError(t, r, 403, "insufficient_scope")
				}
			}
			// The needed scopes pass the check (whatever the operation
			// then says about the fake id).
			r = e.do(t, req{method: tt.method, path: tt.path, token: e.token(t, tt.scopes...), body: bodyFor(tt.method)})
			if r.status == 401 || r.status == 403 {
				t.Fatalf("with %v: %s", tt.scopes, r)
			}
		})
	}
}

func bodyFor(method string) any {
	if method == http.MethodPost || method == http.MethodPatch {
		return map[string]any{}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fakeLookup is a TenantLookup over a host table.
type fakeLookup struct {
	byHost map[string]string // stored host -> tenant
	names  map[string]bool
}

func (f fakeLookup) GetTenantByHost(_ context.Context, host string) (model.Tenant, error) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if n, ok := f.byHost[host]; ok {
		return model.Tenant{Name: n}, nil
	}
	return model.Tenant{}, repo.ErrNotFound
}

func (f fakeLookup) GetTenant(_ context.Context, name string) (model.Tenant, error) {
	if f.names[name] {
		return model.Tenant{Name: name}, nil
	}
	return model.Tenant{}, repo.ErrNotFound
}

func TestResolveTenant(t *testing.T) {
	l := fakeLookup{
		byHost: map[string]string{"acme.us.authok.cn": "acme", "127.0.0.1:8080": "dev", "[::1]": "v6", "example.com": "ex"},
		names:  map[string]bool{"default": true, "acme": true, "dev": true, "v6": true, "ex": true},
	}
	noDefault := fakeLookup{byHost: l.byHost, names: map[string]bool{"acme": true}}
	tests := []struct {
		name   string
		lookup fakeLookup
		host   string
		want   string // "" = not found
	}{
		{"exact", l, "acme.us.authok.cn", "acme"},
		{"case-insensitive", l, "ACME.us.Authok.CN", "acme"},
		{"trailing dot", l, "acme.us.authok.cn.", "acme"},
		{"port stripped when the stored host has none", l, "acme.us.authok.cn:8443", "acme"},
		{"stored port matches", l, "127.0.0.1:8080", "dev"},
		{"other port does not match a stored port", l, "127.0.0.1:9090", "default"},
		{"bare host does not match a stored port", l, "127.0.0.1", "default"},
		{"ipv6 with port", l, "[::1]:8443", "v6"},
		{"unknown falls back to default", l, "nobody.example", "default"},
		{"empty host falls back to default", l, "", "default"},
		{"no default", noDefault, "nobody.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mgmtapi.ResolveTenant(context.Background(), tt.lookup, tt.host)
			if tt.want == "" {
				if !errors.Is(err, repo.ErrNotFound) {
					t.Fatalf("got %v, %v; want ErrNotFound", got.Name, err)
				}
				return
			}
			if err != nil || got.Name != tt.want {
				t.Fatalf("got %q, %v; want %q", got.Name, err, tt.want)
			}
		})
	}
}
