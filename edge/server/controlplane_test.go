package server_test

// These tests run a real net/http server behind the edge as its control
// plane. The edge must not import control/ (not even in tests); the wiring
// of the two real planes is tested in cmd/authok.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/errorbody"
	"github.com/authok-edge/authok/shared/servetest"
)

// echoed is what the control plane's /echo/ route saw.
type echoed struct {
	Method     string      `json:"method"`
	EscPath    string      `json:"escPath"`
	RawQuery   string      `json:"rawQuery"`
	Host       string      `json:"host"`
	Header     http.Header `json:"header"`
	Body       string      `json:"body"`
	RemoteAddr string      `json:"remoteAddr"`
}

// newControl builds a real control plane with test routes:
//
//	/echo/...        answers 200 with an echoed of the request
//	POST /api/v1/users  201 with a body, cookies and hop-by-hop headers
//	/big             a large body, for streaming
//	/slow            answers only once the proxy gave up (or after a minute)
func newControl(t *testing.T) *upstream {
	t.Helper()
	ctl := newUpstream()
	ctl.Handle("/echo/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoed{
			Method: r.Method, EscPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Host: r.Host, Header: r.Header, Body: string(b), RemoteAddr: r.RemoteAddr,
		})
	}))
	ctl.Handle("POST /api/v1/users", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Location", "/api/v1/users/authok%7C1")
		h.Add("Set-Cookie", "a=1; Path=/; HttpOnly")
		h.Add("Set-Cookie", "b=2; Path=/")
		h.Set("Connection", "X-Hop-Resp")
		h.Set("X-Hop-Resp", "must not reach the client")
		h.Set("Keep-Alive", "timeout=5")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b)
	}))
	ctl.Handle("GET /big", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(bigBody)
	}))
	ctl.Handle("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Slower than any proxy timeout a test sets, however starved the
		// machine: it answers only once the proxy has given up.
		select {
		case <-time.After(time.Minute):
		case <-r.Context().Done():
		}
	}))
	return ctl
}

// upstream is a plain net/http server standing in for the control plane.
type upstream struct {
	mux *http.ServeMux
	srv *http.Server
}

