package loadgen

import (
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{"AUTHOK_BOOTSTRAP_CLIENT_ID": "env-id", "AUTHOK_BOOTSTRAP_CLIENT_SECRET": "env-secret"}
	getenv := func(k string) string { return env[k] }
	noEnv := func(string) string { return "" }
	bootstrap := filepath.Join(t.TempDir(), "bootstrap.json")
	if err := os.WriteFile(bootstrap, []byte(`{"client_id":"file-id","client_secret":"file-secret","audience":"http://127.0.0.1:8080/api/v1/","token_url":"http://127.0.0.1:8080/oauth/token","issuer":"http://127.0.0.1:8080/"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	jwks := []string{"--scenario", "jwks", "--url", "http://127.0.0.1:8080"}

	tests := []struct {
		name    string
		args    []string
		getenv  func(string) string
		wantErr []string // every substring must appear
		check   func(t *testing.T, c *Config)
	}{
		{name: "no bound", args: jwks, getenv: noEnv, wantErr: []string{"unbounded"}},
		{name: "duration over the cap", args: append(jwks, "--duration", "11m"), getenv: noEnv, wantErr: []string{"--duration 11m0s"}},
		{name: "requests over the cap", args: append(jwks, "--requests", "10000001"), getenv: noEnv, wantErr: []string{"--requests"}},
		{name: "non-loopback URL", args: []string{"--scenario", "jwks", "--url", "http://10.0.0.5:8080", "--duration", "1s"}, getenv: noEnv, wantErr: []string{"not a loopback address"}},
		{name: "a host name that is not localhost", args: []string{"--scenario", "jwks", "--url", "http://example.com", "--requests", "1"}, getenv: noEnv, wantErr: []string{"not a loopback address"}},
		{name: "one of several URLs remote", args: []string{"--scenario", "jwks", "--url", "http://127.0.0.1:1,http://192.168.1.1:2", "--requests", "1"}, getenv: noEnv, wantErr: []string{"192.168.1.1"}},
		{name: "remote management URL", args: append(jwks, "--requests", "1", "--mgmt-url", "https://tenant.authok.cn"), getenv: noEnv, wantErr: []string{"--mgmt-url", "not a loopback"}},
		{name: "remote allowed explicitly", args: []string{"--scenario", "jwks", "--url", "http://10.0.0.5:8080", "--duration", "1s", "--allow-remote"}, getenv: noEnv,
			check: func(t *testing.T, c *Config) {
				if c.URLs[0].Host != "10.0.0.5:8080" {
					t.Errorf("URL = %v", c.URLs[0])
				}
			}},
		{name: "bad alg", args: []string{"--url", "http://127.0.0.1:8080", "--alg", "HS256", "--requests", "10"}, getenv: getenv, wantErr: []string{`--alg "HS256"`}},
		{name: "bad scenario", args: []string{"--url", "http://127.0.0.1:8080", "--scenario", "authorize", "--requests", "10"}, getenv: getenv, wantErr: []string{"--scenario"}},
		{name: "no URL", args: []string{"--scenario", "jwks", "--requests", "1"}, getenv: noEnv, wantErr: []string{"--url is required"}},
		{name: "not http", args: []string{"--scenario", "jwks", "--url", "ftp://127.0.0.1", "--requests", "1"}, getenv: noEnv, wantErr: []string{"http://"}},
		{name: "concurrency 0", args: append(jwks, "--requests", "1", "--concurrency", "0"), getenv: noEnv, wantErr: []string{"--concurrency 0"}},
		{name: "client-credentials without management client", args: []string{"--url", "http://127.0.0.1:8080", "--requests", "10"}, getenv: noEnv, wantErr: []string{"Management API client"}},
		{name: "every problem at once", args: []string{"--url", "http://10.1.1.1", "--alg", "none", "--concurrency", "-1"}, getenv: getenv,
			wantErr: []string{"loopback", "--alg", "unbounded", "--concurrency"}},
		{name: "credentials from the environment", args: []string{"--url", "http://127.0.0.1:8080/", "--duration", "20s", "--alg", "ES256"}, getenv: getenv,
			check: func(t *testing.T, c *Config) {
				if c.ClientID != "env-id" || c.ClientSecret != "env-secret" || c.Alg != "ES256" || c.Duration != 20*time.Second {
					t.Errorf("config = %+v", c)
				}
				if c.MgmtURL.String() != "http://127.0.0.1:8080" {
					t.Errorf("mgmt URL = %v, want the first --url without trailing slash", c.MgmtURL)
				}
			}},
		{name: "credentials from the bootstrap file win over the environment", args: []string{"--url", "http://localhost:8080,http://[::1]:8081", "--requests", "200", "--bootstrap-file", bootstrap}, getenv: getenv,
			check: func(t *testing.T, c *Config) {
				if c.ClientID != "file-id" || c.ClientSecret != "file-secret" || c.MgmtAudience != "http://127.0.0.1:8080/api/v1/" {
					t.Errorf("config = %+v", c)
				}
				if len(c.URLs) != 2 {
					t.Errorf("URLs = %v", c.URLs)
				}
			}},
		{name: "flags win over the bootstrap file", args: []string{"--url", "http://127.0.0.1:8080", "--requests", "1", "--bootstrap-file", bootstrap, "--client-id", "flag-id", "--client-secret", "flag-secret"}, getenv: getenv,
			check: func(t *testing.T, c *Config) {
				if c.ClientID != "flag-id" || c.ClientSecret != "flag-secret" {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "action on the jwks scenario", args: append(jwks, "--requests", "1", "--action", "a.js"), getenv: noEnv, wantErr: []string{"--action needs --scenario client-credentials"}},
		{name: "action neither js nor wasm", args: []string{"--url", "http://127.0.0.1:8080", "--requests", "1", "--action", "a.py"}, getenv: getenv, wantErr: []string{"--action a.py: want a .js or .wasm file"}},
		{name: "action without a claim to check", args: []string{"--url", "http://127.0.0.1:8080", "--requests", "1", "--action", "m.wasm", "--action-claim", ""}, getenv: getenv, wantErr: []string{"--action-claim"}},
		{name: "action with its default claim", args: []string{"--url", "http://127.0.0.1:8080", "--requests", "1", "--action", "m.WASM"}, getenv: getenv,
			check: func(t *testing.T, c *Config) {
				if c.Action != "m.WASM" || c.ActionClaim != "https://example.com/tier" {
					t.Errorf("action = %q claim %q", c.Action, c.ActionClaim)
				}
			}},
		{name: "missing bootstrap file", args: []string{"--url", "http://127.0.0.1:8080", "--requests", "1", "--bootstrap-file", bootstrap + ".missing"}, getenv: getenv, wantErr: []string{"--bootstrap-file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig(tt.args, tt.getenv, io.Discard)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.1": true, "::1": true, "localhost": true, "LOCALHOST": true,
		"0.0.0.0": false, "10.0.0.1": false, "example.com": false, "localhost.example.com": false, "": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestTokenHasClaim(t *testing.T) {
	jwt := func(payload string) string {
		return `{"access_token":"eyJhbGciOiJFUzI1NiJ9.` + base64.RawURLEncoding.EncodeToString([]byte(payload)) + `.c2ln"}`
	}
	for _, tc := range []struct {
		name, body string
		want       bool
		err        bool
	}{
		{"claim present", jwt(`{"sub":"x","https://example.com/tier":"gold"}`), true, false},
		{"claim present with a null value", jwt(`{"https://example.com/tier":null}`), true, false},
		{"claim absent", jwt(`{"sub":"x"}`), false, false},
		{"a prefix of the claim is not the claim", jwt(`{"https://example.com/tie":"gold"}`), false, false},
		{"not JSON", `nope`, false, true},
		{"not a JWT", `{"access_token":"opaque"}`, false, true},
		{"payload not base64url", `{"access_token":"a.b*c.d"}`, false, true},
		{"payload not an object", jwt(`[1]`), false, true},
	} {
		got, err := tokenHasClaim([]byte(tc.body), "https://example.com/tier")
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: tokenHasClaim = %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}
