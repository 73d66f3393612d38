package server

import (
	"log/slog"
	"time"

	"github.com/authok-edge/authok/shared/health"
	"github.com/authok-edge/authok/shared/httpmetrics"
)

// Defaults for the zero values of Config.
const (
	DefaultReadHeaderTimeout   = 5 * time.Second
	DefaultReadTimeout         = 30 * time.Second
	DefaultWriteTimeout        = 60 * time.Second
	DefaultIdleTimeout         = 120 * time.Second
	DefaultMaxHeaderBytes      = 32 << 10
	DefaultMaxRequestBodyBytes = 4 << 20
)

// Config configures a Server. The zero value is usable: every zero field
// takes its documented default.
type Config struct {
	// Checker answers /readyz. Nil means always ready; the composition root
	// must pass the store's checker.
	Checker health.Checker
	// Metrics records every request (server="control"). Nil records nothing.
	Metrics *httpmetrics.Metrics
	// Logger receives the http.Server's errors. Nil means slog.Default().
	Logger *slog.Logger

	// Timeouts of the http.Server; zero (or negative) takes the default.
	// IdleTimeout must stay above the edge's proxy idle-connection lifetime
	// (fasthttp's 10s), so the edge never reuses a connection the control
	// plane is closing.
	ReadHeaderTimeout time.Duration // default DefaultReadHeaderTimeout
	ReadTimeout       time.Duration // whole request, body included; default DefaultReadTimeout
	WriteTimeout      time.Duration // default DefaultWriteTimeout
	IdleTimeout       time.Duration // default DefaultIdleTimeout

	// MaxHeaderBytes caps the request header; default DefaultMaxHeaderBytes.
	// Keep it above the edge's, which adds X-Forwarded-* headers.
	MaxHeaderBytes int
	// MaxRequestBodyBytes caps every request body; larger ones get 413.
	// Default DefaultMaxRequestBodyBytes. It must fit the largest upload the
	// Management API takes (an Action's wasm module).
	MaxRequestBodyBytes int64
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxRequestBodyBytes <= 0 {
		c.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	return c
}
