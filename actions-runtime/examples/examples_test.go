package examples

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/actions-runtime/sandbox/sandboxtest"
)

var ctx = context.Background()

// triggers are the six triggers of D.1; every one has a Go and a WAT
// example.
var triggers = []abi.Trigger{abi.PostLogin, abi.CredentialsExchange, abi.PreUserRegistration,
	abi.PostUserRegistration, abi.PostChangePassword, abi.SendPhoneMessage}

var (
	rtOnce sync.Once
	rt     *sandbox.Runtime
	rtErr  error
)

// runtime is one sandbox for every test, with its compiled code on disk
// under the user cache directory so a rerun does not compile the Go
// examples again. The deadline is generous: a loaded machine is slow, and
// speed is not what these tests check.
func runtime(t *testing.T) *sandbox.Runtime {
	t.Helper()
	rtOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		rt, rtErr = sandbox.New(ctx, sandbox.Config{
			Timeout:  5 * time.Second,
			CacheDir: filepath.Join(dir, "authok-actions-examples-wazero"),
		})
	})
	if rtErr != nil {
		t.Fatalf("sandbox.New: %v", rtErr)
	}
	return rt
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rt != nil {
		_ = rt.Close(ctx)
	}
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	built   = map[string][]byte{}
)

// module builds one example: "go/<trigger>" with the Go toolchain (cached
// by source hash), "wat/<name>" with wat2wasm (skipped without it, except
// under CI=true).
func module(t *testing.T, name string) []byte {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := built[name]; ok {
		return b
	}
	var wasm []byte
	if dir, ok := strings.CutPrefix(name, "go/"); ok {
		var err error
		if wasm, err = sandboxtest.BuildGo(filepath.Join("go", dir), filepath.Join("..", "sdk")); err != nil {
			t.Fatalf("building %s: %v", name, err)
		}
	} else {
		wasm = sandboxtest.WAT(t, name+".wat")
	}
	built[name] = wasm
	return wasm
}

// load validates the example as an upload does and loads it.
func load(t *testing.T, name string) *sandbox.Version {
	t.Helper()
	r := runtime(t)
	wasm := module(t, name)
	if err := r.Validate(ctx, wasm); err != nil {
		t.Fatalf("Validate %s: %v", name, err)
	}
	v, err := r.Load(ctx, "examples/"+name, wasm)
	if err != nil {
		t.Fatalf("Load %s: %v", name, err)
	}
	return v
}

// TestEveryTriggerHasBothExamples keeps the folders and the table below
// in step: one Go program and one WAT file per trigger, nothing else.
func TestEveryTriggerHasBothExamples(t *testing.T) {
	var want, goDirs, watFiles []string
	for _, tr := range triggers {
		want = append(want, tr.ID())
	}
	sort.Strings(want)
	entries, err := os.ReadDir("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		goDirs = append(goDirs, e.Name())
	}
	files, err := filepath.Glob(filepath.Join("wat", "*.wat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if n := strings.TrimSuffix(filepath.Base(f), ".wat"); n != "minimal" {
			watFiles = append(watFiles, n)
		}
	}
	if !reflect.DeepEqual(goDirs, want) || !reflect.DeepEqual(watFiles, want) {
		t.Fatalf("go/ has %v, wat/ has %v; want %v in both", goDirs, watFiles, want)
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.module] = true
	}
	for _, id := range want {
		for _, m := range []string{"go/" + id, "wat/" + id} {
			if !covered[m] {
				t.Errorf("no test case runs %s", m)
			}
		}
	}
}

