package server

import (
	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/health"
)

var okBody = []byte("ok")

// healthz answers 200 "ok" whenever the process can serve HTTP. It is the
// model for hot-path handlers: pre-rendered bytes, no allocation.
func healthz(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.Response.SetBody(okBody)
}

// readyz answers 200 when the Checker is ready, else 503 with the reason.
func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	status, body := health.Probe(s.cfg.Checker)
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.Response.SetBody(body)
}
