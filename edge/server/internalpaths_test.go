package server_test

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/errorbody"
)

// An /internal/ path the edge does not serve itself is answered 404 by
// the edge, never forwarded: the control plane's internal API (forwarded
// writes, joins, removes) is not reachable through an edge's public port,
// however the path is spelled.
func TestEdgeNeverProxiesInternalPaths(t *testing.T) {
	var hits atomic.Int64
	control := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	ctl := newUpstream()
	ctl.Handle("/", control)
	for name, cfg := range map[string]server.Config{
		"remote":     {ControlURLs: []string{serveControl(t, ctl)}},
		"in-process": {ControlHandler: control},
	} {
		t.Run(name, func(t *testing.T) {
			f := startEdge(t, cfg, func(s *server.Server) {
				s.Handle("GET", "/internal/v1/status", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("edge") })
			})
			tests := []struct {
				name, method, path string
				want               int
				proxied            bool
			}{
				{name: "served by the edge", path: "/internal/v1/status", want: 200},
				{name: "wrong method on an edge route", method: "POST", path: "/internal/v1/status", want: 405},
				{name: "forwarded write", method: "POST", path: "/internal/v1/store/apply", want: 404},
				{name: "join", method: "POST", path: "/internal/v1/cluster/join", want: 404},
				{name: "other version", path: "/internal/v2/anything", want: 404},
				{name: "the prefix alone", path: "/internal/", want: 404},
				{name: "without a slash", path: "/internal", want: 404},
				{name: "escaped", method: "POST", path: "/%69nternal/v1/store/apply", want: 404},
				{name: "double slash", method: "POST", path: "//internal/v1/store/apply", want: 404},
				{name: "dot segments", method: "POST", path: "/api/../internal/v1/cluster/remove", want: 404},
				{name: "upper case", path: "/INTERNAL/v1/cluster/members", want: 404},
				{name: "a path that only starts alike", path: "/internalize", want: 200, proxied: true},
				{name: "the Management API", path: "/api/v1/clients", want: 200, proxied: true},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					before := hits.Load()
					r := do(t, f.url, request{method: tc.method, path: tc.path})
					if r.status != tc.want {
						t.Fatalf("%s %s: status %d, want %d (body %q)", tc.method, tc.path, r.status, tc.want, r.body)
					}
					if got := hits.Load() - before; (got > 0) != tc.proxied {
						t.Fatalf("%s %s: the control plane saw %d requests; proxied want %v", tc.method, tc.path, got, tc.proxied)
					}
					if r.status == 404 {
						var e errorbody.Body
						if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.StatusCode != 404 {
							t.Fatalf("body %q is not the edge's 404 (%v)", r.body, err)
						}
					}
				})
			}
		})
	}
}
