package rest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/authok-edge/authok/control/internal/apierror"
)

func TestIfMatch(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   Precondition // nil: no constraint
	}{
		{"absent", nil, nil},
		{"star", []string{"*"}, nil},
		{"star among tags", []string{`"1", *`}, nil},
		{"quoted", []string{`"7"`}, Precondition{7}},
		{"bare", []string{`7`}, Precondition{7}},
		{"list", []string{`"1", "2"`}, Precondition{1, 2}},
		{"repeated header", []string{`"1"`, `"3"`}, Precondition{1, 3}},
		{"weak never matches", []string{`W/"7"`}, Precondition{}},
		{"garbage", []string{`"x", ""`}, Precondition{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPatch, "/", nil)
			for _, h := range tt.header {
				r.Header.Add("If-Match", h)
			}
			got := IfMatch(r)
			if (got == nil) != (tt.want == nil) || !slices.Equal(got, tt.want) {
				t.Fatalf("IfMatch = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestPreconditionCheck(t *testing.T) {
	tests := []struct {
		name    string
		p       Precondition
		current uint64
		ok      bool
	}{
		{"no constraint", nil, 9, true},
		{"match", Precondition{3, 9}, 9, true},
		{"stale", Precondition{3}, 9, false},
		{"only weak tags", Precondition{}, 9, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check(tt.current)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusPreconditionFailed || ae.Code != CodePreconditionFailed {
				t.Fatalf("Check = %v, want 412 %s", err, CodePreconditionFailed)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name     string
		v        any
		version  uint64
		wantBody string
		wantTag  string
	}{
		{"value", map[string]int{"a": 1}, 0, `{"a":1}`, ""},
		{"bytes as is", []byte(`{"b" : 2}`), 5, `{"b" : 2}`, `"5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := WriteJSON(w, http.StatusCreated, tt.v, tt.version); err != nil {
				t.Fatal(err)
			}
			h := w.Result().Header
			if w.Code != http.StatusCreated || w.Body.String() != tt.wantBody || h.Get("ETag") != tt.wantTag ||
				h.Get("Content-Type") != "application/json; charset=utf-8" || h.Get("Cache-Control") != "no-store" ||
				h.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("%d %v %s", w.Code, h, w.Body)
			}
		})
	}
	if err := WriteJSON(httptest.NewRecorder(), 200, func() {}, 0); err == nil {
		t.Fatal("an unencodable value was written")
	}
}
