package mgmtapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/authok-edge/authok/shared/model"
)

// TestClientKeysNeedUpdateClientKeys: rotating a secret, setting one, or
// changing how a client authenticates needs update:client_keys (Auth0's
// rule). Before, update:clients alone could rotate the management
// client's secret (and read the new one in the answer) or PATCH its
// client_secret or jwks: one write scope was full admin.
func TestClientKeysNeedUpdateClientKeys(t *testing.T) {
	e := sharedEnv(t)
	const keys = "update:client_keys"
	// The catalogue bootstrap grants the management client holds both
	// key scopes, so the tenant's own client can still rotate and read.
	for _, s := range []string{keys, "read:client_keys"} {
		if !slices.Contains(allScopes, s) {
			t.Fatalf("%s is not in the Management API scope catalogue", s)
		}
	}
	grants := e.do(t, req{path: "/client-grants?client_id=" + e.mgmtClient})
	wantStatus(t, grants, 200)
	var gl struct {
		Items []struct {
			Scope []string `json:"scope"`
		} `json:"items"`
	}
	grants.decode(t, &gl)
	if len(gl.Items) != 1 || !slices.Contains(gl.Items[0].Scope, keys) || !slices.Contains(gl.Items[0].Scope, "read:client_keys") {
		t.Fatalf("management client's grants %+v lack the client_keys scopes", gl.Items)
	}

	ecJWK := map[string]any{"kty": "EC", "crv": "P-256", "kid": "attacker",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
	newSecret := strings.Repeat("n", 40)
	update := []string{"update:clients"}
	both := []string{"update:clients", keys}

	tests := []struct {
		name   string
		method string // POST = rotate-secret, PATCH = the client
		body   map[string]any
		scopes []string
		// create makes a client of the test's own from this body; nil
		// means the tenant's management client (read only: never
		// changed, or every other test would lose its tokens' client).
		create map[string]any
		// status is the answer; changed says the stored credentials
		// (secret, method, jwks, encryption key) must differ after it.
		status  int
		changed bool
		msg     string
	}{
		{name: "rotate the management client with update:clients", method: "POST", scopes: update, status: 403, msg: keys},
		{name: "rotate with update:clients", method: "POST", scopes: update, create: m2m(), status: 403, msg: keys},
		{name: "rotate with every scope but update:client_keys", method: "POST", scopes: allBut(keys), create: m2m(), status: 403, msg: keys},
		{name: "rotate with update:client_keys", method: "POST", scopes: []string{keys}, create: m2m(), status: 200, changed: true},
		{name: "patch the management client's secret with update:clients", method: "PATCH", body: map[string]any{"client_secret": newSecret}, scopes: update, status: 403, msg: "client_secret"},
		{name: "patch client_secret with update:clients", method: "PATCH", body: map[string]any{"client_secret": newSecret, "name": "renamed"}, scopes: update, create: m2m(), status: 403, msg: "client_secret"},
		{name: "patch client_secret with update:client_keys alone", method: "PATCH", body: map[string]any{"client_secret": newSecret}, scopes: []string{keys}, create: m2m(), status: 403, msg: "update:clients"},
		{name: "patch client_secret with both", method: "PATCH", body: map[string]any{"client_secret": newSecret}, scopes: both, create: m2m(), status: 200, changed: true},
		{name: "patch private_key_jwt and jwks with update:clients", method: "PATCH", scopes: update, create: m2m(),
			body:   map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{ecJWK}}},
			status: 403, msg: "token_endpoint_auth_method, jwks"},
		{name: "patch private_key_jwt and jwks with both", method: "PATCH", scopes: both, create: m2m(),
			body:   map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{ecJWK}}},
			status: 200, changed: true},
		{name: "patch token_endpoint_auth_method with update:clients", method: "PATCH", body: map[string]any{"token_endpoint_auth_method": "client_secret_basic"}, scopes: update, create: m2m(), status: 403, msg: "token_endpoint_auth_method"},
		{name: "patch jwks of a private_key_jwt client with update:clients", method: "PATCH", scopes: update, status: 403, msg: "jwks",
			create: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{ecJWK}}},
			body:   map[string]any{"jwks": map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "kid": "other", "x": ecJWK["x"], "y": ecJWK["y"]}}}}},
		{name: "patch encryption_key with update:clients", method: "PATCH", body: map[string]any{"encryption_key": map[string]any{"pub": "x"}}, scopes: update, create: m2m(), status: 403, msg: "encryption_key"},
		// client_secret counts whatever its value: no oracle for the
		// current one.
		{name: "patch an unchanged client_secret with update:clients", method: "PATCH", body: map[string]any{"client_secret": "keep-" + newSecret}, scopes: update,
			create: map[string]any{"client_secret": "keep-" + newSecret}, status: 403, msg: "client_secret"},
		{name: "patch name with update:clients", method: "PATCH", body: map[string]any{"name": "renamed"}, scopes: update, create: m2m(), status: 200},
		{name: "patch the management client's description with update:clients", method: "PATCH", body: map[string]any{"description": "the tenant's own"}, scopes: update, status: 200},
		{name: "patch the same method and jwks with update:clients", method: "PATCH", scopes: update, status: 200,
			create: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{ecJWK}}},
			// Reordered members: the same key.
			body: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "description": "d",
				"jwks": map[string]any{"keys": []any{map[string]any{"y": ecJWK["y"], "x": ecJWK["x"], "kid": "attacker", "crv": "P-256", "kty": "EC"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			id := e.mgmtClient
			if tt.create != nil {
				body := map[string]any{"name": e.unique("keys"), "app_type": "non_interactive"}
				for k, v := range tt.create {
					body[k] = v
				}
				created := e.do(t, req{method: "POST", path: "/clients", body: body})
				wantStatus(t, created, 201)
				id, _ = created.object(t)["client_id"].(string)
			}
			before, err := e.repo.GetClient(ctx, e.tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			r := req{method: tt.method, path: "/clients/" + id, body: tt.body, token: e.token(t, tt.scopes...)}
			if tt.method == "POST" {
				r.path += "/rotate-secret"
			}
			got := e.do(t, r)
			after, err := e.repo.GetClient(ctx, e.tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			if tt.status == 403 {
				wantError(t, got, 403, "insufficient_scope", tt.msg)
				if h := got.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) {
					t.Errorf("WWW-Authenticate = %q", h)
				}
				if strings.Contains(string(got.body), string(before.ClientSecret)) {
					t.Error("the refusal holds the client's secret")
				}
				// Nothing changed: the secret the client authenticates
				// with is the one it had, and the record was not written.
				if after.Version != before.Version || after.ClientSecret != before.ClientSecret || after.Name != before.Name {
					t.Errorf("refused, yet the client changed: version %d → %d, name %q → %q, secret changed %v",
						before.Version, after.Version, before.Name, after.Name, after.ClientSecret != before.ClientSecret)
				}
				return
			}
			wantStatus(t, got, tt.status)
			if changed := credentials(after) != credentials(before); changed != tt.changed {
				t.Errorf("credentials changed = %v, want %v", changed, tt.changed)
			}
			if tt.method == "POST" {
				if s, _ := got.object(t)["client_secret"].(string); s == "" || s != string(after.ClientSecret) {
					t.Errorf("rotate answered client_secret %q, stored another", s)
				}
			}
		})
	}
}

// m2m is a confidential client_credentials client with generated
// credentials (the create body beyond name and app_type).
func m2m() map[string]any { return map[string]any{} }

// allBut is the whole catalogue without scope.
func allBut(scope string) []string {
	return slices.DeleteFunc(slices.Clone(allScopes), func(s string) bool { return s == scope })
}

// credentials is what a client authenticates with, as one comparable
// value.
func credentials(c model.Client) string {
	var jwks []string
	if c.JWKS != nil {
		for _, k := range c.JWKS.Keys {
			jwks = append(jwks, string(k))
		}
	}
	return strings.Join([]string{string(c.ClientSecret), c.TokenEndpointAuthMethod, strings.Join(jwks, ","), c.EncryptionKey.Pub}, "|")
}
