package token

import (
	"errors"
	"strings"

	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/oauth2"
)

// clientCredentials is the client credentials grant, RFC 6749 §4.4 (API.md
// B.4): a confidential client asks for an access token to an API it has a
// client grant for. The client is authenticated and allowed the grant type
// by the dispatcher.
//
// The audience defaults to the tenant's default_audience; an unknown one is
// invalid_target (RFC 8707 §2). Without a client grant for the pair the
// answer is access_denied. The scope is the requested scopes the grant
// includes (requested but ungranted ones are dropped; invalid_scope, RFC
// 6749 §5.2, only when none of them is granted), or all granted scopes when
// none is requested (§3.3 lets the server pick the default); see
// grantedScope.
// The token is an RFC 9068 JWT access token (API.md E.1) for the API's
// signing_alg and token_lifetime; the dispatcher runs the
// credentials-exchange Actions on it and signs it.
type clientCredentials struct{}

// gtyClientCredentials is the gty claim of client_credentials tokens.
const gtyClientCredentials = "client-credentials"

func (clientCredentials) exchange(h *Handler, r *request) (d decision, _ *oauth2.Error) {
	c := r.client
	// RFC 6749 §4.4: only confidential clients; the Management API refuses
	// to register a public client with this grant, this guards records
	// written around it.
	if c.TokenEndpointAuthMethod == model.AuthMethodNone {
		return d, oauth2.ErrUnauthorizedClient.With("a public client cannot use client_credentials (RFC 6749 §4.4)")
	}
	tenant := r.tenant.Name
	issuer := r.tenant.Internal.Issuer

	aud := r.params.get("audience")
	var rs *model.ResourceServer
	var err error
	if aud == nil {
		if r.tenant.DefaultAudience == "" {
			return d, oauth2.ErrInvalidRequest.With("audience is required (the tenant has no default_audience)")
		}
		rs, err = h.resourceServer(tenant, issuer, r.tenant.DefaultAudience)
	} else {
		rs, err = h.resourceServer(tenant, issuer, string(aud))
	}
	if errors.Is(err, directory.ErrNotFound) {
		if aud == nil {
			aud = []byte(r.tenant.DefaultAudience)
		}
		return d, oauth2.ErrInvalidTarget.Withf("no API with identifier %q", printable(aud))
	}
	if err != nil {
		return d, h.internal("read resource server", err)
	}
	d.audience = rs.Identifier

	g, err := h.cfg.Directory.ClientGrant(tenant, c.ClientID, rs.Identifier)
	if errors.Is(err, directory.ErrNotFound) {
		return d, oauth2.ErrAccessDenied.Withf("the client is not authorized to access %q (no client grant)", rs.Identifier)
	}
	if err != nil {
		return d, h.internal("read client grant", err)
	}
	var oerr *oauth2.Error
	if d.scope, oerr = grantedScope(r, g); oerr != nil {
		return d, oerr
	}
	if d.alg, d.lifetime, oerr = apiToken(rs); oerr != nil {
		return d, oerr
	}
	d.subject = c.ClientID // Authok: the client_id itself (API.md F.1)
	d.gty = gtyClientCredentials
	return d, nil
}

// resourceServer finds the API named by audience. The tenant's Management
// API answers to every spelling API.md A.2 lists: with or without the
// trailing slash, and /api/v2/ (the backend's) for /api/v1/.
func (h *Handler) resourceServer(tenant, issuer, audience string) (*model.ResourceServer, error) {
	rs, err := h.cfg.Directory.ResourceServerByIdentifier(tenant, audience)
	if !errors.Is(err, directory.ErrNotFound) {
		return rs, err
	}
	rest, ok := strings.CutPrefix(audience, issuer)
	if !ok {
		return nil, err
	}
	switch rest {
	case "api/v1", "api/v2", "api/v2/":
		return h.cfg.Directory.ResourceServerByIdentifier(tenant, issuer+"api/v1/")
	}
	return nil, err
}

// grantedScope is the scope of the token (RFC 6749 §3.3; API.md B.4 and
// E.1: client grant scopes ∩ requested): the requested scope-tokens the
// grant includes, in request order without repeats; all granted scopes
// when none is requested. Requested scopes outside the grant are dropped
// (the response's scope says what was issued, RFC 6749 §5.1); a request
// none of whose scopes is granted is an invalid_scope rather than a token
// that grants nothing.
func grantedScope(r *request, g *directory.ClientGrant) (string, *oauth2.Error) {
	req := r.params.get("scope")
	if req == nil {
		return g.ScopeString, nil
	}
	out, requested, oerr := oauth2.AppendGranted(r.scopeBuf[:0], req, g.Scope)
	r.scopeBuf = out[:0]
	switch {
	case oerr != nil:
		return "", oerr
	case !requested:
		return g.ScopeString, nil // only spaces: as if none was requested
	case len(out) == 0:
		return "", oauth2.ErrInvalidScope.Withf("none of the requested scopes is granted to the client for %q", g.Audience)
	}
	if string(out) == g.ScopeString {
		return g.ScopeString, nil // the common case: no new string
	}
	return string(out), nil
}
