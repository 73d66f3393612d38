package sdk

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// run registers h for t, dispatches event and returns the result JSON.
func run(t *testing.T, trig Trigger, event string, h Handler) string {
	t.Helper()
	old, had := handlers[trig]
	handlers[trig] = h
	t.Cleanup(func() {
		if had {
			handlers[trig] = old
		} else {
			delete(handlers, trig)
		}
	})
	return string(dispatch(trig, []byte(event)))
}

// TestAPICommands checks that every api method of D.3 emits its command
// exactly as docs/actions-abi.md writes it.
func TestAPICommands(t *testing.T) {
	tests := []struct {
		name string
		call func(*API)
		want string
	}{
		{"accessToken.setCustomClaim", func(a *API) { a.AccessToken.SetCustomClaim("https://example.com/tier", "gold") },
			`{"type":"SetCustomClaim","data":{"target":"accessToken","name":"https://example.com/tier","value":"gold"}}`},
		{"accessToken.setCustomClaim object", func(a *API) { a.AccessToken.SetCustomClaim("x", map[string]any{"a": []int{1, 2}}) },
			`{"type":"SetCustomClaim","data":{"target":"accessToken","name":"x","value":{"a":[1,2]}}}`},
		{"accessToken.setCustomClaim null", func(a *API) { a.AccessToken.SetCustomClaim("x", nil) },
			`{"type":"SetCustomClaim","data":{"target":"accessToken","name":"x","value":null}}`},
		{"accessToken.addScope", func(a *API) { a.AccessToken.AddScope("read:extra") },
			`{"type":"AddScope","data":{"target":"accessToken","scope":"read:extra"}}`},
		{"accessToken.removeScope", func(a *API) { a.AccessToken.RemoveScope("write:all") },
			`{"type":"RemoveScope","data":{"target":"accessToken","scope":"write:all"}}`},
		{"idToken.setCustomClaim", func(a *API) { a.IDToken.SetCustomClaim("https://example.com/roles", []string{"admin"}) },
			`{"type":"SetCustomClaim","data":{"target":"idToken","name":"https://example.com/roles","value":["admin"]}}`},
		{"access.deny", func(a *API) { a.Access.Deny("no tokens on Sunday") },
			`{"type":"AccessDenied","data":"no tokens on Sunday"}`},
		{"user.setUserMetadata", func(a *API) { a.User.SetUserMetadata("theme", "dark") },
			`{"type":"SetMetadata","data":{"target":"user","key":"theme","value":"dark"}}`},
		{"user.setAppMetadata", func(a *API) { a.User.SetAppMetadata("plan", map[string]int{"seats": 3}) },
			`{"type":"SetMetadata","data":{"target":"application","key":"plan","value":{"seats":3}}}`},
		{"multifactor.enable", func(a *API) { a.Multifactor.Enable("any", nil) },
			`{"type":"RequireMultifactor","data":{"provider":"any"}}`},
		{"multifactor.enable with options", func(a *API) {
			a.Multifactor.Enable("guardian", map[string]bool{"allowRememberBrowser": true})
		}, `{"type":"RequireMultifactor","data":{"provider":"guardian","options":{"allowRememberBrowser":true}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, PostLogin, `{}`, func(_ *Event, api *API) error { tt.call(api); return nil })
			if want := `{"commands":[` + tt.want + `]}`; got != want {
				t.Errorf("result = %s\nwant       %s", got, want)
			}
		})
	}
}

func TestDispatchResults(t *testing.T) {
	tests := []struct {
		name    string
		trigger Trigger
		event   string
		handler Handler
		want    string
	}{
		{"commands in order", CredentialsExchange, `{"secrets":{"TIER":"gold"}}`, func(ev *Event, api *API) error {
			api.AccessToken.SetCustomClaim("https://example.com/tier", ev.Secrets["TIER"])
			api.Access.Deny("blocked")
			return nil
		}, `{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"https://example.com/tier","value":"gold"}},{"type":"AccessDenied","data":"blocked"}]}`},
		{"no commands", PostChangePassword, `{}`, func(*Event, *API) error { return nil }, `{}`},
		{"handler error keeps earlier commands", PostLogin, `{}`, func(_ *Event, api *API) error {
			api.AccessToken.AddScope("a")
			return errors.New("boom")
		}, `{"commands":[{"type":"AddScope","data":{"target":"accessToken","scope":"a"}}],"errors":[{"name":"Error","message":"boom"}]}`},
		{"a value JSON cannot encode is the action's error", PostLogin, `{}`, func(_ *Event, api *API) error {
			api.AccessToken.SetCustomClaim("x", func() {})
			return nil
		}, `{"errors":[{"name":"TypeError","message":"SetCustomClaim: json: unsupported type: func()"}]}`},
		{"a long error message is cut to 1 KiB", PostLogin, `{}`, func(*Event, *API) error {
			return errors.New(strings.Repeat("é", 600))
		}, `{"errors":[{"name":"Error","message":"` + strings.Repeat("é", 512) + `"}]}`},
		{"no handler", SendPhoneMessage, `{}`, nil, `{"errors":[{"name":"Error","message":"no handler for trigger 6"}]}`},
		{"event not JSON", CredentialsExchange, `{`, func(*Event, *API) error { return nil },
			`{"errors":[{"name":"SyntaxError","message":"unexpected end of JSON input"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if tt.handler == nil {
				got = string(dispatch(tt.trigger, []byte(tt.event)))
			} else {
				got = run(t, tt.trigger, tt.event, tt.handler)
			}
			if got != tt.want {
				t.Errorf("result = %s\nwant       %s", got, tt.want)
			}
		})
	}
}

