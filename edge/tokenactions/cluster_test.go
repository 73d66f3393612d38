package tokenactions

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authok-edge/authok/actions-runtime/executor"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/actions-runtime/sandbox/sandboxtest"
	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/edge/token"
	"github.com/authok-edge/authok/shared/bootstrap"
	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/servetest"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

var discard = slog.New(slog.DiscardHandler)

var guestOnce struct {
	sync.Once
	wasm []byte
	err  error
}

// guest is the executor's test action (Go SDK), steered by its secrets:
// MODE (claim, deny, loop, panic, error), CLAIM, VALUE.
func guest(t testing.TB) []byte {
	t.Helper()
	guestOnce.Do(func() {
		guestOnce.wasm, guestOnce.err = sandboxtest.BuildGo("../../actions-runtime/executor/testdata/guest", "../../actions-runtime/sdk")
	})
	if guestOnce.err != nil {
		t.Fatalf("building the guest: %v", guestOnce.err)
	}
	return guestOnce.wasm
}

// edgeCluster is a voter (the control plane's writes) and an edge serving
// /oauth/token with the executor and the adapter, as cmd/authok wires it.
type edgeCluster struct {
	t        *testing.T
	leader   *repo.Repo
	edgeRepo *repo.Repo
	edgeSt   store.Store
	x        *executor.Executor
	tenant   string
	cc       clientcredentials.Config
	n        int
}

