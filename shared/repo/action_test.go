package repo

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/model"
)

func mustAction(t *testing.T, r *Repo, tenant, id, name string) model.Action {
	t.Helper()
	a, err := r.CreateAction(ctx, tenant, model.Action{
		ID: id, Name: name, Runtime: "node18", Code: "exports.onExecuteCredentialsExchange = async () => {}",
		SupportedTriggers: []model.ActionTrigger{{ID: "credentials-exchange", Version: "v2"}},
		Secrets:           []model.ActionSecret{{Name: "API_KEY", Value: model.Secret("s3cr3t-" + id)}},
	})
	if err != nil {
		t.Fatalf("CreateAction %s: %v", id, err)
	}
	return a
}

func deploy(t *testing.T, r *Repo, tenant, actionID, versionID string) model.ActionVersion {
	t.Helper()
	v, _, err := r.DeployAction(ctx, tenant, actionID, func(a model.Action, n int) (model.ActionVersion, model.Action, error) {
		return model.ActionVersion{ID: versionID, Runtime: a.Runtime, Code: a.Code, Module: a.Module,
			SupportedTriggers: a.SupportedTriggers, Secrets: a.Secrets}, a, nil
	})
	if err != nil {
		t.Fatalf("DeployAction %s: %v", actionID, err)
	}
	return v
}

