package apierror

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/authok-edge/authok/shared/errorbody"
)

// Stable errorCode values used by the HTTP skeleton. Feature packages add
// their own (inexistent_user, insufficient_scope, ...).
const (
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "request_entity_too_large"
	CodeInternal         = "internal_error"
)

// Error is a Management API error: a status, a stable code and a message
// safe to show to the caller. It is comparable, so tests can match it with
// errors.Is.
type Error struct {
	Status  int    // HTTP status code
	Code    string // errorCode
	Message string // message and error_description
}

// New returns an *Error.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Error implements error.
func (e *Error) Error() string {
	return "apierror: " + strconv.Itoa(e.Status) + " " + e.Code + ": " + e.Message
}

// Write renders err on w. An *Error anywhere in err's chain is written as
// is; any other error becomes a 500 with a generic message (the caller logs
// the cause; it never reaches the body).
func Write(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal Server Error"}
	}
	WriteStatus(w, e.Status, e.Code, e.Message)
}

// WriteStatus writes a §A.4 body with the given status, errorCode and
// message. It sets Content-Type and Cache-Control and leaves other headers
// (Allow, X-RateLimit-*) to the caller.
func WriteStatus(w http.ResponseWriter, status int, code, message string) {
	b := errorbody.JSON(status, code, message)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
