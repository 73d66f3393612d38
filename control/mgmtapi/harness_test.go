package mgmtapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authok-edge/authok/control/mgmtapi"
	"github.com/authok-edge/authok/control/server"
	"github.com/authok-edge/authok/shared/bootstrap"
	"github.com/authok-edge/authok/shared/errorbody"
	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/servetest"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

// Every handler test talks to a real server through recorded, whose
// exchanges TestMain checks against the OpenAPI document once the tests
// have run (contract_test.go).
var (
	recorded   = &recordingTransport{base: http.DefaultTransport}
	httpClient = &http.Client{Transport: recorded, Timeout: 60 * time.Second}
	// rawClient is for deliberate requests outside the document (a
	// method the path does not serve); it records nothing.
	rawClient = &http.Client{Timeout: 60 * time.Second}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if problems := checkContract(); len(problems) > 0 {
			fmt.Fprintf(os.Stderr, "OpenAPI contract: %d problem(s) in the recorded exchanges:\n", len(problems))
			for _, p := range problems {
				fmt.Fprintln(os.Stderr, "  -", p)
			}
			code = 1
		}
	}
	closeShared()
	os.Exit(code)
}

// exchange is one recorded request and its response.
type exchange struct {
	method, path, query string
	reqType             string // the request's Content-Type
	reqBody             []byte
	status              int
	respType            string
	respBody            []byte
}

type recordingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	rt.mu.Lock()
	rt.log = append(rt.log, exchange{
		method: req.Method, path: req.URL.EscapedPath(), query: req.URL.RawQuery, reqType: req.Header.Get("Content-Type"), reqBody: reqBody,
		status: resp.StatusCode, respType: resp.Header.Get("Content-Type"), respBody: b,
	})
	rt.mu.Unlock()
	return resp, nil
}

func (rt *recordingTransport) exchanges() []exchange {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]exchange(nil), rt.log...)
}

// env is a running Management API over a fresh store with the default
// tenant made by bootstrap.Ensure and its signing keys.
type env struct {
	url        string // http://127.0.0.1:port
	host       string // 127.0.0.1:port
	issuer     string
	tenant     string
	mgmtClient string
	st         *store.Local
	repo       *repo.Repo
	keys       *keys.Manager
	box        secretbox.Key
	runner     *testRunner
	api        *mgmtapi.API
	close      func()
	names      atomic.Int64 // for unique
}

// unique returns prefix with a suffix no other call on e returns, so a
// test on the shared env can run again (-count) without a 409.
func (e *env) unique(prefix string) string {
	return prefix + "-" + strconv.FormatInt(e.names.Add(1), 10)
}

var (
	sharedOnce sync.Once
	shared     *env
	sharedErr  error
	closers    []func()
	closersMu  sync.Mutex
)