// Realistic events, as the host sends them (compact JSON, keys in the
// order encoding/json writes a map: sorted, so a user's identities come
// before its user_id).
const (
	exchangeEvent = `{
		"secrets": {"TIER": "gold"},
		"tenant": {"id": "acme"},
		"client": {"client_id": "billing-svc", "name": "Billing", "metadata": {"plan": "basic"}},
		"resource_server": {"identifier": "https://api.example.com"},
		"accessToken": {"scope": ["read:invoices", "write:all"], "customClaims": {}},
		"transaction": {"requested_scopes": ["read:invoices", "write:all"]},
		"request": {"ip": "203.0.113.7", "method": "POST", "hostname": "acme.authok.io", "user_agent": "Go-http-client/1.1",
			"language": "en", "body": {"grant_type": "client_credentials", "audience": "https://api.example.com", "client_id": "billing-svc"},
			"geoip": {"countryCode": "FR", "countryName": "France"}}}`
	loginEvent = `{
		"secrets": {},
		"tenant": {"id": "acme"},
		"client": {"client_id": "web", "name": "Web app", "metadata": {}},
		"connection": {"id": "con_db", "name": "Username-Password", "strategy": "authok", "metadata": {}},
		"organization": {"id": "org_1", "name": "acme-corp", "display_name": "Acme Corp", "metadata": {}},
		"authorization": {"roles": ["admin"]},
		"authentication": {"methods": [{"name": "pwd", "timestamp": "2026-12-05T10:00:00Z"}]},
		"stats": {"logins_count": 42},
		"resource_server": {"identifier": "https://api.example.com"},
		"transaction": {"protocol": "oidc-basic-profile", "prompt": ["login"], "locale": "en", "requested_scopes": ["openid", "profile"],
			"redirect_uri": "https://app.example.com/callback", "response_mode": "query", "response_type": ["code"], "state": "af0ifjsldkj"},
		"request": {"ip": "203.0.113.7", "method": "GET", "hostname": "acme.authok.io", "user_agent": "Mozilla/5.0",
			"query": {"client_id": "web", "scope": "openid profile", "state": "af0ifjsldkj"}, "geoip": {"countryCode": "FR"}},
		"user": {"user_id": "authok|u1", "username": "ann", "email": "ann@example.com", "email_verified": true, "name": "Ann Lee",
			"identities": [{"provider": "authok", "user_id": "u1", "connection": "Username-Password", "isSocial": false}],
			"app_metadata": {"blocked": false, "plan": "pro"}, "user_metadata": {"theme": "dark"}, "created_at": "2026-01-02T03:04:05Z"}}`
	registrationEvent = `{
		"secrets": {"BLOCKED_DOMAINS": "junk.example, spam.example", "BLOCKED_DOMAIN": "spam.example"},
		"tenant": {"id": "acme"},
		"client": {"client_id": "web", "name": "Web app"},
		"connection": {"id": "con_db", "name": "Username-Password", "strategy": "authok"},
		"transaction": {"protocol": "oidc-basic-profile", "locale": "en", "requested_scopes": ["openid"]},
		"request": {"ip": "203.0.113.9", "method": "POST", "hostname": "acme.authok.io", "user_agent": "Mozilla/5.0",
			"query": {"utm_source": "newsletter"}, "body": {"email": "new@example.com", "connection": "Username-Password"}},
		"user": {"email": "new@example.com", "username": "newbie", "user_metadata": {}, "app_metadata": {}}}`
	postRegistrationEvent = `{
		"tenant": {"id": "acme"},
		"connection": {"id": "con_db", "name": "Username-Password", "strategy": "authok"},
		"request": {"ip": "203.0.113.9", "method": "POST", "hostname": "acme.authok.io"},
		"user": {"user_id": "authok|u2", "email": "new@example.com", "username": "newbie",
			"identities": [{"provider": "authok", "user_id": "u2", "connection": "Username-Password"}]}}`
	passwordEvent = `{
		"tenant": {"id": "acme"},
		"connection": {"id": "con_db", "name": "Username-Password", "strategy": "authok"},
		"request": {"ip": "198.51.100.4", "method": "POST", "hostname": "acme.authok.io", "user_agent": "Mozilla/5.0"},
		"user": {"user_id": "authok|u3", "email": "c@example.com",
			"identities": [{"provider": "authok", "user_id": "u3", "connection": "Username-Password"}]}}`
	phoneEvent = `{
		"secrets": {"SMS_API_KEY": "k-123"},
		"tenant": {"id": "acme"},
		"client": {"client_id": "web", "name": "Web app"},
		"request": {"ip": "203.0.113.7", "method": "POST", "hostname": "acme.authok.io"},
		"user": {"user_id": "authok|u4", "phone_number": "+15555550100"},
		"message_options": {"recipient": "+15555550100", "text": "Your verification code is 123456", "message_type": "sms",
			"action": "second-factor-authentication", "language": "en", "code": "123456"}}`
)

