// Package apierror owns the Management API error body (API.md §A.4) and the
// one writer that renders it:
//
//	{"statusCode":404,"error":"Not Found","message":"The user does not exist.",
//	 "errorCode":"inexistent_user","error_description":"The user does not exist."}
//
// error is the HTTP reason phrase, message the human text the SDK reads,
// error_description the same text (the backend's field), errorCode a stable
// machine code. Handlers return an *Error as a value and let Write render
// it; anything that is not an *Error becomes a 500 whose body says nothing
// about the cause.
//
// This package must never write OAuth (RFC 6749 §5.2) error bodies, which
// have their own shape, and must never put an internal error's text in a
// response body.
package apierror
