package mgmtapi_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authok-edge/authok/shared/model"
)

var nanoID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// createClient creates a client and returns its JSON object.
func createClient(t testing.TB, e *env, body map[string]any) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/clients", body: body})
	wantStatus(t, r, 201)
	return r.object(t)
}

func TestClientLifecycle(t *testing.T) {
	e := sharedEnv(t)

	// Create with only the required fields: defaults by app_type.
	r := e.do(t, req{method: "POST", path: "/clients", body: map[string]any{"name": "web app", "app_type": "web"}})
	wantStatus(t, r, 201)
	c := r.object(t)
	id, _ := c["client_id"].(string)
	secret, _ := c["client_secret"].(string)
	if len(id) != model.ClientIDLength || !nanoID.MatchString(id) {
		t.Errorf("client_id %q", id)
	}
	if len(secret) != model.ClientSecretLength || !nanoID.MatchString(secret) {
		t.Errorf("client_secret of %d characters", len(secret))
	}
	if etag := r.header.Get("ETag"); !regexp.MustCompile(`^"\d+"$`).MatchString(etag) {
		t.Errorf("ETag = %q", etag)
	}
	for k, want := range map[string]any{
		"tenant": e.tenant, "app_type": "web", "token_endpoint_auth_method": "client_secret_post",
		"is_first_party": true, "oidc_conformant": true, "organization_usage": "deny",
		"organization_require_behavior": "no_prompt", "cross_origin_auth": false, "cross_origin_authentication": false,
	} {
		if c[k] != want {
			t.Errorf("%s = %v, want %v", k, c[k], want)
		}
	}
	if got := fmt.Sprint(c["grant_types"]); got != "[authorization_code refresh_token client_credentials]" {
		t.Errorf("grant_types = %s", got)
	}
	if c["created_at"] == nil || c["updated_at"] == nil {
		t.Error("timestamps missing")
	}

	// Read: the same client, the secret in full, the ETag.
	r = e.do(t, req{path: "/clients/" + id})
	wantStatus(t, r, 200)
	got := r.object(t)
	if got["client_secret"] != secret || got["name"] != "web app" {
		t.Errorf("read back %v", got)
	}
	etag := r.header.Get("ETag")

	// Update many fields at once, with both F.3 spellings.
	patch := map[string]any{
		"description":                 "the shop",
		"callbacks":                   []string{"https://shop.example/cb", "com.example.app://cb"},
		"allowed_origins":             []string{"https://Shop.Example/", "http://localhost:3000"},
		"web_origins":                 []string{"https://shop.example"},
		"allowed_logout_urls":         []string{"https://shop.example/bye?x=1"},
		"cross_origin_authentication": true,
		"jwt_configuration":           map[string]any{"lifetime_in_seconds": "3600", "alg": "ES256"},
		"refresh_token":               map[string]any{"rotation_type": "rotating", "expiration_type": "expiring", "token_lifetime": 86400, "idle_token_lifetime": 3600, "infinite_token_lifetime": false, "infinite_idle_token_lifetime": false},
		"organization_usage":          "allow",
		"client_metadata":             map[string]string{"team": "shop"},
		"mobile":                      map[string]any{"ios": map[string]any{"team_id": "T1", "app_bundle_identifier": "com.example"}},
		"native_social_login":         map[string]any{"apple": map[string]any{"enabled": true}},
		"addons":                      map[string]any{"samlp": map[string]any{"audience": "urn:shop", "attributes": []any{map[string]any{"name": "email", "value": "user.email"}}, "signatureAlgorithm": "rsa-sha256"}},
		"grant_types":                 []string{"authorization_code", "http://authok.io/oauth/grant-type/password-realm"},
		"initiate_login_uri":          "https://shop.example/login",
		"logo_uri":                    nil,
	}
	r = e.do(t, req{method: "PATCH", path: "/clients/" + id, body: patch, headers: map[string]string{"If-Match": etag}})
	wantStatus(t, r, 200)
	u := r.object(t)
	checks := map[string]string{
		"description":                 "the shop",
		"redirect_uris":               "[https://shop.example/cb com.example.app://cb]",
		"callbacks":                   "[https://shop.example/cb com.example.app://cb]",
		"allowed_origins":             "[https://shop.example http://localhost:3000]",
		"cross_origin_auth":           "true",
		"cross_origin_authentication": "true",
		"jwt_configuration":           "map[alg:ES256 lifetime_in_seconds:3600]",
		"organization_usage":          "allow",
		"grant_types":                 "[authorization_code http://authok.cn/oauth/grant-type/password-realm]",
		"client_secret":               secret,
		"logo_uri":                    "",
	}
	for k, want := range checks {
		if got := fmt.Sprint(u[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	if r.header.Get("ETag") == etag {
		t.Error("ETag did not change")
	}
	// Partial nested update keeps the other members.
	r = e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"refresh_token": map[string]any{"leeway": 10}}})
	wantStatus(t, r, 200)
	if rt := r.object(t)["refresh_token"].(map[string]any); rt["rotation_type"] != "rotating" || rt["leeway"] != float64(10) {
		t.Errorf("refresh_token = %v", rt)
	}

	// Rotate the secret: 200, the whole client, a new 64-character secret.
	r = e.do(t, req{method: "POST", path: "/clients/" + id + "/rotate-secret"})
	wantStatus(t, r, 200)
	rot := r.object(t)
	if s := rot["client_secret"].(string); s == secret || len(s) != 64 {
		t.Errorf("rotated secret %q", s)
	}
	if rot["description"] != "the shop" {
		t.Error("rotate-secret lost fields")
	}

	// Grants go with the client.
	g := e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": id, "audience": e.issuer + "api/v1/", "scope": []string{"read:clients"}}})
	wantStatus(t, g, 201)
	gid := g.object(t)["id"].(string)

	wantStatus(t, e.do(t, req{method: "DELETE", path: "/clients/" + id}), 204)
	wantError(t, e.do(t, req{path: "/clients/" + id}), 404, "inexistent_client", "client does not exist")
	wantError(t, e.do(t, req{path: "/client-grants/" + gid}), 404, "inexistent_client_grant")
	wantError(t, e.do(t, req{method: "DELETE", path: "/clients/" + id}), 404, "inexistent_client")
	wantError(t, e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{}}), 404, "inexistent_client")
	wantError(t, e.do(t, req{method: "POST", path: "/clients/" + id + "/rotate-secret"}), 404, "inexistent_client")
}

