package mgmtapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authok-edge/authok/control/mgmtapi"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/tokens"
)

const jsCode = "exports.onExecuteCredentialsExchange = async (event, api) => { api.accessToken.setCustomClaim('https://example.com/tier', event.secrets.TIER); };"

// jsAction is a create body for a JavaScript credentials-exchange action.
func jsAction(name string) map[string]any {
	return map[string]any{
		"name":               name,
		"supported_triggers": []map[string]any{{"id": "credentials-exchange", "version": "v2"}},
		"code":               jsCode,
		"runtime":            "node18",
		"secrets":            []map[string]any{{"name": "TIER", "value": "gold-secret-value"}},
	}
}

// wasmAction is a create body for a module action, base64 in JSON.
func wasmAction(t testing.TB, name, wat string) map[string]any {
	return map[string]any{
		"name":               name,
		"runtime":            "wasm",
		"supported_triggers": []string{"m2m"},
		"module":             base64.StdEncoding.EncodeToString(wasm(t, wat)),
	}
}

func (e *env) createAction(t testing.TB, body any) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/actions/actions", body: body})
	wantStatus(t, r, 201)
	return r.object(t)
}

// deployAction deploys and returns the version.
func (e *env) deployAction(t testing.TB, id string) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/actions/actions/" + id + "/deploy"})
	wantStatus(t, r, 200)
	return r.object(t)
}

