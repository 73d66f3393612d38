package mgmtapi_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
)

type bindingsBody struct {
	Bindings []struct {
		ID          string         `json:"id"`
		TriggerID   string         `json:"trigger_id"`
		DisplayName string         `json:"display_name"`
		Action      map[string]any `json:"action"`
	} `json:"bindings"`
}

func ref(typ, value string) map[string]any {
	return map[string]any{"ref": map[string]any{"type": typ, "value": value}}
}

func (e *env) patchBindings(t testing.TB, trigger string, bindings ...map[string]any) response {
	t.Helper()
	if bindings == nil {
		bindings = []map[string]any{}
	}
	return e.do(t, req{method: "PATCH", path: "/actions/triggers/" + trigger + "/bindings", body: map[string]any{"bindings": bindings}})
}

func (e *env) bindings(t testing.TB, trigger string) bindingsBody {
	t.Helper()
	r := e.do(t, req{path: "/actions/triggers/" + trigger + "/bindings"})
	wantStatus(t, r, 200)
	var b bindingsBody
	r.decode(t, &b)
	return b
}

func bindingActions(b bindingsBody) []string {
	var out []string
	for _, x := range b.Bindings {
		out = append(out, x.Action["name"].(string))
	}
	return out
}

func TestBindings(t *testing.T) {
	e := newEnv(t) // the trigger's bindings are this test's alone
	one := e.createAction(t, jsAction("one"))
	two := e.createAction(t, jsAction("two"))
	undeployed := e.createAction(t, jsAction("undeployed"))
	loginOnly := e.createAction(t, map[string]any{"name": "login-only", "supported_triggers": []string{"post-login"}, "code": "exports.onExecutePostLogin = async () => {}"})
	for _, a := range []map[string]any{one, two, loginOnly} {
		e.deployAction(t, a["id"].(string))
	}
	id := func(a map[string]any) string { return a["id"].(string) }

	// Refused: an action never deployed, one that does not support the
	// trigger, one that does not exist, a binding id the trigger lacks,
	// the same action twice, binding secrets, an unknown trigger.
	for _, tt := range []struct {
		name     string
		trigger  string
		bindings []map[string]any
		status   int
		code     string
		msg      string
	}{
		{"undeployed", "credentials-exchange", []map[string]any{ref("action_id", id(undeployed))}, 400, "invalid_body", "never been deployed"},
		{"unsupported trigger", "credentials-exchange", []map[string]any{ref("action_id", id(loginOnly))}, 400, "invalid_body", "does not support trigger credentials-exchange"},
		{"missing action", "credentials-exchange", []map[string]any{ref("action_name", "nobody")}, 400, "invalid_body", "no such action"},
		{"missing binding", "credentials-exchange", []map[string]any{ref("binding_id", "nope")}, 400, "invalid_body", "no such binding"},
		{"twice", "credentials-exchange", []map[string]any{ref("action_id", id(one)), ref("action_name", "one")}, 400, "invalid_body", "bound twice"},
		{"bad ref type", "credentials-exchange", []map[string]any{ref("action_title", "one")}, 400, "invalid_body", "ref.type"},
		{"no ref", "credentials-exchange", []map[string]any{{"display_name": "x"}}, 400, "invalid_body", "ref"},
		{"binding secrets", "credentials-exchange", []map[string]any{{"ref": map[string]any{"type": "action_id", "value": id(one)}, "secrets": []map[string]any{{"name": "A", "value": "b"}}}}, 400, "invalid_body", "binding secrets are not supported"},
		{"unknown trigger", "on-coffee", []map[string]any{ref("action_id", id(one))}, 404, "inexistent_trigger", "on-coffee"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.patchBindings(t, tt.trigger, tt.bindings...), tt.status, tt.code, tt.msg)
		})
	}
	if b := e.bindings(t, "credentials-exchange"); len(b.Bindings) != 0 {
		t.Fatalf("a refused PATCH bound %v", bindingActions(b))
	}
	wantError(t, e.do(t, req{method: "PATCH", path: "/actions/triggers/m2m/bindings", body: map[string]any{}}), 400, "invalid_body", "bindings")

	// Bind by id and by name, through the alias m2m: the answer and GET
	// agree, in order, under the canonical trigger id.
	r := e.patchBindings(t, "m2m", ref("action_id", id(one)), map[string]any{"ref": map[string]any{"type": "action_name", "value": "two"}, "display_name": "Second"})
	wantStatus(t, r, 200)
	var patched bindingsBody
	r.decode(t, &patched)
	got := e.bindings(t, "credentials-exchange")
	if !slices.Equal(bindingActions(patched), []string{"one", "two"}) || !slices.Equal(bindingActions(got), []string{"one", "two"}) {
		t.Fatalf("bound %v / %v", bindingActions(patched), bindingActions(got))
	}
	if got.Bindings[0].TriggerID != "credentials-exchange" || got.Bindings[0].DisplayName != "one" || got.Bindings[1].DisplayName != "Second" || got.Bindings[0].ID == "" {
		t.Fatalf("bindings = %+v", got.Bindings)
	}
	firstID, secondID := got.Bindings[0].ID, got.Bindings[1].ID

	// Reorder by binding_id and by action_id: the bindings keep their ids.
	r = e.patchBindings(t, "credentials-exchange", ref("binding_id", secondID), ref("action_id", id(one)))
	wantStatus(t, r, 200)
	got = e.bindings(t, "credentials-exchange")
	if !slices.Equal(bindingActions(got), []string{"two", "one"}) || got.Bindings[0].ID != secondID || got.Bindings[1].ID != firstID {
		t.Fatalf("after reorder: %+v", got.Bindings)
	}

	// Bindings absent from the body are removed.
	wantStatus(t, e.patchBindings(t, "credentials-exchange", ref("binding_id", firstID)), 200)
	if got := e.bindings(t, "credentials-exchange"); !slices.Equal(bindingActions(got), []string{"one"}) {
		t.Fatalf("after removal: %v", bindingActions(got))
	}

	// Deleting a bound action is refused; force removes its binding.
	wantError(t, e.do(t, req{method: "DELETE", path: "/actions/actions/" + id(one)}), 409, "conflict", "force=true")
	wantStatus(t, e.do(t, req{method: "DELETE", path: "/actions/actions/" + id(one) + "?force=true"}), 204)
	if got := e.bindings(t, "credentials-exchange"); len(got.Bindings) != 0 {
		t.Fatalf("after forced delete: %v", bindingActions(got))
	}

	// A bound action cannot drop the trigger from a new deploy.
	wantStatus(t, e.patchBindings(t, "credentials-exchange", ref("action_id", id(two))), 200)
	wantStatus(t, e.do(t, req{method: "PATCH", path: "/actions/actions/" + id(two), body: map[string]any{
		"supported_triggers": []string{"post-login"}, "code": "exports.onExecutePostLogin = async () => {}",
	}}), 200)
	wantError(t, e.do(t, req{method: "POST", path: "/actions/actions/" + id(two) + "/deploy"}), 400, "operation_not_allowed", "credentials-exchange")

	// If-Match: the bindings record's ETag.
	r = e.do(t, req{path: "/actions/triggers/credentials-exchange/bindings"})
	tag := r.header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag on the bindings")
	}
	wantError(t, e.do(t, req{method: "PATCH", path: "/actions/triggers/credentials-exchange/bindings", body: map[string]any{"bindings": []any{}},
		headers: map[string]string{"If-Match": `"1"`}}), 412, "precondition_failed")
	wantStatus(t, e.do(t, req{method: "PATCH", path: "/actions/triggers/credentials-exchange/bindings", body: map[string]any{"bindings": []any{}},
		headers: map[string]string{"If-Match": tag}}), 200)
	if got := e.bindings(t, "credentials-exchange"); len(got.Bindings) != 0 {
		t.Fatalf("after emptying: %v", bindingActions(got))
	}

	// The stored record names the canonical trigger.
	tb, err := e.repo.GetTriggerBindings(context.Background(), e.tenant, "credentials-exchange")
	if err != nil || tb.Version == 0 {
		t.Fatalf("stored bindings: %+v %v", tb, err)
	}
}

