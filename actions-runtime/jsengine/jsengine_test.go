package jsengine_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/actions-runtime/jsengine"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
)

// invoke runs v once for trigger on event and fails t on a sandbox error.
func invoke(t testing.TB, v *sandbox.Version, trigger abi.Trigger, event string) sandbox.Output {
	t.Helper()
	out, err := v.Invoke(ctx, sandbox.Call{Trigger: trigger, Event: []byte(event), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Invoke %s: %v (logs %v)", v.Key(), err, out.Logs)
	}
	return out
}

func claim(t testing.TB, out sandbox.Output, name string) string {
	t.Helper()
	for _, c := range out.Result.Commands {
		if sc, ok := c.(abi.SetCustomClaim); ok && sc.Name == name {
			return string(sc.Value)
		}
	}
	t.Fatalf("no claim %q in %+v (errors %+v, logs %v)", name, out.Result.Commands, out.Result.Errors, out.Logs)
	return ""
}

func stdout(out sandbox.Output) string {
	var b strings.Builder
	for _, l := range out.Logs {
		b.WriteString(l.Stream + ":" + l.Text)
	}
	return b.String()
}

func TestEntryPointNames(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	tests := []struct {
		trigger abi.Trigger
		name    string
	}{
		{abi.PostLogin, "onExecutePostLogin"},
		{abi.PostLogin, "onPostLogin"},
		{abi.CredentialsExchange, "onExecuteCredentialsExchange"},
		{abi.PreUserRegistration, "onExecutePreUserRegistration"},
		{abi.PostUserRegistration, "onExecutePostUserRegistration"},
		{abi.PostUserRegistration, "onPostUserRegister"},
		{abi.PostChangePassword, "onExecutePostChangePassword"},
		{abi.SendPhoneMessage, "onExecuteSendPhoneMessage"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Both CommonJS styles: exports.X and module.exports = {...}.
			src := fmt.Sprintf("exports.%s = async (event, api) => { console.log('ran %s for', event.tenant.id); };", tt.name, tt.name)
			if i%2 == 1 {
				src = fmt.Sprintf("module.exports = { %s: async function (event, api) { console.log('ran %s for', event.tenant.id); } };", tt.name, tt.name)
			}
			v := loadJS(t, rt, "t/entry/"+tt.name, src, tt.trigger)
			out := invoke(t, v, tt.trigger, `{"tenant":{"id":"t1"}}`)
			if len(out.Result.Errors) > 0 {
				t.Fatalf("errors: %+v", out.Result.Errors)
			}
			if got, want := stdout(out), "stdout:ran "+tt.name+" for t1\n"; got != want {
				t.Errorf("logs %q, want %q", got, want)
			}
			// Another trigger's entry point is not exported: a reported error.
			other := abi.CredentialsExchange
			if tt.trigger == other {
				other = abi.PostLogin
			}
			out = invoke(t, v, other, `{}`)
			if len(out.Result.Errors) != 1 || !strings.Contains(out.Result.Errors[0].Message, "exports no") {
				t.Errorf("calling the %s trigger: %+v, want an error naming the missing entry point", other, out.Result.Errors)
			}
		})
	}
}

