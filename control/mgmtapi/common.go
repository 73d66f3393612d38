package mgmtapi

import (
	"net/http"
)

// collect reads every record of a cursor list (configuration objects are
// few, so lists are filtered, sorted and paged in memory).
func collect[T any](page func(after string) ([]T, string, error)) ([]T, error) {
	var all []T
	after := ""
	for {
		items, next, err := page(after)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" || len(items) == 0 {
			return all, nil
		}
		after = next
	}
}

// writeList answers a list endpoint: every record of the cursor list,
// rendered, then filtered, sorted, projected and paged as q says.
func writeList[T any](c *call, q listQuery, page func(after string) ([]T, string, error), render func(T) ([]byte, error)) error {
	all, err := collect(page)
	if err != nil {
		return err
	}
	items, err := renderAll(all, render)
	if err != nil {
		return err
	}
	return writeJSON(c.w, http.StatusOK, paginate(items, q), 0)
}

// writeOne renders one record, applies a projection and writes it with
// its version as the ETag.
func writeOne[T any](w http.ResponseWriter, status int, v T, render func(T) ([]byte, error), proj projection, version uint64) error {
	raw, err := render(v)
	if err != nil {
		return err
	}
	it, err := newItem(raw)
	if err != nil {
		return err
	}
	return writeJSON(w, status, it.project(proj), version)
}

// noContent answers 204.
func noContent(w http.ResponseWriter) error {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
