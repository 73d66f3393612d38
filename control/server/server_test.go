package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authok-edge/authok/control/server"
	"github.com/authok-edge/authok/shared/errorbody"
	"github.com/authok-edge/authok/shared/health"
	"github.com/authok-edge/authok/shared/httpmetrics"
	"github.com/authok-edge/authok/shared/servetest"
)

type fixture struct {
	srv     *server.Server
	url     string
	reg     *prometheus.Registry
	checker *health.Switch
}

// start runs a Server on 127.0.0.1:0 until the test ends. mount is called
// before serving.
func start(t *testing.T, cfg server.Config, mount func(*server.Server)) *fixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := httpmetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	checker := &health.Switch{}
	if cfg.Checker == nil {
		cfg.Checker = checker
	}
	cfg.Metrics = m
	srv := server.New(cfg)
	if mount != nil {
		mount(srv)
	}
	url := servetest.Serve(t, srv, servetest.Listen(t))
	return &fixture{srv: srv, url: url, reg: reg, checker: checker}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp := servetest.Do(t, nil, req)
	return response{status: resp.Status, header: resp.Header, body: string(resp.Body)}
}

func TestHealthAndMetricsEndpoints(t *testing.T) {
	f := start(t, server.Config{}, nil)
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantType           string
		wantBody           string // exact, or substring when wantContains
		wantContains       bool
	}{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantType: "text/plain; charset=utf-8", wantBody: "ok"},
		{name: "healthz HEAD", method: "HEAD", path: "/healthz", wantStatus: 200, wantType: "text/plain; charset=utf-8", wantBody: ""},
		{name: "readyz", method: "GET", path: "/readyz", wantStatus: 200, wantType: "application/json", wantBody: `{"status":"ok"}`},
		// Metrics go on the operator's own listener, never the public one.
		{name: "no metrics", method: "GET", path: "/metrics", wantStatus: 404, wantBody: `"errorCode":"not_found"`, wantContains: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, f.url+tt.path, nil, nil)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tt.wantStatus, r.body)
			}
			if tt.wantType != "" && r.header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", r.header.Get("Content-Type"), tt.wantType)
			}
			if tt.wantContains {
				if !strings.Contains(r.body, tt.wantBody) {
					t.Errorf("body does not contain %q:\n%s", tt.wantBody, r.body)
				}
			} else if r.body != tt.wantBody {
				t.Errorf("body = %q, want %q", r.body, tt.wantBody)
			}
		})
	}
}

func TestReadyzFollowsChecker(t *testing.T) {
	f := start(t, server.Config{}, nil)
	steps := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   health.Body
	}{
		{name: "ready", err: nil, wantStatus: 200, wantBody: health.Body{Status: "ok"}},
		{name: "no leader", err: errors.New("no known leader"), wantStatus: 503,
			wantBody: health.Body{Status: "unavailable", Reason: "no known leader"}},
		{name: "lagging", err: errors.New("applied 10, leader committed 900"), wantStatus: 503,
			wantBody: health.Body{Status: "unavailable", Reason: "applied 10, leader committed 900"}},
		{name: "ready again", err: nil, wantStatus: 200, wantBody: health.Body{Status: "ok"}},
	}
	for _, st := range steps { // in order: each step flips the same checker
		t.Run(st.name, func(t *testing.T) {
			f.checker.Set(st.err)
			r := do(t, "GET", f.url+"/readyz", nil, nil)
			if r.status != st.wantStatus {
				t.Fatalf("status = %d, want %d", r.status, st.wantStatus)
			}
			var got health.Body
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
			if got != st.wantBody {
				t.Fatalf("body = %+v, want %+v", got, st.wantBody)
			}
		})
	}
}

func TestUnmatchedRequestsGetJSONErrors(t *testing.T) {
	f := start(t, server.Config{}, func(s *server.Server) {
		s.Handle("GET /api/v1/users/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A route's own 404 is the route's business: passed through as is.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
		}))
	})
	tests := []struct {
		name, method, path string
		want               errorbody.Body
		wantAllow          string
	}{
		{name: "unknown path", method: "GET", path: "/no/such/thing",
			want: errorbody.New(404, "not_found", "Not Found")},
		{name: "unknown path POST", method: "POST", path: "/api/v1/nope",
			want: errorbody.New(404, "not_found", "Not Found")},
		{name: "known path, wrong method", method: "DELETE", path: "/healthz",
			want: errorbody.New(405, "method_not_allowed", "Method Not Allowed"), wantAllow: "GET, HEAD"},
		{name: "route's own 404 passes through", method: "GET", path: "/api/v1/users/authok%7C123",
			want: errorbody.Body{StatusCode: 404, Error: "Not Found", Message: "The user does not exist.", ErrorCode: "inexistent_user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, f.url+tt.path, nil, nil)
			if r.status != tt.want.StatusCode {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tt.want.StatusCode, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			var got errorbody.Body
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
			if got != tt.want {
				t.Errorf("body = %+v, want %+v", got, tt.want)
			}
			if a := r.header.Get("Allow"); a != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", a, tt.wantAllow)
			}
		})
	}
}

