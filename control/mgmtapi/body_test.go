package mgmtapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadBodies sends every kind of bad body to every write that takes
// one.
func TestBadBodies(t *testing.T) {
	e := sharedEnv(t)
	c := createClient(t, e, map[string]any{"name": "bodies", "app_type": "non_interactive"})
	cid := c["client_id"].(string)
	aud := e.unique("urn:bodies")
	r := e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{"identifier": aud, "scopes": []any{map[string]any{"value": "s"}}}})
	wantStatus(t, r, 201)
	rsid := r.object(t)["id"].(string)
	r = e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{"client_id": cid, "audience": aud, "scope": []string{"s"}}})
	wantStatus(t, r, 201)
	gid := r.object(t)["id"].(string)

	type endpoint struct {
		method, path string
		enumBody     string // a body with an invalid enum value
		enumMsg      string
		typeBody     string // a body with a wrongly typed field
		typeMsg      string
	}
	endpoints := []endpoint{
		{"POST", "/clients", `{"name":"x","app_type":"desktop"}`, `Invalid value "desktop" (string) for field app_type (allowed: non_interactive, native, web, spa, regular_web)`,
			`{"name":"x","app_type":"spa","is_first_party":"yes"}`, `Invalid value "yes" (string) for field is_first_party (expected boolean)`},
		{"PATCH", "/clients/" + cid, `{"token_endpoint_auth_method":"mtls"}`, "field token_endpoint_auth_method (allowed: client_secret_basic",
			`{"name":42}`, "Invalid value 42 (number) for field name (expected string)"},
		{"POST", "/resource-servers", `{"identifier":"urn:x","token_dialect":"jwt"}`, "field token_dialect (allowed: access_token, access_token_authz)",
			`{"identifier":["urn:x"]}`, "for field identifier (expected string)"},
		{"PATCH", "/resource-servers/" + rsid, `{"signing_alg":"RS512"}`, "field signing_alg (allowed: RS256, PS256, ES256, EdDSA)",
			`{"token_lifetime":"3600"}`, `Invalid value "3600" (string) for field token_lifetime (expected integer)`},
		{"POST", "/client-grants", `{"client_id":"x","audience":"y","scope":[1]}`, "field scope[0] (expected string)",
			`{"client_id":1,"audience":"y","scope":[]}`, "field client_id (expected string)"},
		{"PATCH", "/client-grants/" + gid, `{"scope":["s",{"a":1}]}`, "field scope[1] (expected string)",
			`{"scope":"s"}`, "field scope (expected array of strings)"},
		{"PATCH", "/tenants/settings", `{"session_cookie":{"mode":"always"}}`, "field session_cookie.mode (allowed: persistent, non-persistent)",
			`{"session_lifetime":"1"}`, "field session_lifetime (expected number)"},
	}
	big := `{"description":"` + strings.Repeat("a", 300<<10) + `"}`
	for _, ep := range endpoints {
		cases := []struct {
			name, ctype, body string
			status            int
			code, msg         string
		}{
			{"malformed JSON", "", `{"name":`, 400, "invalid_body", "not valid JSON"},
			{"syntax error", "", `{"name" "x"}`, 400, "invalid_body", "not valid JSON"},
			{"array", "", `[1,2]`, 400, "invalid_body", "Expected type object but found type array"},
			{"null", "", `null`, 400, "invalid_body", "Expected type object"},
			{"empty", "", ``, 400, "invalid_body", "empty"},
			{"two values", "", `{} {}`, 400, "invalid_body", "more than one JSON value"},
			{"oversized", "", big, 413, "request_entity_too_large", "larger than"},
			{"text/plain", "text/plain", `{}`, 415, "unsupported_media_type", "application/json"},
			{"form", "application/x-www-form-urlencoded", `a=b`, 415, "unsupported_media_type", "application/json"},
			{"latin1", "application/json; charset=iso-8859-1", `{}`, 415, "unsupported_media_type", "utf-8"},
			{"unknown field", "", `{"bogus":1}`, 400, "invalid_body", "Additional properties not allowed: bogus"},
			{"duplicate key", "", `{"bogus":1,"bogus":2}`, 400, "invalid_body", `Duplicate key "bogus"`},
			{"escaped duplicate key", "", `{"description":"a","descr\u0069ption":"b"}`, 400, "invalid_body", `Duplicate key "description"`},
			{"nested duplicate key", "", `{"x":{"y":[{"a":1,"a":2}]}}`, 400, "invalid_body", `Duplicate key "x.y[0].a"`},
			{"invalid enum", "", ep.enumBody, 400, "invalid_body", ep.enumMsg},
			{"wrong type", "", ep.typeBody, 400, "invalid_body", ep.typeMsg},
		}
		for _, tt := range cases {
			t.Run(ep.method+" "+ep.path+"/"+tt.name, func(t *testing.T) {
				r := e.do(t, req{method: ep.method, path: ep.path, body: tt.body, ctype: tt.ctype})
				wantError(t, r, tt.status, tt.code, tt.msg)
			})
		}
		t.Run(ep.method+" "+ep.path+"/no content type", func(t *testing.T) {
			r := e.do(t, req{method: ep.method, path: ep.path, body: `{}`, ctype: "-"})
			wantError(t, r, 415, "unsupported_media_type")
		})
	}
}

