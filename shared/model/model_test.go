package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestTimeJSON(t *testing.T) {
	tests := []struct {
		name string
		in   Time
		want string
	}{
		{name: "milliseconds", in: NewTime(time.Date(2023, 1, 25, 19, 0, 26, 187_654_321, time.UTC)), want: `"2023-01-25T19:00:26.187Z"`},
		{name: "whole second keeps .000", in: NewTime(time.Date(2023, 1, 25, 19, 0, 26, 0, time.UTC)), want: `"2023-01-25T19:00:26.000Z"`},
		{name: "converted to UTC", in: NewTime(time.Date(2023, 1, 26, 3, 0, 26, 5_000_000, time.FixedZone("CST", 8*3600))), want: `"2023-01-25T19:00:26.005Z"`},
		{name: "non-UTC Time without NewTime", in: Time{time.Date(2023, 1, 26, 3, 0, 0, 0, time.FixedZone("CST", 8*3600))}, want: `"2023-01-25T19:00:00.000Z"`},
		{name: "zero is null", in: Time{}, want: `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("Marshal = %s, want %s", b, tt.want)
			}
			var back Time
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !back.Equal(NewTime(tt.in.Time).Time) {
				t.Fatalf("round trip = %v, want %v", back, tt.in)
			}
		})
	}
}

func TestTimeUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "nanoseconds truncated", in: `"2023-01-25T19:00:26.187999999Z"`, want: "2023-01-25T19:00:26.187Z"},
		{name: "offset", in: `"2023-01-26T03:00:26+08:00"`, want: "2023-01-25T19:00:26.000Z"},
		{name: "null", in: `null`, want: ""},
		{name: "number", in: `1674673226`, wantErr: true},
		{name: "not a time", in: `"yesterday"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Time
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Fatalf("got %q, want %q", got.String(), tt.want)
			}
		})
	}
}

func TestSigningKeyOmitsZeroTimes(t *testing.T) {
	b, err := json.Marshal(SigningKey{KID: "k", Current: true, CurrentSince: NewTime(time.Date(2024, 2, 3, 4, 5, 6, 7_000_000, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, `"current_since":"2024-02-03T04:05:06.007Z"`) {
		t.Errorf("current_since missing: %s", s)
	}
	for _, k := range []string{"current_until", "revoked_at", "pkcs8", "spki", "Version"} {
		if strings.Contains(s, k) {
			t.Errorf("%s present: %s", k, s)
		}
	}
}

func TestSigningKeyPrivateNeverMarshalled(t *testing.T) {
	p := SigningKeyPrivate{KID: "kid-1", PKCS8: []byte("PRIVATE-BYTES")}
	if _, err := json.Marshal(p); err == nil {
		t.Error("json.Marshal of private key succeeded")
	}
	if _, err := json.Marshal(struct{ K SigningKeyPrivate }{p}); err == nil {
		t.Error("json.Marshal of a struct holding a private key succeeded")
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, p); strings.Contains(s, "PRIVATE-BYTES") || strings.Contains(s, "80 82") {
			t.Errorf("Sprintf(%q) leaks: %s", verb, s)
		}
	}
}

func TestSecretRedacted(t *testing.T) {
	c := Client{ClientID: "abc", ClientSecret: "super-secret-value"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, "super-secret-value") {
			t.Errorf("Sprintf(%q) leaks the secret: %s", verb, s)
		}
	}
	b, _ := json.Marshal(c)
	if !strings.Contains(string(b), `"client_secret":"super-secret-value"`) {
		t.Errorf("JSON lacks the clear secret: %s", b)
	}
	if c.ClientSecret.Reveal() != "super-secret-value" {
		t.Error("Reveal")
	}
}

// clientFields37 is seed 002's list, the contract of API.md C.2.
var clientFields37 = []string{
	"client_id", "client_secret", "tenant", "name", "display_name", "description", "logo_uri",
	"app_type", "is_first_party", "oidc_conformant", "response_types", "grant_types",
	"token_endpoint_auth_method", "redirect_uris", "allowed_origins", "web_origins",
	"client_aliases", "allowed_clients", "allowed_logout_urls", "jwt_configuration",
	"encryption_key", "sso", "sso_disabled", "cross_origin_auth", "cross_origin_loc",
	"custom_login_page_on", "custom_login_page", "custom_login_page_preview", "form_template",
	"addons", "client_metadata", "mobile", "initiate_login_uri", "native_social_login",
	"refresh_token", "organization_usage", "organization_require_behavior",
}

func TestClientJSONFields(t *testing.T) {
	if len(clientFields37) != 37 {
		t.Fatalf("test list has %d fields", len(clientFields37))
	}
	b, err := json.Marshal(Client{OIDC: ClientOIDC{IDTokenSignedResponseAlg: "RS256", RequireAuthTime: true, RequestURIs: []string{"x"}}, Version: 9})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// client_secret is left out when empty (the Management API empties it
	// for callers without read:client_keys); TestSecretRedacted checks a
	// set one is emitted.
	want := slices.DeleteFunc(append(slices.Clone(clientFields37), "is_token_endpoint_ip_header_trusted"),
		func(k string) bool { return k == "client_secret" })
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("keys of a zero client:\n got %v\nwant %v", got, want)
	}
	for _, k := range []string{"response_types", "grant_types", "redirect_uris", "allowed_origins", "web_origins", "client_aliases", "allowed_clients", "allowed_logout_urls"} {
		if string(m[k]) != "[]" {
			t.Errorf("%s = %s, want []", k, m[k])
		}
	}
	for _, k := range []string{"addons", "client_metadata", "jwt_configuration", "encryption_key", "mobile", "native_social_login", "refresh_token"} {
		if string(m[k]) != "{}" {
			t.Errorf("%s = %s, want {}", k, m[k])
		}
	}
	// Pointer and value marshal the same.
	pb, _ := json.Marshal(&Client{})
	zb, _ := json.Marshal(Client{})
	if !bytes.Equal(pb, zb) {
		t.Error("*Client and Client marshal differently")
	}
}

