package server

import (
	"io"
	"net/http"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/httpmetrics"
)

// recorder wraps the ResponseWriter of one request. It remembers the status
// for the metrics, learns the matched route from the handler Handle wraps,
// and, when no route matched, swallows the plain-text 404/405 that
// http.ServeMux writes so finish can write a §A.4 body instead.
type recorder struct {
	http.ResponseWriter
	route *httpmetrics.Route // set by the matched route; s.other until then

	matched bool // a route registered with Handle is serving the request
	code    int  // final status written, 0 until then
	swallow bool // the mux's own 404/405 is being replaced
}

var (
	_ http.Flusher  = (*recorder)(nil)
	_ io.ReaderFrom = (*recorder)(nil)
)

func (rec *recorder) WriteHeader(code int) {
	if rec.code != 0 {
		rec.ResponseWriter.WriteHeader(code) // let net/http log the superfluous call
		return
	}
	if code >= 100 && code < 200 {
		rec.ResponseWriter.WriteHeader(code) // informational; more headers follow
		return
	}
	rec.code = code
	if !rec.matched && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		rec.swallow = true
		return
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.code == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.swallow {
		return len(b), nil
	}
	return rec.ResponseWriter.Write(b)
}

// ReadFrom keeps the underlying writer's sendfile path for io.Copy
// (http.ServeContent of static login assets).
func (rec *recorder) ReadFrom(r io.Reader) (int64, error) {
	if rec.code == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.swallow {
		return io.Copy(io.Discard, r)
	}
	return io.Copy(rec.ResponseWriter, r)
}

// Flush implements http.Flusher for handlers that stream.
func (rec *recorder) Flush() {
	if rec.code == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.swallow {
		return
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

// Unwrap lets http.NewResponseController reach the underlying writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// finish writes the §A.4 body in place of a swallowed mux error. The mux
// has already set Allow on a 405.
func (rec *recorder) finish() {
	if !rec.swallow {
		return
	}
	rec.swallow = false
	if rec.code == http.StatusMethodNotAllowed {
		apierror.WriteStatus(rec.ResponseWriter, rec.code, apierror.CodeMethodNotAllowed, "Method Not Allowed")
		return
	}
	apierror.WriteStatus(rec.ResponseWriter, rec.code, apierror.CodeNotFound, "Not Found")
}

// status is the status the client received (200 when the handler wrote
// nothing).
func (rec *recorder) status() int {
	if rec.code == 0 {
		return http.StatusOK
	}
	return rec.code
}
