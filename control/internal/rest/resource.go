package rest

import "net/http"

// Pager reads one page of a cursor list: the records after a cursor and
// the next cursor ("" at the end).
type Pager[T any] func(after string) ([]T, string, error)

// Resource is what the scaffolding needs to know of one kind of record:
// which members a query may name, how a record is rendered (its JSON
// object) and its store version, which is its ETag. A resource file
// builds one (per request when rendering depends on the caller) and
// keeps only its own rules.
type Resource[T any] struct {
	Spec    *ListSpec
	Render  func(T) ([]byte, error)
	Version func(T) uint64 // nil: no ETag
}

func (res Resource[T]) version(v T) uint64 {
	if res.Version == nil {
		return 0
	}
	return res.Version(v)
}

// ParseList reads r's list query against the resource's spec.
func (res Resource[T]) ParseList(r *http.Request) (ListQuery, error) {
	return ParseListQuery(r.URL.Query(), res.Spec)
}

// List answers a list endpoint: every record of the cursor list,
// rendered, then filtered, sorted, projected and paged as q says.
func (res Resource[T]) List(w http.ResponseWriter, q ListQuery, page Pager[T]) error {
	p, err := res.Page(q, page)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, p, 0)
}

// Page is the page of a cursor list that q selects, for endpoints that
// add to the envelope.
func (res Resource[T]) Page(q ListQuery, page Pager[T]) (Page, error) {
	all, err := Collect(page)
	if err != nil {
		return Page{}, err
	}
	items, err := RenderAll(all, res.Render)
	if err != nil {
		return Page{}, err
	}
	return Paginate(items, q), nil
}

// Get answers a read of one record: fields/include_fields from r's
// query (checked before load runs), the record load returns (its error
// already mapped to the API's), with its ETag.
func (res Resource[T]) Get(w http.ResponseWriter, r *http.Request, load func() (T, error)) error {
	proj, err := ParseProjection(r.URL.Query(), res.Spec.Fields)
	if err != nil {
		return err
	}
	v, err := load()
	if err != nil {
		return err
	}
	return WriteOne(w, http.StatusOK, v, res.Render, proj, res.version(v))
}

// Created answers 201 with the record and its ETag.
func (res Resource[T]) Created(w http.ResponseWriter, v T) error {
	return WriteOne(w, http.StatusCreated, v, res.Render, Projection{}, res.version(v))
}

// OK answers 200 with the record and its ETag.
func (res Resource[T]) OK(w http.ResponseWriter, v T) error {
	return WriteOne(w, http.StatusOK, v, res.Render, Projection{}, res.version(v))
}

// Update runs change through update, the store's compare-and-swap,
// with r's If-Match checked against the version being replaced inside
// the closure, so the check is atomic with the write (412 when stale).
// If-Match is read before update runs: a retried closure checks the same
// versions.
func (res Resource[T]) Update(r *http.Request, update func(func(T) (T, error)) (T, error), change func(old T) (T, error)) (T, error) {
	want := IfMatch(r)
	return update(func(old T) (T, error) {
		if err := want.Check(res.version(old)); err != nil {
			return old, err
		}
		return change(old)
	})
}

// Delete runs del and answers 204.
func Delete(w http.ResponseWriter, del func() error) error {
	if err := del(); err != nil {
		return err
	}
	return NoContent(w)
}

// Collect reads every record of a cursor list (configuration objects are
// few, so lists are filtered, sorted and paged in memory).
func Collect[T any](page Pager[T]) ([]T, error) {
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

// WriteOne renders one record, applies a projection and writes it with
// its version as the ETag.
func WriteOne[T any](w http.ResponseWriter, status int, v T, render func(T) ([]byte, error), proj Projection, version uint64) error {
	raw, err := render(v)
	if err != nil {
		return err
	}
	it, err := NewItem(raw)
	if err != nil {
		return err
	}
	return WriteJSON(w, status, it.Project(proj), version)
}
