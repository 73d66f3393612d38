package errbody

import (
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/errorbody"
)

// Body is a pre-rendered error response. Safe for concurrent use.
type Body struct {
	status int
	json   []byte
}

// New renders the §A.4 body for status, errorCode code and message. Call
// it at package initialisation, never per request.
func New(status int, code, message string) *Body {
	return &Body{status: status, json: errorbody.JSON(status, code, message)}
}

// Status is the body's HTTP status code.
func (b *Body) Status() int { return b.status }

// Write sets ctx's status, Content-Type, Cache-Control and body to b's.
// Other response headers (Allow) are left as the caller set them.
func (b *Body) Write(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(b.status)
	ctx.Response.Header.SetContentType("application/json; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.Response.SetBody(b.json)
}

// The edge's fixed errors.
var (
	NotFound         = New(http.StatusNotFound, "not_found", "Not Found")
	MethodNotAllowed = New(http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed")
	BadRequest       = New(http.StatusBadRequest, "invalid_request", "The request could not be parsed.")
	BodyTooLarge     = New(http.StatusRequestEntityTooLarge, "request_entity_too_large", "Request body too large.")
	HeaderTooLarge   = New(http.StatusRequestHeaderFieldsTooLarge, "request_header_too_large", "Request header too large.")
	RequestTimeout   = New(http.StatusRequestTimeout, "request_timeout", "Request not received in time.")
	Internal         = New(http.StatusInternalServerError, "internal_error", "Internal Server Error")
	BadGateway       = New(http.StatusBadGateway, "control_plane_unavailable", "The control plane could not be reached.")
	GatewayTimeout   = New(http.StatusGatewayTimeout, "control_plane_timeout", "The control plane did not answer in time.")
)
