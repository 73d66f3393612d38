package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/authok-edge/authok/control/internal/apierror"
)

// thing is a record of the tests' store: a map under a mutex, with a
// version bumped by every write, updated by compare-and-swap closures as
// shared/repo does.
type thing struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version uint64 `json:"-"`
}

type thingStore struct {
	mu     sync.Mutex
	things map[string]thing
	index  uint64
}

func newThingStore(names ...string) *thingStore {
	s := &thingStore{things: map[string]thing{}}
	for i, n := range names {
		s.index++
		id := strconv.Itoa(i + 1)
		s.things[id] = thing{ID: id, Name: n, Version: s.index}
	}
	return s
}

var errMissing = apierror.New(http.StatusNotFound, "inexistent_thing", "The thing does not exist.")

func (s *thingStore) get(id string) (thing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	th, ok := s.things[id]
	if !ok {
		return th, errMissing
	}
	return th, nil
}

// page returns things in id order, two at a time.
func (s *thingStore) page(after string) ([]thing, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.things {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) > 2 {
		ids = ids[:2]
	}
	out := make([]thing, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.things[id])
	}
	next := ""
	if len(ids) == 2 {
		next = ids[1]
	}
	return out, next, nil
}

func (s *thingStore) update(id string) func(func(thing) (thing, error)) (thing, error) {
	return func(fn func(thing) (thing, error)) (thing, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		old, ok := s.things[id]
		if !ok {
			return old, errMissing
		}
		nt, err := fn(old)
		if err != nil {
			return old, err
		}
		s.index++
		nt.Version = s.index
		s.things[id] = nt
		return nt, nil
	}
}

var things = Resource[thing]{
	Spec: &ListSpec{Fields: []string{"id", "name"}, Sortable: []string{"id", "name"}, Filters: map[string]FilterSpec{"name": {}}},
	Render: func(th thing) ([]byte, error) {
		return json.Marshal(th)
	},
	Version: func(th thing) uint64 { return th.Version },
}

// answer is a response as the tests compare it.
func answer(w *httptest.ResponseRecorder, err error) string {
	if err != nil {
		apierror.Write(w, err)
	}
	return fmt.Sprintf("%d %s %s", w.Code, w.Header().Get("ETag"), strings.TrimSpace(w.Body.String()))
}

func TestResourceList(t *testing.T) {
	s := newThingStore("b", "a", "c", "a")
	tests := []struct {
		query string
		want  string
	}{
		{"", `200  {"meta":{"page":1,"page_size":20,"total":4,"start":0,"limit":20,"length":4},"items":[{"id":"1","name":"b"},{"id":"2","name":"a"},{"id":"3","name":"c"},{"id":"4","name":"a"}]}`},
		{"sort=name,-id&fields=id", `200  {"meta":{"page":1,"page_size":20,"total":4,"start":0,"limit":20,"length":4},"items":[{"id":"4"},{"id":"2"},{"id":"1"},{"id":"3"}]}`},
		{"name=A&page=2&per_page=1", `200  {"meta":{"page":2,"page_size":1,"total":2,"start":1,"limit":1,"length":1},"items":[{"id":"4","name":"a"}]}`},
		{"sort=secret", `400  {"statusCode":400,"error":"Bad Request","message":"Invalid value \"secret\" for query parameter sort (sortable fields: id, name).","errorCode":"invalid_query_string","error_description":"Invalid value \"secret\" for query parameter sort (sortable fields: id, name)."}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/things?"+tt.query, nil)
			w := httptest.NewRecorder()
			lower := func(q ListQuery) {
				for i, v := range q.Filters["name"] {
					q.Filters["name"][i] = strings.ToLower(v)
				}
			}
			err := things.List(w, r, s.page, lower)
			if got := answer(w, err); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestResourceGet(t *testing.T) {
	s := newThingStore("a")
	tests := []struct {
		name, id, query string
		want            string
		loads           int
	}{
		{"found", "1", "", `200 "1" {"id":"1","name":"a"}`, 1},
		{"projected", "1", "fields=name", `200 "1" {"name":"a"}`, 1},
		{"missing", "9", "", `404  {"statusCode":404,"error":"Not Found","message":"The thing does not exist.","errorCode":"inexistent_thing","error_description":"The thing does not exist."}`, 1},
		// A bad projection is refused before the store is read.
		{"bad fields", "1", "fields=nope", `400  {"statusCode":400,"error":"Bad Request","message":"Invalid value \"nope\" for query parameter fields (unknown field \"nope\").","errorCode":"invalid_query_string","error_description":"Invalid value \"nope\" for query parameter fields (unknown field \"nope\")."}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loads := 0
			w := httptest.NewRecorder()
			err := things.Get(w, httptest.NewRequest(http.MethodGet, "/things/"+tt.id+"?"+tt.query, nil), func() (thing, error) {
				loads++
				return s.get(tt.id)
			})
			if got := answer(w, err); got != tt.want || loads != tt.loads {
				t.Fatalf("got  %s (%d loads)\nwant %s (%d)", got, loads, tt.want, tt.loads)
			}
		})
	}
}

