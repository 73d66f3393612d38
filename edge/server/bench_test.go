package server_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/servetest"
)

// BenchmarkEdgeHealthz measures /healthz through the whole edge stack:
// "handler" calls the server's handler directly; "loopback" goes through a
// TCP connection on 127.0.0.1 with a fasthttp client.
func BenchmarkEdgeHealthz(b *testing.B) {
	b.Run("handler", func(b *testing.B) {
		h := newBenchEdge(b, server.Config{}, nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			ctx := newCtx("GET", "/healthz")
			for pb.Next() {
				ctx.Response.Reset()
				h(ctx)
			}
		})
	})
	b.Run("loopback", func(b *testing.B) {
		benchLoopback(b, server.Config{ControlHandler: noContent}, "GET", "/healthz", nil)
	})
}

// usersUpstream is a control plane answering POST /api/v1/users.
func usersUpstream() *upstream {
	ctl := newUpstream()
	ctl.Handle("POST /api/v1/users", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"user_id":"authok|1"}`))
	}))
	return ctl
}

// BenchmarkEdgeProxyInProcess measures a request the edge does not serve,
// proxied to a real control plane running in the same process (dev mode).
func BenchmarkEdgeProxyInProcess(b *testing.B) {
	ctl := usersUpstream()
	cfg := server.Config{ControlHandler: ctl.Handler()}

	b.Run("handler", func(b *testing.B) {
		benchCreateUser(b, newBenchEdge(b, cfg, nil))
	})
	b.Run("loopback", func(b *testing.B) {
		benchLoopback(b, cfg, "POST", "/api/v1/users", createUserBody)
	})
}

// BenchmarkEdgeProxyRemote is the same request proxied over TCP to a
// control plane listening on 127.0.0.1 (a production edge).
func BenchmarkEdgeProxyRemote(b *testing.B) {
	ctl := usersUpstream()
	benchCreateUser(b, newBenchEdge(b, server.Config{ControlURLs: []string{servetest.Serve(b, ctl, servetest.Listen(b))}}, nil))
}

var createUserBody = []byte(`{"email":"a@example.com","connection":"database"}`)

// benchCreateUser calls h with a create-user request from parallel
// goroutines.
func benchCreateUser(b *testing.B, h fasthttp.RequestHandler) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := newCtx("POST", "/api/v1/users")
		ctx.Request.SetBody(createUserBody)
		ctx.Request.Header.SetContentType("application/json")
		for pb.Next() {
			ctx.Response.Reset()
			h(ctx)
			if ctx.Response.StatusCode() != http.StatusCreated {
				b.Fatalf("status %d", ctx.Response.StatusCode())
			}
			// The server would send a streamed (remote proxy) body, then
			// close it; for an in-memory body both are no-ops.
			_ = ctx.Response.BodyWriteTo(io.Discard)
			_ = ctx.Response.CloseBodyStream()
		}
	})
}

// benchLoopback serves an edge on 127.0.0.1 and sends b.N requests to it
// from parallel fasthttp clients.
func benchLoopback(b *testing.B, cfg server.Config, method, path string, body []byte) {
	s, err := server.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ln := servetest.Listen(b)
	servetest.Serve(b, s, ln)
	c := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 256}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.Header.SetMethod(method)
		req.SetRequestURI("http://acme.example" + path)
		if body != nil {
			req.SetBody(body)
		}
		for pb.Next() {
			if err := c.DoTimeout(req, resp, 5*time.Second); err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode() >= 300 {
				b.Fatalf("status %d", resp.StatusCode())
			}
		}
	})
}