func newUpstream() *upstream {
	u := &upstream{mux: http.NewServeMux()}
	u.srv = &http.Server{Handler: u.mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	return u
}

func (u *upstream) Handle(pattern string, h http.Handler) { u.mux.Handle(pattern, h) }
func (u *upstream) Handler() http.Handler                 { return u.mux }
func (u *upstream) Shutdown(ctx context.Context) error    { return u.srv.Shutdown(ctx) }
func (u *upstream) Serve(ln net.Listener) error {
	if err := u.srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

var bigBody = bytes.Repeat([]byte("0123456789abcdef"), 128<<10) // 2 MiB

// serveControl runs ctl on 127.0.0.1:0 and returns its base URL.
func serveControl(t *testing.T, ctl *upstream) string {
	t.Helper()
	return servetest.Serve(t, ctl, servetest.Listen(t))
}

// modes returns an edge config per proxy mode, each with its own control
// plane.
func modes(t *testing.T) map[string]server.Config {
	return map[string]server.Config{
		"remote":     {ControlURLs: []string{serveControl(t, newControl(t))}},
		"in-process": {ControlHandler: newControl(t).Handler()},
	}
}

func TestProxyForwardsRequests(t *testing.T) {
	const tenantHost = "acme.eu.authok.example"
	tests := []struct {
		name   string
		rq     request
		expect func(t *testing.T, e echoed)
	}{
		{
			name: "GET with query, custom headers and Host",
			rq: request{
				path: "/echo/users?q=email%3A%22a%40b.c%22&page=2&per_page=50",
				host: tenantHost,
				header: http.Header{
					"Authorization": {"Bearer abc.def.ghi"},
					"X-Custom":      {"one", "two"},
					"Cookie":        {"sid=s1; other=o"},
					"Accept":        {"application/json"},
				},
			},
			expect: func(t *testing.T, e echoed) {
				wantEq(t, "method", e.Method, "GET")
				wantEq(t, "path", e.EscPath, "/echo/users")
				wantEq(t, "query", e.RawQuery, "q=email%3A%22a%40b.c%22&page=2&per_page=50")
				wantEq(t, "host", e.Host, tenantHost)
				wantEq(t, "Authorization", e.Header.Get("Authorization"), "Bearer abc.def.ghi")
				wantEq(t, "X-Custom", strings.Join(e.Header.Values("X-Custom"), ","), "one,two")
				wantEq(t, "Cookie", e.Header.Get("Cookie"), "sid=s1; other=o")
				wantEq(t, "X-Forwarded-Host", e.Header.Get("X-Forwarded-Host"), tenantHost)
				wantEq(t, "X-Forwarded-Proto", e.Header.Get("X-Forwarded-Proto"), "http")
				wantEq(t, "X-Forwarded-For", e.Header.Get("X-Forwarded-For"), "127.0.0.1")
				wantEq(t, "User-Agent", e.Header.Get("User-Agent"), "Go-http-client/1.1")
			},
		},
		{
			name: "POST with body",
			rq: request{
				method: "POST", path: "/echo/oauth/revoke", host: tenantHost,
				header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				body:   "token=abc&client_id=xyz",
			},
			expect: func(t *testing.T, e echoed) {
				wantEq(t, "method", e.Method, "POST")
				wantEq(t, "body", e.Body, "token=abc&client_id=xyz")
				wantEq(t, "Content-Type", e.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
				wantEq(t, "Content-Length", e.Header.Get("Content-Length"), "23")
			},
		},
		{
			name: "escaped path is forwarded as sent",
			rq:   request{method: "PATCH", path: "/echo/users/authok%7C123/roles%2Fx", body: `{"a":1}`},
			expect: func(t *testing.T, e echoed) {
				wantEq(t, "method", e.Method, "PATCH")
				wantEq(t, "path", e.EscPath, "/echo/users/authok%7C123/roles%2Fx")
				wantEq(t, "body", e.Body, `{"a":1}`)
			},
		},
		{
			name: "hop-by-hop and forged forwarding headers are dropped",
			rq: request{path: "/echo/x", header: http.Header{
				"Connection":          {"X-Hop"},
				"X-Hop":               {"secret"},
				"Keep-Alive":          {"timeout=5"},
				"Proxy-Authorization": {"Basic Zm9vOmJhcg=="},
				"Te":                  {"trailers"},
				"X-Forwarded-For":     {"6.6.6.6"},
				"X-Forwarded-Host":    {"evil.example"},
				"X-Forwarded-Proto":   {"https"},
				"Forwarded":           {"for=6.6.6.6"},
				"X-Real-Ip":           {"6.6.6.6"},
			}},
			expect: func(t *testing.T, e echoed) {
				for _, h := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization", "Te", "Forwarded", "X-Real-Ip"} {
					wantEq(t, h, e.Header.Get(h), "")
				}
				wantEq(t, "X-Forwarded-For", e.Header.Get("X-Forwarded-For"), "127.0.0.1")
				wantEq(t, "X-Forwarded-Proto", e.Header.Get("X-Forwarded-Proto"), "http")
				if xfh := e.Header.Get("X-Forwarded-Host"); xfh == "evil.example" {
					t.Errorf("X-Forwarded-Host forged: %q", xfh)
				}
			},
		},
	}
	for mode, cfg := range modes(t) {
		t.Run(mode, func(t *testing.T) {
			f := startEdge(t, cfg, nil)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := do(t, f.url, tt.rq)
					if r.status != http.StatusOK {
						t.Fatalf("status = %d, body %q", r.status, r.body)
					}
					var e echoed
					if err := json.Unmarshal([]byte(r.body), &e); err != nil {
						t.Fatalf("body %q: %v", r.body, err)
					}
					tt.expect(t, e)
				})
			}
		})
	}
}