func TestResourceUpdate(t *testing.T) {
	tests := []struct {
		name    string
		ifMatch string
		change  error
		want    string
		stored  string
	}{
		{"no If-Match", "", nil, `200 "2" {"id":"1","name":"renamed"}`, "renamed"},
		{"current version", `"1"`, nil, `200 "2" {"id":"1","name":"renamed"}`, "renamed"},
		{"any", `*`, nil, `200 "2" {"id":"1","name":"renamed"}`, "renamed"},
		{"stale", `"7"`, nil, `412  {"statusCode":412,"error":"Precondition Failed","message":"The resource has been modified (current version 1); fetch it again and retry with its ETag.","errorCode":"precondition_failed","error_description":"The resource has been modified (current version 1); fetch it again and retry with its ETag."}`, "a"},
		{"change refused", "", InvalidField("Invalid value for field name"), `400  {"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Invalid value for field name'","errorCode":"invalid_body","error_description":"Payload validation error: 'Invalid value for field name'"}`, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newThingStore("a")
			r := httptest.NewRequest(http.MethodPatch, "/things/1", nil)
			if tt.ifMatch != "" {
				r.Header.Set("If-Match", tt.ifMatch)
			}
			w := httptest.NewRecorder()
			updated, err := things.Update(r, s.update("1"), func(old thing) (thing, error) {
				old.Name = "renamed"
				return old, tt.change
			})
			if err == nil {
				err = things.OK(w, updated)
			}
			if got := answer(w, err); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if th, _ := s.get("1"); th.Name != tt.stored {
				t.Fatalf("stored %q, want %q", th.Name, tt.stored)
			}
		})
	}
}

// TestResourceUpdateRace: of concurrent updates naming the same version,
// exactly one lands; the others get 412 from the check in the closure.
func TestResourceUpdateRace(t *testing.T) {
	s := newThingStore("a")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest(http.MethodPatch, "/things/1", nil)
			r.Header.Set("If-Match", `"1"`)
			_, err := things.Update(r, s.update("1"), func(old thing) (thing, error) {
				old.Name = strconv.Itoa(i)
				return old, nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		var ae *apierror.Error
		switch {
		case err == nil:
			ok++
		case errors.As(err, &ae) && ae.Status == http.StatusPreconditionFailed:
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d updates landed, want 1", ok)
	}
}

func TestCreatedAndDelete(t *testing.T) {
	w := httptest.NewRecorder()
	if got, want := answer(w, things.Created(w, thing{ID: "5", Name: "n", Version: 12})), `201 "12" {"id":"5","name":"n"}`; got != want {
		t.Fatalf("Created: %s, want %s", got, want)
	}
	w = httptest.NewRecorder()
	if got, want := answer(w, Delete(w, func() error { return nil })), "204  "; got != want || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("Delete: %q, want %q", got, want)
	}
	w = httptest.NewRecorder()
	if got := answer(w, Delete(w, func() error { return errMissing })); !strings.HasPrefix(got, "404 ") {
		t.Fatalf("Delete of a missing record: %s", got)
	}
	// A resource without Version sets no ETag.
	w = httptest.NewRecorder()
	plain := Resource[thing]{Render: things.Render}
	if got, want := answer(w, plain.OK(w, thing{ID: "1", Version: 3})), `200  {"id":"1","name":""}`; got != want {
		t.Fatalf("OK without Version: %s, want %s", got, want)
	}
}

func TestChanges(t *testing.T) {
	var c Changes[thing]
	if c.Has("name") {
		t.Fatal("the zero Changes has a member")
	}
	c.Set("name", func(th *thing) { th.Name = "first" })
	c.Mark("id")
	c.Set("name", func(th *thing) { th.Name += "+second" })
	th := thing{ID: "1", Name: "old"}
	c.Apply(&th)
	if th.Name != "first+second" || !c.Has("name") || !c.Has("id") || c.Has("other") {
		t.Fatalf("after Apply: %+v", th)
	}
}
