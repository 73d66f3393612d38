package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authok-edge/authok/actions-runtime/jsengine/jsenginetest"
	"github.com/authok-edge/authok/actions-runtime/sandbox/sandboxtest"
	"github.com/authok-edge/authok/shared/servetest"
)

// ensureEngine puts the JavaScript engine where the binary embeds it
// (what `make engine` does), so the binary authokBinary builds runs
// JavaScript actions.
func ensureEngine() error {
	wasm, err := jsenginetest.Build()
	if err != nil {
		return err
	}
	dist := filepath.Join("..", "..", "actions-runtime", "jsengine", "dist", "engine.wasm")
	if old, err := os.ReadFile(dist); err == nil && bytes.Equal(old, wasm) {
		return nil
	}
	tmp := dist + ".tmp"
	if err := os.WriteFile(tmp, wasm, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dist)
}

// api is a Management API client for tests and benchmarks.
type api struct {
	tb    testing.TB
	base  string
	token string
}

// managementClient is the bootstrap management client asking base's token
// endpoint for a Management API token, as x/oauth2 does.
func managementClient(base string, creds credentials) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, TokenURL: base + "/oauth/token",
		EndpointParams: url.Values{"audience": {creds.Issuer + "api/v1/"}}, AuthStyle: oauth2.AuthStyleInParams,
	}
}

func newAPI(tb testing.TB, base string, creds credentials) *api {
	tb.Helper()
	tok, err := managementClient(base, creds).Token(context.Background())
	if err != nil {
		tb.Fatalf("management token: %v", err)
	}
	return &api{tb: tb, base: base, token: tok.AccessToken}
}

func (a *api) do(method, path string, body any, want int, out any) {
	a.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.tb.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			a.tb.Fatalf("%s %s: %s: %v", method, path, data, err)
		}
	}
}

// guestModule is the executor tests' Go-SDK action: it sets CLAIM to
// VALUE, or denies with VALUE when MODE is deny.
func guestModule(tb testing.TB) []byte {
	tb.Helper()
	wasm, err := sandboxtest.BuildGo("../../actions-runtime/executor/testdata/guest", "../../actions-runtime/sdk")
	if err != nil {
		tb.Fatal(err)
	}
	return wasm
}

func secrets(kv ...string) []map[string]string {
	var out []map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, map[string]string{"name": kv[i], "value": kv[i+1]})
	}
	return out
}

// claimsAt gets a client_credentials token of the management client from
// base with x/oauth2 and returns its claims, or the endpoint's error.
func claimsAt(tb testing.TB, base string, creds credentials) (map[string]any, *oauth2.RetrieveError) {
	tb.Helper()
	tok, err := managementClient(base, creds).Token(context.Background())
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, re
		}
		tb.Fatalf("token: %v", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok.AccessToken, ".")[1])
	if err != nil {
		tb.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		tb.Fatal(err)
	}
	return claims, nil
}