func TestClientRoundTrip(t *testing.T) {
	in := Client{
		ClientID: "T3N340S-OGz5mNc5-BqxVhP9JD_NbeGQ", ClientSecret: "s", Tenant: "default", Name: "app",
		AppType: AppTypeWeb, GrantTypes: []string{GrantTypeAuthorizationCode}, RedirectURIs: []string{"https://app/cb"},
		JWTConfiguration:  JWTConfiguration{LifetimeInSeconds: 36000, Alg: SigningAlgRS256},
		Addons:            Addons{"samlp": json.RawMessage(`{"audience":"urn:x","attributes":[{"name":"email","value":"user.email"}],"unknown":1}`)},
		ClientMetadata:    map[string]string{"k": "v"},
		Mobile:            Mobile{IOS: &MobileIOS{TeamID: "T", AppBundleIdentifier: "com.x"}},
		NativeSocialLogin: NativeSocialLogin{Apple: &Enabled{Enabled: true}},
		RefreshToken:      RefreshToken{RotationType: RotationTypeRotating, ExpirationType: ExpirationTypeExpiring, TokenLifetime: 100},
		SigningKeys:       []map[string]string{{"kid": "k"}},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Client
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(out)
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	saml, ok, err := out.Addons.SAMLP()
	if err != nil || !ok || saml.Audience != "urn:x" || len(saml.Attributes) != 1 {
		t.Fatalf("SAMLP = %+v %v %v", saml, ok, err)
	}
	if _, ok, _ := (Addons{}).SAMLP(); ok {
		t.Error("SAMLP of no addons reported ok")
	}
}

func TestJWTConfigurationLifetime(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{name: "number", in: `{"lifetime_in_seconds":36000,"alg":"RS256"}`, want: 36000},
		{name: "numeric string", in: `{"lifetime_in_seconds":"36000"}`, want: 36000},
		{name: "absent", in: `{"alg":"HS256"}`, want: 0},
		{name: "null", in: `{"lifetime_in_seconds":null}`, want: 0},
		{name: "not numeric", in: `{"lifetime_in_seconds":"ten"}`, wantErr: true},
		{name: "float", in: `{"lifetime_in_seconds":1.5}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j JWTConfiguration
			err := json.Unmarshal([]byte(tt.in), &j)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v", err)
			}
			if j.LifetimeInSeconds != tt.want {
				t.Fatalf("lifetime = %d, want %d", j.LifetimeInSeconds, tt.want)
			}
		})
	}
	var j JWTConfiguration
	_ = json.Unmarshal([]byte(`{"alg":"HS256","secret_encoded":true,"scopes":{"a":1}}`), &j)
	if j.Alg != "HS256" || !j.SecretEncoded || j.Scopes["a"] != float64(1) {
		t.Fatalf("other fields lost: %+v", j)
	}
}

func TestTenantJSON(t *testing.T) {
	in := Tenant{
		ID: "default", Name: "default", DisplayName: "Default", SessionLifetime: 168,
		SessionCookie:    &SessionCookie{Mode: SessionCookiePersistent},
		ChangePassword:   &CustomPage{Enabled: true, HTML: "<p>"},
		ErrorPage:        &ErrorPage{URL: "https://x", ShowLogLink: true},
		DeviceFlow:       &DeviceFlow{Charset: "base20", Mask: "****-****"},
		UniversalLogin:   &UniversalLogin{Colors: &UniversalLoginColors{Primary: "#000", PageBackground: json.RawMessage(`{"type":"linear-gradient"}`)}},
		JWTConfiguration: &TenantJWTConfiguration{Alg: "RS256", LifetimeInSeconds: 36000},
		Flags:            map[string]bool{FlagEnableSSO: true, "some_future_flag": false},
		Config:           map[string]any{"a": "b"},
		Internal:         TenantInternal{Issuer: "https://default.us.authok.cn/", ManagementClientID: "cid"},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, hidden := range []string{"issuer", "management_client_id", "cid", "Internal", "Version"} {
		if strings.Contains(s, hidden) {
			t.Errorf("hidden %q in tenant JSON: %s", hidden, s)
		}
	}
	for _, k := range []string{`"display_name":"Default"`, `"session_cookie":{"mode":"persistent"}`, `"some_future_flag":false`, `"page_background":{"type":"linear-gradient"}`} {
		if !strings.Contains(s, k) {
			t.Errorf("missing %s in %s", k, s)
		}
	}
	var out Tenant
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(out)
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
}

func TestResourceServerAndGrantJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want []string
		not  []string
	}{
		{name: "empty resource server", v: ResourceServer{ID: "x"}, want: []string{`"scopes":[]`, `"token_lifetime":0`, `"is_system":false`}, not: []string{"signing_secret", `"client"`, "Version"}},
		{name: "resource server", v: ResourceServer{VerificationLocation: "v", SigningSecret: "hs", Options: map[string]string{"a": "b"}}, want: []string{`"verificationLocation":"v"`, `"signing_secret":"hs"`, `"options":{"a":"b"}`}},
		{name: "empty grant", v: ClientGrant{ID: "cg_x"}, want: []string{`"scope":[]`, `"client_id":""`, `"audience":""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("missing %s in %s", w, b)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(b), n) {
					t.Errorf("unexpected %s in %s", n, b)
				}
			}
		})
	}
}

