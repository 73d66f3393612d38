package mgmtapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestResourceServerLifecycle(t *testing.T) {
	e := sharedEnv(t)
	const ident = "https://api.example.com/orders"
	r := e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{
		"identifier": ident,
		"scopes":     []any{map[string]any{"value": "read:orders", "description": "Read orders"}, map[string]any{"value": "write:orders"}},
	}})
	wantStatus(t, r, 201)
	rs := r.object(t)
	id := rs["id"].(string)
	for k, want := range map[string]any{
		"name": ident, "identifier": ident, "is_system": false, "signing_alg": "RS256",
		"token_lifetime": float64(86400), "token_lifetime_for_web": float64(7200), "token_dialect": "access_token",
	} {
		if rs[k] != want {
			t.Errorf("%s = %v, want %v", k, rs[k], want)
		}
	}
	if len(id) != 24 {
		t.Errorf("id %q", id)
	}
	wantError(t, e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{"identifier": ident}}), 409, "conflict", ident)

	// By id and by URL-encoded identifier, under both prefixes.
	for _, p := range []string{"/api/v1/resource-servers/" + id, "/api/v2/resource-servers/" + url.PathEscape(ident)} {
		r := e.do(t, req{path: p})
		wantStatus(t, r, 200)
		if r.object(t)["id"] != id {
			t.Errorf("%s: wrong resource server", p)
		}
	}
	escIdent := "/resource-servers/" + url.PathEscape(ident)
	r = e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{
		"name": "Orders", "token_lifetime": 3600, "signing_alg": "PS256", "identifier": ident, "is_system": false,
		"scopes": []any{map[string]any{"value": "read:orders"}}, "options": map[string]string{"k": "v"},
		"token_dialect": "access_token_authz", "enforce_policies": true, "allow_offline_access": true,
	}})
	wantStatus(t, r, 200)
	u := r.object(t)
	if u["name"] != "Orders" || u["token_lifetime"] != float64(3600) || u["token_lifetime_for_web"] != float64(3600) || u["signing_alg"] != "PS256" {
		t.Errorf("updated = %v", u)
	}
	wantError(t, e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{"identifier": "https://other"}}), 400, "invalid_body", "identifier is immutable")
	wantError(t, e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{"is_system": true}}), 400, "invalid_body", "is_system is immutable")
	wantError(t, e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{"token_lifetime_for_web": 7200}}), 400, "invalid_body", "token_lifetime_for_web")
	wantError(t, e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{"signing_alg": "HS256"}}), 400, "invalid_body", "HS256 is not supported yet")
	wantError(t, e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{"signing_secret": "s3cr3t"}}), 400, "invalid_body", "signing_secret")

	// The object as read can be sent back.
	back := e.do(t, req{path: escIdent}).object(t)
	wantStatus(t, e.do(t, req{method: "PATCH", path: escIdent, body: back}), 200)
	wantError(t, e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{"id": "another"}}), 400, "invalid_body", "field id")

	// Deleting by identifier takes the grants for its audience along.
	c := createClient(t, e, map[string]any{"name": "orders m2m", "app_type": "non_interactive"})
	g := e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": c["client_id"], "audience": ident, "scope": []string{"read:orders"}}})
	wantStatus(t, g, 201)
	wantStatus(t, e.do(t, req{method: "DELETE", path: escIdent}), 204)
	wantError(t, e.do(t, req{path: "/resource-servers/" + id}), 404, "inexistent_resource_server")
	wantError(t, e.do(t, req{path: "/client-grants/" + g.object(t)["id"].(string)}), 404, "inexistent_client_grant")
	wantError(t, e.do(t, req{method: "DELETE", path: escIdent}), 404, "inexistent_resource_server")
	wantError(t, e.do(t, req{method: "PATCH", path: escIdent, body: map[string]any{"name": "x"}}), 404, "inexistent_resource_server")
}