func describeToken(claims map[string]any, re *oauth2.RetrieveError) string {
	if re != nil {
		return fmt.Sprintf("%d %s: %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
	b, _ := json.Marshal(claims)
	return string(b)
}

// waitFor waits (two minutes at most) until cond holds.
func waitFor(tb testing.TB, what string, cond func() (bool, string)) {
	tb.Helper()
	servetest.Eventually(tb, what, 2*time.Minute, 10*time.Millisecond, cond)
}

// actionCluster is a control-plane node and an edge, each its own process.
type actionCluster struct {
	control, edge string // base URLs
	creds         credentials
	mgmt          *api
}

func startActionCluster(tb testing.TB) actionCluster {
	tb.Helper()
	env := []string{"AUTHOK_CLUSTER_SECRET=actions-test-cluster-secret", "AUTHOK_MASTER_KEY=" + newMasterKey(tb)}
	root := tb.TempDir()
	ctl, edgeAddr := servetest.FreeAddr(tb), servetest.FreeAddr(tb)
	issuer := "http://" + edgeAddr + "/"
	c := start(tb, env, "control", "--node-id", "c1", "--raft-addr", servetest.FreeAddr(tb), "--http-addr", ctl,
		"--data-dir", filepath.Join(root, "c1"), "--issuer", issuer, "--bootstrap")
	waitReady(tb, c, "http://"+ctl)
	e := start(tb, env, "edge", "--node-id", "e1", "--raft-addr", servetest.FreeAddr(tb), "--http-addr", edgeAddr,
		"--data-dir", filepath.Join(root, "e1"), "--issuer", issuer, "--join", "http://"+ctl)
	waitReady(tb, e, "http://"+edgeAddr)
	ac := actionCluster{control: "http://" + ctl, edge: "http://" + edgeAddr, creds: readCredentials(tb, filepath.Join(root, "c1"))}
	// The Management API at the control plane itself; tokens from the edge.
	ac.mgmt = newAPI(tb, ac.edge, ac.creds)
	ac.mgmt.base = ac.control
	return ac
}

// An action deployed through the control plane's Management API runs at
// the edge; a redeploy replaces it there; a deny refuses the token; an
// unbind stops it. A module and a JavaScript action bound together both
// apply, in order.
func TestActionsDeployedOnControlRunAtTheEdge(t *testing.T) {
	c := startActionCluster(t)
	var mod struct{ ID string }
	c.mgmt.do("POST", "/actions/actions", map[string]any{
		"name": "tier", "runtime": "wasm", "module": guestModule(t),
		"supported_triggers": []map[string]string{{"id": "credentials-exchange", "version": "v2"}},
		"secrets":            secrets("CLAIM", "https://example.com/tier", "VALUE", "gold"),
	}, 201, &mod)
	c.mgmt.do("POST", "/actions/actions/"+mod.ID+"/deploy", nil, 200, nil)
	bind := func(ids ...string) {
		var bs []map[string]any
		for _, id := range ids {
			bs = append(bs, map[string]any{"ref": map[string]string{"type": "action_id", "value": id}, "display_name": id})
		}
		c.mgmt.do("PATCH", "/actions/triggers/credentials-exchange/bindings", map[string]any{"bindings": bs}, 200, nil)
	}
	bind(mod.ID)
	waitFor(t, "the module at the edge", func() (bool, string) {
		claims, re := claimsAt(t, c.edge, c.creds)
		return re == nil && claims["https://example.com/tier"] == "gold", describeToken(claims, re)
	})

	c.mgmt.do("PATCH", "/actions/actions/"+mod.ID, map[string]any{"secrets": secrets("CLAIM", "https://example.com/tier", "VALUE", "platinum")}, 200, nil)
	c.mgmt.do("POST", "/actions/actions/"+mod.ID+"/deploy", nil, 200, nil)
	waitFor(t, "the redeploy at the edge", func() (bool, string) {
		claims, re := claimsAt(t, c.edge, c.creds)
		return re == nil && claims["https://example.com/tier"] == "platinum", describeToken(claims, re)
	})

	var js struct{ ID string }
	c.mgmt.do("POST", "/actions/actions", map[string]any{
		"name": "echo", "runtime": "node18",
		"code": `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim("https://example.com/echo", "saw " + event.accessToken.customClaims["https://example.com/tier"]);
};`,
		"supported_triggers": []map[string]string{{"id": "credentials-exchange", "version": "v2"}},
	}, 201, &js)
	c.mgmt.do("POST", "/actions/actions/"+js.ID+"/deploy", nil, 200, nil)
	bind(mod.ID, js.ID)
	waitFor(t, "the module and the JS action at the edge", func() (bool, string) {
		claims, re := claimsAt(t, c.edge, c.creds)
		return re == nil && claims["https://example.com/tier"] == "platinum" && claims["https://example.com/echo"] == "saw platinum", describeToken(claims, re)
	})

	c.mgmt.do("PATCH", "/actions/actions/"+mod.ID, map[string]any{"secrets": secrets("MODE", "deny", "VALUE", "closed for maintenance")}, 200, nil)
	c.mgmt.do("POST", "/actions/actions/"+mod.ID+"/deploy", nil, 200, nil)
	waitFor(t, "the deny at the edge", func() (bool, string) {
		claims, re := claimsAt(t, c.edge, c.creds)
		return re != nil && re.ErrorCode == "access_denied" && re.ErrorDescription == "closed for maintenance", describeToken(claims, re)
	})

	bind()
	waitFor(t, "the unbind at the edge", func() (bool, string) {
		claims, re := claimsAt(t, c.edge, c.creds)
		return re == nil && claims["https://example.com/tier"] == nil && claims["https://example.com/echo"] == nil, describeToken(claims, re)
	})
}

// The official Node.js SDK (npm auth0) creates a JavaScript action with
// a secret, deploys and binds it against authok dev; a token from
// x/oauth2 carries the claim the action set from the secret; redeployed
// to deny, the token is refused with access_denied and the reason.
func TestNodeSDKActionsAgainstDev(t *testing.T) {
	modules, _ := filepath.Abs(filepath.Join("..", "..", "docs", "examples", "node", "node_modules"))
	node, err := exec.LookPath("node")
	if _, serr := os.Stat(filepath.Join(modules, "auth0")); err != nil || serr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and the auth0 package (npm ci in docs/examples/node) are needed under CI: %v %v", err, serr)
		}
		t.Skip("needs node and npm ci in docs/examples/node")
	}
	dev := startDev(t)
	runSDK := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(node, append([]string{filepath.Join("testdata", "actions-sdk.js")}, args...)...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "AUTHOK_URL="+dev.base,
			"AUTHOK_BOOTSTRAP="+filepath.Join(dev.dataDir, "bootstrap.json"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node actions-sdk.js %v: %v\n%s", args, err, stderr.String())
		}
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("actions-sdk.js printed %s: %v", out, err)
		}
		return res
	}
	created := runSDK("create")
	if created["bindings"] != 1.0 {
		t.Fatalf("after create: %v", created)
	}
	waitFor(t, "the SDK's action in the token", func() (bool, string) {
		claims, re := claimsAt(t, dev.base, dev.creds)
		return re == nil && claims["https://example.com/tier"] == "gold", describeToken(claims, re)
	})
	runSDK("deny", created["action_id"].(string))
	want := "tokens are paused for " + dev.creds.ClientID
	waitFor(t, "the deny", func() (bool, string) {
		claims, re := claimsAt(t, dev.base, dev.creds)
		return re != nil && re.Response.StatusCode == 400 && re.ErrorCode == "access_denied" && re.ErrorDescription == want, describeToken(claims, re)
	})
}

