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

// List answers a list endpoint: r's list query read against the
// resource's spec (400 before the store is read), adjusted by adjust
// (canonical spellings of filter values), then every record of the
// cursor list, rendered, filtered, sorted, projected and paged.
func (res Resource[T]) List(w http.ResponseWriter, r *http.Request, page Pager[T], adjust ...func(ListQuery)) error {
	q, err := ParseListQuery(r.URL.Query(), res.Spec)
	if err != nil {
		return err
	}
	for _, f := range adjust {
		f(q)
	}
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

// Changes is what a write body asks of a record of type T: the setters
// of the members it gave, in body-reading order, and the names of the
// members given. A resource's parser fills it; create applies it to a
// new record, update to the one being replaced inside the CAS closure.
// The zero value is empty and ready.
type Changes[T any] struct {
	set     []func(*T)
	present map[string]bool
}

// Set records member name as given, with the setter that applies it.
func (c *Changes[T]) Set(name string, f func(*T)) {
	c.Mark(name)
	c.set = append(c.set, f)
}

// Mark records member name as given without a setter of its own.
func (c *Changes[T]) Mark(name string) {
	if c.present == nil {
		c.present = map[string]bool{}
	}
	c.present[name] = true
}

// Has reports whether member name was given.
func (c *Changes[T]) Has(name string) bool { return c.present[name] }

// Apply runs the setters on v, in order.
func (c *Changes[T]) Apply(v *T) {
	for _, f := range c.set {
		f(v)
	}
}
