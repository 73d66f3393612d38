package proxy

import (
	"net/http"
	"net/url"
	"strings"
)

// detach wraps h so that it sees a request whose strings it owns.
//
// fasthttpadaptor builds the *http.Request with strings that alias
// fasthttp's buffers (the method, URI, Host and every header name and
// value), and fasthttp reuses those buffers for the next request once the
// handler returns. A net/http handler may keep such strings past its return
// (an audit event queued for shipping, a cache key), which would then change
// under it. detach copies them first. The body is not copied: no handler
// may read r.Body after returning.
func detach(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, detachRequest(r))
	})
}

func detachRequest(r *http.Request) *http.Request {
	d := r.WithContext(r.Context()) // shallow copy
	d.Method = strings.Clone(r.Method)
	d.Proto = strings.Clone(r.Proto)
	d.Host = strings.Clone(r.Host)
	d.RequestURI = strings.Clone(r.RequestURI)
	if u, err := url.ParseRequestURI(d.RequestURI); err == nil {
		d.URL = u
	} else { // unreachable: the adaptor parsed the same string
		u := *r.URL
		u.Path, u.RawPath, u.RawQuery = strings.Clone(u.Path), strings.Clone(u.RawPath), strings.Clone(u.RawQuery)
		d.URL = &u
	}
	d.Header = make(http.Header, len(r.Header))
	for k, vs := range r.Header {
		if k == "Host" { // net/http keeps it in r.Host only; so does the remote mode
			continue
		}
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = strings.Clone(v)
		}
		d.Header[strings.Clone(k)] = cp
	}
	if r.TransferEncoding != nil {
		d.TransferEncoding = make([]string, len(r.TransferEncoding))
		for i, v := range r.TransferEncoding {
			d.TransferEncoding[i] = strings.Clone(v)
		}
	}
	return d
}