func TestSystemResourceServer(t *testing.T) {
	e := sharedEnv(t)
	r := e.do(t, req{path: "/resource-servers", body: nil, headers: nil, token: ""})
	wantStatus(t, r, 200)
	r = e.do(t, req{path: "/resource-servers?is_system=true"})
	wantStatus(t, r, 200)
	var page struct {
		Meta  map[string]int   `json:"meta"`
		Items []map[string]any `json:"items"`
	}
	r.decode(t, &page)
	if len(page.Items) != 1 || page.Items[0]["identifier"] != e.issuer+"api/v1/" || page.Items[0]["is_system"] != true {
		t.Fatalf("system API not listed: %s", r.body)
	}
	sysID := page.Items[0]["id"].(string)

	// Every spelling of the Management API identifier finds it.
	for _, ident := range []string{e.issuer + "api/v1/", e.issuer + "api/v1", e.issuer + "api/v2/", e.issuer + "api/v2"} {
		r := e.do(t, req{path: "/resource-servers/" + url.PathEscape(ident)})
		wantStatus(t, r, 200)
		if r.object(t)["id"] != sysID {
			t.Errorf("%s: not the system API", ident)
		}
	}
	wantError(t, e.do(t, req{method: "DELETE", path: "/resource-servers/" + sysID}), 400, "operation_not_allowed", "cannot be deleted")
	wantError(t, e.do(t, req{method: "PATCH", path: "/resource-servers/" + sysID, body: map[string]any{"identifier": "https://x/"}}), 400, "invalid_body", "identifier is immutable")
	wantError(t, e.do(t, req{method: "PATCH", path: "/resource-servers/" + sysID, body: map[string]any{"is_system": false}}), 400, "invalid_body", "is_system is immutable")
	wantError(t, e.do(t, req{method: "PATCH", path: "/resource-servers/" + sysID, body: map[string]any{"scopes": []any{}}}), 400, "operation_not_allowed", "scopes")
	wantError(t, e.do(t, req{method: "PATCH", path: "/resource-servers/" + sysID, body: map[string]any{"name": "Mine", "signing_alg": "ES256"}}), 400, "operation_not_allowed", "name, signing_alg")
	// The system API as read can be sent back (nothing changes).
	back := e.do(t, req{path: "/resource-servers/" + sysID}).object(t)
	wantStatus(t, e.do(t, req{method: "PATCH", path: "/resource-servers/" + sysID, body: back}), 200)
	r = e.do(t, req{method: "PATCH", path: "/resource-servers/" + sysID, body: map[string]any{"token_lifetime": 36000, "identifier": e.issuer + "api/v1/", "is_system": true}})
	wantStatus(t, r, 200)
	if got := r.object(t); got["token_lifetime"] != float64(36000) || got["token_lifetime_for_web"] != float64(7200) {
		t.Errorf("system API = %v", got)
	}
	// Creating another API under a spelling of its identifier conflicts.
	for _, ident := range []string{e.issuer + "api/v1", e.issuer + "api/v2/"} {
		wantError(t, e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{"identifier": ident}}), 409, "conflict")
	}
	wantError(t, e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "urn:x", "is_system": true}}), 400, "invalid_body", "is_system")
}