func TestClientDefaultsByAppType(t *testing.T) {
	e := sharedEnv(t)
	tests := []struct {
		appType, method, grants, responseTypes string
	}{
		{"non_interactive", "client_secret_post", "[client_credentials]", "[]"},
		{"web", "client_secret_post", "[authorization_code refresh_token client_credentials]", "[code]"},
		{"spa", "none", "[authorization_code refresh_token]", "[code]"},
		{"native", "none", "[authorization_code refresh_token]", "[code]"},
	}
	for _, tt := range tests {
		t.Run(tt.appType, func(t *testing.T) {
			c := createClient(t, e, map[string]any{"name": "d-" + tt.appType, "app_type": tt.appType})
			if c["token_endpoint_auth_method"] != tt.method || fmt.Sprint(c["grant_types"]) != tt.grants || fmt.Sprint(c["response_types"]) != tt.responseTypes {
				t.Errorf("got %v %v %v", c["token_endpoint_auth_method"], c["grant_types"], c["response_types"])
			}
		})
	}
}

// TestClientPathEscaping: ids holding '|' and '/' travel as %7C and %2F
// inside one segment (A.1).
func TestClientPathEscaping(t *testing.T) {
	e := sharedEnv(t)
	const id = "authok|legacy/app-1"
	c := createClient(t, e, map[string]any{"client_id": id, "name": "legacy", "app_type": "non_interactive"})
	if c["client_id"] != id {
		t.Fatalf("client_id = %v", c["client_id"])
	}
	escaped := "/clients/" + strings.ReplaceAll(url.PathEscape(id), "|", "%7C")
	if !strings.Contains(escaped, "%7C") || !strings.Contains(escaped, "%2F") {
		t.Fatalf("escaping %q", escaped)
	}
	for _, prefix := range []string{"/api/v1", "/api/v2"} {
		r := e.do(t, req{path: prefix + escaped})
		wantStatus(t, r, 200)
		if r.object(t)["client_id"] != id {
			t.Errorf("%s: wrong client", prefix)
		}
	}
	r := e.do(t, req{method: "PATCH", path: escaped, body: map[string]any{"description": "escaped", "client_id": id}})
	wantStatus(t, r, 200)
	wantStatus(t, e.do(t, req{method: "POST", path: escaped + "/rotate-secret"}), 200)
	r = e.do(t, req{path: "/clients", body: nil, headers: nil, host: ""})
	wantStatus(t, r, 200)
	wantStatus(t, e.do(t, req{method: "DELETE", path: escaped}), 204)
	wantError(t, e.do(t, req{path: escaped}), 404, "inexistent_client")
}

