package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/errorbody"
	"github.com/authok-edge/authok/shared/health"
	"github.com/authok-edge/authok/shared/servetest"
)

// A control plane that answers 204 to everything: these tests are about the
// edge's own routes.
var noContent = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })

func TestEdgeHealthAndMetrics(t *testing.T) {
	f := startEdge(t, server.Config{ControlHandler: noContent}, nil)
	tests := []struct {
		name       string
		rq         request
		wantStatus int
		wantType   string
		wantBody   string
		contains   bool
	}{
		{name: "healthz", rq: request{path: "/healthz"}, wantStatus: 200, wantType: "text/plain; charset=utf-8", wantBody: "ok"},
		{name: "healthz HEAD", rq: request{method: "HEAD", path: "/healthz"}, wantStatus: 200, wantBody: ""},
		{name: "readyz", rq: request{path: "/readyz"}, wantStatus: 200, wantType: "application/json", wantBody: `{"status":"ok"}`},
		// Metrics go on the operator's own listener: never served here,
		// never proxied to the control plane's.
		{name: "no metrics", rq: request{path: "/metrics"}, wantStatus: 404, wantBody: `"statusCode":404`, contains: true},
		{name: "healthz with a query is still healthz", rq: request{path: "/healthz?probe=1"}, wantStatus: 200, wantBody: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, f.url, tt.rq)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tt.wantStatus, r.body)
			}
			if tt.wantType != "" && r.header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", r.header.Get("Content-Type"), tt.wantType)
			}
			if tt.contains && !strings.Contains(r.body, tt.wantBody) || !tt.contains && r.body != tt.wantBody {
				t.Errorf("body = %q, want %q (contains=%v)", r.body, tt.wantBody, tt.contains)
			}
		})
	}
}

func TestEdgeReadyzFollowsChecker(t *testing.T) {
	f := startEdge(t, server.Config{ControlHandler: noContent}, nil)
	steps := []struct {
		name       string
		err        error
		wantStatus int
		want       health.Body
	}{
		{name: "ready", wantStatus: 200, want: health.Body{Status: "ok"}},
		{name: "behind", err: errors.New("applied 7, leader committed 4000"), wantStatus: 503,
			want: health.Body{Status: "unavailable", Reason: "applied 7, leader committed 4000"}},
		{name: "ready again", wantStatus: 200, want: health.Body{Status: "ok"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.checker.Set(st.err)
			r := do(t, f.url, request{path: "/readyz"})
			var got health.Body
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
			if r.status != st.wantStatus || got != st.want {
				t.Fatalf("got %d %+v, want %d %+v", r.status, got, st.wantStatus, st.want)
			}
		})
	}
}

func TestEdgeRouting(t *testing.T) {
	f := startEdge(t, server.Config{ControlHandler: noContent}, func(s *server.Server) {
		s.Handle("POST", "/oauth/token", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("token") })
		s.Handle("GET", "/.well-known/jwks.json", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("jwks") })
		s.Handle("HEAD", "/.well-known/jwks.json", func(ctx *fasthttp.RequestCtx) { ctx.Response.Header.Set("X-Head", "own") })
		s.Handle("GET", "/panic", func(*fasthttp.RequestCtx) { panic("boom") })
	})
	tests := []struct {
		name       string
		rq         request
		wantStatus int
		wantBody   string
		wantAllow  string
		wantHeader [2]string
	}{
		{name: "registered POST", rq: request{method: "POST", path: "/oauth/token"}, wantStatus: 200, wantBody: "token"},
		{name: "registered GET", rq: request{path: "/.well-known/jwks.json"}, wantStatus: 200, wantBody: "jwks"},
		{name: "own HEAD wins over GET", rq: request{method: "HEAD", path: "/.well-known/jwks.json"}, wantStatus: 200, wantHeader: [2]string{"X-Head", "own"}},
		{name: "wrong method on an edge path is 405, not proxied", rq: request{path: "/oauth/token"}, wantStatus: 405, wantAllow: "POST"},
		{name: "405 lists HEAD for GET routes", rq: request{method: "DELETE", path: "/healthz"}, wantStatus: 405, wantAllow: "GET, HEAD"},
		{name: "unregistered path is proxied", rq: request{path: "/oauth/token/extra"}, wantStatus: 204},
		{name: "a panicking handler is a 500, not a crash", rq: request{path: "/panic"}, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, f.url, tt.rq)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tt.wantStatus, r.body)
			}
			if tt.wantBody != "" && r.body != tt.wantBody {
				t.Errorf("body = %q, want %q", r.body, tt.wantBody)
			}
			if a := r.header.Get("Allow"); a != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", a, tt.wantAllow)
			}
			if tt.wantHeader[0] != "" && r.header.Get(tt.wantHeader[0]) != tt.wantHeader[1] {
				t.Errorf("%s = %q, want %q", tt.wantHeader[0], r.header.Get(tt.wantHeader[0]), tt.wantHeader[1])
			}
			if r.status >= 400 {
				var e errorbody.Body
				if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.StatusCode != r.status {
					t.Errorf("error body %q is not a §A.4 body for %d (%v)", r.body, r.status, err)
				}
			}
		})
	}
}

