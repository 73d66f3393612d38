package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/edge/internal/errbody"
	"github.com/authok-edge/authok/edge/internal/proxy"
	"github.com/authok-edge/authok/shared/httpmetrics"
)

// Metric labels of the edge.
const (
	metricsServer = "edge"
	// RouteProxy is the route label of every request forwarded to the
	// control plane.
	RouteProxy = "proxy"
)

// Server is the edge's HTTP server.
type Server struct {
	cfg   Config
	fs    *fasthttp.Server
	proxy *proxy.Proxy

	routes      map[string]*route // by exact path; frozen once serving
	frozen      atomic.Bool
	proxyRoute  *httpmetrics.Route
	otherRoute  *httpmetrics.Route
	handlerFunc fasthttp.RequestHandler

	mu        sync.Mutex
	closed    bool
	listeners []net.Listener
}

// route is one path of the table and its handlers by method.
type route struct {
	handlers []methodHandler // in registration order; a handful at most
	allow    string          // the Allow header of a 405
	metrics  *httpmetrics.Route
}

type methodHandler struct {
	method string
	h      fasthttp.RequestHandler
}

// New validates cfg and builds a Server with /healthz and /readyz routed,
// /metrics answered 404 and everything else proxied to the control plane. It does not
// listen; register routes with Handle, then call Serve.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("edge/server: invalid config: %w", err)
	}
	cfg = cfg.withDefaults()
	p, err := proxy.New(cfg.proxyConfig())
	if err != nil {
		return nil, fmt.Errorf("edge/server: %w", err)
	}
	s := &Server{
		cfg:        cfg,
		proxy:      p,
		routes:     make(map[string]*route),
		proxyRoute: cfg.Metrics.Route(metricsServer, RouteProxy),
		otherRoute: cfg.Metrics.Route(metricsServer, httpmetrics.RouteOther),
	}
	s.handlerFunc = s.serve
	s.fs = &fasthttp.Server{
		Handler:                      s.handlerFunc,
		ErrorHandler:                 s.readError,
		Logger:                       fasthttpLogger{cfg.Logger},
		ReadTimeout:                  cfg.ReadTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		IdleTimeout:                  cfg.IdleTimeout,
		ReadBufferSize:               cfg.MaxHeaderBytes,
		WriteBufferSize:              cfg.WriteBufferBytes,
		MaxRequestBodySize:           cfg.MaxRequestBodyBytes,
		Concurrency:                  cfg.Concurrency,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true, // a proxied response keeps its own, or none
		DisablePreParseMultipartForm: true, // bodies are forwarded, not parsed
		CloseOnShutdown:              true,
		SecureErrorLogMessage:        true, // requests carry secrets and tokens
	}

	s.Handle("GET", "/healthz", healthz)
	s.Handle("GET", "/readyz", s.readyz)
	// Metrics are served on an operator's listener of their own
	// (cmd/authok --metrics-addr), never the public one; /metrics here is
	// not proxied either, so it never reaches a control plane's.
	s.Handle("GET", "/metrics", errbody.NotFound.Write)
	return s, nil
}

// Handle routes requests for method on exactly path to h. A GET route also
// answers HEAD unless HEAD has its own. Another method on a registered path
// gets 405 (it is not proxied: the path belongs to the edge); an
// unregistered path is proxied.
//
// Handle must be called before the server starts (Serve or Handler); it
// panics after that, on a duplicate, or on an invalid method, path or
// handler, like http.ServeMux.Handle.
func (s *Server) Handle(method, path string, h fasthttp.RequestHandler) {
	switch {
	case s.frozen.Load():
		panic("edge/server: Handle " + method + " " + path + " after the server started")
	case !validMethod(method):
		panic(fmt.Sprintf("edge/server: Handle: invalid method %q (want an upper-case token such as POST)", method))
	case !strings.HasPrefix(path, "/"):
		panic(fmt.Sprintf("edge/server: Handle: path %q does not start with /", path))
	case h == nil:
		panic("edge/server: Handle " + method + " " + path + ": nil handler")
	}
	rt := s.routes[path]
	if rt == nil {
		rt = &route{metrics: s.cfg.Metrics.Route(metricsServer, path)}
		s.routes[path] = rt
	}
	for _, mh := range rt.handlers {
		if mh.method == method {
			panic("edge/server: Handle: " + method + " " + path + " registered twice")
		}
	}
	rt.handlers = append(rt.handlers, methodHandler{method: method, h: h})
	rt.allow = allowHeader(rt.handlers)
}

// validMethod reports whether m looks like a request method: upper-case
// letters only (methods are case-sensitive; "get" would never match).
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

