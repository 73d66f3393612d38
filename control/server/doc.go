// Package server is the control plane's HTTP server (net/http): the one
// listener behind which the Management API, /authorize and the login pages,
// SAML, WS-Federation and the internal cluster endpoints are mounted.
//
// It owns the skeleton every control-plane request goes through:
//   - the routing table (a Go 1.22+ http.ServeMux; features add routes
//     with Handle from the composition root),
//   - /healthz (the process is up) and /readyz (health.Checker); /metrics
//     is not here (a 404 like any unrouted path): the operator serves it
//     on a listener of its own (authok --metrics-addr),
//   - a JSON 404/405 in the Management API error shape (API.md §A.4) for
//     paths and methods no route serves,
//   - the request body limit, the http.Server timeouts and header limit,
//   - request metrics (httpmetrics, server="control"; route = the matched
//     pattern without its method, "other" when nothing matched).
//
// Handler exposes the same stack without a listener, so `authok dev` can run
// the control plane inside the edge's process (the edge proxies to it).
//
// Routes must be registered with Server.Handle, not on a mux of their own:
// only Handle's routes get a bounded metrics label, and a route registered
// behind another mux would report as "other".
//
// This package must never import edge/, must never hold business logic
// (that lives in the feature packages it mounts), and must never put an
// internal error's text in a response body.
package server