func TestActionLifecycle(t *testing.T) {
	e := sharedEnv(t)
	name := e.unique("tier")
	act := e.createAction(t, jsAction(name))
	id, _ := act["id"].(string)
	if len(id) != 36 || act["name"] != name || act["runtime"] != "node18" || act["code"] != jsCode || act["status"] != "built" {
		t.Fatalf("created = %v", act)
	}
	if act["all_changes_deployed"] != false || act["deployed_version"] != nil {
		t.Fatalf("a new action is not deployed: %v", act)
	}
	trig := act["supported_triggers"].([]any)[0].(map[string]any)
	if trig["id"] != "credentials-exchange" || trig["version"] != "v2" {
		t.Fatalf("supported_triggers = %v", act["supported_triggers"])
	}

	// Every spelling of the path finds it: SDK, backend alias, /api/v2.
	for _, p := range []string{"/actions/actions/" + id, "/actions/" + id, "/api/v2/actions/actions/" + id, "/api/v2/actions/" + id} {
		r := e.do(t, req{path: p})
		wantStatus(t, r, 200)
		if got := r.object(t); got["id"] != id || r.header.Get("ETag") == "" {
			t.Fatalf("GET %s = %v", p, got)
		}
	}
	r := e.do(t, req{path: "/actions/actions/" + id + "?fields=id,name"})
	wantStatus(t, r, 200)
	if got := r.object(t); len(got) != 2 {
		t.Fatalf("projection = %v", got)
	}

	// Lists: envelope and the SDK's actions key; filters.
	for _, tt := range []struct {
		path  string
		total int
	}{
		{"/actions/actions?action_name=" + name, 1},
		{"/actions?action_name=" + name + "&trigger_id=m2m", 1},
		{"/api/v2/actions/actions?action_name=" + name + "&trigger=post-login", 0},
		{"/actions/actions?action_name=" + name + "&deployed=true", 0},
		{"/actions/actions?action_name=" + name + "&deployed=false&installed=false", 1},
		{"/actions/actions?action_name=" + name + "&installed=true", 0},
	} {
		r := e.do(t, req{path: tt.path})
		wantStatus(t, r, 200)
		var p struct {
			Meta    map[string]int   `json:"meta"`
			Items   []map[string]any `json:"items"`
			Actions []map[string]any `json:"actions"`
		}
		r.decode(t, &p)
		if p.Meta["total"] != tt.total || len(p.Items) != tt.total || len(p.Actions) != tt.total {
			t.Fatalf("%s: total %d items %d actions %d, want %d", tt.path, p.Meta["total"], len(p.Items), len(p.Actions), tt.total)
		}
	}

	// Deploy: version 1 runs; the draft is all deployed.
	v1 := e.deployAction(t, id)
	if v1["number"] != float64(1) || v1["deployed"] != true || v1["status"] != "pending" || v1["action_id"] != id || v1["code"] != jsCode {
		t.Fatalf("version 1 = %v", v1)
	}
	got := e.do(t, req{path: "/actions/actions/" + id}).object(t)
	if got["all_changes_deployed"] != true || got["deployed_version"].(map[string]any)["id"] != v1["id"] {
		t.Fatalf("after deploy = %v", got)
	}

	// A change of the draft leaves the deployed version as it was.
	code2 := jsCode + " // v2"
	r = e.do(t, req{method: "PATCH", path: "/actions/" + id, body: map[string]any{"code": code2}})
	wantStatus(t, r, 200)
	if got := r.object(t); got["code"] != code2 || got["all_changes_deployed"] != false {
		t.Fatalf("after PATCH = %v", got)
	}
	v2 := e.deployAction(t, id)
	if v2["number"] != float64(2) || v2["code"] != code2 {
		t.Fatalf("version 2 = %v", v2)
	}

	// Versions: newest first, under items and versions.
	r = e.do(t, req{path: "/actions/actions/" + id + "/versions"})
	wantStatus(t, r, 200)
	var vl struct {
		Items    []map[string]any `json:"items"`
		Versions []map[string]any `json:"versions"`
	}
	r.decode(t, &vl)
	if len(vl.Items) != 2 || len(vl.Versions) != 2 || vl.Items[0]["number"] != float64(2) || vl.Items[0]["deployed"] != true || vl.Items[1]["deployed"] != false {
		t.Fatalf("versions = %v", vl.Items)
	}
	r = e.do(t, req{path: "/actions/actions/" + id + "/versions/" + v1["id"].(string)})
	wantStatus(t, r, 200)
	if got := r.object(t); got["number"] != float64(1) || got["deployed"] != false {
		t.Fatalf("version 1 now = %v", got)
	}

	// Roll back to version 1 as version 3, the draft too.
	r = e.do(t, req{method: "POST", path: "/actions/actions/" + id + "/versions/" + v1["id"].(string) + "/deploy", body: map[string]any{"update_draft": true}})
	wantStatus(t, r, 200)
	if v3 := r.object(t); v3["number"] != float64(3) || v3["code"] != jsCode || v3["deployed"] != true {
		t.Fatalf("roll-back = %v", v3)
	}
	got = e.do(t, req{path: "/actions/actions/" + id}).object(t)
	if got["code"] != jsCode || got["all_changes_deployed"] != true {
		t.Fatalf("draft after roll-back with update_draft = %v", got)
	}

	// Delete through the alias; gone everywhere.
	wantStatus(t, e.do(t, req{method: "DELETE", path: "/actions/" + id}), 204)
	wantError(t, e.do(t, req{path: "/actions/actions/" + id}), 404, "inexistent_action")
	wantError(t, e.do(t, req{path: "/actions/actions/" + id + "/versions/" + v1["id"].(string)}), 404, "inexistent_action")
	// Create through the alias; the canonical delete.
	r = e.do(t, req{method: "POST", path: "/actions", body: jsAction(e.unique("gone"))})
	wantStatus(t, r, 201)
	other := r.object(t)
	wantStatus(t, e.do(t, req{method: "DELETE", path: "/actions/actions/" + other["id"].(string)}), 204)
	wantError(t, e.do(t, req{method: "DELETE", path: "/actions/actions/" + other["id"].(string)}), 404, "inexistent_action")
}

