package mgmtapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestClientAppTypeOptional: as with Auth0, a name is all a new client
// needs; the client is confidential unless its token_endpoint_auth_method
// is none. Before, a body without app_type was a 400.
func TestClientAppTypeOptional(t *testing.T) {
	e := sharedEnv(t)
	tests := []struct {
		name                          string
		body                          map[string]any
		appType, method, grants, resp string
	}{
		{"name only", map[string]any{}, "web", "client_secret_post", "[authorization_code refresh_token client_credentials]", "[code]"},
		{"confidential by method", map[string]any{"token_endpoint_auth_method": "client_secret_basic"}, "web", "client_secret_basic", "[authorization_code refresh_token client_credentials]", "[code]"},
		{"machine grants only", map[string]any{"grant_types": []string{"client_credentials"}}, "web", "client_secret_post", "[client_credentials]", "[code]"},
		{"public", map[string]any{"token_endpoint_auth_method": "none"}, "spa", "none", "[authorization_code refresh_token]", "[code]"},
		{"Auth0 regular_web", map[string]any{"app_type": "regular_web"}, "web", "client_secret_post", "[authorization_code refresh_token client_credentials]", "[code]"},
		{"non_interactive", map[string]any{"app_type": "non_interactive"}, "non_interactive", "client_secret_post", "[client_credentials]", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.body["name"] = e.unique("apptype")
			c := createClient(t, e, tt.body)
			got := fmt.Sprint(c["app_type"], " ", c["token_endpoint_auth_method"], " ", c["grant_types"], " ", c["response_types"])
			if want := fmt.Sprint(tt.appType, " ", tt.method, " ", tt.grants, " ", tt.resp); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			if s, _ := c["client_secret"].(string); len(s) != 64 {
				t.Errorf("client_secret %v", c["client_secret"])
			}
		})
	}

	// Bad bodies: name is still required, a public client still cannot
	// use client_credentials, unknown app types name the accepted ones.
	bad := []struct {
		name string
		body map[string]any
		msgs []string
	}{
		{"no name", map[string]any{"description": "x"}, []string{"Missing required property: name"}},
		{"public machine", map[string]any{"name": "x", "token_endpoint_auth_method": "none", "grant_types": []string{"client_credentials"}}, []string{"token_endpoint_auth_method"}},
		{"unknown app type", map[string]any{"name": "x", "app_type": "generic"}, []string{"field app_type", "regular_web"}},
		{"null app type", map[string]any{"name": "x", "app_type": nil}, []string{"field app_type"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			b := wantError(t, e.do(t, req{method: "POST", path: "/clients", body: tt.body}), 400, "invalid_body", tt.msgs...)
			if tt.name == "no name" && strings.Contains(b.Message, "app_type") {
				t.Errorf("app_type reported missing: %s", b.Message)
			}
		})
	}
}

// TestClientAuth0Spellings: an Auth0-shaped body (regular_web, callbacks,
// cross_origin_authentication) is accepted on create and update, stored
// once, and read back under both spellings where F.3 pairs them; the
// app_type filter takes Auth0's spelling too.
func TestClientAuth0Spellings(t *testing.T) {
	e := sharedEnv(t)
	c := createClient(t, e, map[string]any{
		"name": e.unique("auth0"), "app_type": "regular_web",
		"callbacks":                   []string{"https://app.example/cb"},
		"cross_origin_authentication": true,
		"allowed_logout_urls":         []string{"https://app.example/"},
	})
	id := c["client_id"].(string)
	for k, want := range map[string]string{
		"app_type": "web", "redirect_uris": "[https://app.example/cb]", "callbacks": "[https://app.example/cb]",
		"cross_origin_auth": "true", "cross_origin_authentication": "true",
	} {
		if got := fmt.Sprint(c[k]); got != want {
			t.Errorf("create: %s = %s, want %s", k, got, want)
		}
	}

	// PATCH to Auth0's native spelling and back.
	r := e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"app_type": "native"}})
	wantStatus(t, r, 200)
	r = e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"app_type": "regular_web", "callbacks": []string{"https://app.example/cb2"}}})
	wantStatus(t, r, 200)
	if u := r.object(t); u["app_type"] != "web" || fmt.Sprint(u["redirect_uris"]) != "[https://app.example/cb2]" {
		t.Errorf("patch: app_type %v redirect_uris %v", u["app_type"], u["redirect_uris"])
	}
	wantError(t, e.do(t, req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"redirect_uris": []string{"https://a.example/1"}, "callbacks": []string{"https://a.example/2"}}}),
		400, "invalid_body")

	// The filter: regular_web finds web clients, this one among them.
	var page struct {
		Items []map[string]any `json:"items"`
	}
	r = e.do(t, req{path: "/clients?page_size=100&app_type=regular_web&client_id=" + url.QueryEscape(id)})
	wantStatus(t, r, 200)
	r.decode(t, &page)
	if len(page.Items) != 1 || page.Items[0]["client_id"] != id {
		t.Errorf("app_type=regular_web found %v", page.Items)
	}
	wantError(t, e.do(t, req{path: "/clients?app_type=generic"}), 400, "invalid_query_string", "regular_web")
}
