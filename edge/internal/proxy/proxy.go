package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/authok-edge/authok/edge/internal/errbody"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout                = 30 * time.Second
	DefaultMaxResponseHeaderBytes = 32 << 10
)

const (
	dialTimeout    = 2 * time.Second // per address; then the next is tried
	maxConns       = 1024            // to all control-plane nodes together
	maxConnWait    = time.Second     // for a free connection, before 502
	logFailureRate = time.Second     // at most one logged failure per interval
)

// Config configures a Proxy. Exactly one of Handler and URLs must be set.
type Config struct {
	// Handler is the control plane running in this process.
	Handler http.Handler
	// URLs are control-plane base URLs, "http://host:port" or
	// "https://host:port", all with the same scheme and no path.
	URLs []string
	// TLSConfig is used for https URLs; nil uses the system roots.
	TLSConfig *tls.Config

	// Timeout bounds a forwarded request from sending to the end of the
	// response body. Zero means DefaultTimeout. Unused in-process.
	Timeout time.Duration
	// MaxResponseHeaderBytes caps a control-plane response header. Zero
	// means DefaultMaxResponseHeaderBytes.
	MaxResponseHeaderBytes int

	// TrustForwardedHeaders is for an edge behind a proxy of ours: the
	// client's X-Forwarded-For is kept and the peer appended, and its
	// X-Forwarded-Proto and -Host are kept. Otherwise (an edge facing the
	// internet) all three are replaced by what the edge saw, and Forwarded
	// and X-Real-Ip are dropped, so a client cannot forge its address.
	TrustForwardedHeaders bool

	// Logger receives forwarding failures, rate-limited. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	_, _, err := c.targets()
	return err
}

