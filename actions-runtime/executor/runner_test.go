package executor

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/actions-runtime/jsengine"
	"github.com/authok-edge/authok/actions-runtime/jsengine/jsenginetest"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/shared/model"
)

func jsEngine(t testing.TB) *jsengine.Engine {
	t.Helper()
	return jsengine.New(jsenginetest.Engine(t))
}

const jsTier = `exports.onExecuteCredentialsExchange = async (event, api) => {
  const before = Object.keys(event.accessToken.customClaims).sort().join(",");
  api.accessToken.setCustomClaim("https://example.com/js", event.secrets.VALUE + " after " + before);
};`

var ce = []abi.Trigger{abi.CredentialsExchange}

func TestCheck(t *testing.T) {
	withJS := startExecutor(t, Config{JS: jsEngine(t)})
	noJS := startExecutor(t, Config{})
	for _, tc := range []struct {
		name string
		x    *Executor
		code action.Code
		bad  string // "" when valid; else a fragment of the error
	}{
		{"module", noJS, action.Code{Runtime: "wasm", Module: guest(t)}, ""},
		{"not a module", noJS, action.Code{Runtime: "wasm", Module: []byte("hello")}, "invalid action module"},
		{"unknown runtime", noJS, action.Code{Runtime: "python", Source: "x"}, "unknown action runtime"},
		{"JavaScript", withJS, action.Code{Runtime: "node18", Source: jsTier}, ""},
		{"JavaScript, no runtime", withJS, action.Code{Source: jsTier}, ""},
		{"syntax error", withJS, action.Code{Runtime: "node18", Source: "exports.onExecuteCredentialsExchange = async (event, api) => {"}, "SyntaxError"},
		{"require", withJS, action.Code{Runtime: "node18", Source: `const axios = require("axios"); exports.onExecuteCredentialsExchange = async () => {};`}, "axios"},
		{"no entry point", withJS, action.Code{Runtime: "node18", Source: `exports.onExecutePostLogin = async () => {};`}, "onExecuteCredentialsExchange"},
		{"no engine on the node", noJS, action.Code{Runtime: "node18", Source: jsTier}, "no JavaScript engine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.x.Check(ctx, tc.code, ce)
			if tc.bad == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, action.ErrInvalidCode) || !strings.Contains(err.Error(), tc.bad) {
				t.Fatalf("Check = %v, want ErrInvalidCode naming %q", err, tc.bad)
			}
		})
	}
}

func TestTestRuns(t *testing.T) {
	x := startExecutor(t, Config{JS: jsEngine(t)})
	event := []byte(`{"accessToken":{"scope":[],"customClaims":{"https://example.com/org":"o1"}},"client":{"client_id":"c1"}}`)
	for _, tc := range []struct {
		name  string
		code  action.Code
		want  string // the commands, described
		error error
	}{
		{"module", action.Code{Runtime: "wasm", Module: guest(t), Secrets: map[string]string{"CLAIM": "https://example.com/t", "VALUE": "v"}},
			`:https://example.com/t="v"`, nil},
		{"JavaScript", action.Code{Runtime: "node18", Source: jsTier, Secrets: map[string]string{"VALUE": "js"}},
			`:https://example.com/js="js after https://example.com/org"`, nil},
		{"endless loop", action.Code{Runtime: "wasm", Module: guest(t), Secrets: map[string]string{"MODE": "loop"}}, "", sandbox.ErrTimeout},
		{"not a module", action.Code{Runtime: "wasm", Module: []byte("nope")}, "", action.ErrInvalidCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := x.Test(ctx, tc.code, abi.CredentialsExchange, event)
			if tc.error != nil {
				if !errors.Is(err, tc.error) {
					t.Fatalf("Test = %v, want %v", err, tc.error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Test: %v", err)
			}
			var cmds []Command
			for _, c := range res.Result.Commands {
				cmds = append(cmds, Command{Command: c})
			}
			if got := describe(cmds); len(got) == 0 || got[0] != tc.want {
				t.Fatalf("commands %q, want first %q", got, tc.want)
			}
		})
	}
	if _, err := x.Test(ctx, action.Code{Runtime: "wasm", Module: guest(t)}, abi.CredentialsExchange, []byte(`[1]`)); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("an array event: %v, want ErrInvalidEvent", err)
	}
	if n := x.Stats().Versions; n != 0 {
		t.Errorf("%d versions left loaded after the tests", n)
	}
}

// A JavaScript action and a Go-SDK module bound together run in binding
// order, the JS one seeing the module's claims.
func TestMixedChain(t *testing.T) {
	f := newCluster(t, Config{JS: jsEngine(t)})
	mod := f.action("module", map[string]string{"CLAIM": "https://example.com/mod", "VALUE": "m"})
	f.counter++
	js := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.counter)
	if _, err := f.leader.CreateAction(ctx, f.tenant, model.Action{
		ID: js, Name: "script", Runtime: "node18", Code: jsTier,
		SupportedTriggers: []model.ActionTrigger{{ID: "credentials-exchange", Version: "v2"}},
		Secrets:           secretList(map[string]string{"VALUE": "j"}),
	}); err != nil {
		t.Fatal(err)
	}
	f.deploy(js, nil, nil)
	f.bind(mod, js)
	want := []string{`module:https://example.com/mod="m"`, `script:https://example.com/js="j after https://example.com/mod,https://example.com/mod/seen"`}
	eventually(t, "the mixed chain", func() (bool, string) {
		cmds, err := f.run()
		got := describe(cmds)
		return err == nil && len(got) == 3 && got[0] == want[0] && got[2] == want[1], fmt.Sprintf("%q %v", got, err)
	})
}
