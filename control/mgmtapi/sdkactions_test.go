package mgmtapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/servetest"
)

// The official Authok Go SDK (github.com/authok/authok-go, management/
// actions.go) cannot be fetched here. These types carry the JSON tags,
// pointers and omitempty of its Action types, field for field, so the
// test sends and decodes exactly what the SDK does; sdkRequest encodes
// as its Management.Request does (json.Encoder, a body for every method
// but GET, Content-Type application/json always, a nil *T payload sent
// as null).
type (
	sdkTrigger struct {
		ID      *string `json:"id"`
		Version *string `json:"version"`
		Status  *string `json:"status,omitempty"`
	}
	sdkTriggerList struct {
		Triggers []*sdkTrigger `json:"triggers"`
	}
	sdkDependency struct {
		Name        *string `json:"name"`
		Version     *string `json:"version,omitempty"`
		RegistryURL *string `json:"registry_url,omitempty"`
	}
	sdkSecret struct {
		Name      *string    `json:"name"`
		Value     *string    `json:"value,omitempty"`
		UpdatedAt *time.Time `json:"updated_at,omitempty"`
	}
	sdkVersionError struct {
		ID      *string `json:"id"`
		Message *string `json:"msg"`
		URL     *string `json:"url"`
	}
	sdkAction struct {
		ID                 *string          `json:"id,omitempty"`
		Name               *string          `json:"name"`
		SupportedTriggers  []sdkTrigger     `json:"supported_triggers"`
		Code               *string          `json:"code,omitempty"`
		Dependencies       *[]sdkDependency `json:"dependencies,omitempty"`
		Runtime            *string          `json:"runtime,omitempty"`
		Secrets            *[]sdkSecret     `json:"secrets,omitempty"`
		DeployedVersion    *sdkVersion      `json:"deployed_version,omitempty"`
		Status             *string          `json:"status,omitempty"`
		AllChangesDeployed bool             `json:"all_changes_deployed,omitempty"`
		BuiltAt            *time.Time       `json:"built_at,omitempty"`
		CreatedAt          *time.Time       `json:"created_at,omitempty"`
		UpdatedAt          *time.Time       `json:"updated_at,omitempty"`
	}
	sdkActionList struct {
		Start   int          `json:"start"`
		Limit   int          `json:"limit"`
		Length  int          `json:"length"`
		Total   int          `json:"total"`
		Next    string       `json:"next"`
		Actions []*sdkAction `json:"actions"`
	}
	sdkVersion struct {
		ID           *string            `json:"id,omitempty"`
		Code         *string            `json:"code"`
		Dependencies []*sdkDependency   `json:"dependencies,omitempty"`
		Deployed     bool               `json:"deployed"`
		Status       *string            `json:"status,omitempty"`
		Number       int                `json:"number,omitempty"`
		Errors       []*sdkVersionError `json:"errors,omitempty"`
		Action       *sdkAction         `json:"action,omitempty"`
		BuiltAt      *time.Time         `json:"built_at,omitempty"`
		CreatedAt    *time.Time         `json:"created_at,omitempty"`
		UpdatedAt    *time.Time         `json:"updated_at,omitempty"`
	}
	sdkVersionList struct {
		Versions []*sdkVersion `json:"versions"`
	}
	sdkBindingRef struct {
		Type  *string `json:"type"`
		Value *string `json:"value"`
	}
	sdkBinding struct {
		ID          *string        `json:"id,omitempty"`
		TriggerID   *string        `json:"trigger_id,omitempty"`
		DisplayName *string        `json:"display_name,omitempty"`
		Ref         *sdkBindingRef `json:"ref,omitempty"`
		Action      *sdkAction     `json:"action,omitempty"`
		Secrets     []*sdkSecret   `json:"secrets,omitempty"`
		CreatedAt   *time.Time     `json:"created_at,omitempty"`
		UpdatedAt   *time.Time     `json:"updated_at,omitempty"`
	}
	sdkBindingList struct {
		Bindings []*sdkBinding `json:"bindings"`
	}
	sdkTestRequest struct {
		Payload *map[string]any `json:"payload"`
	}
)

func p[T any](v T) *T { return &v }

// sdkRequest does what the SDK's Management.Request does: payload
// encoded for every method but GET, the answer decoded into payload.
func sdkRequest(t *testing.T, e *env, method, path string, payload any) {
	t.Helper()
	var body bytes.Buffer
	if payload != nil && method != http.MethodGet {
		if err := json.NewEncoder(&body).Encode(payload); err != nil {
			t.Fatal(err)
		}
	}
	hr, err := http.NewRequest(method, e.url+"/api/v1/"+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+e.token(t, allScopes...))
	resp := servetest.Do(t, httpClient, hr)
	if resp.Status >= 400 {
		t.Fatalf("%s %s: %d %s", method, path, resp.Status, resp.Body)
	}
	if len(resp.Body) > 0 && string(resp.Body) != "{}" {
		if err := json.Unmarshal(resp.Body, &payload); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, resp.Body, err)
		}
	}
}

// uri escapes path segments as the SDK's URI does.
func uri(segs ...string) string {
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "/", "%2F")
	}
	return strings.Join(segs, "/")
}

