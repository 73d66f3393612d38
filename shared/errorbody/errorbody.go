// Package errorbody is the error body of API.md §A.4, the one shape every
// non-OAuth error of either plane takes: the control plane writes it per
// request, the edge pre-renders its fixed ones, and tests decode it.
package errorbody

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Body is the wire shape. message and error_description carry the same
// text (Auth0 clients read one or the other).
type Body struct {
	StatusCode       int    `json:"statusCode"`
	Error            string `json:"error"`
	Message          string `json:"message"`
	ErrorCode        string `json:"errorCode,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// New fills a Body for status, errorCode code and message; error is the
// status's reason phrase.
func New(status int, code, message string) Body {
	reason := http.StatusText(status)
	if reason == "" {
		reason = "Status " + strconv.Itoa(status)
	}
	return Body{StatusCode: status, Error: reason, Message: message, ErrorCode: code, ErrorDescription: message}
}

// JSON renders New(status, code, message).
func JSON(status int, code, message string) []byte {
	b, err := json.Marshal(New(status, code, message))
	if err != nil {
		panic("errorbody: " + err.Error()) // unreachable: strings and an int
	}
	return b
}