// TestBodyAccepts: charset utf-8 in any case is fine, and every problem
// is reported at once, each naming its field.
func TestBodyAccepts(t *testing.T) {
	e := sharedEnv(t)
	r := e.do(t, req{method: "POST", path: "/clients", ctype: "application/json;charset=UTF-8", body: `{"name":"charset","app_type":"spa"}`})
	wantStatus(t, r, 201)
	r = e.do(t, req{method: "POST", path: "/clients", body: `{"app_type":"desktop","name":5,"bogus":1,"redirect_uris":["https://x/#frag"],"allowed_origins":["https://x/path"]}`})
	err := wantError(t, r, 400, "invalid_body", "field app_type", "field name", "bogus", "redirect_uris[0]", "allowed_origins[0]")
	if !strings.HasPrefix(err.Message, "Payload validation error: '") {
		t.Errorf("message %q", err.Message)
	}
	wantError(t, e.do(t, req{method: "POST", path: "/clients", body: `{"app_type":"spa"}`}), 400, "invalid_body", "Missing required property: name")
	wantError(t, e.do(t, req{method: "POST", path: "/clients", body: `{"name":"","app_type":"spa"}`}), 400, "invalid_body", "field name")
	wantError(t, e.do(t, req{method: "POST", path: "/clients", body: `{"name":"x","app_type":"spa","callbacks":["https://a/cb"],"redirect_uris":[]}`}), 400, "invalid_body", "redirect_uris and callbacks differ")
	wantError(t, e.do(t, req{method: "POST", path: "/clients", body: `{"name":"x","app_type":"spa","cross_origin_auth":true,"cross_origin_authentication":false}`}), 400, "invalid_body", "cross_origin_auth and cross_origin_authentication differ")
	// Both spellings with one value are fine.
	r = e.do(t, req{method: "POST", path: "/clients", body: `{"name":"both","app_type":"spa","callbacks":["https://a/cb"],"redirect_uris":["https://a/cb"],"cross_origin_auth":true,"cross_origin_authentication":true}`})
	wantStatus(t, r, 201)
	if got := r.object(t); fmt.Sprint(got["redirect_uris"]) != "[https://a/cb]" || got["cross_origin_auth"] != true {
		t.Errorf("both spellings: %v", got)
	}
	wantError(t, e.do(t, req{method: "POST", path: "/clients", body: `{"name":"x","app_type":"spa","a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`}), 400, "invalid_body", "nests deeper")
}