func TestActionBadInputs(t *testing.T) {
	e := sharedEnv(t)
	taken := e.unique("taken")
	e.createAction(t, jsAction(taken))
	with := func(name string, change func(map[string]any)) map[string]any {
		b := jsAction(e.unique(name))
		change(b)
		return b
	}
	big := make([]byte, mgmtapi.DefaultMaxModuleBytes+1)
	copy(big, wasm(t, watClaim))
	tests := []struct {
		name   string
		r      req
		status int
		code   string
		msgs   []string
	}{
		{"unknown trigger", req{body: with("a", func(b map[string]any) { b["supported_triggers"] = []string{"on-coffee"} })}, 400, "invalid_body", []string{`unknown trigger "on-coffee"`}},
		{"repeated trigger", req{body: with("a", func(b map[string]any) { b["supported_triggers"] = []string{"m2m", "credentials-exchange"} })}, 400, "invalid_body", []string{"given twice"}},
		{"no trigger", req{body: with("a", func(b map[string]any) { delete(b, "supported_triggers") })}, 400, "invalid_body", []string{"supported_triggers"}},
		{"unknown runtime", req{body: with("a", func(b map[string]any) { b["runtime"] = "node8" })}, 400, "invalid_body", []string{"runtime", "node16"}},
		{"no name", req{body: with("a", func(b map[string]any) { delete(b, "name") })}, 400, "invalid_body", []string{"name"}},
		{"unknown field", req{body: with("a", func(b map[string]any) { b["bogus"] = 1 })}, 400, "invalid_body", []string{"bogus"}},
		{"dependencies", req{body: with("a", func(b map[string]any) {
			b["dependencies"] = []map[string]any{{"name": "lodash", "version": "4.17.21"}}
		})}, 400, "invalid_body", []string{"npm dependencies are not supported yet"}},
		{"no entry point", req{body: with("a", func(b map[string]any) { b["code"] = "exports.onSomething = 1" })}, 400, "invalid_action_code", []string{"onExecuteCredentialsExchange"}},
		{"new secret without value", req{body: with("a", func(b map[string]any) { b["secrets"] = []map[string]any{{"name": "K"}} })}, 400, "invalid_body", []string{"value of secret"}},
		{"secret value not a string", req{body: with("a", func(b map[string]any) {
			b["secrets"] = []map[string]any{{"name": "K", "value": 12345678}}
		})}, 400, "invalid_body", []string{"secrets[0].value"}},
		{"duplicate name", req{body: jsAction(taken)}, 409, "conflict", []string{taken}},
		{"code for wasm", req{body: with("a", func(b map[string]any) { b["runtime"] = "wasm" })}, 400, "invalid_body", []string{"module"}},
		{"module for js", req{body: with("a", func(b map[string]any) {
			b["module"] = base64.StdEncoding.EncodeToString(wasm(t, watClaim))
		})}, 400, "invalid_body", []string{"module needs runtime wasm"}},
		{"module not base64", req{body: with("a", func(b map[string]any) {
			delete(b, "code")
			b["runtime"], b["module"] = "wasm", "@@@"
		})}, 400, "invalid_body", []string{"not base64"}},
		{"module without exports", req{body: wasmAction(t, e.unique("w"), watNoExports)}, 400, "invalid_action_code", []string{"authok_on_trigger"}},
		{"module importing env", req{body: wasmAction(t, e.unique("w"), watEnvImport)}, 400, "invalid_action_code", []string{"env", "fetch"}},
		{"not wasm", req{body: []byte("definitely not wasm"), ctype: "application/wasm", path: "/actions/actions?name=x&supported_triggers=m2m"}, 400, "invalid_action_code", nil},
		{"raw upload, unknown trigger", req{body: wasm(t, watClaim), ctype: "application/wasm", path: "/actions/actions?name=x&supported_triggers=nope"}, 400, "invalid_query_string", []string{"nope"}},
		{"raw upload too large", req{body: big, ctype: "application/wasm", path: "/actions/actions?name=x&supported_triggers=m2m"}, 413, "request_entity_too_large", []string{"module"}},
		{"base64 module too large", req{body: map[string]any{"name": "x", "runtime": "wasm", "supported_triggers": []string{"m2m"},
			"module": base64.StdEncoding.EncodeToString(big)}}, 413, "request_entity_too_large", nil},
		{"wrong media type", req{body: "x", ctype: "text/plain"}, 415, "unsupported_media_type", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.method = "POST"
			if tt.r.path == "" {
				tt.r.path = "/actions/actions"
			}
			wantError(t, e.do(t, tt.r), tt.status, tt.code, tt.msgs...)
		})
	}

	// PATCH: the same rules, and the update refuses a rename onto a taken
	// name and keeps the record unchanged.
	act := e.createAction(t, jsAction(e.unique("patched")))
	path := "/actions/actions/" + act["id"].(string)
	for _, tt := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"rename onto a taken name", map[string]any{"name": taken}, 409, "conflict"},
		{"bad code", map[string]any{"code": "nothing"}, 400, "invalid_action_code"},
		{"other id", map[string]any{"id": "x"}, 400, "invalid_body"},
		{"to wasm without a module", map[string]any{"runtime": "wasm"}, 400, "invalid_body"},
	} {
		wantError(t, e.do(t, req{method: "PATCH", path: path, body: tt.body}), tt.status, tt.code)
	}
	if got := e.do(t, req{path: path}).object(t); got["code"] != jsCode || got["name"] != act["name"] {
		t.Fatalf("a refused PATCH changed the action: %v", got)
	}
	wantError(t, e.do(t, req{method: "PATCH", path: "/actions/actions/nope", body: map[string]any{"name": "x"}}), 404, "inexistent_action")
	wantError(t, e.do(t, req{method: "DELETE", path: path + "?force=maybe"}), 400, "invalid_query_string")
	wantError(t, e.do(t, req{path: "/actions/actions?trigger_id=nope"}), 400, "invalid_query_string")
	wantError(t, e.do(t, req{path: "/actions/actions?deployed=sometimes"}), 400, "invalid_query_string")
	wantError(t, e.do(t, req{path: path + "/versions/nope"}), 404, "inexistent_action_version")
	wantError(t, e.do(t, req{method: "POST", path: path + "/deploy", body: map[string]any{"update_draft": true}}), 400, "invalid_body")
}