func TestAPICommands(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name    string
		trigger abi.Trigger
		body    string
		want    []abi.Command
		errs    []string // "Name: message" substrings, in order
	}{
		{"credentials-exchange", abi.CredentialsExchange, `
			api.accessToken.setCustomClaim("https://example.com/tier", {level: "gold", n: [1, 2]})
				.accessToken.addScope("read:extra")
				.accessToken.removeScope("write:all");
			api.access.deny("invalid_request", "no tokens on Sundays");`,
			[]abi.Command{
				abi.SetCustomClaim{Target: abi.AccessToken, Name: "https://example.com/tier", Value: raw(`{"level":"gold","n":[1,2]}`)},
				abi.AddScope{Scope: "read:extra"}, abi.RemoveScope{Scope: "write:all"},
				abi.AccessDenied{Reason: "no tokens on Sundays"},
			}, nil},
		{"credentials-exchange has no idToken", abi.CredentialsExchange, `
			api.accessToken.setCustomClaim("https://example.com/a", 1);
			api.idToken.setCustomClaim("https://example.com/b", 2);`,
			[]abi.Command{abi.SetCustomClaim{Target: abi.AccessToken, Name: "https://example.com/a", Value: raw(`1`)}},
			[]string{"TypeError: "}},
		{"credentials-exchange has no user", abi.CredentialsExchange, `api.user.setUserMetadata("k", 1);`, nil, []string{"TypeError: "}},
		{"post-login", abi.PostLogin, `
			api.accessToken.setCustomClaim("https://example.com/a", "x");
			api.idToken.setCustomClaim("https://example.com/b", true);
			api.accessToken.addScope("s1");
			api.accessToken.removeScope("s2");
			api.user.setUserMetadata("color", "blue");
			api.user.setAppMetadata("plan", {tier: 2});
			api.multifactor.enable("any", {allowRememberBrowser: false});
			api.multifactor.enable("duo");
			api.access.deny("locked");`,
			[]abi.Command{
				abi.SetCustomClaim{Target: abi.AccessToken, Name: "https://example.com/a", Value: raw(`"x"`)},
				abi.SetCustomClaim{Target: abi.IDToken, Name: "https://example.com/b", Value: raw(`true`)},
				abi.AddScope{Scope: "s1"}, abi.RemoveScope{Scope: "s2"},
				abi.SetMetadata{Target: abi.UserMetadata, Key: "color", Value: raw(`"blue"`)},
				abi.SetMetadata{Target: abi.AppMetadata, Key: "plan", Value: raw(`{"tier":2}`)},
				abi.RequireMultifactor{Provider: "any", Options: raw(`{"allowRememberBrowser":false}`)},
				abi.RequireMultifactor{Provider: "duo"},
				abi.AccessDenied{Reason: "locked"},
			}, nil},
		{"pre-user-registration", abi.PreUserRegistration, `
			api.user.setUserMetadata("a", 1);
			api.user.setAppMetadata("b", [2]);
			api.access.deny("no signups");`,
			[]abi.Command{
				abi.SetMetadata{Target: abi.UserMetadata, Key: "a", Value: raw(`1`)},
				abi.SetMetadata{Target: abi.AppMetadata, Key: "b", Value: raw(`[2]`)},
				abi.AccessDenied{Reason: "no signups"},
			}, nil},
		{"pre-user-registration has no accessToken", abi.PreUserRegistration, `api.accessToken.setCustomClaim("https://x/a", 1);`, nil, []string{"TypeError: "}},
		{"post-user-registration has no api methods", abi.PostUserRegistration, `api.access.deny("x");`, nil, []string{"TypeError: "}},
		{"post-change-password has no api methods", abi.PostChangePassword, `api.user.setUserMetadata("a", 1);`, nil, []string{"TypeError: "}},
		{"send-phone-message has no api methods", abi.SendPhoneMessage, `api.accessToken.addScope("a");`, nil, []string{"TypeError: "}},
		{"a claim name must be a string", abi.CredentialsExchange, `api.accessToken.setCustomClaim(42, "x");`, nil,
			[]string{"TypeError: api setCustomClaim: the name must be a string"}},
		{"a claim value must be JSON", abi.CredentialsExchange, `api.accessToken.setCustomClaim("https://x/a", undefined);`, nil,
			[]string{"TypeError: api setCustomClaim: the value must be JSON"}},
		{"a cyclic value throws", abi.CredentialsExchange, `const o = {}; o.o = o; api.accessToken.setCustomClaim("https://x/a", o);`, nil,
			[]string{"TypeError: "}},
	}
	names := map[abi.Trigger]string{
		abi.PostLogin: "onExecutePostLogin", abi.CredentialsExchange: "onExecuteCredentialsExchange",
		abi.PreUserRegistration: "onExecutePreUserRegistration", abi.PostUserRegistration: "onExecutePostUserRegistration",
		abi.PostChangePassword: "onExecutePostChangePassword", abi.SendPhoneMessage: "onExecuteSendPhoneMessage",
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf("exports.%s = async (event, api) => {%s\n};", names[tt.trigger], tt.body)
			v := loadJS(t, rt, fmt.Sprintf("t/api/%d", i), src, tt.trigger)
			out := invoke(t, v, tt.trigger, `{}`)
			if !reflect.DeepEqual(out.Result.Commands, tt.want) {
				t.Errorf("commands\n got %#v\nwant %#v", out.Result.Commands, tt.want)
			}
			if len(out.Result.Errors) != len(tt.errs) {
				t.Fatalf("errors %+v, want %d", out.Result.Errors, len(tt.errs))
			}
			for j, e := range out.Result.Errors {
				if got := e.Name + ": " + e.Message; !strings.HasPrefix(got, tt.errs[j]) {
					t.Errorf("error %q, want it to start with %q", got, tt.errs[j])
				}
			}
		})
	}
}