// TestClientFieldValidation covers each client field's rule.
func TestClientFieldValidation(t *testing.T) {
	e := sharedEnv(t)
	base := func(extra string) string { return `{"name":"v","app_type":"web",` + extra + `}` }
	tests := []struct {
		name, body, msg string
	}{
		{"name too long", `{"name":"` + strings.Repeat("n", 33) + `","app_type":"spa"}`, "field name (at most 32 characters"},
		{"name markup", `{"name":"<script>","app_type":"spa"}`, "field name"},
		{"description too long", base(`"description":"` + strings.Repeat("d", 141) + `"`), "field description"},
		{"logo not a URL", base(`"logo_uri":"logo.png"`), "field logo_uri"},
		{"redirect relative", base(`"redirect_uris":["/cb"]`), "redirect_uris[0]"},
		{"redirect fragment", base(`"redirect_uris":["https://a/cb#x"]`), "redirect_uris[0]"},
		{"redirect wildcard", base(`"redirect_uris":["https://*.a.com/cb"]`), "redirect_uris[0]"},
		{"redirect javascript", base(`"redirect_uris":["javascript:alert(1)"]`), "javascript: scheme is not allowed"},
		{"logout data", base(`"allowed_logout_urls":["data:text/html,hi"]`), "data: scheme is not allowed"},
		{"redirect duplicate", base(`"redirect_uris":["https://a/cb","https://a/cb"]`), "duplicate entry"},
		{"origin with path", base(`"allowed_origins":["https://a.com/app"]`), "allowed_origins[0]"},
		{"origin with query", base(`"web_origins":["https://a.com?x"]`), "web_origins[0]"},
		{"origin wildcard", base(`"allowed_origins":["https://*.a.com"]`), "allowed_origins[0]"},
		{"logout relative", base(`"allowed_logout_urls":["bye"]`), "allowed_logout_urls[0]"},
		{"grant type", base(`"grant_types":["magic"]`), "grant_types[0]"},
		{"response type", base(`"response_types":["code token id_token"]`), "response_types[0]"},
		{"jwt lifetime string", base(`"jwt_configuration":{"lifetime_in_seconds":"soon"}`), "jwt_configuration.lifetime_in_seconds"},
		{"jwt lifetime range", base(`"jwt_configuration":{"lifetime_in_seconds":0}`), "jwt_configuration.lifetime_in_seconds"},
		{"jwt alg HS256", base(`"jwt_configuration":{"alg":"HS256"}`), "HS256 is not supported yet"},
		{"jwt unknown member", base(`"jwt_configuration":{"lifetime":1}`), "jwt_configuration.lifetime"},
		{"refresh rotation", base(`"refresh_token":{"rotation_type":"sometimes"}`), "refresh_token.rotation_type"},
		{"refresh leeway", base(`"refresh_token":{"leeway":-1}`), "refresh_token.leeway"},
		{"refresh idle above absolute", base(`"refresh_token":{"token_lifetime":100,"idle_token_lifetime":200,"infinite_token_lifetime":false,"infinite_idle_token_lifetime":false}`), "idle_token_lifetime"},
		{"organization_usage", base(`"organization_usage":"sometimes"`), "allowed: deny, allow, require"},
		{"organization_require_behavior", base(`"organization_require_behavior":"prompt"`), "allowed: no_prompt, pre_login_prompt"},
		{"metadata value type", base(`"client_metadata":{"a":1}`), "client_metadata.a"},
		{"metadata too many", base(`"client_metadata":{"a":"","b":"","c":"","d":"","e":"","f":"","g":"","h":"","i":"","j":"","k":""}`), "at most 10 keys"},
		{"metadata key", base(`"client_metadata":{"a b":"x"}`), "client_metadata"},
		{"metadata value length", base(`"client_metadata":{"a":"` + strings.Repeat("x", 256) + `"}`), "client_metadata.a"},
		{"mobile unknown", base(`"mobile":{"windows":{}}`), "mobile.windows"},
		{"mobile fingerprint", base(`"mobile":{"android":{"sha256_cert_fingerprints":["abc"]}}`), "mobile.android.sha256_cert_fingerprints[0]"},
		{"native social enabled", base(`"native_social_login":{"apple":{"enabled":"yes"}}`), "native_social_login.apple.enabled"},
		{"addons value", base(`"addons":{"samlp":true}`), "addons.samlp"},
		{"samlp attributes", base(`"addons":{"samlp":{"attributes":[{"name":"a"}]}}`), "addons.samlp.attributes[0].value"},
		{"initiate_login_uri http", base(`"initiate_login_uri":"http://a/login"`), "field initiate_login_uri (must be an absolute https URL)"},
		{"client_secret short", base(`"client_secret":"short"`), "field client_secret"},
		{"client_id with space", base(`"client_id":"a b"`), "field client_id"},
		{"encryption_key member", base(`"encryption_key":{"key":"x"}`), "encryption_key.key"},
		{"sso null", base(`"sso":null`), "field sso (expected boolean)"},
		{"app_type null", `{"name":"v","app_type":null}`, "field app_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(t, req{method: "POST", path: "/clients", body: tt.body}), 400, "invalid_body", tt.msg)
		})
	}
}
