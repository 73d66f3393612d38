package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/health"
	"github.com/authok-edge/authok/shared/httpmetrics"
	"github.com/authok-edge/authok/shared/servetest"
)

type edgeFixture struct {
	srv     *server.Server
	url     string
	reg     *prometheus.Registry
	checker *health.Switch
}

// startEdge runs an edge on 127.0.0.1:0 until the test ends. Metrics
// and Checker are filled in when unset; mount runs before Serve.
func startEdge(t *testing.T, cfg server.Config, mount func(*server.Server)) *edgeFixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	if cfg.Metrics == nil {
		m, err := httpmetrics.New(reg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Metrics = m
	}
	checker := &health.Switch{}
	if cfg.Checker == nil {
		cfg.Checker = checker
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if mount != nil {
		mount(srv)
	}
	url := servetest.Serve(t, srv, servetest.Listen(t))
	return &edgeFixture{srv: srv, url: url, reg: reg, checker: checker}
}

type response struct {
	status int
	header http.Header
	body   string
}

type request struct {
	method, path string
	host         string // Host header; the listener's address when empty
	header       http.Header
	body         string
	chunked      bool // send body without a length
}

var client = &http.Client{Timeout: 10 * time.Second}

func do(t *testing.T, base string, rq request) response {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
		if rq.chunked {
			body = io.MultiReader(body)
		}
	}
	req, err := http.NewRequest(method, base+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range rq.header {
		req.Header[k] = vs
	}
	if rq.host != "" {
		req.Host = rq.host
	}
	resp := servetest.Do(t, client, req)
	return response{status: resp.Status, header: resp.Header, body: string(resp.Body)}
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

// deadURL is a base URL nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
