// Package errbody owns the few fixed error responses the edge writes itself
// (not found in its own table, method not allowed, body too large, control
// plane unreachable, ...), pre-rendered once so writing one costs no
// allocation.
//
// The body has the Management API shape of API.md §A.4 (statusCode, error,
// message, errorCode, error_description), because the edge answers them on
// paths that belong to the control plane; its error_description also lets
// OAuth clients show something. The control plane renders the same shape
// with control/internal/apierror; the planes may not share code, so the
// shape is written twice and both are tested against API.md.
//
// This package must never render OAuth (RFC 6749 §5.2) errors of the token
// endpoint, which belong to the edge's protocol packages, and must never put
// request data or an internal error's text in a body.
package errbody
