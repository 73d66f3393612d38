package abi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name    string
		trigger Trigger
		in      string
		want    Result
	}{
		{"empty input", CredentialsExchange, ``, Result{}},
		{"no commands", CredentialsExchange, `{"commands":[]}`, Result{}},
		{"access token claim", CredentialsExchange,
			`{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"https://example.com/tier","value": "gold" }}]}`,
			Result{Commands: []Command{SetCustomClaim{Target: AccessToken, Name: "https://example.com/tier", Value: json.RawMessage(`"gold"`)}}}},
		{"deny", CredentialsExchange, `{"commands":[{"type":"AccessDenied","data":"no tokens on Sunday"}]}`,
			Result{Commands: []Command{AccessDenied{Reason: "no tokens on Sunday"}}}},
		{"scopes in order", CredentialsExchange,
			`{"commands":[{"type":"AddScope","data":{"target":"accessToken","scope":"read:x"}},{"type":"RemoveScope","data":{"scope":"write:x"}}]}`,
			Result{Commands: []Command{AddScope{Scope: "read:x"}, RemoveScope{Scope: "write:x"}}}},
		{"id token claim and metadata at post-login", PostLogin,
			`{"commands":[{"type":"SetCustomClaim","data":{"target":"idToken","name":"roles","value":["a","b"]}},{"type":"SetMetadata","data":{"target":"application","key":"plan","value":{"n":1}}}]}`,
			Result{Commands: []Command{
				SetCustomClaim{Target: IDToken, Name: "roles", Value: json.RawMessage(`["a","b"]`)},
				SetMetadata{Target: AppMetadata, Key: "plan", Value: json.RawMessage(`{"n":1}`)}}}},
		{"mfa", PostLogin, `{"commands":[{"type":"RequireMultifactor","data":{"provider":"any"}}]}`,
			Result{Commands: []Command{RequireMultifactor{Provider: "any"}}}},
		{"module errors", PostChangePassword, `{"errors":[{"name":"TypeError","message":"x is undefined"}]}`,
			Result{Errors: []ModuleError{{Name: "TypeError", Message: "x is undefined"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.trigger, []byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	claim := func(name string) string {
		return `{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":` + quote(name) + `,"value":1}}]}`
	}
	tests := []struct {
		name       string
		trigger    Trigger
		in         string
		restricted bool
		want       string
	}{
		{"override sub", CredentialsExchange, claim("sub"), true, `"sub" is set by the platform`},
		{"override aud", CredentialsExchange, claim("aud"), true, `"aud"`},
		{"override scope in upper case", CredentialsExchange, claim("SCOPE"), true, "restricted"},
		{"override client_id", CredentialsExchange, claim("client_id"), true, "restricted"},
		{"override gty", CredentialsExchange, claim("gty"), true, "restricted"},
		{"duplicate key hides sub", CredentialsExchange,
			`{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"ok","name":"sub","value":1}}]}`, true, "restricted"},
		{"empty claim name", CredentialsExchange, claim(""), false, "name is empty"},
		{"long claim name", CredentialsExchange, claim(strings.Repeat("a", MaxClaimNameBytes+1)), false, "limit is 256"},
		{"huge value", CredentialsExchange,
			`{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"x","value":"` + strings.Repeat("a", MaxValueBytes) + `"}}]}`, false, "value is"},
		{"missing value", CredentialsExchange, `{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"x"}}]}`, false, "value is missing"},
		{"id token claim at credentials-exchange", CredentialsExchange,
			`{"commands":[{"type":"SetCustomClaim","data":{"target":"idToken","name":"x","value":1}}]}`, false, "not available in the credentials-exchange trigger"},
		{"bad target", CredentialsExchange,
			`{"commands":[{"type":"SetCustomClaim","data":{"target":"refreshToken","name":"x","value":1}}]}`, false, "neither accessToken nor idToken"},
		{"metadata at credentials-exchange", CredentialsExchange,
			`{"commands":[{"type":"SetMetadata","data":{"target":"user","key":"x","value":1}}]}`, false, "not available"},
		{"any command at post-change-password", PostChangePassword, `{"commands":[{"type":"AccessDenied","data":"x"}]}`, false, "not available"},
		{"unknown command", CredentialsExchange, `{"commands":[{"type":"RedirectPrompt","data":{"url":"https://x"}}]}`, false, "unknown command type"},
		{"unknown field", CredentialsExchange, `{"commands":[],"logs":[]}`, false, "unknown field"},
		{"unknown data field", CredentialsExchange,
			`{"commands":[{"type":"AddScope","data":{"scope":"a","extra":1}}]}`, false, "unknown field"},
		{"deny with object", CredentialsExchange, `{"commands":[{"type":"AccessDenied","data":{"reason":"x"}}]}`, false, "must be the reason"},
		{"deny reason too long", CredentialsExchange,
			`{"commands":[{"type":"AccessDenied","data":"` + strings.Repeat("r", MaxReasonBytes+1) + `"}]}`, false, "reason must be"},
		{"scope with space", CredentialsExchange, `{"commands":[{"type":"AddScope","data":{"scope":"a b"}}]}`, false, "RFC 6749"},
		{"scope for id token", CredentialsExchange, `{"commands":[{"type":"AddScope","data":{"target":"idToken","scope":"a"}}]}`, false, "belong to the accessToken"},
		{"too many commands", CredentialsExchange,
			`{"commands":[` + strings.Repeat(`{"type":"AddScope","data":{"scope":"a"}},`, MaxCommands) + `{"type":"AddScope","data":{"scope":"a"}}]}`, false, "101 commands"},
		{"too many errors", CredentialsExchange, `{"errors":[` + strings.Repeat(`{},`, MaxErrors) + `{}]}`, false, "11 errors"},
		{"too large", CredentialsExchange, `{"commands":[]}` + strings.Repeat(" ", MaxResultBytes), false, "the limit is 65536"},
		{"trailing data", CredentialsExchange, `{"commands":[]}{}`, false, "trailing data"},
		{"not JSON", CredentialsExchange, `commands`, false, "invalid character"},
		{"not an object", CredentialsExchange, `[1]`, false, "cannot unmarshal"},
		{"unknown trigger", Trigger(99), `{}`, false, "unknown trigger 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.trigger, []byte(tt.in))
			if err == nil {
				t.Fatal("Decode accepted it")
			}
			if !errors.Is(err, ErrInvalidResult) {
				t.Errorf("error %v does not wrap ErrInvalidResult", err)
			}
			if got := errors.Is(err, ErrRestrictedClaim); got != tt.restricted {
				t.Errorf("errors.Is(ErrRestrictedClaim) = %v, want %v (%v)", got, tt.restricted, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestParseTrigger(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Trigger
	}{
		{"credentials-exchange", CredentialsExchange}, {"m2m", CredentialsExchange},
		{"post-login", PostLogin}, {"post-register", PostUserRegistration},
		{"post-user-registration", PostUserRegistration}, {"send-phone-message", SendPhoneMessage},
	} {
		got, err := ParseTrigger(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseTrigger(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if !got.Valid() {
			t.Errorf("%v is not Valid", got)
		}
	}
	if _, err := ParseTrigger("pre-login"); err == nil {
		t.Error("ParseTrigger accepted pre-login")
	}
	if Trigger(0).Valid() || Trigger(7).Valid() {
		t.Error("0 or 7 is a valid trigger")
	}
}

// FuzzDecode checks that Decode never panics and that what it accepts
// holds the ABI's invariants.
func FuzzDecode(f *testing.F) {
	f.Add(int32(2), []byte(`{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"x","value":1}}]}`))
	f.Add(int32(1), []byte(`{"commands":[{"type":"SetMetadata","data":{"target":"user","key":"k","value":[1]}},{"type":"AccessDenied","data":"r"}]}`))
	f.Add(int32(2), []byte(`{"commands":[{"type":"AddScope","data":{"scope":"a"}}],"errors":[{"name":"n","message":"m"}]}`))
	f.Add(int32(1), []byte(`{"commands":[{"type":"RequireMultifactor","data":{"provider":"any","options":{"a":1}}}]}`))
	f.Fuzz(func(t *testing.T, trigger int32, data []byte) {
		res, err := Decode(Trigger(trigger), data)
		if err != nil {
			if !errors.Is(err, ErrInvalidResult) {
				t.Fatalf("error %v does not wrap ErrInvalidResult", err)
			}
			return
		}
		if len(res.Commands) > MaxCommands || len(res.Errors) > MaxErrors {
			t.Fatalf("limits exceeded: %d commands, %d errors", len(res.Commands), len(res.Errors))
		}
		for _, c := range res.Commands {
			if !allowed[Trigger(trigger)][allowKey(c)] {
				t.Fatalf("%s accepted for trigger %d", allowKey(c), trigger)
			}
			switch c := c.(type) {
			case SetCustomClaim:
				if RestrictedClaims[strings.ToLower(c.Name)] || c.Name == "" || len(c.Value) > MaxValueBytes || !json.Valid(c.Value) {
					t.Fatalf("accepted claim %q = %s", c.Name, c.Value)
				}
			case SetMetadata:
				if c.Key == "" || !json.Valid(c.Value) {
					t.Fatalf("accepted metadata %q = %s", c.Key, c.Value)
				}
			case AddScope:
				if checkScope(c.Scope) != nil {
					t.Fatalf("accepted scope %q", c.Scope)
				}
			case RemoveScope:
				if checkScope(c.Scope) != nil {
					t.Fatalf("accepted scope %q", c.Scope)
				}
			case AccessDenied:
				if len(c.Reason) > MaxReasonBytes {
					t.Fatalf("accepted reason of %d bytes", len(c.Reason))
				}
			}
		}
	})
}