func TestActionIfMatch(t *testing.T) {
	e := sharedEnv(t)
	act := e.createAction(t, jsAction(e.unique("etag")))
	path := "/actions/actions/" + act["id"].(string)
	r := e.do(t, req{path: path})
	tag := r.header.Get("ETag")
	wantError(t, e.do(t, req{method: "PATCH", path: path, body: map[string]any{"name": e.unique("x")}, headers: map[string]string{"If-Match": `"1"`}}), 412, "precondition_failed")
	r = e.do(t, req{method: "PATCH", path: path, body: map[string]any{"name": e.unique("y")}, headers: map[string]string{"If-Match": tag}})
	wantStatus(t, r, 200)
	if r.header.Get("ETag") == tag {
		t.Fatal("the ETag did not change")
	}
	wantError(t, e.do(t, req{method: "PATCH", path: path, body: map[string]any{"name": e.unique("z")}, headers: map[string]string{"If-Match": tag}}), 412, "precondition_failed")
}

func TestActionSecrets(t *testing.T) {
	e := sharedEnv(t)
	act := e.createAction(t, jsAction(e.unique("secretive")))
	id := act["id"].(string)
	const secret = "gold-secret-value"
	secrets := act["secrets"].([]any)
	s0 := secrets[0].(map[string]any)
	if len(secrets) != 1 || s0["name"] != "TIER" || s0["updated_at"] == nil || s0["value"] != nil {
		t.Fatalf("secrets = %v", secrets)
	}

	// Sealed at rest: the raw record holds no clear value, and the
	// repository opens it.
	it, err := e.st.Get(repo.ActionKey(e.tenant, id))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(it.Value, []byte(secret)) || !bytes.Contains(it.Value, []byte("sealed_secrets")) {
		t.Fatalf("stored action: %s", it.Value)
	}
	stored, err := e.repo.GetAction(context.Background(), e.tenant, id)
	if err != nil || stored.Secrets[0].Value.Reveal() != secret {
		t.Fatalf("opened secret: %v %v", stored.Secrets, err)
	}

	// A PATCH naming a secret without a value keeps it; a new one needs
	// a value; one left out is removed; a changed value moves updated_at.
	r := e.do(t, req{method: "PATCH", path: "/actions/actions/" + id, body: map[string]any{
		"secrets": []map[string]any{{"name": "TIER", "updated_at": s0["updated_at"]}, {"name": "EXTRA", "value": "extra-secret-value"}},
	}})
	wantStatus(t, r, 200)
	stored, _ = e.repo.GetAction(context.Background(), e.tenant, id)
	if len(stored.Secrets) != 2 || stored.Secrets[0].Value.Reveal() != secret || stored.Secrets[1].Value.Reveal() != "extra-secret-value" {
		t.Fatalf("after merge: %+v", stored.Secrets)
	}
	r = e.do(t, req{method: "PATCH", path: "/actions/actions/" + id, body: map[string]any{"secrets": []map[string]any{{"name": "EXTRA", "value": "rotated-secret-value"}}}})
	wantStatus(t, r, 200)
	stored, _ = e.repo.GetAction(context.Background(), e.tenant, id)
	if len(stored.Secrets) != 1 || stored.Secrets[0].Name != "EXTRA" || stored.Secrets[0].Value.Reveal() != "rotated-secret-value" {
		t.Fatalf("after replace: %+v", stored.Secrets)
	}

	// The version keeps the secrets as deployed, resealed for it.
	v := e.deployAction(t, id)
	vit, err := e.st.Get(repo.ActionVersionKey(e.tenant, id, v["id"].(string)))
	if err != nil || bytes.Contains(vit.Value, []byte("rotated-secret-value")) {
		t.Fatalf("stored version: %v %s", err, vit.Value)
	}

	// No answer ever carries a value.
	for _, p := range []string{"/actions/actions/" + id, "/actions/actions?action_name=" + act["name"].(string), "/actions/actions/" + id + "/versions", "/actions/actions/" + id + "/versions/" + v["id"].(string)} {
		r := e.do(t, req{path: p})
		wantStatus(t, r, 200)
		for _, s := range []string{secret, "extra-secret-value", "rotated-secret-value", `"value"`} {
			if bytes.Contains(r.body, []byte(s)) {
				t.Fatalf("GET %s echoes %s: %s", p, s, r.body)
			}
		}
	}
}

