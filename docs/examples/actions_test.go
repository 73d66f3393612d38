package examples

import (
	"strings"
	"testing"
)

// TestActionsDocQuotesTheScript keeps docs/actions.md's walk-through true:
// every command line of its sh blocks is a line of actions.sh, which
// TestActionsScriptAgainstDev runs.
func TestActionsDocQuotesTheScript(t *testing.T) {
	docQuotesScript(t, "actions.md", "## Create, test, deploy, bind", "actions.sh", 20)
}

// TestActionsScriptAgainstDev runs docs/examples/actions.sh against a
// fresh authok dev: a WAT action created, tested, deployed and bound puts
// its secret in the token, then refuses the client once it is blocked.
func TestActionsScriptAgainstDev(t *testing.T) {
	d := startDev(t)
	needTools(t, "bash", "curl", "jq", "wat2wasm", "base64")
	env := cleanEnv("AUTHOK_URL="+d.url, "AUTHOK_BOOTSTRAP="+d.bootstrap)
	tests := []struct {
		name      string
		env       []string
		wantCode  int
		wantOut   []string // in stdout
		wantError string   // in stderr
	}{
		{"the walk-through", env, 0, []string{
			`"type": "SetCustomClaim"`,
			"actions.sh: the token says https://example.com/tier = gold",
			`actions.sh: the blocked client is refused: {"error":"access_denied","error_description":"this client may not get tokens"}`,
		}, ""},
		{"the same API again is a conflict", env, 5, nil, `API not created: {"statusCode":409`},
		{"another API, the same action name", append(env, "AUTHOK_API=urn:example:billing"), 5, nil, `action not created: {"statusCode":409`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, ".", tt.env, "bash", "actions.sh")
			ok := code == tt.wantCode && strings.Contains(errOut, tt.wantError)
			for _, w := range tt.wantOut {
				ok = ok && strings.Contains(out, w)
			}
			if !ok {
				t.Fatalf("exit %d (want %d)\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tt.wantCode, tt.wantOut, out, tt.wantError, errOut)
			}
		})
	}
}
