package executor

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

// An action deployed and bound through the leader runs at the edge once
// the edge's executor has loaded it; each action of a chain gets only its
// own secrets and sees the claims and scopes of the earlier ones; a
// redeploy replaces the version at the edge (the old one is unloaded); a
// deny stops the chain; an unbind stops the action.
func TestChainFollowsTheStore(t *testing.T) {
	f := newCluster(t, Config{})
	<-f.x.Loaded()
	if cmds, err := f.run(); cmds != nil || err != nil {
		t.Fatalf("nothing bound: %v, %v", cmds, err)
	}

	a := f.action("first", map[string]string{"CLAIM": "https://example.com/a", "VALUE": "one", "ADD_SCOPE": "extra", "A_ONLY": "s3cr3t-a"})
	b := f.action("second", map[string]string{"CLAIM": "https://example.com/b", "VALUE": "two", "B_ONLY": "s3cr3t-b"})
	f.bind(a, b)
	var cmds []Command
	eventually(t, "the chain to run at the edge", func() (bool, string) {
		var err error
		cmds, err = f.run()
		return err == nil && len(cmds) == 5, strings.Join(describe(cmds), "; ")
	})
	got := describe(cmds)
	if got[0] != `first:https://example.com/a="one"` || got[2] != "first:+extra" || got[3] != `second:https://example.com/b="two"` {
		t.Fatalf("commands: %q", got)
	}
	var seenA, seenB struct {
		Secrets, Claims, Scope []string
	}
	json.Unmarshal(cmds[1].Command.(abi.SetCustomClaim).Value, &seenA)
	json.Unmarshal(cmds[4].Command.(abi.SetCustomClaim).Value, &seenB)
	if !slices.Equal(seenA.Secrets, []string{"ADD_SCOPE", "A_ONLY", "CLAIM", "VALUE"}) || !slices.Equal(seenB.Secrets, []string{"B_ONLY", "CLAIM", "VALUE"}) {
		t.Errorf("secrets seen: first %v, second %v (each action sees only its own)", seenA.Secrets, seenB.Secrets)
	}
	if len(seenA.Claims) != 0 || !slices.Equal(seenB.Claims, []string{"https://example.com/a", "https://example.com/a/seen"}) {
		t.Errorf("claims seen: first %v, second %v", seenA.Claims, seenB.Claims)
	}
	if !slices.Equal(seenB.Scope, []string{"read:a", "extra"}) {
		t.Errorf("second saw scope %v, want the first's AddScope applied", seenB.Scope)
	}

	// This node's build result is recorded for each version.
	av, _ := f.leader.GetAction(ctx, f.tenant, a)
	eventually(t, "the build status", func() (bool, string) {
		sts, err := f.leader.ListActionStatuses(ctx, f.tenant, av.DeployedVersionID)
		return err == nil && len(sts) == 1 && sts[0].Status == model.ActionStatusBuilt && sts[0].NodeID == "edge-1", describeStatuses(sts, err)
	})

	// A redeploy replaces the version at the edge.
	before := f.x.Stats().Versions
	f.deploy(a, map[string]string{"CLAIM": "https://example.com/a", "VALUE": "uno"}, nil)
	eventually(t, "the redeployed version to run", func() (bool, string) {
		cmds, err := f.run()
		return err == nil && len(cmds) > 0 && describe(cmds)[0] == `first:https://example.com/a="uno"`, strings.Join(describe(cmds), "; ")
	})
	if n := f.x.Stats().Versions; n != before {
		t.Errorf("%d versions loaded after a redeploy, %d before: the old one was not unloaded", n, before)
	}

	// A deny stops the chain: the action after it does not run.
	d := f.action("gate", map[string]string{"MODE": "deny", "VALUE": "not today"})
	f.bind(d, b)
	eventually(t, "the deny", func() (bool, string) {
		cmds, err := f.run()
		return err == nil && slices.Equal(describe(cmds), []string{"gate:deny not today"}), strings.Join(describe(cmds), "; ")
	})

	// An unbind stops the action; nothing bound costs nothing.
	f.bind(b)
	eventually(t, "the unbind", func() (bool, string) {
		cmds, err := f.run()
		return err == nil && len(cmds) == 2 && cmds[0].Action == "second", strings.Join(describe(cmds), "; ")
	})
	f.bind()
	eventually(t, "the last unbind", func() (bool, string) {
		return !f.x.Bound(f.tenant, abi.CredentialsExchange), "still bound"
	})
	if n := f.x.Stats().Versions; n != 0 {
		t.Errorf("%d versions loaded with nothing bound", n)
	}
}