func TestHandleServesMountedRoutes(t *testing.T) {
	f := start(t, server.Config{}, func(s *server.Server) {
		s.Handle("GET /api/v1/users/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprintf(w, "user=%s escaped=%s host=%s", r.PathValue("id"), r.URL.EscapedPath(), r.Host)
		}))
		s.Handle("POST /api/v1/users", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(b)
		}))
	})
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantBody                 string
	}{
		{name: "path value, escaped id", method: "GET", path: "/api/v1/users/authok%7C123",
			wantStatus: 200, wantBody: "user=authok|123 escaped=/api/v1/users/authok%7C123 host=" + strings.TrimPrefix(f.url, "http://")},
		{name: "post body", method: "POST", path: "/api/v1/users", body: `{"email":"a@example.com"}`,
			wantStatus: 201, wantBody: `{"email":"a@example.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, f.url+tt.path, strings.NewReader(tt.body), nil)
			if r.status != tt.wantStatus || r.body != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	const limit = 1 << 10
	f := start(t, server.Config{MaxRequestBodyBytes: limit}, func(s *server.Server) {
		s.Handle("POST /echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
			_, _ = w.Write(b)
		}))
	})
	tests := []struct {
		name       string
		body       io.Reader
		wantStatus int
	}{
		{name: "at the limit", body: bytes.NewReader(make([]byte, limit)), wantStatus: 200},
		{name: "declared too large", body: bytes.NewReader(make([]byte, limit+1)), wantStatus: 413},
		// io.MultiReader hides the length: sent chunked, caught while reading.
		{name: "chunked too large", body: io.MultiReader(bytes.NewReader(make([]byte, limit+1))), wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "POST", f.url+"/echo", tt.body, nil)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", r.status, tt.wantStatus)
			}
		})
	}
	t.Run("declared too large has a JSON body", func(t *testing.T) {
		r := do(t, "POST", f.url+"/echo", bytes.NewReader(make([]byte, limit+1)), nil)
		var got errorbody.Body
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || got.StatusCode != 413 || got.ErrorCode != "request_entity_too_large" {
			t.Fatalf("body %q (%v)", r.body, err)
		}
	})
}

func TestMetricsCountByRouteAndStatus(t *testing.T) {
	f := start(t, server.Config{}, func(s *server.Server) {
		s.Handle("GET /api/v1/users/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("id") == "missing" {
				w.WriteHeader(http.StatusNotFound)
			}
		}))
		s.Handle("/api/v1/clients/", http.NotFoundHandler())
	})
	f.checker.Set(errors.New("not yet"))
	requests := []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/healthz"},
		{"HEAD", "/healthz"},
		{"GET", "/readyz"},               // 503
		{"GET", "/api/v1/users/u1"},      // 200, labelled with the pattern
		{"GET", "/api/v1/users/u2"},      // 200
		{"GET", "/api/v1/users/missing"}, // 404 from the route
		{"GET", "/random/path/1"},        // 404 other
		{"GET", "/random/path/2"},        // 404 other
		{"PUT", "/healthz"},              // 405 other
	}
	for _, rq := range requests {
		do(t, rq.method, f.url+rq.path, nil, nil)
	}
	want := map[string]float64{
		"control /healthz GET 200":           2,
		"control /healthz HEAD 200":          1,
		"control /readyz GET 503":            1,
		"control /api/v1/users/{id} GET 200": 2,
		"control /api/v1/users/{id} GET 404": 1,
		"control other GET 404":              2,
		"control other PUT 405":              1,
	}
	got := counters(t, f.reg)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	for k := range got {
		if strings.Contains(k, "/random") || strings.Contains(k, "u1") {
			t.Errorf("raw path leaked into a label: %q", k)
		}
	}
}

// counters reads authok_http_requests_total, keyed "server route method status".
func counters(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	requests, _, err := httpmetrics.Counts(reg)
	if err != nil {
		t.Fatal(err)
	}
	return requests
}

func TestHandlerWithoutListener(t *testing.T) {
	srv := server.New(server.Config{})
	ts := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ts.Serve(ln) }()
	t.Cleanup(func() { _ = ts.Close() })
	r := do(t, "GET", "http://"+ln.Addr().String()+"/nope", nil, nil)
	if r.status != 404 || !strings.Contains(r.body, `"errorCode":"not_found"`) {
		t.Fatalf("got %d %q", r.status, r.body)
	}
}

func TestServeAfterShutdownReturnsNil(t *testing.T) {
	srv := server.New(server.Config{})
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := srv.Serve(ln); err != nil {
		t.Fatalf("Serve after Shutdown = %v, want nil", err)
	}
}

func TestRoutesKeepResponseWriterFeatures(t *testing.T) {
	content := strings.Repeat("body of a static asset\n", 1000)
	f := start(t, server.Config{}, func(s *server.Server) {
		s.Handle("GET /static/app.css", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "app.css", time.Time{}, strings.NewReader(content)) // io.Copy: ReadFrom
		}))
		s.Handle("GET /stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w) // needs Unwrap
			if err := rc.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			for i := range 3 {
				_, _ = fmt.Fprintf(w, "chunk %d\n", i)
				w.(http.Flusher).Flush()
			}
		}))
	})
	tests := []struct {
		name, path string
		wantType   string
		wantBody   string
	}{
		{name: "ServeContent", path: "/static/app.css", wantType: "text/css; charset=utf-8", wantBody: content},
		{name: "flush and write deadline", path: "/stream", wantBody: "chunk 0\nchunk 1\nchunk 2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "GET", f.url+tt.path, nil, nil)
			if r.status != 200 || r.body != tt.wantBody {
				t.Fatalf("got %d, %d bytes %.40q", r.status, len(r.body), r.body)
			}
			if tt.wantType != "" && r.header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", r.header.Get("Content-Type"), tt.wantType)
			}
		})
	}
}
