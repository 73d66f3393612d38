// Package server is the edge node's HTTP server (fasthttp): the listener in
// every region that serves the hot paths (token, userinfo, JWKS, discovery,
// revocation) itself and proxies every other path to the control plane, so
// one origin answers every path of a tenant.
//
// It owns:
//   - the route table: exact paths in a map, looked up without allocating;
//     feature packages register hot-path handlers with Handle from the
//     composition root, before the server starts;
//   - /healthz and /readyz (health.Checker); /metrics answers 404 and is
//     never proxied (the operator serves it on a listener of its own,
//     authok --metrics-addr);
//   - the fallback to the control plane (edge/internal/proxy), in-process
//     or remote, for every unregistered path but /internal and /internal/...
//     (the cluster's internal API, in any case or spelling): those the edge
//     does not serve itself are a 404 of its own, never forwarded;
//   - the fasthttp.Server limits and timeouts, the request body limit (413),
//     JSON bodies for the errors it writes itself, panic recovery;
//   - request metrics (httpmetrics, server="edge"; route = the registered
//     path, "proxy" for forwarded requests, "other" for requests rejected
//     before routing and internal paths refused, counted but not timed).
//
// Handlers registered here follow fasthttp's rules: never keep the
// *fasthttp.RequestCtx or any byte slice it returned after the handler
// returns (copy first), and keep allocation budgets, guarded by
// testing.AllocsPerRun tests like the one for /healthz.
//
// This package must never import control/ (the in-process control plane
// arrives as an http.Handler) and must never hold protocol logic: the
// handlers it serves live in feature packages (edge/token, edge/discovery).
package server