func TestActionWasm(t *testing.T) {
	e := sharedEnv(t)
	mod := wasm(t, watClaim)
	sum := sha256.Sum256(mod)
	name := e.unique("wasm")
	act := e.createAction(t, wasmAction(t, name, watClaim))
	if act["runtime"] != "wasm" || act["code"] != "" || act["module_size"] != float64(len(mod)) || act["module_sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("wasm action = %v", act)
	}
	if bytes.Contains(e.do(t, req{path: "/actions/actions/" + act["id"].(string)}).body, []byte(base64.StdEncoding.EncodeToString(mod)[:32])) {
		t.Fatal("the module is echoed")
	}

	// The raw form: application/wasm with name and triggers in the query.
	r := e.do(t, req{method: "POST", path: "/actions/actions?name=" + e.unique("raw") + "&supported_triggers=credentials-exchange,post-login", body: mod, ctype: "application/wasm"})
	wantStatus(t, r, 201)
	raw := r.object(t)
	if raw["runtime"] != "wasm" || len(raw["supported_triggers"].([]any)) != 2 {
		t.Fatalf("raw upload = %v", raw)
	}
	// And a raw PATCH replaces the module.
	loop := wasm(t, watLoop)
	r = e.do(t, req{method: "PATCH", path: "/actions/" + raw["id"].(string), body: loop, ctype: "application/wasm"})
	wantStatus(t, r, 200)
	if got := r.object(t); got["module_size"] != float64(len(loop)) {
		t.Fatalf("after raw PATCH = %v", got)
	}

	// Test runs the draft through the Runner: commands, logs, errors, and
	// the same object under payload.
	for _, p := range []string{"/actions/actions/" + act["id"].(string) + "/test", "/actions/" + act["id"].(string) + "/test"} {
		r = e.do(t, req{method: "POST", path: p, body: map[string]any{"payload": map[string]any{"client": map[string]any{"client_id": "abc"}}}})
		wantStatus(t, r, 200)
		var res struct {
			Commands []map[string]any `json:"commands"`
			Logs     [][2]string      `json:"logs"`
			Errors   []any            `json:"errors"`
			Payload  map[string]any   `json:"payload"`
		}
		r.decode(t, &res)
		if len(res.Commands) != 1 || res.Commands[0]["type"] != "SetCustomClaim" || len(res.Errors) != 0 || res.Payload["commands"] == nil {
			t.Fatalf("test = %s", r.body)
		}
		if d := res.Commands[0]["data"].(map[string]any); d["name"] != "https://example.com/tier" || d["value"] != "gold" || d["target"] != "accessToken" {
			t.Fatalf("command data = %v", d)
		}
		if len(res.Logs) != 1 || res.Logs[0] != [2]string{"log", "hello from wat"} {
			t.Fatalf("logs = %v", res.Logs)
		}
	}
	// event is accepted for payload; a trigger the action lacks is not.
	wantStatus(t, e.do(t, req{method: "POST", path: "/actions/actions/" + act["id"].(string) + "/test", body: map[string]any{"event": map[string]any{}, "trigger_id": "m2m"}}), 200)
	wantError(t, e.do(t, req{method: "POST", path: "/actions/actions/" + act["id"].(string) + "/test", body: map[string]any{"event": map[string]any{}, "trigger_id": "post-login"}}), 400, "invalid_body", "post-login")
	wantError(t, e.do(t, req{method: "POST", path: "/actions/actions/" + act["id"].(string) + "/test", body: map[string]any{"payload": map[string]any{}, "event": map[string]any{}}}), 400, "invalid_body")

	// A module that never returns: the test answers the timeout as an error.
	r = e.do(t, req{method: "POST", path: "/actions/actions/" + raw["id"].(string) + "/test", body: map[string]any{"payload": map[string]any{}}})
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"name":"ActionTimeout"`) {
		t.Fatalf("endless module's test = %s", r.body)
	}
}

func TestActionsWithoutRunner(t *testing.T) {
	e := newEnv(t, func(c *mgmtapi.Config) { c.Runner = nil })
	act := e.createAction(t, jsAction("unchecked"))
	if act["status"] != "pending" {
		t.Fatalf("status without a runner = %v", act["status"])
	}
	id := act["id"].(string)
	wantError(t, e.do(t, req{method: "POST", path: "/actions/actions/" + id + "/deploy"}), 501, "not_implemented")
	wantError(t, e.do(t, req{method: "POST", path: "/actions/actions/" + id + "/test", body: map[string]any{"payload": map[string]any{}}}), 501, "not_implemented")
}

func TestActionScopes(t *testing.T) {
	e := sharedEnv(t)
	act := e.createAction(t, jsAction(e.unique("scoped")))
	id := act["id"].(string)
	v := e.deployAction(t, id)
	tests := []struct {
		method, path string
		body         any
		scope        string // the scope the route needs
	}{
		{"GET", "/actions/actions", nil, "read:actions"},
		{"GET", "/actions", nil, "read:actions"},
		{"POST", "/actions/actions", jsAction("x"), "create:actions"},
		{"GET", "/actions/actions/" + id, nil, "read:actions"},
		{"PATCH", "/actions/" + id, map[string]any{"code": jsCode}, "update:actions"},
		{"DELETE", "/actions/actions/" + id, nil, "delete:actions"},
		{"GET", "/actions/actions/" + id + "/versions", nil, "read:actions"},
		{"GET", "/actions/actions/" + id + "/versions/" + v["id"].(string), nil, "read:actions"},
		{"POST", "/actions/actions/" + id + "/deploy", nil, "create:actions"},
		{"POST", "/actions/actions/" + id + "/versions/" + v["id"].(string) + "/deploy", nil, "create:actions"},
		{"POST", "/actions/actions/" + id + "/test", map[string]any{"payload": map[string]any{}}, "create:actions"},
		{"GET", "/actions/triggers", nil, "read:actions"},
		{"GET", "/triggers/post-login", nil, "read:actions"},
		{"GET", "/actions/triggers/m2m/bindings", nil, "read:actions"},
		{"PATCH", "/actions/triggers/m2m/bindings", map[string]any{"bindings": []any{}}, "update:actions"},
		{"GET", "/actions/executions/x", nil, "read:actions"},
	}
	everyOther := func(scope string) []string {
		var out []string
		for _, s := range allScopes {
			if s != scope && !(scope == "read:actions" && s == "read:triggers") {
				out = append(out, s)
			}
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.do(t, req{method: tt.method, path: tt.path, body: tt.body, token: e.token(t, everyOther(tt.scope)...)})
			wantError(t, r, 403, "insufficient_scope", tt.scope)
		})
	}
	// The backend's read:triggers reads the triggers, and only them.
	tok := e.token(t, "read:triggers")
	wantStatus(t, e.do(t, req{path: "/triggers", token: tok}), 200)
	wantStatus(t, e.do(t, req{path: "/actions/triggers/m2m", token: tok}), 200)
	wantError(t, e.do(t, req{path: "/actions/actions", token: tok}), 403, "insufficient_scope")
	// /actions/status needs a token and no scope.
	wantStatus(t, e.do(t, req{path: "/actions/status", token: e.token(t)}), 200)
	wantError(t, e.do(t, req{path: "/actions/status", token: "-"}), 401, "invalid_token")
}

func TestTriggers(t *testing.T) {
	e := sharedEnv(t)
	want := []string{"post-login", "credentials-exchange", "pre-user-registration", "post-user-registration", "post-change-password", "send-phone-message"}
	for _, p := range []string{"/actions/triggers", "/triggers", "/api/v2/actions/triggers"} {
		r := e.do(t, req{path: p})
		wantStatus(t, r, 200)
		var l struct {
			Meta     map[string]int   `json:"meta"`
			Items    []map[string]any `json:"items"`
			Triggers []map[string]any `json:"triggers"`
		}
		r.decode(t, &l)
		if l.Meta["total"] != len(want) || len(l.Triggers) != len(want) || len(l.Items) != len(want) {
			t.Fatalf("%s = %s", p, r.body)
		}
		for i, id := range want {
			tr := l.Triggers[i]
			if tr["id"] != id || tr["status"] != "current" || tr["default_runtime"] != "node16" || tr["display_name"] == "" || len(tr["runtimes"].([]any)) != 4 {
				t.Fatalf("%s trigger %d = %v", p, i, tr)
			}
		}
	}
	for alias, canonical := range map[string]string{"m2m": "credentials-exchange", "post-register": "post-user-registration", "post-login": "post-login"} {
		for _, p := range []string{"/actions/triggers/" + alias, "/triggers/" + alias} {
			r := e.do(t, req{path: p})
			wantStatus(t, r, 200)
			if got := r.object(t); got["id"] != canonical {
				t.Fatalf("%s = %v", p, got)
			}
		}
	}
	wantError(t, e.do(t, req{path: "/actions/triggers/on-coffee"}), 404, "inexistent_trigger", "on-coffee")
	wantError(t, e.do(t, req{path: "/triggers/on-coffee/bindings", client: rawClient}), 404, "not_found") // no alias for bindings
	r := e.do(t, req{path: "/actions/status"})
	wantStatus(t, r, 200)
	if got := r.object(t); got["status"] != "ok" {
		t.Fatalf("status = %v", got)
	}
}

func TestActionBuildStatus(t *testing.T) {
	e := sharedEnv(t)
	ctx := context.Background()
	act := e.createAction(t, jsAction(e.unique("built")))
	id := act["id"].(string)
	v := e.deployAction(t, id)
	vid := v["id"].(string)
	get := func() (map[string]any, map[string]any) {
		a := e.do(t, req{path: "/actions/actions/" + id}).object(t)
		ver := e.do(t, req{path: "/actions/actions/" + id + "/versions/" + vid}).object(t)
		return a, ver
	}
	if a, ver := get(); a["status"] != "pending" || ver["status"] != "pending" || len(ver["errors"].([]any)) != 0 {
		t.Fatalf("before any node: %v / %v", a["status"], ver)
	}
	put := func(node string, s model.ActionStatus) {
		if err := e.repo.PutActionStatus(ctx, e.tenant, vid, node, s); err != nil {
			t.Fatal(err)
		}
	}
	put("edge-1", model.ActionStatus{Status: model.ActionStatusBuilt, BuiltAt: model.NewTime(time.Now())})
	if a, ver := get(); a["status"] != "built" || ver["status"] != "built" || ver["built_at"] == nil || a["built_at"] == nil {
		t.Fatalf("one node built: %v / %v", a, ver)
	}
	put("edge-2", model.ActionStatus{Status: model.ActionStatusFailed, Errors: []model.ActionError{{ID: "compile", Msg: "out of memory while compiling"}}})
	a, ver := get()
	errs := ver["errors"].([]any)
	if a["status"] != "failed" || ver["status"] != "failed" || len(errs) != 1 || errs[0].(map[string]any)["msg"] != "out of memory while compiling" {
		t.Fatalf("one node failed: %v / %v", a["status"], ver)
	}
	if dv := a["deployed_version"].(map[string]any); dv["status"] != "failed" {
		t.Fatalf("deployed_version = %v", dv)
	}
}

func TestExecutions(t *testing.T) {
	e := sharedEnv(t)
	ctx := context.Background()
	id, err := model.NewExecutionID(bytes.NewReader(make([]byte, 10)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id = e.unique(id)
	now := model.NewTime(time.Now())
	exec := model.ActionExecution{ID: id, TriggerID: "credentials-exchange", Status: model.ExecutionStatusFailed, CreatedAt: now, UpdatedAt: now,
		Results: []model.ActionExecutionResult{{ActionName: "tier", Error: []byte(`{"id":"timeout","msg":"action timed out"}`), StartedAt: now, EndedAt: now}}}
	if err := e.repo.PutExecution(ctx, e.tenant, exec); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, req{path: "/actions/executions/" + id})
	wantStatus(t, r, 200)
	got := r.object(t)
	res := got["results"].([]any)[0].(map[string]any)
	if got["id"] != id || got["trigger_id"] != "credentials-exchange" || got["status"] != "failed" || res["action_name"] != "tier" || res["error"].(map[string]any)["msg"] != "action timed out" {
		t.Fatalf("execution = %v", got)
	}
	wantError(t, e.do(t, req{path: "/actions/executions/nope"}), 404, "inexistent_execution")
}

func TestActionsCrossTenant(t *testing.T) {
	e := sharedEnv(t)
	ctx := context.Background()
	const otherIssuer = "http://actions-other.example/"
	if _, err := e.repo.CreateTenant(ctx, model.Tenant{Name: "actions-other", Internal: model.TenantInternal{Issuer: otherIssuer}}); err != nil && !errors.Is(err, repo.ErrDuplicate) {
		t.Fatal(err)
	}
	if err := e.keys.Ensure(ctx, "actions-other"); err != nil {
		t.Fatal(err)
	}
	otherTok := mintFor(t, e, "actions-other", otherIssuer)
	other := func(r req) response {
		r.host, r.token = "actions-other.example", otherTok
		return e.do(t, r)
	}

	// This tenant's deployed, bound action and an execution.
	act := e.createAction(t, jsAction(e.unique("mine")))
	id := act["id"].(string)
	v := e.deployAction(t, id)
	wantStatus(t, e.do(t, req{method: "PATCH", path: "/actions/triggers/credentials-exchange/bindings", body: map[string]any{
		"bindings": []map[string]any{{"ref": map[string]any{"type": "action_id", "value": id}}},
	}}), 200)
	execID := e.unique("exec")
	if err := e.repo.PutExecution(ctx, e.tenant, model.ActionExecution{ID: execID, TriggerID: "credentials-exchange", Status: "failed"}); err != nil {
		t.Fatal(err)
	}

	// The other tenant sees none of it, and cannot bind it.
	wantError(t, other(req{path: "/actions/actions/" + id}), 404, "inexistent_action")
	wantError(t, other(req{path: "/actions/actions/" + id + "/versions/" + v["id"].(string)}), 404, "inexistent_action")
	wantError(t, other(req{path: "/actions/executions/" + execID}), 404, "inexistent_execution")
	wantError(t, other(req{method: "PATCH", path: "/actions/" + id, body: map[string]any{"code": jsCode}}), 404, "inexistent_action")
	wantError(t, other(req{method: "DELETE", path: "/actions/actions/" + id}), 404, "inexistent_action")
	r := other(req{path: "/actions/actions?action_name=" + act["name"].(string)})
	wantStatus(t, r, 200)
	if bytes.Contains(r.body, []byte(id)) {
		t.Fatalf("the other tenant lists the action: %s", r.body)
	}
	r = other(req{path: "/actions/triggers/credentials-exchange/bindings"})
	wantStatus(t, r, 200)
	if bytes.Contains(r.body, []byte(id)) {
		t.Fatalf("the other tenant sees the binding: %s", r.body)
	}
	wantError(t, other(req{method: "PATCH", path: "/actions/triggers/credentials-exchange/bindings", body: map[string]any{
		"bindings": []map[string]any{{"ref": map[string]any{"type": "action_id", "value": id}}},
	}}), 400, "invalid_body", "no such action")
	// Clean up the binding so other tests' bindings of this trigger start empty.
	wantStatus(t, e.do(t, req{method: "DELETE", path: "/actions/actions/" + id + "?force=true"}), 204)
}

// mintFor is a token with every scope for another tenant of e's store.
func mintFor(t *testing.T, e *env, tenant, issuer string) string {
	t.Helper()
	return mint(t, e.keys, tenant, func(c *tokens.AccessClaims) {
		c.Issuer, c.Subject = issuer, "x"
		c.Audience = []string{issuer + "api/v1/"}
		c.Scope = strings.Join(allScopes, " ")
	})
}

func TestTenantActionsTimeout(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		body   any
		status int
		want   any
	}{
		{map[string]any{"actions_timeout_ms": 250}, 200, float64(250)},
		{map[string]any{"actions_timeout_ms": 5000}, 200, float64(5000)},
		{map[string]any{"actions_timeout_ms": 5001}, 400, nil},
		{map[string]any{"actions_timeout_ms": 0}, 400, nil},
		{map[string]any{"actions_timeout_ms": "100"}, 400, nil},
		{map[string]any{"actions_timeout_ms": nil}, 200, nil},
	} {
		r := e.do(t, req{method: "PATCH", path: "/tenants/settings", body: tt.body})
		if r.status != tt.status {
			t.Fatalf("%v: %s", tt.body, r)
		}
		if tt.status != 200 {
			wantError(t, r, 400, "invalid_body", "actions_timeout_ms")
			continue
		}
		if got := r.object(t)["actions_timeout_ms"]; got != tt.want {
			t.Fatalf("%v: actions_timeout_ms = %v", tt.body, got)
		}
		tn, err := e.repo.GetTenant(context.Background(), e.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := tt.want.(float64); tn.ActionsTimeoutMS != int(w) {
			t.Fatalf("stored %d, want %v", tn.ActionsTimeoutMS, tt.want)
		}
	}
	r := e.do(t, req{path: "/tenants/settings?fields=actions_timeout_ms"})
	wantStatus(t, r, 200)
}