// targets parses URLs into host:port addresses and their common scheme.
func (c Config) targets() (addrs []string, scheme string, err error) {
	var errs []error
	switch {
	case c.Handler != nil && len(c.URLs) > 0:
		errs = append(errs, errors.New("set either an in-process control handler or control URLs, not both"))
	case c.Handler == nil && len(c.URLs) == 0:
		errs = append(errs, errors.New("no control plane: set an in-process control handler or control URLs"))
	}
	for _, raw := range c.URLs {
		addr, s, err := parseBaseURL(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if scheme != "" && s != scheme {
			errs = append(errs, fmt.Errorf("control URL %q: scheme %s differs from %s of the others", raw, s, scheme))
			continue
		}
		scheme = s
		addrs = append(addrs, addr)
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("proxy timeout %v is negative", c.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, "", err
	}
	return addrs, scheme, nil
}

func parseBaseURL(raw string) (addr, scheme string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("control URL %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("control URL %q: scheme must be http or https", raw)
	case u.Host == "":
		return "", "", fmt.Errorf("control URL %q: no host", raw)
	case u.User != nil:
		return "", "", fmt.Errorf("control URL %q: must not carry credentials", raw)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", "", fmt.Errorf("control URL %q: must be a base URL, with no path, query or fragment", raw)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), u.Scheme, nil
}

// Proxy forwards requests to the control plane. Safe for concurrent use.
type Proxy struct {
	inProcess fasthttp.RequestHandler // in-process mode
	client    *fasthttp.HostClient    // remote mode
	scheme    string
	timeout   time.Duration
	trust     bool
	logger    *slog.Logger
	lastLog   atomic.Int64 // unix nanos of the last logged failure
}

// New validates cfg and builds a Proxy.
func New(cfg Config) (*Proxy, error) {
	addrs, scheme, err := cfg.targets()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{
		scheme:  scheme,
		timeout: cfg.Timeout,
		trust:   cfg.TrustForwardedHeaders,
		logger:  cfg.Logger,
	}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	if cfg.Handler != nil {
		p.inProcess = fasthttpadaptor.NewFastHTTPHandler(detach(cfg.Handler))
		return p, nil
	}
	headerBytes := cfg.MaxResponseHeaderBytes
	if headerBytes <= 0 {
		headerBytes = DefaultMaxResponseHeaderBytes
	}
	p.client = &fasthttp.HostClient{
		Addr:      strings.Join(addrs, ","),
		IsTLS:     scheme == "https",
		TLSConfig: cfg.TLSConfig,
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			return fasthttp.DialTimeout(addr, min(timeout, dialTimeout))
		},
		MaxConns:                 maxConns,
		MaxConnWaitTimeout:       maxConnWait,
		ReadBufferSize:           headerBytes,
		StreamResponseBody:       true,
		DisablePathNormalizing:   true, // forward the raw path: ids carry %7C and %2F
		NoDefaultUserAgentHeader: true,
		SecureErrorLogMessage:    true, // requests carry secrets and tokens
	}
	return p, nil
}

// Serve forwards ctx's request and writes the control plane's response (or
// a 502/504) into ctx.Response.
func (p *Proxy) Serve(ctx *fasthttp.RequestCtx) {
	if len(ctx.Request.Header.Host()) == 0 {
		errbody.BadRequest.Write(ctx) // no tenant to resolve
		return
	}
	p.prepare(ctx)
	if p.inProcess != nil {
		p.inProcess(ctx)
		removeHopByHop(&ctx.Response.Header)
		return
	}
	p.forward(ctx)
}

// Close releases the idle connections to the control plane.
func (p *Proxy) Close() {
	if p.client != nil {
		p.client.CloseIdleConnections()
	}
}

func (p *Proxy) forward(ctx *fasthttp.RequestCtx) {
	req := &ctx.Request
	req.UseHostHeader = true // send the client's Host, not the dialed address
	req.URI().SetScheme(p.scheme)

	deadline := time.Now().Add(p.timeout)
	err := p.client.DoDeadline(req, &ctx.Response, deadline)
	var dialErr *fasthttp.ErrDialWithUpstream
	if errors.As(err, &dialErr) {
		// Nothing was sent, so any method may be retried. Once: HostClient
		// tries every address per dial, except on its very first dial,
		// which tries only the first (it learns the address list lazily).
		err = p.client.DoDeadline(req, &ctx.Response, deadline)
	}
	// The client reset the response, and with it the server's settings.
	ctx.Response.Header.SetNoDefaultContentType(true)
	if err != nil {
		ctx.Response.Reset()
		ctx.Response.Header.SetNoDefaultContentType(true)
		p.logFailure(err)
		if isTimeout(err) {
			errbody.GatewayTimeout.Write(ctx)
		} else {
			errbody.BadGateway.Write(ctx)
		}
		return
	}
	removeHopByHop(&ctx.Response.Header)
}

// isTimeout tells a control plane that was reached but too slow (504) from
// one that could not be reached (502).
func isTimeout(err error) bool {
	var dial *fasthttp.ErrDialWithUpstream
	if errors.As(err, &dial) {
		return false
	}
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

func (p *Proxy) logFailure(err error) {
	now := time.Now().UnixNano()
	last := p.lastLog.Load()
	if now-last < int64(logFailureRate) || !p.lastLog.CompareAndSwap(last, now) {
		return
	}
	p.logger.Warn("edge: control plane request failed", "err", err)
}

// hopByHop are the headers that describe one connection, not the message
// (RFC 9110 §7.6.1), and never cross a proxy.
var hopByHop = [...]string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// header is what removeHopByHop needs of a fasthttp request or response
// header.
type header interface {
	PeekAll(key string) [][]byte
	Del(key string)
	DelBytes(key []byte)
}

// removeHopByHop drops the hop-by-hop headers and those the Connection
// header names (never Host).
func removeHopByHop(h header) {
	var buf [256]byte
	named := buf[:0]
	for _, v := range h.PeekAll("Connection") { // copied: Del reuses the memory
		named = append(named, v...)
		named = append(named, ',')
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
	for tok := range bytes.SplitSeq(named, []byte{','}) {
		tok = bytes.TrimSpace(tok)
		if len(tok) == 0 || bytes.EqualFold(tok, []byte("close")) || bytes.EqualFold(tok, []byte("host")) {
			continue
		}
		h.DelBytes(tok)
	}
}

const (
	headerXFF   = "X-Forwarded-For"
	headerXFP   = "X-Forwarded-Proto"
	headerXFH   = "X-Forwarded-Host"
	headerFwd   = "Forwarded"
	headerXReal = "X-Real-Ip"
)

// prepare strips hop-by-hop headers from the request and sets the
// forwarding headers.
func (p *Proxy) prepare(ctx *fasthttp.RequestCtx) {
	h := &ctx.Request.Header
	removeHopByHop(h)

	var ipBuf [64]byte
	ip := ipBuf[:0]
	if a, ok := netip.AddrFromSlice(ctx.RemoteIP()); ok {
		ip = a.Unmap().AppendTo(ip)
	}
	proto := "http"
	if ctx.IsTLS() {
		proto = "https"
	}

	if !p.trust {
		h.Del(headerFwd)
		h.Del(headerXReal)
		h.SetBytesV(headerXFF, ip)
		h.Set(headerXFP, proto)
		h.SetBytesV(headerXFH, h.Host())
		return
	}

	var xffBuf [256]byte
	xff := xffBuf[:0]
	for _, v := range h.PeekAll(headerXFF) { // several lines are one list
		if len(v) == 0 {
			continue
		}
		xff = append(xff, v...)
		xff = append(xff, ", "...)
	}
	xff = append(xff, ip...)
	h.SetBytesV(headerXFF, xff)
	if len(h.Peek(headerXFP)) == 0 {
		h.Set(headerXFP, proto)
	}
	if len(h.Peek(headerXFH)) == 0 {
		h.SetBytesV(headerXFH, h.Host())
	}
}