func TestProxyReturnsResponses(t *testing.T) {
	for mode, cfg := range modes(t) {
		t.Run(mode, func(t *testing.T) {
			f := startEdge(t, cfg, nil)
			t.Run("status, headers, cookies and body", func(t *testing.T) {
				r := do(t, f.url, request{method: "POST", path: "/api/v1/users", body: `{"email":"a@b.c"}`})
				wantEq(t, "status", fmt.Sprint(r.status), "201")
				wantEq(t, "body", r.body, `{"email":"a@b.c"}`)
				wantEq(t, "Content-Type", r.header.Get("Content-Type"), "application/json; charset=utf-8")
				wantEq(t, "Location", r.header.Get("Location"), "/api/v1/users/authok%7C1")
				wantEq(t, "Set-Cookie", strings.Join(r.header.Values("Set-Cookie"), " | "), "a=1; Path=/; HttpOnly | b=2; Path=/")
				wantEq(t, "X-Hop-Resp", r.header.Get("X-Hop-Resp"), "")
				wantEq(t, "Keep-Alive", r.header.Get("Keep-Alive"), "")
			})
			t.Run("upstream 404 passes through", func(t *testing.T) {
				r := do(t, f.url, request{path: "/api/v1/no-such-route"})
				if r.status != 404 || r.body != "404 page not found\n" {
					t.Fatalf("got %d %q, want the upstream's own 404", r.status, r.body)
				}
			})
			t.Run("large body arrives whole", func(t *testing.T) {
				r := do(t, f.url, request{path: "/big"})
				if r.status != 200 || r.body != string(bigBody) {
					t.Fatalf("status %d, body %d bytes, want 200 and %d bytes", r.status, len(r.body), len(bigBody))
				}
			})
			t.Run("HEAD has no body", func(t *testing.T) {
				r := do(t, f.url, request{method: "HEAD", path: "/big"})
				if r.status != 200 || r.body != "" {
					t.Fatalf("got %d and %d bytes", r.status, len(r.body))
				}
			})
		})
	}
}

func TestProxyTrustedForwardedHeaders(t *testing.T) {
	f := startEdge(t, server.Config{
		ControlURLs:           []string{serveControl(t, newControl(t))},
		TrustForwardedHeaders: true,
	}, nil)
	r := do(t, f.url, request{path: "/echo/x", host: "acme.example", header: http.Header{
		"X-Forwarded-For":   {"203.0.113.7, 10.0.0.1"},
		"X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host":  {"login.acme.example"},
	}})
	var e echoed
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	wantEq(t, "X-Forwarded-For", e.Header.Get("X-Forwarded-For"), "203.0.113.7, 10.0.0.1, 127.0.0.1")
	wantEq(t, "X-Forwarded-Proto", e.Header.Get("X-Forwarded-Proto"), "https")
	wantEq(t, "X-Forwarded-Host", e.Header.Get("X-Forwarded-Host"), "login.acme.example")
}

