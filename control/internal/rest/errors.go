package rest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/authok-edge/authok/control/internal/apierror"
)

// errorCode values of the toolkit (API.md A.4). The skeleton's own codes
// (not_found, method_not_allowed, request_entity_too_large,
// internal_error) live in apierror.
const (
	CodeInvalidBody        = "invalid_body"
	CodeInvalidQuery       = "invalid_query_string"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeConflict           = "conflict"
	CodePreconditionFailed = "precondition_failed"
)

// BadRequest is a 400 with code and a formatted message.
func BadRequest(code, format string, args ...any) *apierror.Error {
	return apierror.New(http.StatusBadRequest, code, fmt.Sprintf(format, args...))
}

// NotFound is a 404 with code and a formatted message.
func NotFound(code, format string, args ...any) *apierror.Error {
	return apierror.New(http.StatusNotFound, code, fmt.Sprintf(format, args...))
}

// Conflict is a 409 conflict with a formatted message.
func Conflict(format string, args ...any) *apierror.Error {
	return apierror.New(http.StatusConflict, CodeConflict, fmt.Sprintf(format, args...))
}

// ErrPrecondition is returned when If-Match names a version other than
// the record's current one (RFC 9110 §13.1.1).
func ErrPrecondition(current uint64) *apierror.Error {
	return apierror.New(http.StatusPreconditionFailed, CodePreconditionFailed,
		fmt.Sprintf("The resource has been modified (current version %d); fetch it again and retry with its ETag.", current))
}

// Problems collects the failures of one payload validation, each naming
// its field, so one 400 reports them all.
type Problems struct {
	list []string
}

// Add records a problem.
func (v *Problems) Add(format string, args ...any) {
	v.list = append(v.list, fmt.Sprintf(format, args...))
}

// Empty reports whether nothing was recorded.
func (v *Problems) Empty() bool { return v == nil || len(v.list) == 0 }

// Err returns the 400 invalid_body error, or nil when nothing was found.
func (v *Problems) Err() error {
	if v.Empty() {
		return nil
	}
	quoted := make([]string, len(v.list))
	for i, p := range v.list {
		quoted[i] = "'" + p + "'"
	}
	return apierror.New(http.StatusBadRequest, CodeInvalidBody, "Payload validation error: "+strings.Join(quoted, "; "))
}

// InvalidField is a single-problem validation error.
func InvalidField(format string, args ...any) error {
	v := &Problems{}
	v.Add(format, args...)
	return v.Err()
}
