package token

import (
	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/oauth2"
)

// Errors are *oauth2.Error values (shared/oauth2: the RFC 6749 §5.2 type
// both planes answer with). Grants and the dispatcher return them;
// writeError renders them, record logs them. These are the ones only the
// token endpoint gives.

// errBodyTooLarge is the invalid_request of a body over MaxBodyBytes.
var errBodyTooLarge = oauth2.ErrInvalidRequest.WithStatus(fasthttp.StatusRequestEntityTooLarge)

// challengeBasic is the WWW-Authenticate scheme of an invalid_client of a
// client that authenticated with the Basic header (RFC 6749 §5.2).
const challengeBasic = "Basic"

// authFailed is the invalid_client of every credential check that involves
// a client record: unknown client, other registered method, wrong secret,
// no keys, bad signature. They read the same to the caller, so the endpoint
// tells nobody which client_ids exist or how they authenticate; reason
// goes only to the exchange_failed log event the tenant reads (the error's
// debug text).
func authFailed(reason string) *oauth2.Error {
	return errAuthFailed.WithDebug(reason)
}

var errAuthFailed = oauth2.ErrInvalidClient.With("client authentication failed")
