package server_test

import (
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/httpmetrics"
)

// newCtx returns a RequestCtx holding a request, as the server would hand
// it to the handler.
func newCtx(method, uri string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.Header.SetHost("acme.eu.authok.example")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(203, 0, 113, 9), Port: 40000}, nil)
	return &ctx
}

// newBenchEdge builds an edge with metrics on, for allocation tests and
// benchmarks that call its handler directly.
func newBenchEdge(tb testing.TB, cfg server.Config, mount func(*server.Server)) fasthttp.RequestHandler {
	tb.Helper()
	reg := prometheus.NewRegistry()
	m, err := httpmetrics.New(reg)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Metrics = m
	if cfg.ControlHandler == nil && cfg.ControlURLs == nil {
		cfg.ControlHandler = noContent
	}
	s, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if mount != nil {
		mount(s)
	}
	return s.Handler()
}

// TestEdgeRoutesAllocationBudget is the model for hot-path handlers: each
// registered handler gets a row with its budget, measured through the whole
// server stack (routing, metrics, recovery).
func TestEdgeRoutesAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	h := newBenchEdge(t, server.Config{}, nil)
	tests := []struct {
		name, method, uri string
		wantStatus        int
		budget            float64
	}{
		{name: "healthz", method: "GET", uri: "/healthz", wantStatus: 200, budget: 0},
		{name: "healthz HEAD", method: "HEAD", uri: "/healthz", wantStatus: 200, budget: 0},
		{name: "readyz", method: "GET", uri: "/readyz", wantStatus: 200, budget: 0},
		{name: "method not allowed", method: "POST", uri: "/healthz", wantStatus: 405, budget: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := newCtx(tt.method, tt.uri)
			h(ctx) // first use: label series, buffers
			if got := ctx.Response.StatusCode(); got != tt.wantStatus {
				t.Fatalf("status = %d, want %d", got, tt.wantStatus)
			}
			allocs := testing.AllocsPerRun(1000, func() {
				ctx.Response.Reset()
				h(ctx)
			})
			t.Logf("%s %s: %v allocs per request", tt.method, tt.uri, allocs)
			if allocs > tt.budget {
				t.Fatalf("%s %s allocates %v times per request, budget %v", tt.method, tt.uri, allocs, tt.budget)
			}
		})
	}
}
