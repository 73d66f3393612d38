package mgmtapi_test

import (
	"fmt"
	"testing"
)

func TestTenantSettings(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, req{path: "/tenants/settings"})
	wantStatus(t, r, 200)
	s := r.object(t)
	if s["name"] != e.tenant || s["id"] != e.tenant || s["friendly_name"] != s["display_name"] {
		t.Fatalf("settings = %v", s)
	}
	etag := r.header.Get("ETag")

	r = e.do(t, req{method: "PATCH", path: "/tenants/settings", headers: map[string]string{"If-Match": etag}, body: map[string]any{
		"friendly_name":         "Acme",
		"picture_url":           "https://acme.example/logo.png",
		"default_directory":     "Username-Password-Authentication",
		"support_email":         "help@acme.example",
		"session_lifetime":      168,
		"idle_session_lifetime": 72.5,
		"enabled_locales":       []string{"en", "zh-CN"},
		"session_cookie":        map[string]any{"mode": "non-persistent"},
		"flags":                 map[string]bool{"enable_sso": true},
		"environment":           "production",
		"device_flow":           map[string]any{"charset": "digits", "mask": "***-***"},
		"universal_login":       map[string]any{"colors": map[string]any{"primary": "#0059d6", "page_background": "#000"}},
		"error_page":            map[string]any{"url": "https://acme.example/error", "show_log_link": false},
		"name":                  e.tenant,
	}})
	wantStatus(t, r, 200)
	u := r.object(t)
	for k, want := range map[string]string{
		"display_name": "Acme", "friendly_name": "Acme", "picture": "https://acme.example/logo.png",
		"picture_url": "https://acme.example/logo.png", "default_connection": "Username-Password-Authentication",
		"default_directory": "Username-Password-Authentication", "session_lifetime": "168",
		"idle_session_lifetime": "72.5", "flags": "map[enable_sso:true]", "environment": "production",
	} {
		if got := fmt.Sprint(u[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	// Flags merge.
	r = e.do(t, req{method: "PATCH", path: "/tenants/settings", body: map[string]any{"flags": map[string]bool{"enable_apis_section": true}}})
	wantStatus(t, r, 200)
	if got := fmt.Sprint(r.object(t)["flags"]); got != "map[enable_apis_section:true enable_sso:true]" {
		t.Errorf("flags = %s", got)
	}
	// Stale If-Match.
	wantError(t, e.do(t, req{method: "PATCH", path: "/tenants/settings", headers: map[string]string{"If-Match": etag}, body: map[string]any{"description": "x"}}), 412, "precondition_failed")

	tests := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"name is read-only", map[string]any{"name": "other"}, "field name"},
		{"both spellings differ", map[string]any{"display_name": "a", "friendly_name": "b"}, "display_name and friendly_name differ"},
		{"bad email", map[string]any{"support_email": "not an email"}, "field support_email"},
		{"bad url", map[string]any{"support_url": "ftp://x"}, "field support_url"},
		{"idle above absolute", map[string]any{"idle_session_lifetime": 500}, "idle_session_lifetime"},
		{"lifetime out of range", map[string]any{"session_lifetime": 9000}, "field session_lifetime"},
		{"cookie mode", map[string]any{"session_cookie": map[string]any{"mode": "forever"}}, "session_cookie.mode"},
		{"locale", map[string]any{"enabled_locales": []string{"english!"}}, "enabled_locales[0]"},
		{"flag value", map[string]any{"flags": map[string]any{"enable_sso": "yes"}}, "flags.enable_sso"},
		{"flag name", map[string]any{"flags": map[string]any{"Bad Flag": true}}, "Bad Flag"},
		{"environment", map[string]any{"environment": "prod"}, "allowed: development, staging, production"},
		{"jwt alg", map[string]any{"jwt_configuration": map[string]any{"alg": "HS256"}}, "HS256 is not supported yet"},
		{"region is read-only", map[string]any{"region": "eu"}, "field region"},
		{"unknown", map[string]any{"sandbox_version_available": "8"}, "sandbox_version_available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, req{method: "PATCH", path: "/tenants/settings", body: tt.body}), 400, "invalid_body", tt.msg)
		})
	}
	// The settings as read can be sent back.
	r = e.do(t, req{path: "/tenants/settings"})
	back := r.object(t)
	r = e.do(t, req{method: "PATCH", path: "/tenants/settings", body: back})
	wantStatus(t, r, 200)
	if got := r.object(t); fmt.Sprint(got) != fmt.Sprint(back) {
		t.Errorf("round trip changed the settings:\n got %v\nwant %v", got, back)
	}
	// fields on a single read.
	r = e.do(t, req{path: "/tenants/settings?fields=name,friendly_name"})
	wantStatus(t, r, 200)
	if got := r.object(t); len(got) != 2 || got["friendly_name"] != "Acme" {
		t.Errorf("projection = %v", got)
	}
}