func newEdgeCluster(t *testing.T) *edgeCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	c := storetest.NewCluster(t, 1, 1, storetest.ClusterOptions{})
	leader, edge := c.Leader().Node, c.Edges()[0]
	box, err := secretbox.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/"
	ctx := context.Background()
	lkm := keys.New(leader, box)
	defer lkm.Close()
	res, err := bootstrap.Ensure(ctx, leader, box, bootstrap.Options{Issuer: issuer, Keys: lkm})
	if err != nil {
		t.Fatal(err)
	}
	f := &edgeCluster{t: t, tenant: res.Tenant, edgeSt: edge.Node}
	if f.leader, err = repo.New(leader, box); err != nil {
		t.Fatal(err)
	}
	if f.edgeRepo, err = repo.New(edge.Node, box); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := edge.Node.WaitApplied(wctx, leader.AppliedIndex()); err != nil {
		t.Fatal(err)
	}

	km := keys.New(edge.Node, box)
	t.Cleanup(func() { km.Close() })
	dir, err := directory.New(directory.Config{Store: edge.Node, Repo: f.edgeRepo, Signers: km})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dir.Close)
	logs, err := logship.New(logship.Config{Store: edge.Node, FlushInterval: 20 * time.Millisecond, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	logs.Start()
	t.Cleanup(func() { logs.Close(context.Background()) })
	f.x, err = executor.New(ctx, executor.Config{Store: edge.Node, Repo: f.edgeRepo, NodeID: edge.ID, Logger: discard,
		Sandbox: sandbox.Config{CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.x.Close(context.Background()) })
	if err := f.x.Start(); err != nil {
		t.Fatal(err)
	}
	h, err := token.New(token.Config{Directory: dir, Store: edge.Node, Logs: logs, Logger: discard, Actions: New(f.x)})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{ControlHandler: http.NotFoundHandler(), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("POST", "/oauth/token", h.Serve)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	f.cc = clientcredentials.Config{
		ClientID: res.ClientID, ClientSecret: res.ClientSecret.Reveal(), TokenURL: issuer + "oauth/token",
		EndpointParams: url.Values{"audience": {res.Audience}}, AuthStyle: oauth2.AuthStyleInParams,
	}
	return f
}

// action creates and deploys a wasm action; it returns its id.
func (f *edgeCluster) action(name string, module []byte, secrets map[string]string) string {
	f.t.Helper()
	f.n++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.n)
	_, err := f.leader.CreateAction(context.Background(), f.tenant, model.Action{
		ID: id, Name: name, Runtime: "wasm", Module: module,
		SupportedTriggers: []model.ActionTrigger{{ID: "credentials-exchange", Version: "v2"}},
		Secrets:           secretList(secrets),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.deploy(id, nil)
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

func (f *edgeCluster) deploy(id string, secrets map[string]string) {
	f.t.Helper()
	f.n++
	vid := fmt.Sprintf("11111111-0000-4000-8000-%012d", f.n)
	_, _, err := f.leader.DeployAction(context.Background(), f.tenant, id, func(a model.Action, n int) (model.ActionVersion, model.Action, error) {
		if secrets != nil {
			a.Secrets = secretList(secrets)
		}
		return model.ActionVersion{ID: vid, Runtime: a.Runtime, Code: a.Code, Module: a.Module,
			SupportedTriggers: a.SupportedTriggers, Secrets: a.Secrets}, a, nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *edgeCluster) bind(ids ...string) {
	f.t.Helper()
	_, err := f.leader.UpdateTriggerBindings(context.Background(), f.tenant, "credentials-exchange", func(model.TriggerBindings) (model.TriggerBindings, error) {
		tb := model.TriggerBindings{TriggerID: "credentials-exchange", Bindings: []model.ActionBinding{}}
		for i, id := range ids {
			tb.Bindings = append(tb.Bindings, model.ActionBinding{ID: fmt.Sprintf("22222222-0000-4000-8000-%012d", i+1), ActionID: id, DisplayName: id})
		}
		return tb, nil
	}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
}

// token gets a token with x/oauth2 and returns its claims, or the
// token endpoint's error.
func (f *edgeCluster) token() (map[string]any, *oauth2.RetrieveError) {
	f.t.Helper()
	tok, err := f.cc.Token(context.Background())
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, re
		}
		f.t.Fatalf("token: %v", err)
	}
	parts := strings.Split(tok.AccessToken, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		f.t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		f.t.Fatal(err)
	}
	return claims, nil
}

// eventually waits (two minutes at most) until cond holds.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	servetest.Eventually(t, what, 2*time.Minute, 20*time.Millisecond, cond)
}

func describe(claims map[string]any, re *oauth2.RetrieveError) string {
	if re != nil {
		return fmt.Sprintf("%d %s: %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
	b, _ := json.Marshal(claims)
	return string(b)
}

// logHas reports whether the tenant's log holds an event containing all
// of frags.
func (f *edgeCluster) logHas(frags ...string) (bool, string) {
	evs, err := logship.Events(f.edgeSt, f.tenant, 1<<20)
	if err != nil {
		return false, err.Error()
	}
	for _, e := range evs {
		all := true
		for _, fr := range frags {
			all = all && strings.Contains(string(e), fr)
		}
		if all {
			return true, ""
		}
	}
	last := ""
	if len(evs) > 0 {
		last = string(evs[len(evs)-1])
	}
	return false, fmt.Sprintf("%d events, none has %q; last %s", len(evs), frags, last)
}

// A client_credentials token from an edge carries what the bound
// actions decide; a redeploy replaces the action there, an unbind stops
// it, a deny refuses the token with the reason, a failing action fails
// it with the documented error and a log event naming the execution, and
// the next request after a fix succeeds.
func TestTokensAtTheEdge(t *testing.T) {
	f := newEdgeCluster(t)
	if claims, re := f.token(); re != nil || claims["https://example.com/tier"] != nil {
		t.Fatalf("nothing bound: %s", describe(claims, re))
	}

	tier := f.action("tier", guest(t), map[string]string{"CLAIM": "https://example.com/tier", "VALUE": "gold", "TOP_SECRET": "s3cr3t"})
	f.bind(tier)
	var claims map[string]any
	eventually(t, "the claim at the edge", func() (bool, string) {
		var re *oauth2.RetrieveError
		claims, re = f.token()
		return re == nil && claims["https://example.com/tier"] == "gold", describe(claims, re)
	})
	seen, _ := claims["https://example.com/tier/seen"].(map[string]any)
	body, _ := seen["body"].(map[string]any)
	if seen["tenant"] != f.tenant || seen["client"] != f.cc.ClientID || body["grant_type"] != "client_credentials" || body["audience"] == nil {
		t.Errorf("the action saw %v", seen)
	}
	if _, leaked := body["client_secret"]; leaked {
		t.Errorf("the client secret reached the action: %v", body)
	}

	f.deploy(tier, map[string]string{"CLAIM": "https://example.com/tier", "VALUE": "platinum"})
	eventually(t, "the redeploy at the edge", func() (bool, string) {
		claims, re := f.token()
		return re == nil && claims["https://example.com/tier"] == "platinum", describe(claims, re)
	})

	gate := f.action("gate", guest(t), map[string]string{"MODE": "deny", "VALUE": "no tokens on Sundays"})
	f.bind(gate, tier)
	eventually(t, "the deny", func() (bool, string) {
		claims, re := f.token()
		return re != nil && re.Response.StatusCode == 400 && re.ErrorCode == "access_denied" && re.ErrorDescription == "no tokens on Sundays", describe(claims, re)
	})

	f.deploy(gate, map[string]string{"MODE": "loop"})
	var failure *oauth2.RetrieveError
	eventually(t, "the endless loop to fail the request", func() (bool, string) {
		claims, re := f.token()
		failure = re
		return re != nil && re.Response.StatusCode == 500, describe(claims, re)
	})
	if failure.ErrorCode != "server_error" || failure.ErrorDescription != "a credentials-exchange action failed" {
		t.Errorf("a failing action answered %s", describe(nil, failure))
	}
	eventually(t, "the log event", func() (bool, string) {
		return f.logHas(`exchange_failed`, `action \"gate\" failed: `, `action timed out (execution `)
	})

	f.deploy(gate, map[string]string{"CLAIM": "https://example.com/gate", "VALUE": "open"})
	eventually(t, "the fix", func() (bool, string) {
		claims, re := f.token()
		return re == nil && claims["https://example.com/gate"] == "open" && claims["https://example.com/tier"] == "platinum", describe(claims, re)
	})

	f.bind()
	eventually(t, "the unbind", func() (bool, string) {
		claims, re := f.token()
		return re == nil && claims["https://example.com/tier"] == nil && claims["https://example.com/gate"] == nil, describe(claims, re)
	})
}