func TestManagementScopes(t *testing.T) {
	scopes := ManagementScopes()
	if len(scopes) != 134 {
		t.Errorf("catalogue has %d scopes, want 134", len(scopes))
	}
	seen := map[string]bool{}
	shape := regexp.MustCompile(`^[a-z]+:[a-z_]+$`)
	for _, s := range scopes {
		if seen[s] {
			t.Errorf("duplicate scope %s", s)
		}
		seen[s] = true
		if !shape.MatchString(s) {
			t.Errorf("malformed scope %q", s)
		}
	}
	mustHave := []string{
		"read:clients", "update:clients", "delete:clients", "create:clients",
		"create:client_grants", "read:shields", "create:users_app_metadata",
		"read:user_custom_blocks", "create:user_tickets", "delete:rules_configs", "blacklist:tokens",
		"read:stats", "read:insights", "read:tenant_settings", "update:tenant_settings",
		"read:logs", "read:logs_users", "delete:anomaly_blocks", "update:triggers", "delete:grants",
		"read:guardian_factors", "update:guardian_factors", "read:guardian_enrollments",
		"delete:guardian_enrollments", "create:guardian_enrollment_tickets", "read:user_idp_tokens",
		"create:passwords_checking_job", "delete:passwords_checking_job", "create:email_templates",
		"update:mfa_policies", "read:prompts", "update:attack_protection", "read:limits",
		"delete:branding", "read:signing_keys", "create:signing_keys", "update:signing_keys",
		"create:role_members", "read:entitlements", "delete:organization_member_roles",
		"create:organization_invitations", "update:organization_connections",
	}
	for _, s := range mustHave {
		if !seen[s] {
			t.Errorf("catalogue lacks %s", s)
		}
	}
	mustNot := []string{
		ScopeUpdateCurrentUserIdentities, "delete:signing_keys", "update:stats", "create:tenant_settings",
		"update:user_custom_blocks", "delete:email_templates", "update:role_members", "update:organization_members",
		"create:rules_configs", "create:logs",
	}
	for _, s := range mustNot {
		if seen[s] {
			t.Errorf("catalogue has %s", s)
		}
	}
	// Callers own the slice.
	scopes[0] = "mutated"
	if ManagementScopes()[0] == "mutated" {
		t.Error("ManagementScopes shares its backing array")
	}
	rs := ManagementResourceServerScopes()
	if len(rs) != 134 || rs[0].Value != "read:groups" || rs[0].Description != "Read Groups" {
		t.Errorf("resource server scopes: %d, first %+v", len(rs), rs[0])
	}
}

