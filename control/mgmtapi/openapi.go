package mgmtapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of this API. The file is
// also published as docs/openapi.json; a test fails when they differ, and
// another validates every request and response the handler tests make
// against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document (JSON). The caller must not
// modify it.
func OpenAPI() []byte { return openAPIDocument }

// serveOpenAPI answers GET /api/v1/openapi.json (no authentication).
func (a *API) serveOpenAPI(c *call) error {
	h := c.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(openAPIDocument)
	return nil
}
