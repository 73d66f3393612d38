package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authok-edge/authok/shared/servetest"
)

// The machine-to-machine slice end to end, through the real binary and real
// clients: golang.org/x/oauth2 gets tokens, go-oidc verifies them against
// the JWKS it finds through discovery.

// mgmt is a Management API client authenticated with the bootstrap client.
type mgmt struct {
	t     *testing.T
	base  string // any node's URL; the edge proxies /api/v1 to the control plane
	token string
}

func newMgmt(t *testing.T, base string, creds credentials) *mgmt {
	t.Helper()
	cc := clientcredentials.Config{
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		TokenURL:       base + "/oauth/token",
		EndpointParams: url.Values{"audience": {creds.Issuer + "api/v1/"}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("management token: %v", err)
	}
	return &mgmt{t: t, base: base, token: tok.AccessToken}
}

// do sends a Management API request and decodes the answer into out.
func (m *mgmt) do(method, path string, body any, wantStatus int, out any) {
	m.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, m.base+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+m.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		m.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			m.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

type machine struct {
	ClientID, ClientSecret, Audience string
}

// setupMachine creates an API, a machine client and a grant through the
// Management API.
func setupMachine(m *mgmt, alg string) machine {
	id := fmt.Sprintf("https://api.e2e.test/%d", time.Now().UnixNano())
	m.do("POST", "/resource-servers", map[string]any{
		"name": "e2e API", "identifier": id, "signing_alg": alg,
		"scopes": []map[string]string{{"value": "read:things"}, {"value": "write:things"}},
	}, 201, nil)
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	m.do("POST", "/clients", map[string]any{
		"name": "e2e machine", "app_type": "non_interactive",
		"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "client_secret_post",
	}, 201, &client)
	m.do("POST", "/client-grants", map[string]any{
		"client_id": client.ClientID, "audience": id, "scope": []string{"read:things"},
	}, 201, nil)
	return machine{ClientID: client.ClientID, ClientSecret: client.ClientSecret, Audience: id}
}

// tokenAt asks base for a client_credentials token and returns the status
// and the decoded answer (token or RFC 6749 error).
func tokenAt(t *testing.T, base string, mc machine, secret string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {mc.ClientID}, "client_secret": {secret}, "audience": {mc.Audience}}
	resp, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// discoveryVerifier finds the JWKS through the issuer's discovery document.
func discoveryVerifier(t *testing.T, issuer, audience string, algs ...string) *oidc.IDTokenVerifier {
	t.Helper()
	provider, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return provider.Verifier(&oidc.Config{ClientID: audience, SupportedSigningAlgs: algs})
}

func verifyWithDiscovery(t *testing.T, issuer, audience, token string, algs ...string) *oidc.IDToken {
	t.Helper()
	tok, err := discoveryVerifier(t, issuer, audience, algs...).Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("go-oidc rejected the access token: %v", err)
	}
	return tok
}

func TestDevIssuesTokensGoOIDCVerifies(t *testing.T) {
	dev := startDev(t)
	p, base, creds := dev.p, dev.base, dev.creds
	m := newMgmt(t, base, creds)

	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			mc := setupMachine(m, alg)
			cc := clientcredentials.Config{
				ClientID: mc.ClientID, ClientSecret: mc.ClientSecret, TokenURL: base + "/oauth/token",
				EndpointParams: url.Values{"audience": {mc.Audience}}, AuthStyle: oauth2.AuthStyleInParams,
			}
			tok, err := cc.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
				t.Fatalf("token %+v", tok)
			}
			idt := verifyWithDiscovery(t, creds.Issuer, mc.Audience, tok.AccessToken, alg)
			headerKID(t, tok.AccessToken)
			var all map[string]any
			idt.Claims(&all)
			if all["sub"] != mc.ClientID || all["azp"] != mc.ClientID || all["client_id"] != mc.ClientID ||
				all["scope"] != "read:things" || all["gty"] != "client-credentials" || all["jti"] == nil {
				t.Fatalf("claims %v", all)
			}
		})
	}
	p.stop()
}

