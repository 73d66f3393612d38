package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// WriteJSON writes v with status; version > 0 sets the ETag. v may be
// JSON already ([]byte, json.RawMessage).
func WriteJSON(w http.ResponseWriter, status int, v any, version uint64) error {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case json.RawMessage:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return fmt.Errorf("rest: encode response: %w", err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if version > 0 {
		h.Set("ETag", ETag(version))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// ETag is a record version as a strong entity tag.
func ETag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// NoContent answers 204.
func NoContent(w http.ResponseWriter) error {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Precondition is a request's If-Match (RFC 9110 §13.1.1): nil when the
// header is absent or "*" (no constraint), else the versions it names.
type Precondition []uint64

// IfMatch reads If-Match. Entity tags are compared strongly: W/ tags
// never match; bare numbers are accepted as well as quoted ones.
func IfMatch(r *http.Request) Precondition {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return nil
	}
	versions := Precondition{}
	for _, v := range vals {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return nil
			}
			if strings.HasPrefix(tag, "W/") {
				continue
			}
			tag = strings.TrimSuffix(strings.TrimPrefix(tag, `"`), `"`)
			if n, err := strconv.ParseUint(tag, 10, 64); err == nil {
				versions = append(versions, n)
			}
		}
	}
	return versions
}

// Check is run inside an update closure, so it is atomic with the
// write: 412 when If-Match named versions and current is not one of them.
func (p Precondition) Check(current uint64) error {
	if p == nil {
		return nil
	}
	for _, v := range p {
		if v == current {
			return nil
		}
	}
	return ErrPrecondition(current)
}