func TestSecretsConsoleAndEvent(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	v := loadJS(t, rt, "t/secrets/v1", `
const tier = (event) => event.secrets.TIER_FOR[event.client.client_id] || "basic";
exports.onExecuteCredentialsExchange = async (event, api) => {
  console.log("client", event.client.client_id, {scopes: event.accessToken.scope});
  console.info("info line");
  console.warn("careful", 1, true, null, undefined);
  console.error(new Error("shown with its stack"));
  api.accessToken.setCustomClaim("https://example.com/tier", tier(event));
  api.accessToken.setCustomClaim("https://example.com/key", event.secrets.API_KEY.slice(0, 3));
};`, abi.CredentialsExchange)
	event := `{"secrets":{"API_KEY":"abc123","TIER_FOR":{"m2m-1":"gold"}},"client":{"client_id":"m2m-1"},"accessToken":{"scope":["read"]}}`
	out := invoke(t, v, abi.CredentialsExchange, event)
	if got := claim(t, out, "https://example.com/tier"); got != `"gold"` {
		t.Errorf("tier = %s", got)
	}
	if got := claim(t, out, "https://example.com/key"); got != `"abc"` {
		t.Errorf("key = %s", got)
	}
	logs := stdout(out)
	for _, want := range []string{
		`stdout:client m2m-1 {"scopes":["read"]}` + "\n",
		"stdout:info line\n",
		"stderr:careful 1 true null undefined\n",
		"stderr:Error: shown with its stack\n\tat",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs %q lack %q", logs, want)
		}
	}
	// The next call's event is fresh: another client, no leftover.
	out = invoke(t, v, abi.CredentialsExchange, `{"secrets":{"API_KEY":"xyz","TIER_FOR":{}},"client":{"client_id":"other"},"accessToken":{"scope":[]}}`)
	if got := claim(t, out, "https://example.com/tier"); got != `"basic"` {
		t.Errorf("second call: tier = %s", got)
	}
}