func TestResourceServerValidation(t *testing.T) {
	e := sharedEnv(t)
	tests := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"identifier required", map[string]any{"name": "x"}, "Missing required property: identifier"},
		{"identifier with space", map[string]any{"identifier": "a b"}, "field identifier"},
		{"lifetime too long", map[string]any{"identifier": "urn:a", "token_lifetime": 2592001}, "between 1 and 2592000"},
		{"lifetime zero", map[string]any{"identifier": "urn:a", "token_lifetime": 0}, "field token_lifetime"},
		{"lifetime not integer", map[string]any{"identifier": "urn:a", "token_lifetime": 1.5}, "expected integer"},
		{"web above lifetime", map[string]any{"identifier": "urn:a", "token_lifetime": 100, "token_lifetime_for_web": 200}, "token_lifetime_for_web"},
		{"HS256", map[string]any{"identifier": "urn:a", "signing_alg": "HS256"}, "HS256 is not supported yet"},
		{"unknown alg", map[string]any{"identifier": "urn:a", "signing_alg": "none"}, "allowed: RS256, PS256, ES256, EdDSA"},
		{"scope with space", map[string]any{"identifier": "urn:a", "scopes": []any{map[string]any{"value": "read orders"}}}, "scopes[0].value"},
		{"scope without value", map[string]any{"identifier": "urn:a", "scopes": []any{map[string]any{"description": "x"}}}, "scopes[0].value"},
		{"duplicate scope", map[string]any{"identifier": "urn:a", "scopes": []any{map[string]any{"value": "a"}, map[string]any{"value": "a"}}}, "duplicate scope"},
		{"scope not object", map[string]any{"identifier": "urn:a", "scopes": []any{"read"}}, "scopes[0]"},
		{"scope unknown member", map[string]any{"identifier": "urn:a", "scopes": []any{map[string]any{"value": "a", "x": 1}}}, "scopes[0].x"},
		{"token_dialect", map[string]any{"identifier": "urn:a", "token_dialect": "jwt"}, "allowed: access_token, access_token_authz"},
		{"name with markup", map[string]any{"identifier": "urn:a", "name": "<b>"}, "field name"},
		{"id is read-only", map[string]any{"identifier": "urn:a", "id": "x"}, "field id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, req{method: "POST", path: "/resource-servers", body: tt.body}), 400, "invalid_body", tt.msg)
		})
	}
}

// TestResourceServerScopeRemovalPrunesGrants: a PATCH of an API's scopes
// that removes some also removes them from every client grant of that
// audience (C.10: a grant holds only scopes its API defines; the token
// endpoint reads only the grant), and the pruned grant can be sent back.
// Grants of another API with the same scope names are left alone.
func TestResourceServerScopeRemovalPrunesGrants(t *testing.T) {
	e := sharedEnv(t)
	scopes := func(vs ...string) []any {
		out := []any{}
		for _, v := range vs {
			out = append(out, map[string]any{"value": v})
		}
		return out
	}
	ident, other := e.unique("urn:prune:api"), e.unique("urn:prune:other")
	for _, i := range []string{ident, other} {
		wantStatus(t, e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{"identifier": i, "scopes": scopes("a", "b", "c")}}), 201)
	}
	c1 := createClient(t, e, map[string]any{"name": "prune m2m 1", "app_type": "non_interactive"})["client_id"]
	c2 := createClient(t, e, map[string]any{"name": "prune m2m 2", "app_type": "non_interactive"})["client_id"]
	grant := func(cid any, aud string, scope ...string) string {
		t.Helper()
		r := e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": cid, "audience": aud, "scope": scope}})
		wantStatus(t, r, 201)
		return r.object(t)["id"].(string)
	}
	ab, c, otherAB := grant(c1, ident, "a", "b"), grant(c2, ident, "c"), grant(c1, other, "a", "b")
	etags := map[string]string{}
	for _, id := range []string{ab, c, otherAB} {
		etags[id] = e.do(t, req{path: "/client-grants/" + id}).header.Get("ETag")
	}

	rsPath := "/resource-servers/" + url.PathEscape(ident)
	steps := []struct {
		name   string
		scopes []any
		want   map[string]string // grant id → scope
	}{
		{"adding a scope changes no grant", scopes("a", "b", "c", "d"), map[string]string{ab: "[a b]", c: "[c]", otherAB: "[a b]"}},
		{"removing b and c", scopes("a", "d"), map[string]string{ab: "[a]", c: "[]", otherAB: "[a b]"}},
		{"removing every scope", scopes(), map[string]string{ab: "[]", c: "[]", otherAB: "[a b]"}},
	}
	for i, st := range steps {
		wantStatus(t, e.do(t, req{method: "PATCH", path: rsPath, body: map[string]any{"scopes": st.scopes}}), 200)
		for id, want := range st.want {
			r := e.do(t, req{path: "/client-grants/" + id})
			wantStatus(t, r, 200)
			if got := fmt.Sprint(r.object(t)["scope"]); got != want {
				t.Errorf("%s: grant %s scope = %s, want %s", st.name, id, got, want)
			}
			if i == 0 && r.header.Get("ETag") != etags[id] {
				t.Errorf("%s: grant %s was rewritten", st.name, id)
			}
		}
		if i == 1 {
			// The pruned grant's own scopes, and the grant as read, are
			// accepted back.
			wantStatus(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + ab, body: map[string]any{"scope": []string{"a"}}}), 200)
			back := e.do(t, req{path: "/client-grants/" + ab}).object(t)
			wantStatus(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + ab, body: back}), 200)
			wantError(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + ab, body: map[string]any{"scope": []string{"a", "b"}}}), 400, "invalid_body", `"b"`)
		}
	}
}

