package token

import (
	"github.com/authok-edge/authok/shared/jsonenc"

	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/oauth2"
	"github.com/authok-edge/authok/shared/tokens"
)

// Handler serves POST /oauth/token. It is safe for concurrent use.
type Handler struct {
	cfg        Config
	grantTypes map[string]*grantType
	challenge  string // WWW-Authenticate value
	requests   sync.Pool
}

// New validates cfg and builds a Handler. Register it with the edge
// server: srv.Handle("POST", "/oauth/token", h.Serve).
func New(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	h := &Handler{
		cfg:        cfg,
		grantTypes: newGrantTypes(),
		challenge:  `Basic realm="` + cfg.Realm + `", charset="UTF-8"`,
	}
	h.requests.New = func() any { return new(request) }
	return h, nil
}

// request is one token request's state. It is pooled: every buffer in it
// is reused by the next request, which is what keeps a warm request from
// allocating. Nothing in it outlives Serve (fasthttp's rule).
type request struct {
	ctx    *fasthttp.RequestCtx
	now    time.Time
	params paramParser

	tenant    model.Tenant
	hasTenant bool
	grant     *grantType
	client    *directory.Client
	// clientID is the id the request claimed, for the log event of a
	// request whose client did not authenticate.
	clientID   string
	basicBuf   []byte // decoded Basic credentials
	scopeBuf   []byte // the granted scope, built
	audienceID [1]string

	// clientKnown: clientID names a client of the tenant (which may still
	// have failed to authenticate); its failures are not aggregated.
	clientKnown bool

	// What was issued, for the response and the log event.
	token     []byte // the response body is built here, the JWT inside it
	expiresIn int64
	scope     string
	audience  string

	exchange ExchangeEvent // what credentials-exchange Actions see

	event   logship.Event
	details [2]logship.Detail
}

func (r *request) reset() {
	r.ctx = nil
	r.tenant = model.Tenant{}
	r.hasTenant = false
	r.grant, r.client = nil, nil
	r.clientID, r.clientKnown = "", false
	r.expiresIn = 0
	r.scope, r.audience = "", ""
	r.audienceID[0] = ""
	r.token = r.token[:0]
	r.exchange = ExchangeEvent{}
	r.event = logship.Event{}
	r.details = [2]logship.Detail{}
}

// Serve answers a token request (RFC 6749 §3.2, §5). It owns the phases
// every grant shares, in this order: resolve the tenant from the Host,
// parse the parameters, pick the grant type, authenticate the client
// (RFC 6749 §2.3, §3.2.1), check the client may use the grant type, run
// the grant, write the response (§5.1) or the error (§5.2), and record the
// log event.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) {
	r := h.requests.Get().(*request)
	r.ctx, r.now = ctx, h.cfg.Now()
	oerr := h.dispatch(r)
	if oerr != nil {
		h.writeError(ctx, oerr)
	} else {
		h.writeToken(ctx, r)
	}
	h.record(r, oerr)
	r.reset()
	h.requests.Put(r)
}

func (h *Handler) dispatch(r *request) *oauth2.Error {
	ctx := r.ctx
	t, err := h.cfg.Directory.TenantByHostBytes(ctx.Host())
	if errors.Is(err, directory.ErrNotFound) {
		return oauth2.ErrInvalidRequest.With("no tenant is served on this host")
	}
	if err != nil {
		return h.internal("resolve tenant", err)
	}
	r.tenant, r.hasTenant = t, true

	// Parameters (RFC 6749 §3.2, API.md B.4).
	body := ctx.Request.Body()
	if len(body) > h.cfg.MaxBodyBytes {
		return errBodyTooLarge.Withf("the request body exceeds %d bytes", h.cfg.MaxBodyBytes)
	}
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && string(ce) != "identity" {
		return oauth2.ErrInvalidRequest.With("compressed request bodies are not accepted")
	}
	if oerr := r.params.parse(ctx.Request.Header.ContentType(), body, ctx.URI().QueryString()); oerr != nil {
		return oerr
	}

	gt := r.params.get("grant_type")
	if gt == nil {
		return oauth2.ErrInvalidRequest.With("grant_type is required")
	}
	g := h.grantTypes[string(gt)]
	if g == nil {
		return oauth2.ErrUnsupportedGrantType.Withf("grant type %q is not supported", printable(gt))
	}
	r.grant = g
	if g.impl == nil {
		return oauth2.ErrUnsupportedGrantType.With(g.notImplemented())
	}

	if oerr := h.authenticate(r); oerr != nil {
		return oerr
	}
	// RFC 6749 §5.2 unauthorized_client: the client may not use this grant
	// type (API.md B.4: it is not in the client's grant_types).
	if !r.client.AllowsGrantType(g.canonical) {
		return oauth2.ErrUnauthorizedClient.Withf("the client may not use the %s grant (it is not in its grant_types)", g.canonical)
	}
	d, oerr := g.impl.exchange(h, r)
	r.audience = d.audience
	if oerr != nil {
		return oerr
	}
	if oerr := h.runActions(r, g, &d); oerr != nil {
		return oerr
	}
	return h.issue(r, &d)
}

