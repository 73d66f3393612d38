package token

import (
	"fmt"

	"github.com/valyala/fasthttp"
)

// oauthError is an RFC 6749 §5.2 error response: the error code, the HTTP
// status API.md B.4/F.1 gives it, and a description safe to show the client
// (never an internal error's text, never a secret). Grants and the
// dispatcher return it as a value; writeError renders it.
type oauthError struct {
	code        string
	status      int
	description string
	// reason, when set, is the precise cause for the tenant's log while
	// description stays generic: see authFailed.
	reason string
	// basicChallenge adds WWW-Authenticate: Basic (RFC 6749 §5.2: the
	// client authenticated with the Basic scheme).
	basicChallenge bool
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

// The error codes of the token endpoint and their statuses (API.md B.4,
// F.1: Authok answers 400 where Auth0 answers 403).
var (
	errInvalidRequest       = oauthError{code: "invalid_request", status: fasthttp.StatusBadRequest}
	errBodyTooLarge         = oauthError{code: "invalid_request", status: fasthttp.StatusRequestEntityTooLarge}
	errInvalidClient        = oauthError{code: "invalid_client", status: fasthttp.StatusUnauthorized}
	errUnauthorizedClient   = oauthError{code: "unauthorized_client", status: fasthttp.StatusBadRequest}
	errUnsupportedGrantType = oauthError{code: "unsupported_grant_type", status: fasthttp.StatusBadRequest}
	errInvalidScope         = oauthError{code: "invalid_scope", status: fasthttp.StatusBadRequest}
	errInvalidTarget        = oauthError{code: "invalid_target", status: fasthttp.StatusBadRequest}
	errAccessDenied         = oauthError{code: "access_denied", status: fasthttp.StatusBadRequest}
	errServerError          = oauthError{code: "server_error", status: fasthttp.StatusInternalServerError}
	errUnavailable          = oauthError{code: "temporarily_unavailable", status: fasthttp.StatusServiceUnavailable}
)

// with returns a copy of e carrying description.
func (e oauthError) with(description string) *oauthError {
	e.description = description
	return &e
}

// withf returns a copy of e with a formatted description.
func (e oauthError) withf(format string, args ...any) *oauthError {
	e.description = fmt.Sprintf(format, args...)
	return &e
}

// authFailed is the invalid_client of every credential check that involves
// a client record: unknown client, other registered method, wrong secret,
// no keys, bad signature. They read the same to the caller, so the endpoint
// tells nobody which client_ids exist or how they authenticate; reason
// goes only to the exchange_failed log event the tenant reads.
func authFailed(reason string) *oauthError {
	e := errInvalidClient.with("client authentication failed")
	e.reason = reason
	return e
}

// logDescription is what the log event says of e.
func (e *oauthError) logDescription() string {
	if e.reason != "" {
		return e.reason
	}
	return e.description
}

// challenge returns a copy of e that asks for Basic credentials.
func (e *oauthError) challenge() *oauthError {
	c := *e
	c.basicChallenge = true
	return &c
}