func TestScopeDescription(t *testing.T) {
	tests := map[string]string{
		"read:client_grants":                 "Read Client Grants",
		"blacklist:tokens":                   "Blacklist Tokens",
		"create:guardian_enrollment_tickets": "Create Guardian Enrollment Tickets",
	}
	for in, want := range tests {
		if got := ScopeDescription(in); got != want {
			t.Errorf("ScopeDescription(%q) = %q, want %q", in, got, want)
		}
	}
}

// seq is a deterministic io.Reader: byte i is i mod 256.
type seq struct{ n byte }

func (s *seq) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = s.n
		s.n++
	}
	return len(p), nil
}

func TestIDs(t *testing.T) {
	nano := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tests := []struct {
		name  string
		gen   func() (string, error)
		check func(string) bool
	}{
		{name: "client_id", gen: func() (string, error) { return NewClientID(&seq{}) }, check: func(s string) bool { return len(s) == 32 && nano.MatchString(s) }},
		{name: "client_secret", gen: func() (string, error) { s, err := NewClientSecret(&seq{}); return string(s), err }, check: func(s string) bool { return len(s) == 64 && nano.MatchString(s) }},
		{name: "client grant id", gen: func() (string, error) { return NewClientGrantID(&seq{}) }, check: func(s string) bool {
			return len(s) == 27 && strings.HasPrefix(s, "cg_") && nano.MatchString(s[3:])
		}},
		{name: "resource server id", gen: func() (string, error) { return NewResourceServerID(&seq{}) }, check: func(s string) bool { return len(s) == 24 && nano.MatchString(s) }},
		{name: "kid", gen: func() (string, error) { return NewKID(&seq{}) }, check: uuid4.MatchString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.gen()
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(a) {
				t.Fatalf("malformed id %q", a)
			}
			b, _ := tt.gen()
			if a != b {
				t.Fatalf("same injected randomness gave %q and %q", a, b)
			}
		})
	}
	if got, _ := NanoID(&seq{}, 4); got != "ABCD" {
		t.Errorf("NanoID = %q, want ABCD", got)
	}
	if _, err := NanoID(bytes.NewReader([]byte{1, 2}), 4); err == nil {
		t.Error("short randomness not reported")
	}
	if _, err := NanoID(&seq{}, 0); err == nil {
		t.Error("zero length accepted")
	}
	// Every symbol of the alphabet is reachable.
	all, _ := NanoID(&seq{}, 64)
	if all != NanoIDAlphabet {
		t.Errorf("NanoID over 0..63 = %q", all)
	}
}