func TestManyErrorsAreCut(t *testing.T) {
	got := run(t, PostLogin, `{}`, func(_ *Event, api *API) error {
		for range 12 {
			api.AccessToken.SetCustomClaim("x", make(chan int))
		}
		return nil
	})
	var r struct{ Errors []json.RawMessage }
	if err := json.Unmarshal([]byte(got), &r); err != nil || len(r.Errors) != maxErrors {
		t.Fatalf("%d errors (%v), want %d: %s", len(r.Errors), err, maxErrors, got)
	}
}

// TestEventFields decodes each trigger's event as the host sends it and
// checks the typed fields; fields the SDK does not know are ignored.
func TestEventFields(t *testing.T) {
	tests := []struct {
		name    string
		trigger Trigger
		event   string
		check   func(t *testing.T, ev *Event)
	}{
		{"credentials-exchange", CredentialsExchange, `{
			"secrets":{"TIER":"gold"},"tenant":{"id":"acme"},
			"client":{"client_id":"c1","name":"Billing","metadata":{"plan":"pro"}},
			"resource_server":{"identifier":"https://api.example.com"},
			"accessToken":{"scope":["read:a","write:a"],"customClaims":{"https://example.com/x":1}},
			"transaction":{"requested_scopes":["read:a"]},
			"request":{"ip":"203.0.113.7","method":"POST","hostname":"acme.authok.io","user_agent":"curl/8","language":"fr",
				"body":{"grant_type":"client_credentials","audience":"https://api.example.com"},
				"geoip":{"countryCode":"FR","latitude":48.85,"timeZone":"Europe/Paris"}},
			"future_field":{"nested":[1,2,3]}}`,
			func(t *testing.T, ev *Event) {
				eq(t, "secret", ev.Secrets["TIER"], "gold")
				eq(t, "tenant", ev.Tenant.ID, "acme")
				eq(t, "client", ev.Client, Client{ClientID: "c1", Name: "Billing", Metadata: map[string]string{"plan": "pro"}})
				eq(t, "resource server", ev.ResourceServer.Identifier, "https://api.example.com")
				eq(t, "scope", ev.AccessToken.Scope, []string{"read:a", "write:a"})
				eq(t, "claims", ev.AccessToken.CustomClaims, map[string]any{"https://example.com/x": float64(1)})
				eq(t, "requested", ev.Transaction.RequestedScopes, []string{"read:a"})
				eq(t, "ip", ev.Request.IP, "203.0.113.7")
				eq(t, "method", ev.Request.Method, "POST")
				eq(t, "hostname", ev.Request.Hostname, "acme.authok.io")
				eq(t, "user agent", ev.Request.UserAgent, "curl/8")
				eq(t, "language", ev.Request.Language, "fr")
				eq(t, "body", ev.Request.Body.Get("grant_type"), "client_credentials")
				eq(t, "geoip", ev.Request.GeoIP, GeoIP{CountryCode: "FR", Latitude: 48.85, TimeZone: "Europe/Paris"})
				eq(t, "raw kept", strings.Contains(string(ev.Raw), "future_field"), true)
				eq(t, "no organization", ev.Organization, (*Organization)(nil))
			}},
		{"post-login", PostLogin, `{
			"user":{"user_id":"auth0|u1","username":"ann","email":"ann@example.com","email_verified":true,
				"phone_number":"+33600000000","phone_number_verified":true,"name":"Ann","nickname":"ann","given_name":"Ann",
				"family_name":"Lee","picture":"https://p/a.png","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-02-02T03:04:05Z",
				"identities":[{"user_id":12345,"provider":"github","connection":"github","is_social":true},{"user_id":"u1","provider":"authok","connection":"db","isSocial":false}],
				"user_metadata":{"theme":"dark"},"app_metadata":{"plan":"pro","blocked":false},"multifactor":["guardian"]},
			"connection":{"id":"con_1","name":"db","strategy":"authok","metadata":{"region":"eu"}},
			"organization":{"id":"org_1","name":"acme","display_name":"Acme","metadata":{"tier":"gold"}},
			"authorization":{"roles":["admin","viewer"]},
			"authentication":{"methods":[{"name":"pwd","timestamp":"2026-03-01T00:00:00Z"}]},
			"stats":{"logins_count":7},
			"transaction":{"protocol":"oidc-basic-profile","prompt":["login"],"locale":"en","requested_scopes":["openid","profile"],
				"redirect_uri":"https://app.example.com/cb","login_hint":"ann","response_mode":"query","response_type":["code"],
				"state":"xyz","acr_values":["urn:x"],"ui_locales":["en","fr"]},
			"request":{"query":{"prompt":"login","scope":["openid","profile"],"max_age":0},"headers":{"x-forwarded-proto":"https"}}}`,
			func(t *testing.T, ev *Event) {
				u := ev.User
				eq(t, "user id", u.UserID, "auth0|u1")
				eq(t, "user", []any{u.Username, u.Email, u.EmailVerified, u.PhoneNumber, u.PhoneVerified, u.Name, u.Nickname, u.GivenName, u.FamilyName, u.Picture, u.CreatedAt, u.UpdatedAt},
					[]any{"ann", "ann@example.com", true, "+33600000000", true, "Ann", "ann", "Ann", "Lee", "https://p/a.png", "2026-01-02T03:04:05Z", "2026-02-02T03:04:05Z"})
				eq(t, "identities", u.Identities, []Identity{{UserID: "12345", Provider: "github", Connection: "github", IsSocial: true}, {UserID: "u1", Provider: "authok", Connection: "db"}})
				eq(t, "user metadata", u.UserMetadata, map[string]any{"theme": "dark"})
				eq(t, "app metadata", u.AppMetadata, map[string]any{"plan": "pro", "blocked": false})
				eq(t, "connection", ev.Connection, Connection{ID: "con_1", Name: "db", Strategy: "authok", Metadata: map[string]string{"region": "eu"}})
				eq(t, "organization", ev.Organization, &Organization{ID: "org_1", Name: "acme", DisplayName: "Acme", Metadata: map[string]string{"tier": "gold"}})
				eq(t, "roles", ev.Authorization.Roles, []string{"admin", "viewer"})
				eq(t, "authentication", ev.Authentication.Methods, []AuthenticationMethod{{Name: "pwd", Timestamp: "2026-03-01T00:00:00Z"}})
				eq(t, "logins", ev.Stats.LoginsCount, 7)
				eq(t, "transaction", ev.Transaction, Transaction{Protocol: "oidc-basic-profile", Prompt: []string{"login"}, Locale: "en",
					RequestedScopes: []string{"openid", "profile"}, RedirectURI: "https://app.example.com/cb", LoginHint: "ann",
					ResponseMode: "query", ResponseType: []string{"code"}, State: "xyz", ACRValues: []string{"urn:x"}, UILocales: []string{"en", "fr"}})
				eq(t, "query", ev.Request.Query, Params{"prompt": {"login"}, "scope": {"openid", "profile"}, "max_age": {"0"}})
				eq(t, "header", ev.Request.Headers.Get("x-forwarded-proto"), "https")
				eq(t, "missing header", ev.Request.Headers.Get("cookie"), "")
			}},
		{"pre-user-registration", PreUserRegistration, `{
			"user":{"email":"new@example.com","username":"newbie","user_metadata":{"ref":"ad"}},
			"connection":{"id":"con_1","name":"db","strategy":"authok"},
			"request":{"body":{"email":"new@example.com","nested":{"a":1}},"query":null}}`,
			func(t *testing.T, ev *Event) {
				eq(t, "no user id yet", ev.User.UserID, "")
				eq(t, "email", ev.User.Email, "new@example.com")
				eq(t, "connection", ev.Connection.Name, "db")
				eq(t, "nested body as JSON text", ev.Request.Body.Get("nested"), `{"a":1}`)
				eq(t, "null query", ev.Request.Query, Params(nil))
			}},
		{"post-user-registration", PostUserRegistration, `{"user":{"user_id":"authok|u2","email":"new@example.com"},"connection":{"strategy":"authok"}}`,
			func(t *testing.T, ev *Event) {
				eq(t, "user id", ev.User.UserID, "authok|u2")
				eq(t, "strategy", ev.Connection.Strategy, "authok")
			}},
		{"post-change-password", PostChangePassword, `{"user":{"user_id":"authok|u3","email":"c@example.com"},"request":{"ip":"198.51.100.1"}}`,
			func(t *testing.T, ev *Event) {
				eq(t, "user id", ev.User.UserID, "authok|u3")
				eq(t, "ip", ev.Request.IP, "198.51.100.1")
			}},
		{"send-phone-message", SendPhoneMessage, `{"message_options":{"recipient":"+15555550100","text":"Your code is 123456","message_type":"sms",
			"action":"second-factor-authentication","language":"en","code":"123456"},"user":{"user_id":"authok|u4"}}`,
			func(t *testing.T, ev *Event) {
				eq(t, "message", ev.MessageOptions, MessageOptions{Recipient: "+15555550100", Text: "Your code is 123456", MessageType: "sms",
					Action: "second-factor-authentication", Language: "en", Code: "123456"})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen *Event
			got := run(t, tt.trigger, tt.event, func(ev *Event, _ *API) error { seen = ev; return nil })
			if got != `{}` || seen == nil {
				t.Fatalf("result %s, handler called: %v", got, seen != nil)
			}
			tt.check(t, seen)
		})
	}
}

// TestEventWrongTypes: a known field of the wrong type is the event's
// error, reported as the action's SyntaxError-like failure.
func TestEventWrongTypes(t *testing.T) {
	for _, ev := range []string{`{"secrets":[1]}`, `{"request":{"body":"x"}}`, `{"user":{"identities":{}}}`, `[]`} {
		got := run(t, PostLogin, ev, func(*Event, *API) error { return nil })
		if !strings.HasPrefix(got, `{"errors":[{"name":"SyntaxError","message":"json: cannot unmarshal`) {
			t.Errorf("%s: result %s", ev, got)
		}
	}
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
