package errbody_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/edge/internal/errbody"
)

func TestBodies(t *testing.T) {
	tests := []struct {
		name string
		body *errbody.Body
		code string
	}{
		{name: "not found", body: errbody.NotFound, code: "not_found"},
		{name: "method not allowed", body: errbody.MethodNotAllowed, code: "method_not_allowed"},
		{name: "bad request", body: errbody.BadRequest, code: "invalid_request"},
		{name: "body too large", body: errbody.BodyTooLarge, code: "request_entity_too_large"},
		{name: "header too large", body: errbody.HeaderTooLarge, code: "request_header_too_large"},
		{name: "request timeout", body: errbody.RequestTimeout, code: "request_timeout"},
		{name: "internal", body: errbody.Internal, code: "internal_error"},
		{name: "bad gateway", body: errbody.BadGateway, code: "control_plane_unavailable"},
		{name: "gateway timeout", body: errbody.GatewayTimeout, code: "control_plane_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ctx fasthttp.RequestCtx
			tt.body.Write(&ctx)
			if ctx.Response.StatusCode() != tt.body.Status() {
				t.Fatalf("status = %d, want %d", ctx.Response.StatusCode(), tt.body.Status())
			}
			if ct := string(ctx.Response.Header.ContentType()); ct != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type = %q", ct)
			}
			// API.md §A.4
			var got struct {
				StatusCode       int    `json:"statusCode"`
				Error            string `json:"error"`
				Message          string `json:"message"`
				ErrorCode        string `json:"errorCode"`
				ErrorDescription string `json:"error_description"`
			}
			if err := json.Unmarshal(ctx.Response.Body(), &got); err != nil {
				t.Fatalf("body %q: %v", ctx.Response.Body(), err)
			}
			if got.StatusCode != tt.body.Status() || got.Error != http.StatusText(got.StatusCode) ||
				got.ErrorCode != tt.code || got.Message == "" || got.ErrorDescription != got.Message {
				t.Fatalf("body = %+v", got)
			}
		})
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	var ctx fasthttp.RequestCtx
	errbody.BadGateway.Write(&ctx) // grow the response buffers once
	if n := testing.AllocsPerRun(100, func() { errbody.BadGateway.Write(&ctx) }); n != 0 {
		t.Fatalf("Write allocates %v times, want 0", n)
	}
}