func TestEdgeRequestLimits(t *testing.T) {
	const limit = 1 << 10
	f := startEdge(t, server.Config{ControlHandler: noContent, MaxRequestBodyBytes: limit, MaxHeaderBytes: 4 << 10}, func(s *server.Server) {
		s.Handle("POST", "/oauth/token", func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(200) })
	})
	tests := []struct {
		name       string
		rq         request
		wantStatus int
		wantCode   string
	}{
		{name: "body at the limit, edge route", rq: request{method: "POST", path: "/oauth/token", body: strings.Repeat("x", limit)}, wantStatus: 200},
		{name: "body over the limit, edge route", rq: request{method: "POST", path: "/oauth/token", body: strings.Repeat("x", limit+1)}, wantStatus: 413, wantCode: "request_entity_too_large"},
		{name: "body over the limit, proxied path", rq: request{method: "POST", path: "/api/v1/users", body: strings.Repeat("x", 2*limit)}, wantStatus: 413, wantCode: "request_entity_too_large"},
		{name: "chunked body over the limit", rq: request{method: "POST", path: "/api/v1/users", body: strings.Repeat("x", 2*limit), chunked: true}, wantStatus: 413, wantCode: "request_entity_too_large"},
		{name: "header over the limit", rq: request{path: "/healthz", header: http.Header{"X-Big": {strings.Repeat("a", 5<<10)}}}, wantStatus: 431, wantCode: "request_header_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, f.url, tt.rq)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tt.wantStatus, r.body)
			}
			if tt.wantCode == "" {
				return
			}
			var e errorbody.Body
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.ErrorCode != tt.wantCode || e.StatusCode != tt.wantStatus {
				t.Fatalf("body %q (%v), want errorCode %q", r.body, err, tt.wantCode)
			}
		})
	}
	got := counters(t, f.reg)
	// The method of the chunked and header-too-large requests is lost when
	// fasthttp resets them.
	for k, w := range map[string]float64{"edge other POST 413": 2, "edge other other 413": 1, "edge other other 431": 1} {
		if got[k] != w {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], w, got)
		}
	}
}