// BenchmarkDeployToReadyAtEdge measures, on a control-plane process and an
// edge process, the time from a deploy call's answer at the control plane
// to the first token from the edge carrying the new version's claim: one
// redeploy per iteration (replication, the edge's background load and the
// first invocation). Reported as ms/deploy, for a Go-SDK module and a
// JavaScript action.
//
//	go test -run '^$' -bench DeployToReady -benchtime 10x ./cmd/authok
func BenchmarkDeployToReadyAtEdge(b *testing.B) {
	c := startActionCluster(b)
	for _, kind := range []string{"wasm", "js"} {
		// Made once: b.Run runs its function again for each b.N.
		body := map[string]any{
			"name": "ready-" + kind, "supported_triggers": []map[string]string{{"id": "credentials-exchange", "version": "v2"}},
			"secrets": secrets("CLAIM", "https://example.com/ready", "VALUE", "0"),
		}
		if kind == "wasm" {
			body["runtime"], body["module"] = "wasm", guestModule(b)
		} else {
			body["runtime"], body["code"] = "node18", `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim(event.secrets.CLAIM, event.secrets.VALUE);
};`
		}
		var a struct{ ID string }
		c.mgmt.do("POST", "/actions/actions", body, 201, &a)
		c.mgmt.do("POST", "/actions/actions/"+a.ID+"/deploy", nil, 200, nil)
		c.mgmt.do("PATCH", "/actions/triggers/credentials-exchange/bindings", map[string]any{"bindings": []map[string]any{
			{"ref": map[string]string{"type": "action_id", "value": a.ID}, "display_name": "ready"}}}, 200, nil)
		round := 0
		b.Run(kind, func(b *testing.B) {
			var total time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				round++
				value := fmt.Sprint(round)
				c.mgmt.do("PATCH", "/actions/actions/"+a.ID, map[string]any{"secrets": secrets("CLAIM", "https://example.com/ready", "VALUE", value)}, 200, nil)
				b.StartTimer()
				c.mgmt.do("POST", "/actions/actions/"+a.ID+"/deploy", nil, 200, nil)
				start := time.Now()
				waitFor(b, "the new version at the edge", func() (bool, string) {
					claims, re := claimsAt(b, c.edge, c.creds)
					return re == nil && claims["https://example.com/ready"] == value, describeToken(claims, re)
				})
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/deploy")
		})
	}
}