func describeStatuses(sts []model.ActionStatus, err error) string {
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, s := range sts {
		out = append(out, s.NodeID+"="+s.Status)
	}
	return strings.Join(out, ",")
}

// A failing action fails the run with a typed, secret-free error and an
// execution record (one per version per interval, the rest counted); the
// next run after a fix succeeds.
func TestFailuresAreRecordedAndRateLimited(t *testing.T) {
	f := newCluster(t, Config{ExecutionInterval: time.Hour})
	cases := []struct {
		mode string
		want error
	}{
		{"loop", sandbox.ErrTimeout},
		{"panic", sandbox.ErrTrap},
		{"error", ErrReported},
	}
	id := f.action("flaky", map[string]string{"MODE": "loop", "VALUE": "s3cr3t-value"})
	f.bind(id)
	for _, tc := range cases {
		f.deploy(id, map[string]string{"MODE": tc.mode, "VALUE": "s3cr3t-value"}, nil)
		var err error
		eventually(t, tc.mode+" to fail", func() (bool, string) {
			_, err = f.run()
			return errors.Is(err, tc.want), errString(err)
		})
		var fl *Failure
		if !errors.As(err, &fl) || fl.Action != "flaky" || fl.ExecutionID == "" {
			t.Fatalf("%s: %v, want a *Failure of flaky with an execution id", tc.mode, err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error names a secret: %v", tc.mode, err)
		}
		// Within the interval, the same record accounts for the next
		// failure of the version.
		_, err2 := f.run()
		var fl2 *Failure
		if !errors.As(err2, &fl2) || fl2.ExecutionID != fl.ExecutionID {
			t.Errorf("%s: second failure %v, want execution %s again", tc.mode, err2, fl.ExecutionID)
		}
		var ex model.ActionExecution
		eventually(t, "the execution record", func() (bool, string) {
			var gerr error
			ex, gerr = f.leader.GetExecution(ctx, f.tenant, fl.ExecutionID)
			return gerr == nil, errString(gerr)
		})
		if ex.TriggerID != "credentials-exchange" || ex.Status != model.ExecutionStatusFailed || len(ex.Results) != 1 || ex.Results[0].ActionName != "flaky" {
			t.Errorf("%s: execution %+v", tc.mode, ex)
		}
		if strings.Contains(string(ex.Results[0].Error), "s3cr3t") {
			t.Errorf("%s: the execution names a secret: %s", tc.mode, ex.Results[0].Error)
		}
	}
	f.deploy(id, map[string]string{"CLAIM": "https://example.com/fixed", "VALUE": "yes"}, nil)
	eventually(t, "the fix to run", func() (bool, string) {
		cmds, err := f.run()
		return err == nil && len(cmds) == 2, errString(err)
	})
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// A version that does not build on this node is reported failed in its
// status and fails the requests that reach it, never skipped.
func TestVersionThatFailsToBuild(t *testing.T) {
	f := newCluster(t, Config{})
	bad := f.actionModule("broken", []byte("\x00asm\x01\x00\x00\x00 not really"), nil)
	good := f.action("after", map[string]string{"CLAIM": "https://example.com/x", "VALUE": "1"})
	f.bind(bad, good)
	var err error
	eventually(t, "the broken version to fail the run", func() (bool, string) {
		_, err = f.run()
		return errors.Is(err, ErrNotBuilt), errString(err)
	})
	if !strings.Contains(err.Error(), `"broken"`) || !strings.Contains(err.Error(), "invalid action module") {
		t.Errorf("error %q should name the action and why it did not build", err)
	}
	av, _ := f.leader.GetAction(ctx, f.tenant, bad)
	eventually(t, "the failed status", func() (bool, string) {
		sts, err := f.leader.ListActionStatuses(ctx, f.tenant, av.DeployedVersionID)
		ok := err == nil && len(sts) == 1 && sts[0].Status == model.ActionStatusFailed &&
			len(sts[0].Errors) == 1 && strings.Contains(sts[0].Errors[0].Msg, "invalid action module")
		return ok, describeStatuses(sts, err)
	})
}

// The tenant's deadline applies, capped by the node's maximum.
func TestDeadline(t *testing.T) {
	x := startExecutor(t, Config{MaxTimeout: 300 * time.Millisecond})
	for _, tc := range []struct{ tenant, want time.Duration }{
		{0, DefaultTimeout},
		{50 * time.Millisecond, 50 * time.Millisecond},
		{time.Second, 300 * time.Millisecond},
	} {
		if got := x.deadline(tc.tenant); got != tc.want {
			t.Errorf("deadline(%v) = %v, want %v", tc.tenant, got, tc.want)
		}
	}
}

// A tenant with nothing bound costs no allocation.
func TestNothingBoundDoesNotAllocate(t *testing.T) {
	x := startExecutor(t, Config{})
	ev := testEvent{}
	n := testing.AllocsPerRun(100, func() {
		if x.Bound("acme", abi.CredentialsExchange) {
			t.Fatal("bound")
		}
		if cmds, err := x.Run(ctx, "acme", abi.CredentialsExchange, ev); cmds != nil || err != nil {
			t.Fatal(cmds, err)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per unbound run", n)
	}
}

func TestActionsTenant(t *testing.T) {
	for _, tc := range []struct {
		key    string
		tenant string
		ok     bool
	}{
		{"tenant/acme", "acme", true},
		{string(repo.ActionKey("acme", "a1")), "acme", true},
		{string(repo.ActionVersionKey("acme", "a1", "v1")), "acme", true},
		{string(repo.TriggerBindingsKey("acme", "credentials-exchange")), "acme", true},
		{string(repo.ActionStatusKey("acme", "v1", "edge-1")), "", false}, // our own writes
		{string(repo.ExecutionKey("acme", "x")), "", false},
		{string(repo.ActionNameKey("acme", "tier")), "", false},
		{"t/acme/client/c1", "", false},
		{"host/acme.example.com", "", false},
	} {
		got, ok := actionsTenant([]byte(tc.key))
		if got != tc.tenant || ok != tc.ok {
			t.Errorf("actionsTenant(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.tenant, tc.ok)
		}
	}
}

// The tenant's actions_timeout_ms is the chain's deadline, capped by the
// node's maximum, and follows a change of the setting; failures the rate
// limit did not record are counted in the version's next record.
func TestTenantDeadlineAndSuppressedCount(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newCluster(t, Config{MaxTimeout: 400 * time.Millisecond, Now: clock})
	id := f.action("crash", map[string]string{"MODE": "panic"})
	f.bind(id)
	deadline := func() (time.Duration, bool) {
		ts := f.x.state.Load().tenants[f.tenant]
		if ts == nil {
			return 0, false
		}
		return ts.timeout, true
	}
	eventually(t, "the default deadline", func() (bool, string) {
		d, ok := deadline()
		return ok && d == DefaultTimeout, fmt.Sprint(d)
	})
	for _, tc := range []struct {
		ms   int
		want time.Duration
	}{{250, 250 * time.Millisecond}, {5000, 400 * time.Millisecond}} {
		if _, err := f.leader.UpdateTenant(ctx, f.tenant, func(old model.Tenant) (model.Tenant, error) {
			old.ActionsTimeoutMS = tc.ms
			return old, nil
		}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the tenant's deadline", func() (bool, string) {
			d, _ := deadline()
			return d == tc.want, fmt.Sprint(d)
		})
	}

	var first *Failure
	eventually(t, "the crash", func() (bool, string) {
		_, err := f.run()
		return errors.As(err, &first) && errors.Is(err, sandbox.ErrTrap), errString(err)
	})
	for range 3 { // within the interval: counted, not recorded
		if _, err := f.run(); !errors.As(err, new(*Failure)) {
			t.Fatalf("run: %v", err)
		}
	}
	mu.Lock()
	now = now.Add(2 * DefaultExecutionInterval)
	mu.Unlock()
	_, err := f.run()
	var next *Failure
	if !errors.As(err, &next) || next.ExecutionID == first.ExecutionID || next.ExecutionID == "" {
		t.Fatalf("after the interval: %v (first %s), want a new record", err, first.ExecutionID)
	}
	eventually(t, "the second record", func() (bool, string) {
		ex, err := f.leader.GetExecution(ctx, f.tenant, next.ExecutionID)
		if err != nil {
			return false, err.Error()
		}
		var e struct{ Suppressed int }
		json.Unmarshal(ex.Results[0].Error, &e)
		return e.Suppressed == 3, string(ex.Results[0].Error)
	})
}