func TestEdgeMetricsCountByRouteAndStatus(t *testing.T) {
	ctl := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	f := startEdge(t, server.Config{ControlHandler: ctl}, func(s *server.Server) {
		s.Handle("POST", "/oauth/token", func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(401) })
	})
	f.checker.Set(errors.New("no leader"))
	for _, rq := range []request{
		{path: "/healthz"}, {path: "/healthz"}, {method: "HEAD", path: "/healthz"},
		{path: "/readyz"},
		{method: "POST", path: "/oauth/token"},
		{path: "/oauth/token"},
		{path: "/users/1"}, {path: "/users/2"}, {path: "/missing"},
		{method: "PROPFIND", path: "/x"},
	} {
		do(t, f.url, rq)
	}
	want := map[string]float64{
		"edge /healthz GET 200":      2,
		"edge /healthz HEAD 200":     1,
		"edge /readyz GET 503":       1,
		"edge /oauth/token POST 401": 1,
		"edge /oauth/token GET 405":  1,
		"edge proxy GET 200":         2,
		"edge proxy GET 404":         1,
		"edge proxy other 200":       1,
	}
	got := counters(t, f.reg)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	for k := range got {
		if strings.Contains(k, "/users") || strings.Contains(k, "/missing") || strings.Contains(k, "PROPFIND") {
			t.Errorf("unbounded label value: %q", k)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  server.Config
		want []string // every one must appear: all errors are reported at once
	}{
		{name: "no control plane", cfg: server.Config{}, want: []string{"no control plane"}},
		{name: "both modes", cfg: server.Config{ControlHandler: noContent, ControlURLs: []string{"http://127.0.0.1:1"}}, want: []string{"not both"}},
		{name: "bad URLs", cfg: server.Config{ControlURLs: []string{"ftp://a:1", "http://a:1/api", "http://", "https://b:2"}},
			want: []string{`"ftp://a:1"`, `"http://a:1/api"`, `"http://"`}},
		{name: "mixed schemes", cfg: server.Config{ControlURLs: []string{"http://a:1", "https://b:2"}}, want: []string{"scheme https differs"}},
		{name: "negative limits", cfg: server.Config{ControlHandler: noContent, ReadTimeout: -1, MaxRequestBodyBytes: -1},
			want: []string{"ReadTimeout is negative", "MaxRequestBodyBytes is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.New(tt.cfg)
			if err == nil {
				t.Fatal("New: got nil error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestHandlePanicsOnMisuse(t *testing.T) {
	h := func(*fasthttp.RequestCtx) {}
	tests := []struct {
		name string
		call func(s *server.Server)
	}{
		{name: "duplicate", call: func(s *server.Server) { s.Handle("GET", "/x", h); s.Handle("GET", "/x", h) }},
		{name: "reserved path", call: func(s *server.Server) { s.Handle("GET", "/healthz", h) }},
		{name: "relative path", call: func(s *server.Server) { s.Handle("GET", "x", h) }},
		{name: "empty method", call: func(s *server.Server) { s.Handle("", "/x", h) }},
		{name: "lower-case method", call: func(s *server.Server) { s.Handle("post", "/x", h) }},
		{name: "nil handler", call: func(s *server.Server) { s.Handle("GET", "/x", nil) }},
		{name: "after start", call: func(s *server.Server) { s.Handler(); s.Handle("GET", "/x", h) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := server.New(server.Config{ControlHandler: noContent})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if recover() == nil {
					t.Fatal("Handle did not panic")
				}
			}()
			tt.call(s)
		})
	}
}

func TestServeAfterShutdownReturnsNil(t *testing.T) {
	s, err := server.New(server.Config{ControlHandler: noContent})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); err != nil {
		t.Fatalf("Serve after Shutdown = %v, want nil", err)
	}
}

// countingListener counts the Write calls on the connections it accepts.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, writes: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A response that fits the write buffer (a JWKS with RSA certificates is
// ~8 KiB) leaves in one write: each write(2) on a loopback or LAN socket
// costs as much as building the response.
func TestResponseLeavesInOneWrite(t *testing.T) {
	body := strings.Repeat("k", 10<<10)
	s, err := server.New(server.Config{ControlHandler: noContent})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("GET", "/big", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(body) })
	ln := &countingListener{Listener: servetest.Listen(t)}
	url := servetest.Serve(t, s, ln)

	resp, err := http.Get(url + "/big")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != body {
		t.Fatalf("body of %d bytes, %v", len(got), err)
	}
	if n := ln.writes.Load(); n != 1 {
		t.Fatalf("a %d-byte response took %d writes, want 1", len(body), n)
	}
}