func TestProxyControlPlaneDown(t *testing.T) {
	tests := []struct {
		name       string
		cfg        server.Config
		rq         request
		wantStatus int
		wantCode   string
	}{
		{name: "GET, only node down", cfg: server.Config{ControlURLs: []string{deadURL(t)}},
			rq: request{path: "/api/v1/users"}, wantStatus: 502, wantCode: "control_plane_unavailable"},
		{name: "POST, only node down", cfg: server.Config{ControlURLs: []string{deadURL(t)}},
			rq: request{method: "POST", path: "/api/v1/users", body: "{}"}, wantStatus: 502, wantCode: "control_plane_unavailable"},
		{name: "every node down", cfg: server.Config{ControlURLs: []string{deadURL(t), deadURL(t)}},
			rq: request{path: "/authorize"}, wantStatus: 502, wantCode: "control_plane_unavailable"},
		{name: "too slow", cfg: server.Config{ControlURLs: []string{serveControl(t, newControl(t))}, ProxyTimeout: 200 * time.Millisecond},
			rq: request{path: "/slow"}, wantStatus: 504, wantCode: "control_plane_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startEdge(t, tt.cfg, nil)
			r := do(t, f.url, tt.rq)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tt.wantStatus, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			var e errorbody.Body
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.ErrorCode != tt.wantCode || e.StatusCode != tt.wantStatus {
				t.Fatalf("body %q (%v), want errorCode %q", r.body, err, tt.wantCode)
			}
			// The edge's own routes do not depend on the control plane.
			if h := do(t, f.url, request{path: "/healthz"}); h.status != 200 {
				t.Errorf("healthz = %d while the control plane is down", h.status)
			}
		})
	}
}

func TestProxyFailsOverToALiveNode(t *testing.T) {
	live := serveControl(t, newControl(t))
	f := startEdge(t, server.Config{ControlURLs: []string{deadURL(t), live, deadURL(t)}}, nil)
	for i := range 10 {
		// Connection: close forces a new dial per request, so every
		// address is tried in turn.
		r := do(t, f.url, request{method: "POST", path: "/echo/x", body: "x", header: http.Header{"Connection": {"close"}}})
		if r.status != 200 {
			t.Fatalf("request %d: status %d, body %q", i, r.status, r.body)
		}
	}
}

// TestProxyReusesConnections checks that streamed response bodies give their
// connection back: sequential requests must not dial anew each time.
func TestProxyReusesConnections(t *testing.T) {
	var dialed atomic.Int64
	body := bytes.Repeat([]byte("x"), 256<<10)
	up := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				dialed.Add(1)
			}
		},
		ReadHeaderTimeout: time.Second,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = up.Serve(ln) }()
	t.Cleanup(func() { _ = up.Close() })

	f := startEdge(t, server.Config{ControlURLs: []string{"http://" + ln.Addr().String()}}, nil)
	for i := range 50 {
		r := do(t, f.url, request{path: "/any"})
		if r.status != 200 || len(r.body) != len(body) {
			t.Fatalf("request %d: %d, %d bytes", i, r.status, len(r.body))
		}
	}
	if n := dialed.Load(); n > 2 {
		t.Fatalf("control plane saw %d connections for 50 sequential requests, want at most 2", n)
	}
}

// TestInProcessHandlerMayKeepRequestStrings checks detach: a control-plane
// handler that keeps strings from its request after returning (an audit
// event queued for later) must not see them change under it.
func TestInProcessHandlerMayKeepRequestStrings(t *testing.T) {
	type kept struct{ id, path, host, method string }
	var mu sync.Mutex
	var all []kept
	ctl := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		all = append(all, kept{r.Header.Get("X-Id"), r.URL.Path, r.Host, r.Method})
		mu.Unlock()
	})
	f := startEdge(t, server.Config{ControlHandler: ctl}, nil)
	const n = 50
	for i := range n {
		do(t, f.url, request{
			method: []string{"GET", "DELETE"}[i%2],
			path:   fmt.Sprintf("/api/v1/users/user-%03d", i),
			host:   fmt.Sprintf("tenant-%03d.example", i),
			header: http.Header{"X-Id": {fmt.Sprintf("id-%03d", i)}},
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(all) != n {
		t.Fatalf("handler ran %d times, want %d", len(all), n)
	}
	for i, k := range all {
		want := kept{fmt.Sprintf("id-%03d", i), fmt.Sprintf("/api/v1/users/user-%03d", i), fmt.Sprintf("tenant-%03d.example", i), []string{"GET", "DELETE"}[i%2]}
		if k != want {
			t.Errorf("kept[%d] = %+v, want %+v", i, k, want)
		}
	}
}

func wantEq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