// sharedEnv is the env most tests use (key generation is the slow part of
// starting one).
func sharedEnv(t testing.TB) *env {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = startEnv()
		if sharedErr == nil {
			closersMu.Lock()
			closers = append(closers, shared.close)
			closersMu.Unlock()
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// newEnv starts an env of the test's own (for lists that count); opts
// adjust its API's configuration.
func newEnv(t testing.TB, opts ...func(*mgmtapi.Config)) *env {
	t.Helper()
	e, err := startEnv(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func closeShared() {
	closersMu.Lock()
	defer closersMu.Unlock()
	for _, c := range closers {
		c()
	}
}

func startEnv(opts ...func(*mgmtapi.Config)) (*env, error) {
	dir, err := os.MkdirTemp("", "mgmtapi-test-")
	if err != nil {
		return nil, err
	}
	st, err := store.OpenLocal(dir)
	if err != nil {
		return nil, err
	}
	box, err := secretbox.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	issuer := "http://" + ln.Addr().String() + "/"
	res, err := bootstrap.Ensure(ctx, st, box, bootstrap.Options{Issuer: issuer})
	if err != nil {
		return nil, err
	}
	r, err := repo.New(st, box)
	if err != nil {
		return nil, err
	}
	km := keys.New(st, box)
	if err := km.Ensure(ctx, res.Tenant); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	runner, err := newTestRunner(ctx)
	if err != nil {
		return nil, err
	}
	cfg := mgmtapi.Config{
		Repo:     r,
		Verifier: km,
		Keys:     mgmtapi.KeysFromManager(km),
		Logger:   logger,
		Runner:   runner,
	}
	for _, o := range opts {
		o(&cfg)
	}
	api, err := mgmtapi.New(cfg)
	if err != nil {
		return nil, err
	}
	// Room for an action's largest module, base64 in JSON.
	srv := server.New(server.Config{Logger: logger, MaxRequestBodyBytes: 16 << 20})
	api.Register(srv.Handle)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	e := &env{
		url: "http://" + ln.Addr().String(), host: ln.Addr().String(), issuer: issuer, tenant: res.Tenant,
		mgmtClient: res.ClientID, st: st, repo: r, keys: km, box: box, api: api, runner: runner,
	}
	e.close = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
		km.Close()
		runner.close()
		st.Close()
		os.RemoveAll(dir)
	}
	return e, nil
}

// allScopes is the whole catalogue: what the bootstrap client is granted.
var allScopes = model.ManagementScopes()

// mint signs an access token with the tenant's current RS256 key;
// change adjusts the claims first.
func mint(t testing.TB, km *keys.Manager, tenant string, change func(*tokens.AccessClaims)) string {
	t.Helper()
	s, err := km.Signer(tenant, tokens.RS256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	c := &tokens.AccessClaims{
		IssuedAt: now, ExpiresAt: now + 3600, GrantType: "client-credentials",
		JTI: string(tokens.NewJTI(nil)),
	}
	if change != nil {
		change(c)
	}
	tok, err := s.SignAccess(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// token is a Management API token of e's tenant holding scopes.
func (e *env) token(t testing.TB, scopes ...string) string {
	t.Helper()
	return mint(t, e.keys, e.tenant, func(c *tokens.AccessClaims) {
		c.Issuer = e.issuer
		c.Subject, c.ClientID = e.mgmtClient, e.mgmtClient
		c.Audience = []string{bootstrap.ManagementAudience(e.issuer)}
		c.Scope = strings.Join(scopes, " ")
	})
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// decode unmarshals the body into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// object decodes the body as a JSON object.
func (r response) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// req describes a request; the zero value is a GET with a token holding
// every scope.
type req struct {
	method  string
	path    string // under /api/v1 unless it starts with /api/
	body    any    // nil, string/[]byte (raw), or a value to marshal
	token   string // "" = every scope; "-" = no Authorization header
	ctype   string // "" = application/json when there is a body; "-" = none
	headers map[string]string
	host    string // Host header
	client  *http.Client
}

func (e *env) do(t testing.TB, r req) response {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	path := r.path
	if !strings.HasPrefix(path, "/api/") {
		path = "/api/v1" + path
	}
	var body io.Reader
	if r.body != nil {
		switch b := r.body.(type) {
		case string:
			body = strings.NewReader(b)
		case []byte:
			body = bytes.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			body = bytes.NewReader(raw)
		}
	}
	hr, err := http.NewRequest(r.method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case r.ctype == "-":
	case r.ctype != "":
		hr.Header.Set("Content-Type", r.ctype)
	case r.body != nil:
		hr.Header.Set("Content-Type", "application/json")
	}
	switch r.token {
	case "-":
	case "":
		hr.Header.Set("Authorization", "Bearer "+e.token(t, allScopes...))
	default:
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	if r.host != "" {
		hr.Host = r.host
	}
	c := r.client
	if c == nil {
		c = httpClient
	}
	resp := servetest.Do(t, c, hr)
	return response{status: resp.Status, header: resp.Header, body: resp.Body}
}

// wantError checks r is an A.4 error with status and errorCode, and that
// its message contains each of msgs.
func wantError(t testing.TB, r response, status int, code string, msgs ...string) errorbody.Body {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var e errorbody.Body
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.StatusCode != status || e.Error != http.StatusText(status) || e.ErrorCode != code || e.Message == "" || e.ErrorDescription != e.Message {
		t.Fatalf("error body = %+v, want status %d code %q", e, status, code)
	}
	for _, m := range msgs {
		if !strings.Contains(e.Message, m) {
			t.Errorf("message %q does not contain %q", e.Message, m)
		}
	}
	return e
}

// wantStatus fails unless r has status.
func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
}
