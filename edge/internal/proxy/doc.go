// Package proxy owns forwarding an edge request to the control plane, so one
// origin answers every path of a tenant: whatever the edge does not serve
// itself goes through Proxy.Serve.
//
// Two modes, chosen by Config:
//   - in-process (`authok dev`): the control plane's http.Handler, called
//     through fasthttpadaptor. The request is first copied into memory the
//     handler owns (see detach), because net/http handlers may keep strings
//     from a request after they return and fasthttp reuses that memory.
//   - remote: one or more control-plane base URLs, reached with one
//     fasthttp.HostClient whose Addr lists them all. HostClient, not
//     LBClient: HostClient tries every address when dialing fails, so a
//     control-plane node that is down costs no request that has to dial;
//     LBClient would fail the request it sent to the dead node.
//     Connections are spread over the nodes round-robin as they are
//     dialed. A request already written on a kept-alive connection to a
//     node that then stops is retried on another only if it is idempotent
//     (GET, HEAD, PUT: fasthttp's rule); a POST, PATCH or DELETE answers
//     502, as net/http's Transport would: the node may have applied it, and
//     the edge never replays a write that may have happened.
//
// In both modes the request keeps its method, raw path and query, body and
// headers, and its Host header (the control plane resolves the tenant by
// Host); hop-by-hop headers are dropped and X-Forwarded-For, -Proto and
// -Host are set. The response keeps its status, headers and body, minus
// hop-by-hop headers; a remote body is streamed, not buffered. When no
// control-plane node answers, the edge writes 502 (504 on timeout) with a
// JSON body.
//
// The proxy rewrites ctx.Request in place: the server's route table has
// already used it. It keeps nothing from ctx after Serve returns (a streamed
// body belongs to ctx.Response, which fasthttp closes when it has sent it).
//
// This package must never import control/ (the in-process handler arrives as
// an http.Handler), must never interpret a path (routing is the server's),
// and must never trust a client's forwarding headers unless told to.
package proxy
