package mgmtapi_test

import (
	"fmt"
	"net/url"
	"testing"
)

func TestClientGrantLifecycle(t *testing.T) {
	e := sharedEnv(t)
	ident := e.unique("urn:grants:api")
	wantStatus(t, e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{
		"identifier": ident, "scopes": []any{map[string]any{"value": "a"}, map[string]any{"value": "b"}},
	}}), 201)
	c := createClient(t, e, map[string]any{"name": "grants m2m", "app_type": "non_interactive"})
	cid := c["client_id"].(string)

	r := e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": cid, "audience": ident, "scope": []string{"a"}}})
	wantStatus(t, r, 201)
	g := r.object(t)
	id := g["id"].(string)
	if len(id) != 27 || id[:3] != "cg_" || fmt.Sprint(g["scope"]) != "[a]" {
		t.Fatalf("grant = %v", g)
	}
	// The same pair again: 409.
	wantError(t, e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": cid, "audience": ident, "scope": []string{}}}), 409, "conflict", cid)

	r = e.do(t, req{path: "/client-grants/" + id})
	wantStatus(t, r, 200)
	etag := r.header.Get("ETag")
	r = e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: map[string]any{"scope": []string{"a", "b"}, "client_id": cid, "audience": ident}, headers: map[string]string{"If-Match": etag}})
	wantStatus(t, r, 200)
	if fmt.Sprint(r.object(t)["scope"]) != "[a b]" {
		t.Errorf("scope = %v", r.object(t)["scope"])
	}
	back := r.object(t)
	wantStatus(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: back}), 200)
	wantError(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: map[string]any{"id": "cg_other"}}), 400, "invalid_body", "field id")
	wantError(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: map[string]any{"scope": []string{"c"}}}), 400, "invalid_body", `"c"`)
	wantError(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: map[string]any{"audience": "urn:other"}}), 400, "invalid_body", "audience is immutable")
	wantError(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: map[string]any{"client_id": "other"}}), 400, "invalid_body", "client_id is immutable")
	// Stale If-Match: 412.
	wantError(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: map[string]any{"scope": []string{}}, headers: map[string]string{"If-Match": etag}}), 412, "precondition_failed")

	// Filters.
	r = e.do(t, req{path: "/client-grants?client_id=" + url.QueryEscape(cid) + "&audience=" + url.QueryEscape(ident)})
	wantStatus(t, r, 200)
	var page struct {
		Meta  map[string]int   `json:"meta"`
		Items []map[string]any `json:"items"`
	}
	r.decode(t, &page)
	if page.Meta["total"] != 1 || page.Items[0]["id"] != id {
		t.Errorf("filtered = %s", r.body)
	}

	wantStatus(t, e.do(t, req{method: "DELETE", path: "/client-grants/" + id}), 204)
	wantError(t, e.do(t, req{path: "/client-grants/" + id}), 404, "inexistent_client_grant")
	wantError(t, e.do(t, req{method: "DELETE", path: "/client-grants/" + id}), 404, "inexistent_client_grant")
	wantError(t, e.do(t, req{method: "PATCH", path: "/client-grants/" + id, body: map[string]any{"scope": []string{}}}), 404, "inexistent_client_grant")
}

func TestClientGrantReferences(t *testing.T) {
	e := sharedEnv(t)
	c := createClient(t, e, map[string]any{"name": "refs m2m", "app_type": "non_interactive"})
	cid := c["client_id"].(string)
	mgmt := e.issuer + "api/v1/"
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"unknown client", map[string]any{"client_id": "nope", "audience": mgmt, "scope": []string{}}, 404, "inexistent_client", ""},
		{"unknown audience", map[string]any{"client_id": cid, "audience": "urn:nope", "scope": []string{}}, 404, "inexistent_resource_server", ""},
		{"undefined scope", map[string]any{"client_id": cid, "audience": mgmt, "scope": []string{"read:clients", "fly:rockets"}}, 400, "invalid_body", "scope[1]"},
		{"scope required", map[string]any{"client_id": cid, "audience": mgmt}, 400, "invalid_body", "Missing required property: scope"},
		{"duplicate scope", map[string]any{"client_id": cid, "audience": mgmt, "scope": []string{"read:clients", "read:clients"}}, 400, "invalid_body", "duplicate"},
		{"scope not a list", map[string]any{"client_id": cid, "audience": mgmt, "scope": "read:clients"}, 400, "invalid_body", "expected array of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, req{method: "POST", path: "/client-grants", body: tt.body}), tt.status, tt.code, tt.msg)
		})
	}
	// Any spelling of the Management API identifier is the system API; the
	// grant stores the canonical one and the filter finds it either way.
	r := e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": cid, "audience": e.issuer + "api/v2", "scope": []string{"read:clients"}}})
	wantStatus(t, r, 201)
	if r.object(t)["audience"] != mgmt {
		t.Errorf("audience = %v", r.object(t)["audience"])
	}
	wantError(t, e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": cid, "audience": mgmt, "scope": []string{}}}), 409, "conflict")
	r = e.do(t, req{path: "/client-grants?client_id=" + url.QueryEscape(cid) + "&audience=" + url.QueryEscape(e.issuer+"api/v1")})
	wantStatus(t, r, 200)
	if r.object(t)["meta"].(map[string]any)["total"] != float64(1) {
		t.Errorf("filter by alias: %s", r.body)
	}
}