// TestBindingsConcurrentPatch: concurrent PATCHes of one trigger each
// replace the whole list: each answer is exactly the list it sent, and
// the final list is one of them, never a mix.
func TestBindingsConcurrentPatch(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 4 {
		a := e.createAction(t, jsAction(fmt.Sprintf("c%d", i)))
		e.deployAction(t, a["id"].(string))
		ids = append(ids, a["id"].(string))
	}
	// Writer i binds a rotation of the actions, starting at i%4.
	lists := make([][]string, 8)
	for i := range lists {
		for j := range ids {
			lists[i] = append(lists[i], fmt.Sprintf("c%d", (i+j)%len(ids)))
		}
	}
	var wg sync.WaitGroup
	results := make([]response, len(lists))
	for i, names := range lists {
		wg.Go(func() {
			var body []map[string]any
			for _, n := range names {
				body = append(body, ref("action_name", n))
			}
			results[i] = e.patchBindings(t, "credentials-exchange", body...)
		})
	}
	wg.Wait()
	var last []string
	for i, r := range results {
		switch r.status {
		case 200:
			var b bindingsBody
			r.decode(t, &b)
			if !slices.Equal(bindingActions(b), lists[i]) {
				t.Fatalf("writer %d got %v, sent %v", i, bindingActions(b), lists[i])
			}
		case 409:
			wantError(t, r, 409, "conflict")
		default:
			t.Fatalf("writer %d: %s", i, r)
		}
	}
	got := e.bindings(t, "credentials-exchange")
	last = bindingActions(got)
	if !slices.ContainsFunc(lists, func(l []string) bool { return slices.Equal(l, last) }) {
		t.Fatalf("final bindings %v are none of the lists written", last)
	}
	seen := map[string]bool{}
	for _, b := range got.Bindings {
		if seen[b.ID] {
			t.Fatalf("binding id %s twice: %+v", b.ID, got.Bindings)
		}
		seen[b.ID] = true
	}
	if len(seen) != len(ids) {
		t.Fatalf("bindings = %+v", got.Bindings)
	}
}