func TestAsyncAndErrors(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	tests := []struct {
		name, body string
		claim      string // the claim https://x/v, when the handler succeeds
		err        string // "Name: message" prefix of the single error
		stack      string
	}{
		{"await", `const v = await Promise.resolve(1).then(x => x + 1); await null; api.accessToken.setCustomClaim("https://x/v", v);`, `2`, "", ""},
		{"a chain of microtasks", `let v = 0; for (let i = 0; i < 100; i++) v = await new Promise(r => r(v + 1)); api.accessToken.setCustomClaim("https://x/v", v);`, `100`, "", ""},
		{"sync function", `api.accessToken.setCustomClaim("https://x/v", "sync");`, `"sync"`, "", ""},
		{"thrown error", `throw new RangeError("too far");`, "", "RangeError: too far", "action.js:"},
		{"rejection", `await Promise.reject(new TypeError("bad type"));`, "", "TypeError: bad type", "action.js:"},
		{"a thrown string", `throw "just a string";`, "", "Error: just a string", ""},
		{"reference error", `notDefined.x = 1;`, "", "ReferenceError: notDefined is not defined", ""},
		{"never settles", `await new Promise(() => {});`, "", "Error: the handler's promise never settled", ""},
		{"runaway recursion", `const f = (n) => f(n + 1) + 1; f(0);`, "", "RangeError: Maximum call stack size exceeded", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := "async (event, api) =>"
			if tt.name == "sync function" {
				fn = "function (event, api)"
			}
			v := loadJS(t, rt, fmt.Sprintf("t/async/%d", i), fmt.Sprintf("exports.onExecuteCredentialsExchange = %s {\n%s\n};", fn, tt.body), abi.CredentialsExchange)
			out := invoke(t, v, abi.CredentialsExchange, `{}`)
			if tt.err == "" {
				if len(out.Result.Errors) > 0 {
					t.Fatalf("errors: %+v", out.Result.Errors)
				}
				if got := claim(t, out, "https://x/v"); got != tt.claim {
					t.Errorf("claim = %s, want %s", got, tt.claim)
				}
				return
			}
			if len(out.Result.Errors) != 1 {
				t.Fatalf("errors %+v, want one", out.Result.Errors)
			}
			e := out.Result.Errors[0]
			if got := e.Name + ": " + e.Message; !strings.HasPrefix(got, tt.err) {
				t.Errorf("error %q, want %q", got, tt.err)
			}
			if !strings.Contains(e.Stack, tt.stack) {
				t.Errorf("stack %q lacks %q", e.Stack, tt.stack)
			}
			// The instance survives a reported error: the next call runs.
			if _, err := v.Invoke(ctx, sandbox.Call{Trigger: abi.CredentialsExchange, Event: []byte(`{}`), Timeout: 5 * time.Second}); err != nil {
				t.Errorf("next call: %v", err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	// The endless top-level loop runs into its own runtime's start-up
	// deadline (the one that bounds _initialize and authok_init).
	loopRT := newRuntime(t, sandbox.Config{InitTimeout: 3 * time.Second})
	eng := engine(t)
	ce := []abi.Trigger{abi.CredentialsExchange}
	tests := []struct {
		name     string
		src      string
		triggers []abi.Trigger
		want     []string // substrings of the error; nil: accepted
	}{
		{"accepted", `exports.onExecuteCredentialsExchange = async (event, api) => {};`, ce, nil},
		{"Authok names", `module.exports = {onPostLogin: () => {}, onPostUserRegister: () => {}};`,
			[]abi.Trigger{abi.PostLogin, abi.PostUserRegistration}, nil},
		{"no triggers: syntax only", `const x = 1;`, nil, nil},
		{"top-level return, as in a CommonJS module", "if (true) return;\nexports.onExecuteCredentialsExchange = () => {};", nil, nil},
		{"syntax error", "exports.onExecuteCredentialsExchange = async (event, api) => {\n  const x = ;\n};", ce,
			[]string{"SyntaxError: line 2, column 13"}},
		{"syntax error on line 1", "exports.x = (;", ce, []string{"SyntaxError: line 1, column 14"}},
		{"require of an npm package", "const axios = require('axios');\nexports.onExecuteCredentialsExchange = async () => {};", ce,
			[]string{`require("axios") on line 1`, "npm dependencies are not supported in this version", "modules available to require: none"}},
		{"require of a built-in", "exports.onExecuteCredentialsExchange = async () => {\n\n  const fs = require('fs');\n};", ce,
			[]string{`require("fs") on line 3`, "npm dependencies are not supported"}},
		{"require with a computed name", "const m = 'c' + 'rypto';\nexports.onExecuteCredentialsExchange = async () => require(m);", ce,
			[]string{"require(...) on line 2 (not a string literal)"}},
		{"missing entry point", `exports.onExecutePostLogin = async () => {};`, ce,
			[]string{"exports no onExecuteCredentialsExchange function"}},
		{"missing entry points name both names", `exports.other = 1;`, []abi.Trigger{abi.PostLogin},
			[]string{"onExecutePostLogin or onPostLogin"}},
		{"entry point that is not a function", `exports.onExecuteCredentialsExchange = "nope";`, ce,
			[]string{"exports no onExecuteCredentialsExchange function"}},
		{"top-level throw", "throw new Error('boom at load');", ce, []string{"top-level code threw: Error: boom at load"}},
		{"top-level endless loop", "while (true) {}", ce, []string{"top-level code failed", "timed out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rt
			if strings.Contains(tt.name, "endless") {
				r = loopRT
			}
			err := eng.Check(ctx, r, tt.src, tt.triggers)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want it accepted", err)
				}
				return
			}
			if !errors.Is(err, action.ErrInvalidCode) {
				t.Fatalf("Check = %v, want action.ErrInvalidCode", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if s := rt.Stats(); s.Versions != 0 || s.LiveInstances != 0 {
		t.Errorf("Check kept something: %+v", s)
	}
	// The engine failing to start before the source runs is not the
	// action's fault: a start-up deadline already past.
	slow := newRuntime(t, sandbox.Config{InitTimeout: time.Nanosecond})
	err := eng.Check(ctx, slow, `exports.onExecuteCredentialsExchange = async () => {};`, ce)
	if err == nil || errors.Is(err, action.ErrInvalidCode) || !errors.Is(err, sandbox.ErrTimeout) {
		t.Errorf("Check on an engine that could not start = %v, want a timeout that is not ErrInvalidCode", err)
	}
}

func TestEmbeddedEngine(t *testing.T) {
	wasm, err := jsengine.Module()
	switch {
	case errors.Is(err, jsengine.ErrNoEngine):
		if !strings.Contains(err.Error(), "make engine") {
			t.Errorf("ErrNoEngine says %q; it must say how to build the engine", err)
		}
		if _, err := jsengine.Embedded(); !errors.Is(err, jsengine.ErrNoEngine) {
			t.Errorf("Embedded = %v, want ErrNoEngine", err)
		}
	case err != nil:
		t.Fatal(err)
	case !strings.HasPrefix(string(wasm), "\x00asm"):
		t.Errorf("the embedded engine is not WebAssembly")
	}
}

// TestEventIsWhatJSONParseMakes: the engine builds the event itself (for
// speed); it must equal JSON.parse's, escapes, numbers and a __proto__ key
// included, and an invalid event is JSON.parse's SyntaxError.
func TestEventIsWhatJSONParseMakes(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	v := loadJS(t, rt, "t/event/v1", `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim("https://x/same", JSON.stringify(event.inner) === JSON.stringify(JSON.parse(event.raw)));
  api.accessToken.setCustomClaim("https://x/inner", event.inner);
  api.accessToken.setCustomClaim("https://x/checks", [
    Object.getPrototypeOf(event.inner) === Object.prototype, ({}).polluted === undefined,
    Object.keys(event.inner).includes("__proto__"), Array.isArray(event.inner.arr), Object.is(event.inner.z, -0),
    event.inner.big === 9007199254740993, typeof event.inner.i === "number"]);
};`, abi.CredentialsExchange)
	inner := `{"s":"a\"b\\c\/\u00e9\ud83d\ude00\n","u":"é😀","n":-1.5e3,"i":42,"big":9007199254740993,"z":-0,` +
		`"arr":[1,[2,{"x":null}],true,false,"",0.5],"__proto__":{"polluted":true},"empty":{},"ea":[] , "sp" : [ ] }`
	raw, _ := json.Marshal(inner)
	out := invoke(t, v, abi.CredentialsExchange, `{"raw":`+string(raw)+`,"inner":`+inner+`}`)
	if len(out.Result.Errors) > 0 {
		t.Fatalf("errors %+v", out.Result.Errors)
	}
	if got := claim(t, out, "https://x/same"); got != "true" {
		t.Errorf("the event differs from JSON.parse's: %s", claim(t, out, "https://x/inner"))
	}
	if got := claim(t, out, "https://x/checks"); got != "[true,true,true,true,true,true,true]" {
		t.Errorf("checks %s", got)
	}
	for _, bad := range []string{`not json`, `{"a":1,}`, `{"a":01}`, `{"a":1} x`} {
		out := invoke(t, v, abi.CredentialsExchange, bad)
		if len(out.Result.Errors) != 1 || out.Result.Errors[0].Name != "SyntaxError" {
			t.Errorf("event %q: errors %+v, want a SyntaxError", bad, out.Result.Errors)
		}
	}
}