func TestActionRecords(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example.com/")
	a := mustAction(t, f.r, "acme", "a1", "tier")

	// Secrets are sealed at rest and open on read.
	it, err := f.st.Get(ActionKey("acme", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(it.Value, []byte("s3cr3t")) {
		t.Fatalf("secret stored in clear: %s", it.Value)
	}
	got, err := f.r.GetAction(ctx, "acme", "a1")
	if err != nil || len(got.Secrets) != 1 || got.Secrets[0].Value.Reveal() != "s3cr3t-a1" || got.Version != a.Version {
		t.Fatalf("GetAction = %+v, %v", got, err)
	}
	if _, err := f.r.CreateAction(ctx, "acme", model.Action{ID: "a2", Name: "tier"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := f.r.CreateAction(ctx, "nope", model.Action{ID: "a2", Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing tenant: %v", err)
	}

	// A sealed secret copied into another action does not open there.
	mustAction(t, f.r, "acme", "a2", "other")
	it2, _ := f.st.Get(ActionKey("acme", "a2"))
	var rec1, rec2 actionRecord
	if err := decodeRecord(it, &rec1, &rec1.V); err != nil {
		t.Fatal(err)
	}
	if err := decodeRecord(it2, &rec2, &rec2.V); err != nil {
		t.Fatal(err)
	}
	rec2.Secrets = rec1.Secrets
	if _, err := f.r.openSecrets(rec2.Secrets, func(n string) []byte { return actionSecretAD("acme", "a2", n) }); err == nil {
		t.Fatal("a secret sealed for a1 opened as a2's")
	}

	// Rename moves the name index; the version fields are the deploy's.
	if _, err := f.r.UpdateAction(ctx, "acme", "a1", func(o model.Action) (model.Action, error) { o.Name = "other"; return o, nil }); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if _, err := f.r.UpdateAction(ctx, "acme", "a1", func(o model.Action) (model.Action, error) { o.Name = "tier2"; return o, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.GetActionByName(ctx, "acme", "tier"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old name still found: %v", err)
	}
	if g, err := f.r.GetActionByName(ctx, "acme", "tier2"); err != nil || g.ID != "a1" {
		t.Fatalf("by new name: %+v %v", g, err)
	}
	if _, err := f.r.UpdateAction(ctx, "acme", "a1", func(o model.Action) (model.Action, error) { o.DeployedVersionID = "x"; return o, nil }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("update set the deployed version: %v", err)
	}
}

func TestDeployNumbersVersions(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example.com/")
	mustAction(t, f.r, "acme", "a1", "tier")
	ids := []string{"v1", "v2", "v3", "v4", "v5", "v6"}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { deploy(t, f.r, "acme", "a1", id) })
	}
	wg.Wait()
	vs, err := f.r.ListActionVersions(ctx, "acme", "a1")
	if err != nil || len(vs) != len(ids) {
		t.Fatalf("versions = %d, %v", len(vs), err)
	}
	for i, v := range vs {
		if v.Number != len(ids)-i {
			t.Fatalf("version %d has number %d, want %d (newest first, no gaps)", i, v.Number, len(ids)-i)
		}
		if len(v.Secrets) != 1 || v.Secrets[0].Value.Reveal() != "s3cr3t-a1" {
			t.Fatalf("version secrets = %+v", v.Secrets)
		}
	}
	a, _ := f.r.GetAction(ctx, "acme", "a1")
	if a.DeployedVersionID != vs[0].ID || a.LatestVersionNumber != len(ids) {
		t.Fatalf("action deployed %q latest %d, want %q %d", a.DeployedVersionID, a.LatestVersionNumber, vs[0].ID, len(ids))
	}
	raw, _ := f.st.Get(ActionVersionKey("acme", "a1", "v1"))
	if bytes.Contains(raw.Value, []byte("s3cr3t")) {
		t.Fatal("version secret stored in clear")
	}
	// A version id is never reused.
	_, _, err = f.r.DeployAction(ctx, "acme", "a1", func(a model.Action, n int) (model.ActionVersion, model.Action, error) {
		return model.ActionVersion{ID: "v1"}, a, nil
	})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("reused version id: %v", err)
	}
}

func TestBindingsAndDelete(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example.com/")
	mustAction(t, f.r, "acme", "a1", "one")
	mustAction(t, f.r, "acme", "a2", "two")
	deploy(t, f.r, "acme", "a1", "v1")
	if err := f.r.PutActionStatus(ctx, "acme", "v1", "node-1", model.ActionStatus{Status: model.ActionStatusBuilt}); err != nil {
		t.Fatal(err)
	}
	if err := f.r.PutActionStatus(ctx, "acme", "v1", "node-1", model.ActionStatus{Status: "weird"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad status: %v", err)
	}
	deployedOnly := func(b model.ActionBinding, a model.Action) error {
		if a.DeployedVersionID == "" {
			return errors.New("not deployed")
		}
		return nil
	}
	set := func(bs ...model.ActionBinding) func(model.TriggerBindings) (model.TriggerBindings, error) {
		return func(o model.TriggerBindings) (model.TriggerBindings, error) { o.Bindings = bs; return o, nil }
	}
	if _, err := f.r.UpdateTriggerBindings(ctx, "acme", "credentials-exchange", set(model.ActionBinding{ID: "b1", ActionID: "a2"}), deployedOnly); err == nil || err.Error() != "not deployed" {
		t.Fatalf("undeployed action bound: %v", err)
	}
	if _, err := f.r.UpdateTriggerBindings(ctx, "acme", "credentials-exchange", set(model.ActionBinding{ID: "b1", ActionID: "zz"}), nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing action bound: %v", err)
	}
	if _, err := f.r.UpdateTriggerBindings(ctx, "acme", "credentials-exchange", set(model.ActionBinding{ID: "b1", ActionID: "a1"}, model.ActionBinding{ID: "b1", ActionID: "a1"}), nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("duplicate binding id: %v", err)
	}
	tb, err := f.r.UpdateTriggerBindings(ctx, "acme", "credentials-exchange", set(model.ActionBinding{ID: "b1", ActionID: "a1"}), deployedOnly)
	if err != nil || len(tb.Bindings) != 1 || tb.Version == 0 {
		t.Fatalf("bind: %+v %v", tb, err)
	}
	if got, _ := f.r.GetTriggerBindings(ctx, "acme", "credentials-exchange"); got.Version != tb.Version || got.Bindings[0].ActionID != "a1" {
		t.Fatalf("GetTriggerBindings = %+v", got)
	}
	if got, err := f.r.GetTriggerBindings(ctx, "acme", "post-login"); err != nil || got.Version != 0 || got.Bindings == nil || len(got.Bindings) != 0 {
		t.Fatalf("never bound trigger = %+v %v", got, err)
	}

	if err := f.r.DeleteAction(ctx, "acme", "a1", false); !errors.Is(err, ErrInUse) {
		t.Fatalf("delete of a bound action: %v", err)
	}
	if err := f.r.DeleteAction(ctx, "acme", "a1", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.r.GetTriggerBindings(ctx, "acme", "credentials-exchange"); len(got.Bindings) != 0 {
		t.Fatalf("bindings after forced delete = %+v", got)
	}
	for _, p := range []string{"t/acme/action/a1", "t/acme/action-name/one", "t/acme/action-version/a1/", "t/acme/action-status/v1/"} {
		if keys := rawKeys(t, f.st, p); len(keys) != 0 {
			t.Errorf("left behind under %s: %v", p, keys)
		}
	}
	if err := f.r.DeleteAction(ctx, "acme", "a2", false); err != nil {
		t.Fatalf("delete of an unbound action: %v", err)
	}
}

func TestStatusesAndExecutions(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := newFixture(t, WithClock(func() time.Time { return now }))
	mustTenant(t, f.r, "acme", "https://acme.example.com/")
	for _, n := range []string{"n2", "n1"} {
		err := f.r.PutActionStatus(ctx, "acme", "v1", n, model.ActionStatus{Status: model.ActionStatusFailed, Errors: []model.ActionError{{ID: "compile", Msg: "bad " + n}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	ss, err := f.r.ListActionStatuses(ctx, "acme", "v1")
	if err != nil || len(ss) != 2 || ss[0].NodeID != "n1" || ss[0].VersionID != "v1" || ss[0].Errors[0].Msg != "bad n1" {
		t.Fatalf("statuses = %+v %v", ss, err)
	}
	e := model.ActionExecution{ID: "01J0000000000000000000000A", TriggerID: "credentials-exchange", Status: model.ExecutionStatusFailed}
	if err := f.r.PutExecution(ctx, "acme", e); err != nil {
		t.Fatal(err)
	}
	if err := f.r.PutExecution(ctx, "acme", e); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate execution: %v", err)
	}
	if err := f.r.PutExecution(ctx, "ghost", e); !errors.Is(err, ErrNotFound) {
		t.Fatalf("execution of a missing tenant: %v", err)
	}
	got, err := f.r.GetExecution(ctx, "acme", e.ID)
	if err != nil || got.TriggerID != e.TriggerID || got.Results == nil {
		t.Fatalf("GetExecution = %+v %v", got, err)
	}
	it, _ := f.st.Get(ExecutionKey("acme", e.ID))
	if !it.ExpiresAt.Equal(now.Add(model.ExecutionTTL)) {
		t.Fatalf("execution expires at %v, want %v", it.ExpiresAt, now.Add(model.ExecutionTTL))
	}
}

func TestParseActionKey(t *testing.T) {
	tests := []struct {
		key  []byte
		want ActionKeyInfo
		ok   bool
	}{
		{ActionKey("acme", "a1"), ActionKeyInfo{Kind: ActionKeyAction, Tenant: "acme", ID: "a1"}, true},
		{ActionNameKey("acme", "my/name"), ActionKeyInfo{Kind: ActionKeyName, Tenant: "acme", ID: "my/name"}, true},
		{ActionVersionKey("acme", "a1", "v1"), ActionKeyInfo{Kind: ActionKeyVersion, Tenant: "acme", ID: "a1", Sub: "v1"}, true},
		{TriggerBindingsKey("acme", "post-login"), ActionKeyInfo{Kind: ActionKeyBindings, Tenant: "acme", ID: "post-login"}, true},
		{ActionStatusKey("acme", "v1", "node|1"), ActionKeyInfo{Kind: ActionKeyStatus, Tenant: "acme", ID: "v1", Sub: "node|1"}, true},
		{ExecutionKey("acme", "e1"), ActionKeyInfo{Kind: ActionKeyExecution, Tenant: "acme", ID: "e1"}, true},
		{ClientKey("acme", "c1"), ActionKeyInfo{}, false},
		{[]byte("t/acme/action-version/a1"), ActionKeyInfo{}, false},
		{[]byte("t/acme/action/"), ActionKeyInfo{}, false},
		{TenantKey("acme"), ActionKeyInfo{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseActionKey(tt.key)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseActionKey(%q) = %+v, %v; want %+v, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}