func allowHeader(hs []methodHandler) string {
	methods := make([]string, 0, len(hs)+1)
	hasGet, hasHead := false, false
	for _, mh := range hs {
		methods = append(methods, mh.method)
		hasGet = hasGet || mh.method == fasthttp.MethodGet
		hasHead = hasHead || mh.method == fasthttp.MethodHead
	}
	if hasGet && !hasHead {
		methods = append(methods, fasthttp.MethodHead)
	}
	return strings.Join(methods, ", ")
}

// lookup returns the handler for method, or nil.
func (rt *route) lookup(method []byte) fasthttp.RequestHandler {
	for i := range rt.handlers {
		if string(method) == rt.handlers[i].method {
			return rt.handlers[i].h
		}
	}
	if string(method) == fasthttp.MethodHead {
		for i := range rt.handlers {
			if rt.handlers[i].method == fasthttp.MethodGet {
				return rt.handlers[i].h
			}
		}
	}
	return nil
}

// Handler returns the server's request handler, for serving without a
// listener (tests, benchmarks). It freezes the route table like Serve.
func (s *Server) Handler() fasthttp.RequestHandler {
	s.frozen.Store(true)
	return s.handlerFunc
}

// Serve accepts connections on ln until Shutdown. It returns nil after
// Shutdown, and otherwise the error that stopped it.
func (s *Server) Serve(ln net.Listener) error {
	s.frozen.Store(true)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()

	err := s.fs.Serve(ln)
	if err == nil {
		return nil
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return fmt.Errorf("edge/server: serve %s: %w", ln.Addr(), err)
}

// Shutdown stops accepting connections, waits for active requests to finish
// (or for ctx to end), closes idle keep-alive connections, and releases the
// connections to the control plane.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	listeners := s.listeners
	s.listeners = nil
	s.mu.Unlock()

	err := s.fs.ShutdownWithContext(ctx)
	// A Serve that had not reached fasthttp yet has a listener fasthttp did
	// not close; close it so that Serve returns.
	for _, ln := range listeners {
		_ = ln.Close()
	}
	s.proxy.Close()
	if err != nil {
		return fmt.Errorf("edge/server: shutdown: %w", err)
	}
	return nil
}

// serve is the fasthttp handler: route, run, recover, measure.
func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	m := s.proxyRoute
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("edge: handler panicked",
				"path", string(ctx.Path()), "panic", p, "stack", string(debug.Stack()))
			ctx.Response.Reset()
			errbody.Internal.Write(ctx)
		}
		m.Observe(string(ctx.Method()), ctx.Response.StatusCode(), time.Since(ctx.Time()))
	}()

	rt := s.routes[string(ctx.Path())]
	if rt == nil {
		if isInternalPath(ctx.Path()) {
			// The cluster's internal API is for peers, reached at their own
			// addresses: an edge never forwards it to the control plane.
			m = nil
			errbody.NotFound.Write(ctx)
			s.otherRoute.Count(string(ctx.Method()), fasthttp.StatusNotFound)
			return
		}
		s.proxy.Serve(ctx)
		return
	}
	m = rt.metrics
	if h := rt.lookup(ctx.Method()); h != nil {
		h(ctx)
		return
	}
	ctx.Response.Header.Set(fasthttp.HeaderAllow, rt.allow)
	errbody.MethodNotAllowed.Write(ctx)
}

// isInternalPath reports whether path (fasthttp's, decoded and with dot
// segments and double slashes resolved) is /internal or under /internal/,
// in any case.
func isInternalPath(path []byte) bool {
	const prefix = "/internal"
	return len(path) >= len(prefix) && bytes.EqualFold(path[:len(prefix)], []byte(prefix)) &&
		(len(path) == len(prefix) || path[len(prefix)] == '/')
}

// readError answers a request fasthttp could not read (too large, too slow,
// malformed) before any handler ran.
func (s *Server) readError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	b := errbody.BadRequest
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		b = errbody.BodyTooLarge
	case errors.As(err, &small):
		b = errbody.HeaderTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		b = errbody.RequestTimeout
	}
	b.Write(ctx)
	// fasthttp resets the request on some read errors (a chunked body too
	// large, a header too large); its method then reads GET. Label only a
	// method that was read: a parsed request has a Host.
	method := ""
	if len(ctx.Request.Header.Host()) > 0 {
		method = string(ctx.Method())
	}
	s.otherRoute.Count(method, b.Status())
}

// fasthttpLogger sends fasthttp's log lines to slog.
type fasthttpLogger struct{ l *slog.Logger }

// Printf logs at debug level the per-connection errors clients cause (a
// body too large, a reset connection), which the metrics already count, and
// everything else (the concurrency limit reached) as a warning.
func (f fasthttpLogger) Printf(format string, args ...any) {
	level := slog.LevelWarn
	if strings.HasPrefix(format, "error when serving connection") {
		level = slog.LevelDebug
	}
	f.l.Log(context.Background(), level, fmt.Sprintf(format, args...), "component", "fasthttp")
}
