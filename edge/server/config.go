package server

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/authok-edge/authok/edge/internal/proxy"
	"github.com/authok-edge/authok/shared/health"
	"github.com/authok-edge/authok/shared/httpmetrics"
)

// Defaults for the zero values of Config.
const (
	DefaultReadTimeout         = 30 * time.Second
	DefaultWriteTimeout        = 30 * time.Second
	DefaultIdleTimeout         = 60 * time.Second
	DefaultMaxHeaderBytes      = 16 << 10
	DefaultWriteBufferBytes    = 16 << 10
	DefaultMaxRequestBodyBytes = 4 << 20
	DefaultProxyTimeout        = proxy.DefaultTimeout
)

// Config configures a Server. Zero-valued limits and timeouts take their
// documented defaults; exactly one of ControlHandler and ControlURLs must be
// set.
type Config struct {
	// Checker answers /readyz. Nil means always ready; the composition root
	// must pass the store's checker.
	Checker health.Checker
	// Metrics records every request (server="edge"). Nil records nothing.
	Metrics *httpmetrics.Metrics
	// Logger receives server and proxy errors. Nil means slog.Default().
	Logger *slog.Logger

	// ControlHandler is the control plane in this process (`authok dev`):
	// control/server's Handler().
	ControlHandler http.Handler
	// ControlURLs are the control-plane nodes' base URLs ("http://host:port"),
	// all with one scheme.
	ControlURLs []string
	// ControlTLSConfig is used for https ControlURLs; nil uses the system
	// roots.
	ControlTLSConfig *tls.Config
	// ProxyTimeout bounds a proxied request to the end of its response.
	// Default DefaultProxyTimeout.
	ProxyTimeout time.Duration
	// TrustForwardedHeaders keeps the client's X-Forwarded-* headers
	// (appending to X-Forwarded-For). Set it only when the edge sits behind
	// a load balancer of ours; otherwise clients could forge their address.
	TrustForwardedHeaders bool

	// ReadTimeout bounds reading a request, body included; it is also the
	// keep-alive idle limit when IdleTimeout is unset. Default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// IdleTimeout bounds a keep-alive connection between requests. Default
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers (fasthttp's read
	// buffer); larger get 431. Default DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// WriteBufferBytes is each connection's write buffer: a response that
	// fits leaves in one write(2) (a JWKS with RSA certificates is ~8 KiB;
	// with fasthttp's 4 KiB default it took two). Default
	// DefaultWriteBufferBytes.
	WriteBufferBytes int
	// MaxRequestBodyBytes caps a request body, proxied ones included;
	// larger get 413. Default DefaultMaxRequestBodyBytes. It must fit the
	// largest Management API upload (an Action's wasm module).
	MaxRequestBodyBytes int
	// Concurrency caps concurrent connections; zero is fasthttp's default.
	Concurrency int
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if err := c.proxyConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"ProxyTimeout", int64(c.ProxyTimeout)},
		{"ReadTimeout", int64(c.ReadTimeout)},
		{"WriteTimeout", int64(c.WriteTimeout)},
		{"IdleTimeout", int64(c.IdleTimeout)},
		{"MaxHeaderBytes", int64(c.MaxHeaderBytes)},
		{"WriteBufferBytes", int64(c.WriteBufferBytes)},
		{"MaxRequestBodyBytes", int64(c.MaxRequestBodyBytes)},
		{"Concurrency", int64(c.Concurrency)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative", f.name))
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.ProxyTimeout = cmp.Or(c.ProxyTimeout, DefaultProxyTimeout)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, DefaultReadTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultWriteTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	c.WriteBufferBytes = cmp.Or(c.WriteBufferBytes, DefaultWriteBufferBytes)
	c.MaxRequestBodyBytes = cmp.Or(c.MaxRequestBodyBytes, DefaultMaxRequestBodyBytes)
	return c
}

func (c Config) proxyConfig() proxy.Config {
	return proxy.Config{
		Handler:               c.ControlHandler,
		URLs:                  c.ControlURLs,
		TLSConfig:             c.ControlTLSConfig,
		Timeout:               c.ProxyTimeout,
		TrustForwardedHeaders: c.TrustForwardedHeaders,
		Logger:                c.Logger,
	}
}
