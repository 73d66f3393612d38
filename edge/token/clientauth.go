package token

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/oauth2"
)

// authenticate identifies the client and checks its credentials (RFC 6749
// §2.3, §3.2.1; API.md B.2). The request must use exactly one method —
// the Basic header (client_secret_basic), client_secret in the body
// (client_secret_post), or a client assertion (private_key_jwt, RFC 7523)
// — or none at all for a public client. The method must be the one the
// client registered as token_endpoint_auth_method, except that the two
// secret transports stand for each other (see checkMethod). Two methods at once
// are an invalid_request (RFC 6749 §2.3: "MUST NOT use more than one");
// every authentication failure is an invalid_client (401), with a Basic
// challenge when the client used the Basic header (§5.2).
func (h *Handler) authenticate(r *request) *oauth2.Error {
	authz := r.ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	id := r.params.get("client_id")
	secret := r.params.get("client_secret")
	assertion := r.params.get("client_assertion")
	assertionType := r.params.get("client_assertion_type")
	methods := 0
	if len(authz) > 0 {
		methods++
	}
	if secret != nil {
		methods++
	}
	if assertion != nil || assertionType != nil {
		methods++
	}
	if methods > 1 {
		return oauth2.ErrInvalidRequest.With("more than one client authentication method used; use exactly one (RFC 6749 §2.3)")
	}
	switch {
	case len(authz) > 0:
		oerr := h.authBasic(r, authz, id)
		if oerr != nil && oerr.Code() == oauth2.ErrInvalidClient.Code() {
			oerr = oerr.WithChallenge(challengeBasic) // RFC 6749 §5.2
		}
		return oerr
	case secret != nil:
		return h.authSecretPost(r, id, secret)
	case methods == 1:
		return h.authAssertion(r, id, assertionType, assertion)
	default:
		return h.authNone(r, id)
	}
}

// authBasic is client_secret_basic: RFC 6749 §2.3.1 over RFC 7617.
func (h *Handler) authBasic(r *request, authz, bodyID []byte) *oauth2.Error {
	id, secret, buf, err := parseBasic(authz, r.basicBuf)
	r.basicBuf = buf
	switch {
	case errors.Is(err, errNotBasic):
		return oauth2.ErrInvalidClient.With("the Authorization header must use the Basic scheme")
	case errors.Is(err, errBasicEncoding):
		return oauth2.ErrInvalidClient.With("the Basic credentials must be form-urlencoded (RFC 6749 §2.3.1)")
	case err != nil:
		return oauth2.ErrInvalidClient.With("malformed Basic credentials")
	}
	if bodyID != nil && !bytes.Equal(bodyID, id) {
		return oauth2.ErrInvalidRequest.With("client_id in the body does not match the Authorization header")
	}
	c, oerr := h.lookupClient(r, string(id))
	if oerr != nil {
		return oerr
	}
	if oerr := checkMethod(c, model.AuthMethodClientSecretBasic); oerr != nil {
		return oerr
	}
	if !c.SecretEqual(secret) {
		return authFailed("client secret does not match")
	}
	r.client = c
	return nil
}

// authSecretPost is client_secret_post: RFC 6749 §2.3.1, credentials in
// the request body.
func (h *Handler) authSecretPost(r *request, id, secret []byte) *oauth2.Error {
	if id == nil {
		return oauth2.ErrInvalidRequest.With("client_id is required with client_secret")
	}
	c, oerr := h.lookupClient(r, string(id))
	if oerr != nil {
		return oerr
	}
	if oerr := checkMethod(c, model.AuthMethodClientSecretPost); oerr != nil {
		return oerr
	}
	if !c.SecretEqual(secret) {
		return authFailed("client secret does not match")
	}
	r.client = c
	return nil
}

// authNone identifies a public client (token_endpoint_auth_method none) by
// its client_id alone (RFC 6749 §2.2, §3.2.1).
func (h *Handler) authNone(r *request, id []byte) *oauth2.Error {
	if id == nil {
		return oauth2.ErrInvalidClient.With("client authentication is required (RFC 6749 §2.3)")
	}
	c, oerr := h.lookupClient(r, string(id))
	if oerr != nil {
		return oerr
	}
	if m := c.TokenEndpointAuthMethod; m != model.AuthMethodNone {
		return authFailed("client is registered for " + methodName(m) + "; the request sent no client credentials")
	}
	r.client = c
	return nil
}

// lookupClient reads the tenant's client id; an unknown client is the same
// invalid_client as a wrong secret. An id longer than any client_id can be
// is not looked up (the directory would refuse it too): nothing of it is
// read or cached.
func (h *Handler) lookupClient(r *request, id string) (*directory.Client, *oauth2.Error) {
	r.clientID = id
	if len(id) > model.MaxClientIDLength {
		return nil, authFailed(tooLongReason)
	}
	c, err := h.cfg.Directory.Client(r.tenant.Name, r.clientID)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, authFailed("unknown client")
	}
	if err != nil {
		return nil, h.internal("read client", err)
	}
	r.clientKnown = true
	return c, nil
}

var tooLongReason = fmt.Sprintf("unknown client (the client_id is longer than %d bytes)", model.MaxClientIDLength)

// checkMethod enforces the client's registered token_endpoint_auth_method
// (API.md B.2: a mismatch is invalid_client, the log event saying which
// method the client has and which the request used). client_secret_basic
// and client_secret_post pass for each other: the same secret in another
// place, as several servers accept, and what a client library picks is
// rarely what was registered. private_key_jwt and none are strict.
func checkMethod(c *directory.Client, used string) *oauth2.Error {
	registered := c.TokenEndpointAuthMethod
	if registered == used || secretMethod(registered) && secretMethod(used) {
		return nil
	}
	return authFailed("client is registered for " + methodName(registered) + "; the request used " + used)
}

func secretMethod(m string) bool {
	return m == model.AuthMethodClientSecretBasic || m == model.AuthMethodClientSecretPost
}

// methodName is a registered method as the log says it.
func methodName(m string) string {
	if m == "" {
		return "no method"
	}
	return m
}
