package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Mgmt is a minimal Management API client: enough to create and delete a
// scenario's fixtures. It speaks net/http (setup is not on the hot path).
type Mgmt struct {
	base  string // base URL without a trailing slash
	token string
	http  *http.Client
}

// BenchScope is the one scope the bench resource server defines and the
// bench client is granted.
const BenchScope = "read:bench"

// NewMgmt obtains a Management API token with client_credentials at
// <base>/oauth/token (API.md A.2). When audience is empty it is taken from
// the issuer in <base>/.well-known/openid-configuration + "api/v1/", or
// <base>/api/v1/ when discovery is not served.
func NewMgmt(ctx context.Context, base *url.URL, clientID, clientSecret, audience string) (*Mgmt, error) {
	m := &Mgmt{base: strings.TrimRight(base.String(), "/"), http: &http.Client{Timeout: 30 * time.Second}}
	if audience == "" {
		audience = m.discoverAudience(ctx)
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
		"audience":      {audience},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("loadgen: management token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := m.send(req, http.StatusOK, &tok); err != nil {
		return nil, fmt.Errorf("loadgen: management token (audience %s): %w", audience, err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("loadgen: management token: answer without access_token")
	}
	m.token = tok.AccessToken
	return m, nil
}

func (m *Mgmt) discoverAudience(ctx context.Context) string {
	fallback := m.base + "/api/v1/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+"/.well-known/openid-configuration", nil)
	if err != nil {
		return fallback
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if err := m.send(req, http.StatusOK, &disc); err != nil || disc.Issuer == "" {
		return fallback
	}
	return strings.TrimRight(disc.Issuer, "/") + "/api/v1/"
}

// send performs req and decodes a JSON answer into out (when non-nil). Any
// status other than want is an error carrying the server's body.
func (m *Mgmt) send(req *http.Request, want int, out any) error {
	resp, err := m.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(body))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s %s: decoding %q: %w", req.Method, req.URL.Path, truncate(body, 200), err)
		}
	}
	return nil
}

// Call sends a Management API request (path below /api/v1) with in as the
// JSON body, expects status want and decodes the answer into out.
func (m *Mgmt) Call(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+"/api/v1"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := m.send(req, want, out); err != nil {
		return fmt.Errorf("loadgen: management API: %w", err)
	}
	return nil
}

// Fixture is what the client-credentials scenario needs: a resource server
// signing with the chosen alg, a machine client and a client grant joining
// them. Create it with CreateFixture and remove it with Delete.
type Fixture struct {
	ResourceServerID string `json:"resource_server_id"`
	Audience         string `json:"audience"`
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"-"`
	ClientGrantID    string `json:"client_grant_id"`
	Alg              string `json:"signing_alg"`
}

// CreateFixture creates the resource server, client and client grant
// (API.md C.3, C.2, C.10). On failure it deletes whatever it had created
// and returns the failing step's error, which carries the server's body.
func CreateFixture(ctx context.Context, m *Mgmt, alg string, tokenLifetime int) (*Fixture, error) {
	suffix := randomHex(6)
	f := &Fixture{Audience: "https://bench.local/" + suffix, Alg: alg}

	var rs struct {
		ID         string `json:"id"`
		SigningAlg string `json:"signing_alg"`
	}
	err := m.Call(ctx, http.MethodPost, "/resource-servers", map[string]any{
		"name":           "bench " + suffix,
		"identifier":     f.Audience,
		"signing_alg":    alg,
		"scopes":         []map[string]string{{"value": BenchScope, "description": "load generator"}},
		"token_lifetime": tokenLifetime,
	}, http.StatusCreated, &rs)
	if err != nil {
		return nil, err
	}
	f.ResourceServerID = rs.ID
	if rs.ID == "" {
		return nil, errors.New("loadgen: POST /resource-servers: answer without id")
	}
	if rs.SigningAlg != "" && rs.SigningAlg != alg {
		err = fmt.Errorf("loadgen: POST /resource-servers: asked for signing_alg %s, got %s", alg, rs.SigningAlg)
		return nil, errors.Join(err, f.Delete(ctx, m))
	}

	var cl struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	err = m.Call(ctx, http.MethodPost, "/clients", map[string]any{
		"name":                       "bench-" + suffix,
		"app_type":                   "non_interactive",
		"grant_types":                []string{"client_credentials"},
		"token_endpoint_auth_method": "client_secret_post",
	}, http.StatusCreated, &cl)
	if err == nil && (cl.ClientID == "" || cl.ClientSecret == "") {
		err = errors.New("loadgen: POST /clients: answer without client_id or client_secret")
	}
	f.ClientID, f.ClientSecret = cl.ClientID, cl.ClientSecret
	if err != nil {
		return nil, errors.Join(err, f.Delete(ctx, m))
	}

	var cg struct {
		ID string `json:"id"`
	}
	err = m.Call(ctx, http.MethodPost, "/client-grants", map[string]any{
		"client_id": f.ClientID,
		"audience":  f.Audience,
		"scope":     []string{BenchScope},
	}, http.StatusCreated, &cg)
	if err == nil && cg.ID == "" {
		err = errors.New("loadgen: POST /client-grants: answer without id")
	}
	f.ClientGrantID = cg.ID
	if err != nil {
		return nil, errors.Join(err, f.Delete(ctx, m))
	}
	return f, nil
}

// Delete removes what CreateFixture made, in reverse order, and reports
// every failure.
func (f *Fixture) Delete(ctx context.Context, m *Mgmt) error {
	var errs []error
	del := func(path string) {
		if err := m.Call(ctx, http.MethodDelete, path, nil, http.StatusNoContent, nil); err != nil {
			errs = append(errs, err)
		}
	}
	if f.ClientGrantID != "" {
		del("/client-grants/" + url.PathEscape(f.ClientGrantID))
	}
	if f.ClientID != "" {
		del("/clients/" + url.PathEscape(f.ClientID))
	}
	if f.ResourceServerID != "" {
		del("/resource-servers/" + url.PathEscape(f.ResourceServerID))
	}
	return errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}
