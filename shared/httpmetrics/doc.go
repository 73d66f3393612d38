// Package httpmetrics owns the Prometheus metrics every authok HTTP server
// exports, so the edge (fasthttp) and the control plane (net/http) report
// requests the same way:
//
//	authok_http_requests_total{server,route,method,status}           counter
//	authok_http_request_duration_seconds{server,route,method}        histogram
//
// Every label is bounded. route is the matched route pattern ("/oauth/token",
// "GET /api/v1/users/{id}" minus its method), "proxy" for what the edge
// forwards, or RouteOther; never a raw request path, which would let any
// client grow the series without limit. method is folded to the standard
// methods or "other". status is the three-digit code the server wrote.
//
// The hot path is allocation-free: a server resolves a *Route once per
// route at startup and calls Route.Observe per request; the label lookups
// happen once per (route, method, status) and are cached.
//
// Durations are measured from the start of the request to the return of the
// handler; a response body streamed after that is not included.
//
// This package must never import edge/ or control/, must never register on
// the global Prometheus registry (the caller passes a Registerer), and must
// never take an unbounded label value.
package httpmetrics