// event returns base with the values at the dotted paths replaced, as
// compact JSON with sorted keys.
func event(t *testing.T, base string, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		t.Fatalf("event: %v", err)
	}
	for path, v := range set {
		keys := strings.Split(path, ".")
		obj := m
		for _, k := range keys[:len(keys)-1] {
			obj = obj[k].(map[string]any)
		}
		obj[keys[len(keys)-1]] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("event: %v", err)
	}
	return b
}

func claim(target abi.Token, name, value string) abi.Command {
	return abi.SetCustomClaim{Target: target, Name: name, Value: json.RawMessage(value)}
}

func logs(lines ...string) []sandbox.Log {
	var out []sandbox.Log
	for _, l := range lines {
		out = append(out, sandbox.Log{Stream: "log", Text: l})
	}
	return out
}

type exampleCase struct {
	name     string
	module   string // "go/<trigger>" or "wat/<name>"
	trigger  abi.Trigger
	base     string
	set      map[string]any
	commands []abi.Command
	errors   []abi.ModuleError
	logs     []sandbox.Log
}

var cases = []exampleCase{
	{name: "claim from the secret, write:all dropped", module: "go/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"gold"`), abi.RemoveScope{Scope: "write:all"}},
		logs:     logs("client billing-svc asks for https://api.example.com")},
	{name: "no secret, pro plan keeps write:all", module: "go/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		set:      map[string]any{"secrets": map[string]any{}, "client.metadata": map[string]any{"plan": "pro"}},
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)},
		logs:     logs("client billing-svc asks for https://api.example.com")},
	{name: "blocked client", module: "go/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		set:      map[string]any{"client.metadata": map[string]any{"blocked": "true"}},
		commands: []abi.Command{abi.AccessDenied{Reason: "this client may not get tokens"}},
		logs:     logs("client billing-svc asks for https://api.example.com")},
	{name: "claim from the secret", module: "wat/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"gold"`)},
		logs:     logs("wat: client billing-svc")},
	{name: "no secret", module: "wat/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		set:      map[string]any{"secrets": map[string]any{}},
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)},
		logs:     logs("wat: client billing-svc")},
	{name: "escaped secret copied as is", module: "wat/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		set:      map[string]any{"secrets": map[string]any{"TIER": `gold "plus"`}},
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"gold \"plus\""`)},
		logs:     logs("wat: client billing-svc")},
	{name: "blocked client", module: "wat/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		set:      map[string]any{"client.metadata": map[string]any{"blocked": "true"}},
		commands: []abi.Command{abi.AccessDenied{Reason: "this client may not get tokens"}},
		logs:     logs("wat: client billing-svc")},
	{name: "a blocked key elsewhere does not count", module: "wat/credentials-exchange", trigger: abi.CredentialsExchange, base: exchangeEvent,
		set:      map[string]any{"request.body": map[string]any{"metadata": map[string]any{"blocked": "true"}}, "client.name": `{"blocked":"true"}`},
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"gold"`)},
		logs:     logs("wat: client billing-svc")},
	{name: "the minimal module", module: "wat/minimal", trigger: abi.CredentialsExchange, base: exchangeEvent,
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"gold"`)}},

	{name: "admin with a password only", module: "go/post-login", trigger: abi.PostLogin, base: loginEvent,
		commands: []abi.Command{
			claim(abi.IDToken, "https://example.com/roles", `["admin"]`),
			claim(abi.AccessToken, "https://example.com/org", `"acme-corp"`),
			abi.RequireMultifactor{Provider: "any", Options: json.RawMessage(`{"allowRememberBrowser":false}`)},
			abi.SetMetadata{Target: abi.AppMetadata, Key: "last_login_country", Value: json.RawMessage(`"FR"`)},
		},
		logs: logs("login 42 of authok|u1")},
	{name: "viewer, no organization, no geoip", module: "go/post-login", trigger: abi.PostLogin, base: loginEvent,
		set:      map[string]any{"authorization.roles": []string{"viewer"}, "organization": nil, "request.geoip": map[string]any{}},
		commands: []abi.Command{claim(abi.IDToken, "https://example.com/roles", `["viewer"]`)},
		logs:     logs("login 42 of authok|u1")},
	{name: "blocked user", module: "go/post-login", trigger: abi.PostLogin, base: loginEvent,
		set:      map[string]any{"user.app_metadata": map[string]any{"blocked": true}},
		commands: []abi.Command{abi.AccessDenied{Reason: "this account is blocked"}}},
	{name: "connection in the ID token", module: "wat/post-login", trigger: abi.PostLogin, base: loginEvent,
		commands: []abi.Command{
			claim(abi.IDToken, "https://example.com/connection", `"Username-Password"`),
			claim(abi.AccessToken, "https://example.com/via", `"wat"`),
		}},
	{name: "no connection", module: "wat/post-login", trigger: abi.PostLogin, base: loginEvent,
		set:      map[string]any{"connection": nil},
		commands: []abi.Command{claim(abi.AccessToken, "https://example.com/via", `"wat"`)}},
	{name: "blocked user", module: "wat/post-login", trigger: abi.PostLogin, base: loginEvent,
		set:      map[string]any{"user.app_metadata": map[string]any{"blocked": true}},
		commands: []abi.Command{abi.AccessDenied{Reason: "this account is blocked"}}},

	{name: "source and plan", module: "go/pre-user-registration", trigger: abi.PreUserRegistration, base: registrationEvent,
		commands: []abi.Command{
			abi.SetMetadata{Target: abi.UserMetadata, Key: "signup_source", Value: json.RawMessage(`"newsletter"`)},
			abi.SetMetadata{Target: abi.AppMetadata, Key: "plan", Value: json.RawMessage(`"free"`)},
		}},
	{name: "blocked domain in any case", module: "go/pre-user-registration", trigger: abi.PreUserRegistration, base: registrationEvent,
		set:      map[string]any{"user.email": "Bob@SPAM.example"},
		commands: []abi.Command{abi.AccessDenied{Reason: "sign-ups from spam.example are closed"}}},
	{name: "plan", module: "wat/pre-user-registration", trigger: abi.PreUserRegistration, base: registrationEvent,
		commands: []abi.Command{abi.SetMetadata{Target: abi.AppMetadata, Key: "plan", Value: json.RawMessage(`"free"`)}}},
	{name: "blocked domain", module: "wat/pre-user-registration", trigger: abi.PreUserRegistration, base: registrationEvent,
		set:      map[string]any{"user.email": "bob@spam.example"},
		commands: []abi.Command{abi.AccessDenied{Reason: "sign-ups from this domain are closed"}}},
	{name: "a domain that only ends like the blocked one", module: "wat/pre-user-registration", trigger: abi.PreUserRegistration, base: registrationEvent,
		set:      map[string]any{"user.email": "bob@notspam.example"},
		commands: []abi.Command{abi.SetMetadata{Target: abi.AppMetadata, Key: "plan", Value: json.RawMessage(`"free"`)}}},

	{name: "logged", module: "go/post-user-registration", trigger: abi.PostUserRegistration, base: postRegistrationEvent,
		logs: logs("new user authok|u2 (new@example.com) through Username-Password")},
	{name: "logged", module: "wat/post-user-registration", trigger: abi.PostUserRegistration, base: postRegistrationEvent,
		logs: logs("wat: new user authok|u2")},

	{name: "audited", module: "go/post-change-password", trigger: abi.PostChangePassword, base: passwordEvent,
		logs: logs("password changed for authok|u3 (Username-Password) from 198.51.100.4")},
	{name: "audited", module: "wat/post-change-password", trigger: abi.PostChangePassword, base: passwordEvent,
		logs: logs("wat: password changed for authok|u3 from 198.51.100.4")},

	{name: "sms logged, number masked", module: "go/send-phone-message", trigger: abi.SendPhoneMessage, base: phoneEvent,
		logs: logs("second-factor-authentication sms to +15*******00 (en)")},
	{name: "voice refused", module: "go/send-phone-message", trigger: abi.SendPhoneMessage, base: phoneEvent,
		set:    map[string]any{"message_options.message_type": "voice"},
		errors: []abi.ModuleError{{Name: "Error", Message: "only sms messages are supported, not voice"}}},
	{name: "sms logged", module: "wat/send-phone-message", trigger: abi.SendPhoneMessage, base: phoneEvent,
		logs: logs("wat: sms for second-factor-authentication")},
	{name: "voice refused", module: "wat/send-phone-message", trigger: abi.SendPhoneMessage, base: phoneEvent,
		set:    map[string]any{"message_options.message_type": "voice"},
		errors: []abi.ModuleError{{Name: "Error", Message: "only sms messages are supported"}}},
}

// TestExamples builds, validates and runs every example on its trigger's
// events and checks exactly what it returned and logged.
func TestExamples(t *testing.T) {
	for _, c := range cases {
		t.Run(c.module+"/"+c.name, func(t *testing.T) {
			v := load(t, c.module)
			out, err := v.Invoke(ctx, sandbox.Call{Trigger: c.trigger, Event: event(t, c.base, c.set)})
			if err != nil {
				t.Fatalf("Invoke: %v (logs %v)", err, out.Logs)
			}
			if !reflect.DeepEqual(out.Result.Commands, c.commands) {
				t.Errorf("commands = %#v\nwant       %#v", out.Result.Commands, c.commands)
			}
			if !reflect.DeepEqual(out.Result.Errors, c.errors) {
				t.Errorf("errors = %#v, want %#v", out.Result.Errors, c.errors)
			}
			if !reflect.DeepEqual(out.Logs, c.logs) || out.LogsTruncated {
				t.Errorf("logs = %#v (truncated %v), want %#v", out.Logs, out.LogsTruncated, c.logs)
			}
		})
	}
}

// TestExamplesRefuseOtherTriggers: each example answers an error result,
// not a crash, for a trigger it does not handle.
func TestExamplesRefuseOtherTriggers(t *testing.T) {
	for _, tr := range triggers {
		other := abi.PostChangePassword
		if tr == other {
			other = abi.PostLogin
		}
		for _, m := range []struct{ name, want string }{
			{"go/" + tr.ID(), "no handler for trigger " + map[abi.Trigger]string{abi.PostChangePassword: "5", abi.PostLogin: "1"}[other]},
			{"wat/" + tr.ID(), "this module handles " + tr.ID() + " only"},
		} {
			t.Run(m.name, func(t *testing.T) {
				out, err := load(t, m.name).Invoke(ctx, sandbox.Call{Trigger: other, Event: []byte(`{}`)})
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				if len(out.Result.Commands) != 0 || len(out.Result.Errors) != 1 || out.Result.Errors[0].Message != m.want {
					t.Errorf("result = %#v, want the error %q", out.Result, m.want)
				}
			})
		}
	}
}

// TestWATExamplesOnOddEvents: the WAT examples' JSON reader copes with
// whitespace, missing parts and truncated input without crashing.
func TestWATExamplesOnOddEvents(t *testing.T) {
	tests := []struct {
		event string
		want  []abi.Command
	}{
		{` { "secrets" : { "TIER" : "silver" } , "client" : { "client_id" : "c" } } `, []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"silver"`)}},
		{`{}`, []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)}},
		{`{"secrets":{"TIER":"gol`, []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)}},
		{`{"secrets":"TIER","TIER":"x"}`, []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)}},
		{`[{"secrets":{"TIER":"x"}}]`, []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)}},
		{``, []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)}},
		{`{"secrets":{"TIER":"` + strings.Repeat("a", 2000) + `"}}`, []abi.Command{claim(abi.AccessToken, "https://example.com/tier", `"free"`)}},
		{`{"client":{"metadata":{"blocked":"true"}},"pad":"` + strings.Repeat("x", 200_000) + `"}`, []abi.Command{abi.AccessDenied{Reason: "this client may not get tokens"}}},
	}
	v := load(t, "wat/credentials-exchange")
	for i, tt := range tests {
		out, err := v.Invoke(ctx, sandbox.Call{Trigger: abi.CredentialsExchange, Event: []byte(tt.event)})
		if err != nil {
			t.Errorf("event %d: %v", i, err)
			continue
		}
		if !reflect.DeepEqual(out.Result.Commands, tt.want) {
			t.Errorf("event %d: commands = %#v, want %#v", i, out.Result.Commands, tt.want)
		}
	}
}
