package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/health"
	"github.com/authok-edge/authok/shared/httpmetrics"
)

// metricsServer is the server label of every control-plane request.
const metricsServer = "control"

// Server is the control plane's HTTP server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler
	http    *http.Server
	other   *httpmetrics.Route // requests no route matched
}

// New builds a Server with /healthz and /readyz routed. It does not listen;
// call Serve. /metrics is not served here: it goes on an operator's
// listener of its own (cmd/authok --metrics-addr), never the public one.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:   cfg,
		mux:   http.NewServeMux(),
		other: cfg.Metrics.Route(metricsServer, httpmetrics.RouteOther),
	}
	s.handler = http.HandlerFunc(s.serveHTTP)
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}

	s.Handle("GET /healthz", http.HandlerFunc(healthz))
	s.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	return s
}

// Handle routes pattern (http.ServeMux syntax, e.g. "GET /api/v1/users/{id}")
// to h, and labels its requests in the metrics with the pattern minus its
// method. Like http.ServeMux.Handle, it panics when pattern is invalid or
// conflicts with a registered one. It may be called while serving.
func (s *Server) Handle(pattern string, h http.Handler) {
	rm := s.cfg.Metrics.Route(metricsServer, routeLabel(pattern))
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.matched = true
			rec.route = rm
		}
		h.ServeHTTP(w, r)
	}))
}

// Handler returns the whole request stack (limits, metrics, routing, JSON
// errors) without a listener, for running the control plane in-process.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown. It returns nil after
// Shutdown, and otherwise the error that stopped it.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("control/server: serve %s: %w", ln.Addr(), err)
}

// Shutdown stops accepting connections and waits for active requests to
// finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("control/server: shutdown: %w", err)
	}
	return nil
}

// serveHTTP is the top of the stack: it measures the request, applies the
// body limit, routes it, and turns the mux's own 404 and 405 into §A.4
// bodies.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, route: s.other}
	returned := false
	defer func() {
		status := rec.status()
		if !returned {
			// A handler panicked; net/http aborts the connection.
			status = http.StatusInternalServerError
		}
		rec.route.Observe(r.Method, status, time.Since(start))
	}()

	if r.ContentLength > s.cfg.MaxRequestBodyBytes {
		apierror.WriteStatus(rec, http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge,
			fmt.Sprintf("Request body larger than %d bytes.", s.cfg.MaxRequestBodyBytes))
		returned = true
		return
	}
	// w, not rec: MaxBytesReader looks for the server's own ResponseWriter
	// to close the connection after an oversized body.
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBodyBytes)

	s.mux.ServeHTTP(rec, r)
	rec.finish()
	returned = true
}

// routeLabel is a pattern without its method: "GET /x/{id}" -> "/x/{id}".
func routeLabel(pattern string) string {
	if i := strings.IndexAny(pattern, " \t"); i >= 0 {
		return strings.TrimLeft(pattern[i:], " \t")
	}
	return pattern
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	status, body := health.Probe(s.cfg.Checker)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