// issue mints the access token of decision d into r.token, after
// tokenPrefix, with the claims the dispatcher owns: iss, client_id and
// azp, jti, iat and exp (API.md E.1).
func (h *Handler) issue(r *request, d *decision) *oauth2.Error {
	iat := r.now.Unix()
	r.audienceID[0] = d.audience
	claims := tokens.AccessClaims{
		Issuer:    r.tenant.Internal.Issuer,
		Subject:   d.subject,
		Audience:  r.audienceID[:],
		ClientID:  r.client.ClientID,
		Scope:     d.scope,
		GrantType: d.gty,
		JTI:       newJTI(),
		IssuedAt:  iat,
		ExpiresAt: iat + d.lifetime,
		Extra:     d.claims,
	}
	s, err := h.cfg.Directory.Signer(r.tenant.Name, d.alg)
	if err != nil {
		return h.internal(fmt.Sprintf("signer of tenant %s for %s", r.tenant.Name, d.alg), err)
	}
	r.token = append(r.token[:0], tokenPrefix...)
	out, err := s.SignAccess(r.token, &claims)
	if err != nil {
		return h.internal("sign", err)
	}
	r.token, r.scope, r.expiresIn = out, d.scope, d.lifetime
	return nil
}

// newJTI is a random token id (tokens.NewJTI: 128 bits, base64url).
func newJTI() string {
	var b [tokens.JTILength]byte
	return string(tokens.NewJTI(b[:0]))
}

// internal logs err and returns the server_error the client sees: never
// the internal error's text.
func (h *Handler) internal(what string, err error) *oauth2.Error {
	h.cfg.Logger.Error("token: "+what, "err", err)
	return oauth2.ErrServerError.With("internal error")
}

// writeToken renders the successful response of RFC 6749 §5.1: the body
// is appended around the token the grant left in r.token, with
// Cache-Control: no-store and Pragma: no-cache.
func (h *Handler) writeToken(ctx *fasthttp.RequestCtx, r *request) {
	b := r.token
	b = append(b, `","token_type":"Bearer","expires_in":`...)
	b = strconv.AppendInt(b, r.expiresIn, 10)
	if r.scope != "" {
		b = append(b, `,"scope":`...)
		b = jsonenc.AppendString(b, r.scope)
	}
	b = append(b, '}')
	r.token = b
	ctx.SetStatusCode(fasthttp.StatusOK)
	setHeaders(ctx)
	ctx.Response.SetBody(b) // copies
}

// tokenPrefix starts every response body; grants append the JWT after it.
const tokenPrefix = `{"access_token":"`

// writeError renders an RFC 6749 §5.2 error with the status of API.md B.4.
func (h *Handler) writeError(ctx *fasthttp.RequestCtx, e *oauth2.Error) {
	ctx.SetStatusCode(e.Status())
	setHeaders(ctx)
	if e.Challenge() == challengeBasic {
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, h.challenge)
	}
	var stack [256]byte
	ctx.Response.SetBody(e.AppendJSON(stack[:0]))
}

func setHeaders(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("application/json; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.Response.Header.Set(fasthttp.HeaderPragma, "no-cache")
}

// Descriptions of log events, as Auth0 words them.
var grantDescriptions = map[string]string{
	model.GrantTypeClientCredentials: "Client Credentials for Access Token",
	model.GrantTypeAuthorizationCode: "Authorization Code for Access Token",
	model.GrantTypeRefreshToken:      "Refresh Token for Access Token",
	model.GrantTypePassword:          "Password for Access Token",
}

// record queues the request's log event (API.md C.11) with the log
// shipper: exchange_success or exchange_failed, for every request whose
// tenant is known. It only encodes into memory; shipping is background.
func (h *Handler) record(r *request, oerr *oauth2.Error) {
	if h.cfg.Logs == nil || !r.hasTenant {
		return
	}
	ctx := r.ctx
	e := &r.event
	e.Tenant = r.tenant.Name
	e.Date = r.now
	e.Hostname = ctx.Host()
	e.UserAgent = ctx.UserAgent()
	e.IP = clientIP(ctx, r.client)
	gt := ""
	if r.grant != nil {
		gt = r.grant.canonical
	}
	n := 0
	if gt != "" {
		r.details[n] = logship.Detail{Name: "grant_type", Value: gt}
		n++
	}
	switch {
	case r.client != nil:
		e.ClientID, e.ClientName = r.client.ClientID, r.client.Name
	case r.clientID != "":
		e.ClientID = r.clientID // claimed, not authenticated
	default:
		e.ClientID = printable(r.params.get("client_id"))
	}
	if oerr == nil {
		e.Type = logship.TypeExchangeSuccess
		e.Description = grantDescriptions[gt]
		e.Audience, e.Scope = r.audience, r.scope
	} else {
		e.Type = logship.TypeExchangeFailed
		e.Description = oerr.LogDescription()
		e.Audience = r.audience
		r.details[n] = logship.Detail{Name: "error", Value: oerr.Code()}
		n++
		if r.client == nil && !r.clientKnown {
			// No client to hold to it, and anyone can send it at any
			// rate: one event, then a count per error and window.
			e.Aggregate = oerr.Code()
		}
	}
	e.Details = r.details[:n]
	h.cfg.Logs.Record(e)
}

// headerForwardedFor is honoured only for clients that trust it (API.md
// A.1: is_token_endpoint_ip_header_trusted).
const headerForwardedFor = "authok-forwarded-for"

// clientIP is the address the log event names: the authok-forwarded-for
// header when the authenticated client is trusted to set it (a backend
// calling on behalf of its user), else the connection's peer.
func clientIP(ctx *fasthttp.RequestCtx, c *directory.Client) netip.Addr {
	if c != nil && c.IsTokenEndpointIPHeaderTrusted {
		if v := ctx.Request.Header.Peek(headerForwardedFor); len(v) > 0 {
			if a, err := netip.ParseAddr(string(firstListItem(v))); err == nil {
				return a
			}
		}
	}
	a, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return a.Unmap()
}

func firstListItem(v []byte) []byte {
	for i, c := range v {
		if c == ',' {
			v = v[:i]
			break
		}
	}
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}