func TestClientImmutableAndProtected(t *testing.T) {
	e := sharedEnv(t)
	c := createClient(t, e, map[string]any{"name": "immut", "app_type": "spa"})
	id := c["client_id"].(string)

	wantError(t, e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"client_id": "another"}}), 400, "invalid_body", "client_id is immutable")
	wantError(t, e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"tenant": "other"}}), 400, "invalid_body", "field tenant")
	wantError(t, e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"signing_keys": "x"}}), 400, "invalid_body", "signing_keys")
	// The object as read can be sent back: read-only members with their
	// current values, both spellings of a field with the same value.
	r := e.do(t, req{path: "/clients/" + id})
	back := r.object(t)
	if sk, _ := back["signing_keys"].([]any); len(sk) != 1 || !strings.Contains(fmt.Sprint(sk[0]), "BEGIN CERTIFICATE") {
		t.Errorf("signing_keys = %v", back["signing_keys"])
	}
	r = e.do(t, req{method: "PATCH", path: "/clients/" + id, body: back})
	wantStatus(t, r, 200)
	if got := r.object(t); got["client_secret"] != back["client_secret"] || got["created_at"] != back["created_at"] {
		t.Errorf("round trip changed the client: %v", got)
	}

	// A public client cannot use client_credentials.
	wantError(t, e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"grant_types": []string{"client_credentials"}}}),
		400, "invalid_body", "token_endpoint_auth_method")
	// The management client bootstrap made cannot be deleted.
	wantError(t, e.do(t, req{method: "DELETE", path: "/clients/" + e.mgmtClient}), 400, "operation_not_allowed")
	// A duplicate client_id on create.
	wantError(t, e.do(t, req{method: "POST", path: "/clients", body: map[string]any{"client_id": id, "name": "dup", "app_type": "spa"}}), 409, "conflict")
}

func TestClientPrivateKeyJWT(t *testing.T) {
	e := sharedEnv(t)
	rsaJWK := map[string]any{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
		"e": "AQAB",
	}
	ecJWK := map[string]any{"kty": "EC", "crv": "P-256", "kid": "k2",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
	c := createClient(t, e, map[string]any{
		"name": "pkjwt", "app_type": "non_interactive", "token_endpoint_auth_method": "private_key_jwt",
		"jwks": map[string]any{"keys": []any{rsaJWK, ecJWK}},
	})
	keys := c["jwks"].(map[string]any)["keys"].([]any)
	if len(keys) != 2 || keys[0].(map[string]any)["kid"] != "k1" {
		t.Fatalf("jwks = %v", c["jwks"])
	}
	id := c["client_id"].(string)

	private := map[string]any{"kty": "EC", "crv": "P-256", "x": ecJWK["x"], "y": ecJWK["y"], "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
	tests := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"private_key_jwt needs jwks", map[string]any{"name": "x", "app_type": "non_interactive", "token_endpoint_auth_method": "private_key_jwt"}, "jwks"},
		{"private key", map[string]any{"name": "x", "app_type": "web", "jwks": map[string]any{"keys": []any{private}}}, "must be a public key"},
		{"symmetric key", map[string]any{"name": "x", "app_type": "web", "jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "c2VjcmV0"}}}}, "jwks.keys[0]"},
		{"small RSA key", map[string]any{"name": "x", "app_type": "web", "jwks": map[string]any{"keys": []any{map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}}}}, "2048"},
		{"encryption use", map[string]any{"name": "x", "app_type": "web", "jwks": map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": ecJWK["x"], "y": ecJWK["y"], "use": "enc"}}}}, `use must be "sig"`},
		{"duplicate kid", map[string]any{"name": "x", "app_type": "web", "jwks": map[string]any{"keys": []any{rsaJWK, rsaJWK}}}, `kid "k1"`},
		{"no keys", map[string]any{"name": "x", "app_type": "web", "jwks": map[string]any{"keys": []any{}}}, "1 to 10 keys"},
		{"not a set", map[string]any{"name": "x", "app_type": "web", "jwks": []any{rsaJWK}}, "field jwks"},
		{"unknown member", map[string]any{"name": "x", "app_type": "web", "jwks": map[string]any{"keys": []any{rsaJWK}, "extra": 1}}, "jwks.extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, req{method: "POST", path: "/clients", body: tt.body}), 400, "invalid_body", tt.msg)
		})
	}
	// Removing the keys of a private_key_jwt client is refused; switching
	// method and removing together is fine.
	wantError(t, e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"jwks": nil}}), 400, "invalid_body", "jwks")
	r := e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"jwks": nil, "token_endpoint_auth_method": "client_secret_basic"}})
	wantStatus(t, r, 200)
	if _, ok := r.object(t)["jwks"]; ok {
		t.Error("jwks still there")
	}
	stored, err := e.repo.GetClient(context.Background(), e.tenant, id)
	if err != nil || stored.JWKS != nil {
		t.Errorf("stored jwks %v, %v", stored.JWKS, err)
	}
}
