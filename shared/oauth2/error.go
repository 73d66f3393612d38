package oauth2

import (
	"fmt"
	"net/http"

	"github.com/authok-edge/authok/shared/jsonenc"
)

// Error is an OAuth error response (RFC 6749 §4.1.2.1, §5.2): the error
// code, the HTTP status API.md B.4/F.1 gives it, a description safe to
// show the client, an optional error_uri, and a debug text for the
// tenant's log that never reaches the body. Values are immutable: the
// builders return copies, so the package's Err* values can be shared.
type Error struct {
	code        string
	status      int
	description string
	uri         string
	debug       string
	challenge   string
}

// The error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 8707 (invalid_target),
// RFC 8628 (device flow) and the Auth0 extensions, with the statuses of
// API.md B.4 (Authok answers access_denied with 400 where Auth0 answers
// 403, F.1). A plane that needs another status uses WithStatus.
var (
	ErrInvalidRequest          = &Error{code: "invalid_request", status: http.StatusBadRequest}
	ErrInvalidClient           = &Error{code: "invalid_client", status: http.StatusUnauthorized}
	ErrInvalidGrant            = &Error{code: "invalid_grant", status: http.StatusBadRequest}
	ErrUnauthorizedClient      = &Error{code: "unauthorized_client", status: http.StatusBadRequest}
	ErrUnsupportedGrantType    = &Error{code: "unsupported_grant_type", status: http.StatusBadRequest}
	ErrUnsupportedResponseType = &Error{code: "unsupported_response_type", status: http.StatusBadRequest}
	ErrInvalidScope            = &Error{code: "invalid_scope", status: http.StatusBadRequest}
	ErrInvalidTarget           = &Error{code: "invalid_target", status: http.StatusBadRequest}
	ErrAccessDenied            = &Error{code: "access_denied", status: http.StatusBadRequest}
	ErrMFARequired             = &Error{code: "mfa_required", status: http.StatusForbidden}
	ErrAuthorizationPending    = &Error{code: "authorization_pending", status: http.StatusBadRequest}
	ErrSlowDown                = &Error{code: "slow_down", status: http.StatusBadRequest}
	ErrExpiredToken            = &Error{code: "expired_token", status: http.StatusBadRequest}
	ErrTooManyAttempts         = &Error{code: "too_many_attempts", status: http.StatusTooManyRequests}
	ErrServerError             = &Error{code: "server_error", status: http.StatusInternalServerError}
	ErrTemporarilyUnavailable  = &Error{code: "temporarily_unavailable", status: http.StatusServiceUnavailable}
)

// Code is the error code (the body's "error").
func (e *Error) Code() string { return e.code }

// Status is the HTTP status the error is answered with.
func (e *Error) Status() int { return e.status }

// Description is the body's error_description; empty leaves it out.
func (e *Error) Description() string { return e.description }

// URI is the body's error_uri; empty leaves it out.
func (e *Error) URI() string { return e.uri }

// Debug is the precise cause for the tenant's log; never in the body.
func (e *Error) Debug() string { return e.debug }

// Challenge is the authentication scheme a WWW-Authenticate header must
// name ("Basic" for an invalid_client of a client that used Basic, RFC
// 6749 §5.2), or empty. The endpoint adds its realm when it renders.
func (e *Error) Challenge() string { return e.challenge }

// Error is "code: description", for logs and tests.
func (e *Error) Error() string { return e.code + ": " + e.description }

// Is matches any *Error with the same code, so errors.Is(err,
// oauth2.ErrAccessDenied) holds for every access_denied whatever its
// description.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.code == e.code
}

// LogDescription is what a log event says of e: the debug text when there
// is one, else the description.
func (e *Error) LogDescription() string {
	if e.debug != "" {
		return e.debug
	}
	return e.description
}

// With returns a copy of e carrying description.
func (e *Error) With(description string) *Error {
	c := *e
	c.description = description
	return &c
}

// Withf returns a copy of e with a formatted description.
func (e *Error) Withf(format string, args ...any) *Error {
	c := *e
	c.description = fmt.Sprintf(format, args...)
	return &c
}

// WithURI returns a copy of e whose body carries error_uri.
func (e *Error) WithURI(uri string) *Error {
	c := *e
	c.uri = uri
	return &c
}

// WithDebug returns a copy of e carrying debug, the cause the tenant's log
// names while the body stays generic (fosite's DebugField).
func (e *Error) WithDebug(debug string) *Error {
	c := *e
	c.debug = debug
	return &c
}

// WithStatus returns a copy of e answered with status.
func (e *Error) WithStatus(status int) *Error {
	c := *e
	c.status = status
	return &c
}

// WithChallenge returns a copy of e that asks for credentials of scheme
// in a WWW-Authenticate header.
func (e *Error) WithChallenge(scheme string) *Error {
	c := *e
	c.challenge = scheme
	return &c
}

// AppendJSON appends the RFC 6749 §5.2 body of e to dst:
// {"error","error_description","error_uri"}, the last two only when set.
// Strings are escaped as encoding/json escapes them with HTML escaping
// off. It is the rendering both planes share: each sets the status, the
// headers (Content-Type: application/json; charset=utf-8, Cache-Control:
// no-store, Pragma: no-cache, WWW-Authenticate for a challenge) with its
// own server library.
func (e *Error) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"error":`...)
	dst = jsonenc.AppendString(dst, e.code)
	if e.description != "" {
		dst = append(dst, `,"error_description":`...)
		dst = jsonenc.AppendString(dst, e.description)
	}
	if e.uri != "" {
		dst = append(dst, `,"error_uri":`...)
		dst = jsonenc.AppendString(dst, e.uri)
	}
	return append(dst, '}')
}