// Three voters and two edges as processes: what an admin creates through
// the REST API works at every edge at once, and what they remove stops
// working at every edge at once.
func TestClusterM2MAtEveryEdge(t *testing.T) {
	secret := "m2m-cluster-secret-0123"
	env := []string{"AUTHOK_CLUSTER_SECRET=" + secret, "AUTHOK_MASTER_KEY=" + newMasterKey(t)}
	root := t.TempDir()
	// The public origin, and so the issuer, is the first edge: what a load
	// balancer in front of the edges would be.
	edgeAddrs := []string{servetest.FreeAddr(t), servetest.FreeAddr(t)}
	issuer := "http://" + edgeAddrs[0] + "/"
	var controls []string
	for i := 1; i <= 3; i++ {
		httpAddr := servetest.FreeAddr(t)
		args := []string{"control", "--node-id", fmt.Sprintf("c%d", i), "--raft-addr", servetest.FreeAddr(t), "--http-addr", httpAddr,
			"--data-dir", filepath.Join(root, fmt.Sprintf("c%d", i)), "--issuer", issuer}
		if i == 1 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", controls[0])
		}
		p := start(t, env, args...)
		waitReady(t, p, "http://"+httpAddr)
		controls = append(controls, "http://"+httpAddr)
	}
	var edges []string
	for i := 1; i <= 2; i++ {
		httpAddr := edgeAddrs[i-1]
		p := start(t, env, "edge", "--node-id", fmt.Sprintf("e%d", i), "--raft-addr", servetest.FreeAddr(t), "--http-addr", httpAddr,
			"--data-dir", filepath.Join(root, fmt.Sprintf("e%d", i)), "--issuer", issuer, "--join", controls[i],
			"--control-url", strings.Join(controls, ","))
		waitReady(t, p, "http://"+httpAddr)
		edges = append(edges, "http://"+httpAddr)
	}
	creds := readCredentials(t, filepath.Join(root, "c1"))
	m := newMgmt(t, edges[0], creds)
	mc := setupMachine(m, "RS256")

	// The client works at each edge as soon as the REST calls returned
	// (allowing the few milliseconds replication to an edge takes).
	for _, e := range edges {
		eventually(t, func() (bool, string) {
			status, out := tokenAt(t, e, mc, mc.ClientSecret)
			return status == 200, fmt.Sprint(status, out)
		})
		_, out := tokenAt(t, e, mc, mc.ClientSecret)
		verifyWithDiscovery(t, issuer, mc.Audience, out["access_token"].(string), "RS256")
	}

	// Rotating the secret makes the old one fail everywhere.
	var rotated struct {
		ClientSecret string `json:"client_secret"`
	}
	m.do("POST", "/clients/"+mc.ClientID+"/rotate-secret", nil, 200, &rotated)
	for _, e := range edges {
		eventually(t, func() (bool, string) {
			status, out := tokenAt(t, e, mc, mc.ClientSecret)
			return status == 401 && out["error"] == "invalid_client", fmt.Sprint(status, out)
		})
		if status, out := tokenAt(t, e, mc, rotated.ClientSecret); status != 200 {
			t.Fatalf("%s: new secret refused: %d %v", e, status, out)
		}
	}
	mc.ClientSecret = rotated.ClientSecret

	// Retiring a scope from the API retires it from the grant, and from
	// the tokens of every edge (the grant held read:things only).
	m.do("PATCH", "/resource-servers/"+url.PathEscape(mc.Audience), map[string]any{
		"scopes": []map[string]string{{"value": "write:things"}},
	}, 200, nil)
	for _, e := range edges {
		eventually(t, func() (bool, string) {
			status, out := tokenAt(t, e, mc, mc.ClientSecret)
			return status == 200 && out["scope"] == nil, fmt.Sprint(status, out)
		})
	}

	// Deleting the grant makes the next request fail with access_denied.
	var grants struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	m.do("GET", "/client-grants?client_id="+mc.ClientID, nil, 200, &grants)
	if len(grants.Items) != 1 {
		t.Fatalf("grants %+v", grants)
	}
	m.do("DELETE", "/client-grants/"+grants.Items[0].ID, nil, 204, nil)
	for _, e := range edges {
		eventually(t, func() (bool, string) {
			status, out := tokenAt(t, e, mc, mc.ClientSecret)
			return status == 400 && out["error"] == "access_denied", fmt.Sprint(status, out)
		})
	}
}

// eventually retries cond for up to a minute: replication to an edge
// takes milliseconds on an idle machine, seconds on a starved one, and
// this is about correctness, not speed.
func eventually(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("condition not met within a minute; last: %s", last)
}

// Rotating keys while tokens are being issued: no request fails, and
// tokens issued before a rotation still verify after it.
func TestKeyRotationWhileIssuing(t *testing.T) {
	dev := startDev(t)
	p, base, creds := dev.p, dev.base, dev.creds
	m := newMgmt(t, base, creds)
	mc := setupMachine(m, "RS256")

	var (
		issued   sync.Map // token -> struct{}
		failures atomic.Int64
		count    atomic.Int64
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, out := tokenAt(t, base, mc, mc.ClientSecret)
				if status != 200 {
					failures.Add(1)
					t.Errorf("issuance failed during rotation: %d %v", status, out)
					return
				}
				issued.Store(out["access_token"].(string), struct{}{})
				count.Add(1)
			}
		}()
	}
	// Counts, not sleeps: a slow machine still issues with both keys.
	atLeast := func(n int64) func() (bool, string) {
		return func() (bool, string) { return count.Load() >= n, fmt.Sprintf("%d tokens issued", count.Load()) }
	}
	eventually(t, atLeast(10))
	m.do("POST", "/keys/signing/rotate", nil, 201, nil)
	eventually(t, atLeast(count.Load()+10))
	close(stop)
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatal("requests failed while keys rotated")
	}
	// Every token, including those signed by the key that is now previous,
	// verifies against the published JWKS; and both keys signed some.
	v := discoveryVerifier(t, creds.Issuer, mc.Audience, "RS256")
	n := 0
	kids := map[string]bool{}
	issued.Range(func(k, _ any) bool {
		if _, err := v.Verify(context.Background(), k.(string)); err != nil {
			t.Fatalf("token from before or after the rotation rejected: %v", err)
		}
		kids[headerKID(t, k.(string))] = true
		n++
		return true
	})
	if n < 10 || len(kids) != 2 {
		t.Fatalf("%d tokens issued, signed by %d keys; want both the old and the new current key", n, len(kids))
	}
	p.stop()
}

func headerKID(t *testing.T, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		KID string `json:"kid"`
		Typ string `json:"typ"`
	}
	json.Unmarshal(raw, &hdr)
	if hdr.Typ != "at+jwt" {
		t.Fatalf("typ %q, want at+jwt", hdr.Typ)
	}
	return hdr.KID
}