// TestResourceServerDefaultName: without a name, a resource server is
// named after its identifier in a form the name's own rule accepts, so the
// object as read can be sent back.
func TestResourceServerDefaultName(t *testing.T) {
	e := sharedEnv(t)
	pad := func(prefix, fill string, runes int) string {
		return prefix + strings.Repeat(fill, runes-utf8.RuneCountInString(prefix))
	}
	tests := []struct {
		name       string
		identifier string
		want       func(identifier string) string
	}{
		{"short", e.unique("urn:name:short"), func(i string) string { return i }},
		{"214 characters", pad(e.unique("urn:name:long")+":", "x", 214), func(i string) string { return i[:200] }},
		{"214 characters, multi-byte", pad(e.unique("urn:name:wide")+":", "é", 214), func(i string) string { return string([]rune(i)[:200]) }},
		{"600 bytes", pad(e.unique("urn:name:max")+":", "y", 600), func(i string) string { return i[:200] }},
		{"angle brackets", e.unique("urn:<name>:tag"), func(i string) string { return strings.NewReplacer("<", "", ">", "").Replace(i) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{"identifier": tt.identifier}})
			wantStatus(t, r, 201)
			created := r.object(t)
			if want := tt.want(tt.identifier); created["name"] != want {
				t.Fatalf("name = %q, want %q", created["name"], want)
			}
			p := "/resource-servers/" + created["id"].(string)
			got := e.do(t, req{path: p})
			wantStatus(t, got, 200)
			back := got.object(t)
			wantStatus(t, e.do(t, req{method: "PATCH", path: p, body: map[string]any{"name": back["name"]}}), 200)
			wantStatus(t, e.do(t, req{method: "PATCH", path: p, body: back}), 200)
		})
	}
}

// TestResourceServerIdentifierFilterAliases: every spelling of the
// Management API identifier (A.2) filters to the one system API, as the
// client grants' audience filter does.
func TestResourceServerIdentifierFilterAliases(t *testing.T) {
	e := sharedEnv(t)
	canonical := e.issuer + "api/v1/"
	for _, query := range []string{
		"identifier=" + url.QueryEscape(e.issuer+"api/v1/"),
		"identifier=" + url.QueryEscape(e.issuer+"api/v1"),
		"identifier=" + url.QueryEscape(e.issuer+"api/v2/"),
		"identifier=" + url.QueryEscape(e.issuer+"api/v2"),
		"identifier=" + url.QueryEscape(e.issuer+"api/v1") + "&identifier=" + url.QueryEscape(e.issuer+"api/v2/"),
	} {
		t.Run(query, func(t *testing.T) {
			r := e.do(t, req{path: "/resource-servers?" + query})
			wantStatus(t, r, 200)
			var page struct {
				Meta  map[string]int   `json:"meta"`
				Items []map[string]any `json:"items"`
			}
			r.decode(t, &page)
			if page.Meta["total"] != 1 || len(page.Items) != 1 || page.Items[0]["identifier"] != canonical || page.Items[0]["is_system"] != true {
				t.Fatalf("got %s, want the system API alone", r.body)
			}
		})
	}
}