// TestSDKActionsRoundTrip drives every Actions call of the SDK's
// ActionManager with its own types: Create, Read, Update (of the object
// as read), List, Deploy, Versions, Version, DeployVersion, Triggers,
// UpdateBindings, Bindings, Test, Execution-free Delete.
func TestSDKActionsRoundTrip(t *testing.T) {
	e := newEnv(t)
	a := &sdkAction{
		Name:              p("sdk-tier"),
		SupportedTriggers: []sdkTrigger{{ID: p("credentials-exchange"), Version: p("v2")}},
		Code:              p(jsCode),
		Runtime:           p("node18"),
		Secrets:           &[]sdkSecret{{Name: p("TIER"), Value: p("gold-secret-value")}},
	}
	sdkRequest(t, e, "POST", uri("actions", "actions"), a) // Create decodes into a
	if a.ID == nil || *a.Name != "sdk-tier" || a.CreatedAt == nil || a.Status == nil || *a.Status != "built" {
		t.Fatalf("created: %+v", a)
	}
	id := *a.ID

	// A trigger version left nil is sent as null; the SDK's Update sends
	// the whole object as read back.
	var read *sdkAction
	sdkRequest(t, e, "GET", uri("actions", "actions", id), &read)
	if s := (*read.Secrets)[0]; *s.Name != "TIER" || s.Value != nil || s.UpdatedAt == nil {
		t.Fatalf("secret as read: %+v", s)
	}
	read.SupportedTriggers[0].Version = nil
	read.Code = p(jsCode + " // edited")
	sdkRequest(t, e, "PATCH", uri("actions", "actions", id), &read)
	if *read.Code != jsCode+" // edited" || *read.SupportedTriggers[0].Version != "v2" || len(*read.Secrets) != 1 {
		t.Fatalf("updated: %+v", read)
	}

	var list *sdkActionList
	sdkRequest(t, e, "GET", uri("actions", "actions")+"?page_size=50", &list)
	if len(list.Actions) != 1 || *list.Actions[0].ID != id {
		t.Fatalf("list: %+v", list)
	}

	// Deploy sends null; the answer is the version.
	var v *sdkVersion
	sdkRequest(t, e, "POST", uri("actions", "actions", id, "deploy"), &v)
	if v.ID == nil || v.Number != 1 || !v.Deployed || *v.Code != jsCode+" // edited" || v.Action == nil || *v.Action.ID != id {
		t.Fatalf("deploy: %+v", v)
	}
	var vl *sdkVersionList
	sdkRequest(t, e, "GET", uri("actions", "actions", id, "versions"), &vl)
	if len(vl.Versions) != 1 || *vl.Versions[0].ID != *v.ID {
		t.Fatalf("versions: %+v", vl)
	}
	var one *sdkVersion
	sdkRequest(t, e, "GET", uri("actions", "actions", id, "versions", *v.ID), &one)
	var v2 *sdkVersion
	sdkRequest(t, e, "POST", uri("actions", "actions", id, "versions", *one.ID, "deploy"), &v2)
	if v2.Number != 2 || !v2.Deployed {
		t.Fatalf("deploy version: %+v", v2)
	}
	sdkRequest(t, e, "GET", uri("actions", "actions", id), &read)
	if read.DeployedVersion == nil || *read.DeployedVersion.ID != *v2.ID || !read.AllChangesDeployed {
		t.Fatalf("deployed: %+v", read)
	}

	var tl *sdkTriggerList
	sdkRequest(t, e, "GET", uri("actions", "triggers"), &tl)
	if len(tl.Triggers) != 6 || *tl.Triggers[1].ID != "credentials-exchange" {
		t.Fatalf("triggers: %+v", tl)
	}

	bl := &sdkBindingList{Bindings: []*sdkBinding{{Ref: &sdkBindingRef{Type: p("action_id"), Value: p(id)}, DisplayName: p("Tier")}}}
	sdkRequest(t, e, "PATCH", uri("actions", "triggers", "credentials-exchange", "bindings"), &bl)
	if len(bl.Bindings) != 1 || *bl.Bindings[0].DisplayName != "Tier" || *bl.Bindings[0].Action.ID != id || *bl.Bindings[0].TriggerID != "credentials-exchange" {
		t.Fatalf("update bindings: %+v", bl.Bindings)
	}
	var got *sdkBindingList
	sdkRequest(t, e, "GET", uri("actions", "triggers", "credentials-exchange", "bindings")+"?page_size=50", &got)
	if len(got.Bindings) != 1 || *got.Bindings[0].ID != *bl.Bindings[0].ID {
		t.Fatalf("bindings: %+v", got)
	}

	// Test: a wasm action, whose run the test runner can do.
	w := &sdkAction{Name: p("sdk-wasm"), SupportedTriggers: []sdkTrigger{{ID: p("m2m")}}, Runtime: p("wasm")}
	raw, _ := json.Marshal(w)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	body["module"] = wasmAction(t, "x", watClaim)["module"]
	sdkRequest(t, e, "POST", uri("actions", "actions"), &body)
	tr := &sdkTestRequest{Payload: &map[string]any{"client": map[string]any{"client_id": "abc"}}}
	sdkRequest(t, e, "POST", uri("actions", "actions", body["id"].(string), "test"), &tr)
	if tr.Payload == nil || len((*tr.Payload)["commands"].([]any)) != 1 {
		t.Fatalf("test payload: %+v", tr.Payload)
	}

	// Delete: a bound action needs force.
	sdkRequest(t, e, "DELETE", uri("actions", "actions", id)+"?force=true", nil)
	sdkRequest(t, e, "GET", uri("actions", "triggers", "credentials-exchange", "bindings"), &got)
	if len(got.Bindings) != 0 {
		t.Fatalf("bindings after delete: %+v", got)
	}
}
