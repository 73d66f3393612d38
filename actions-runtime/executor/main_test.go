package executor

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/jsengine/jsenginetest"
	"github.com/authok-edge/authok/actions-runtime/sandbox/sandboxtest"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/servetest"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

var ctx = context.Background()

var guestOnce struct {
	sync.Once
	wasm []byte
	err  error
}

// guest is testdata/guest (the Go SDK), built once per test binary run.
func guest(t testing.TB) []byte {
	t.Helper()
	guestOnce.Do(func() { guestOnce.wasm, guestOnce.err = sandboxtest.BuildGo("testdata/guest", "../sdk") })
	if guestOnce.err != nil {
		t.Fatalf("building the guest: %v", guestOnce.err)
	}
	return guestOnce.wasm
}

// cluster is a voter and an edge; the executor runs at the edge on its
// replica, the test writes through the leader as the control plane does.
type cluster struct {
	t       *testing.T
	c       *storetest.Cluster
	leader  *repo.Repo
	edge    *repo.Repo
	edgeSt  store.Store
	x       *Executor
	tenant  string
	counter int
}

func newCluster(t *testing.T, cfg Config) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	c := storetest.NewCluster(t, 1, 1, storetest.ClusterOptions{})
	box, err := secretbox.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := repo.New(c.Leader().Node, box)
	if err != nil {
		t.Fatal(err)
	}
	edge := c.Edges()[0]
	er, err := repo.New(edge.Node, box)
	if err != nil {
		t.Fatal(err)
	}
	f := &cluster{t: t, c: c, leader: lr, edge: er, edgeSt: edge.Node, tenant: "acme"}
	if _, err := lr.CreateTenant(ctx, model.Tenant{Name: f.tenant, Internal: model.TenantInternal{Issuer: "https://acme.example.com/"}}); err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Repo, cfg.NodeID = edge.Node, er, edge.ID
	if os.Getenv("EXECUTOR_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	f.x = startExecutor(t, cfg)
	return f
}

func startExecutor(t *testing.T, cfg Config) *Executor { return startExecutorTB(t, cfg) }

func startExecutorTB(t testing.TB, cfg Config) *Executor {
	t.Helper()
	// The machine-wide cache: the JS engine compiles once per machine.
	cfg.Sandbox.CacheDir = jsenginetest.CompilationCacheDir(t)
	x, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Close(ctx) })
	if cfg.Store != nil {
		if err := x.Start(); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

// action creates a wasm action running the guest with secrets and deploys
// it; it returns the action's id.
func (f *cluster) action(name string, secrets map[string]string) string {
	f.t.Helper()
	return f.actionModule(name, guest(f.t), secrets)
}

func (f *cluster) actionModule(name string, module []byte, secrets map[string]string) string {
	f.t.Helper()
	f.counter++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.counter)
	_, err := f.leader.CreateAction(ctx, f.tenant, model.Action{
		ID: id, Name: name, Runtime: "wasm", Module: module,
		SupportedTriggers: []model.ActionTrigger{{ID: "credentials-exchange", Version: "v2"}},
		Secrets:           secretList(secrets),
	})
	if err != nil {
		f.t.Fatalf("CreateAction %s: %v", name, err)
	}
	f.deploy(id, nil, nil)
	return id
}

func secretList(m map[string]string) []model.ActionSecret {
	var out []model.ActionSecret
	for k, v := range m {
		out = append(out, model.ActionSecret{Name: k, Value: model.Secret(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// deploy deploys the action's draft, first replacing its secrets and
// module when given; it returns the new version's id.
func (f *cluster) deploy(actionID string, secrets map[string]string, module []byte) string {
	f.t.Helper()
	f.counter++
	vid := fmt.Sprintf("11111111-0000-4000-8000-%012d", f.counter)
	_, _, err := f.leader.DeployAction(ctx, f.tenant, actionID, func(a model.Action, n int) (model.ActionVersion, model.Action, error) {
		if secrets != nil {
			a.Secrets = secretList(secrets)
		}
		if module != nil {
			a.Module = module
		}
		return model.ActionVersion{ID: vid, Runtime: a.Runtime, Code: a.Code, Module: a.Module,
			SupportedTriggers: a.SupportedTriggers, Secrets: a.Secrets}, a, nil
	})
	if err != nil {
		f.t.Fatalf("DeployAction: %v", err)
	}
	return vid
}

// bind makes the trigger's chain exactly these actions, in order.
func (f *cluster) bind(actionIDs ...string) {
	f.t.Helper()
	_, err := f.leader.UpdateTriggerBindings(ctx, f.tenant, "credentials-exchange", func(model.TriggerBindings) (model.TriggerBindings, error) {
		tb := model.TriggerBindings{TriggerID: "credentials-exchange", Bindings: []model.ActionBinding{}}
		for i, id := range actionIDs {
			tb.Bindings = append(tb.Bindings, model.ActionBinding{ID: fmt.Sprintf("22222222-0000-4000-8000-%012d", i+1), ActionID: id, DisplayName: id})
		}
		return tb, nil
	}, nil)
	if err != nil {
		f.t.Fatalf("UpdateTriggerBindings: %v", err)
	}
}

// run runs the tenant's credentials-exchange chain on a test event.
func (f *cluster) run() ([]Command, error) {
	return f.x.Run(ctx, f.tenant, abi.CredentialsExchange, testEvent{scope: "read:a"})
}

// eventually waits (two minutes at most) until cond holds.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	servetest.Eventually(t, what, 2*time.Minute, 20*time.Millisecond, cond)
}

// claims renders the commands as "action:Type name=value" lines.
func describe(cmds []Command) []string {
	var out []string
	for _, c := range cmds {
		switch v := c.Command.(type) {
		case abi.SetCustomClaim:
			out = append(out, fmt.Sprintf("%s:%s=%s", c.Action, v.Name, v.Value))
		case abi.AccessDenied:
			out = append(out, fmt.Sprintf("%s:deny %s", c.Action, v.Reason))
		case abi.AddScope:
			out = append(out, fmt.Sprintf("%s:+%s", c.Action, v.Scope))
		default:
			out = append(out, fmt.Sprintf("%s:%s", c.Action, c.Command.Type()))
		}
	}
	return out
}

// testEvent is a minimal credentials-exchange event: the secrets, the
// scope and the custom claims the earlier actions set.
type testEvent struct{ scope string }

func (e testEvent) AppendEvent(dst, secrets []byte, prior []Command) []byte {
	claims := map[string]json.RawMessage{}
	scope := []string{e.scope}
	for _, c := range prior {
		switch v := c.Command.(type) {
		case abi.SetCustomClaim:
			claims[v.Name] = v.Value
		case abi.AddScope:
			scope = append(scope, v.Scope)
		}
	}
	b, _ := json.Marshal(map[string]any{
		"secrets":     json.RawMessage(secrets),
		"tenant":      map[string]string{"id": "acme"},
		"client":      map[string]string{"client_id": "c1"},
		"accessToken": map[string]any{"scope": scope, "customClaims": claims},
	})
	return append(dst, b...)
}
