package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authok-edge/authok/control/internal/apierror"
)

func TestCheckDuplicateKeys(t *testing.T) {
	tests := []struct {
		body string
		want string // "" = accepted
	}{
		{`{}`, ""},
		{`{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}`, ""},
		{`{"a":1,"a":1}`, `Duplicate key "a"`},
		{`{"a":{"b":1,"b":2}}`, `Duplicate key "a.b"`},
		{`{"a":[0,{"b":1,"b":2}]}`, `Duplicate key "a[1].b"`},
		{`{"\u0061":1,"a":2}`, `Duplicate key "a"`},
		{`{"a":1}{"b":2}`, "more than one JSON value"},
		{`{"a":1,}`, "not valid JSON"},
		{`{"a":tru}`, "not valid JSON"},
		{`{"a":"x`, "not valid JSON"},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), "nests deeper"},
	}
	for _, tt := range tests {
		err := CheckDuplicateKeys([]byte(tt.body))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.body, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.body, err, tt.want)
		}
	}
}

func TestObjectReaders(t *testing.T) {
	o, err := ParseObject([]byte(`{"s":"x","n":null,"i":3.0,"f":2.5,"big":1e400,"b":true,"l":["a","b"],"m":{"k":"v"},"e":"spa","extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var s, n, e string
	var i int
	var f float64
	var b bool
	var l []string
	var m map[string]string
	if !o.String("s", &s) || s != "x" || !o.String("n", &n) || n != "" {
		t.Error("String")
	}
	if !o.Int("i", &i, 0, 10) || i != 3 {
		t.Error("Int accepts an integral float")
	}
	if o.Int("f", &i, 0, 10) {
		t.Error("Int accepted 2.5")
	}
	if o.Number("big", &f, 0, 10) {
		t.Error("Number accepted 1e400")
	}
	if !o.Bool("b", &b) || !b || !o.Strings("l", &l, nil) || len(l) != 2 || !o.StringMap("m", &m) || m["k"] != "v" {
		t.Error("Bool/Strings/StringMap")
	}
	if !o.Enum("e", &e, "spa", "web") || e != "spa" {
		t.Error("Enum")
	}
	o.Finish()
	err = o.Errs().Err()
	if err == nil || !strings.Contains(err.Error(), "Additional properties not allowed: extra") ||
		!strings.Contains(err.Error(), "field f (expected integer)") {
		t.Fatalf("errors = %v", err)
	}
}

func TestReadObject(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		status            int    // 0: accepted
		msg               string // part of the message
	}{
		{"object", "application/json", `{"a":1}`, 0, ""},
		{"charset utf-8", "application/json; charset=UTF-8", `{}`, 0, ""},
		{"no content type", "", `{}`, 415, "Content-Type must be application/json."},
		{"text/plain", "text/plain", `{}`, 415, "Content-Type must be application/json."},
		{"malformed media type", "application/json; =", `{}`, 415, "Content-Type must be application/json."},
		{"latin1", "application/json; charset=latin1", `{}`, 415, "charset must be utf-8"},
		{"too large", "application/json", `{"a":"` + strings.Repeat("x", 100) + `"}`, 413, "larger than 100 bytes"},
		{"empty", "application/json", "  ", 400, "empty"},
		{"not UTF-8", "application/json", "{\"a\":\"\xff\"}", 400, "not valid UTF-8"},
		{"array", "application/json", `[1]`, 400, "Expected type object but found type array"},
		{"null", "application/json", `null`, 400, "Expected type object but found type null"},
		{"truncated", "application/json", `{"a":`, 400, "unexpected end"},
		{"syntax", "application/json", `{"a" 1}`, 400, "not valid JSON (at byte"},
		{"two values", "application/json", `{} {}`, 400, "more than one JSON value"},
		{"too deep", "application/json", strings.Repeat(`[`, MaxDepth+2) + strings.Repeat(`]`, MaxDepth+2), 400, "nests deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			o, err := ReadObject(r, 100)
			if tt.status == 0 {
				if err != nil || o == nil {
					t.Fatalf("ReadObject = %v", err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Status != tt.status || !strings.Contains(ae.Message, tt.msg) {
				t.Fatalf("ReadObject = %v, want %d with %q", err, tt.status, tt.msg)
			}
		})
	}
}

func TestObjectAliasesAndReadOnly(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // "" = no problem
	}{
		{"alias alone", `{"callbacks":["x"]}`, ""},
		{"both equal", `{"redirect_uris":["x"],"callbacks":[ "x" ]}`, ""},
		{"both differ", `{"redirect_uris":["x"],"callbacks":["y"]}`, "Fields redirect_uris and callbacks differ"},
		{"read-only as current", `{"id":"cur"}`, ""},
		{"read-only changed", `{"id":"other"}`, `Invalid value "other" (string) for field id (read-only)`},
		{"derived ignored", `{"created_at":"2020-01-01T00:00:00Z"}`, ""},
		{"derived of another type", `{"created_at":1}`, "field created_at (read-only; expected string)"},
		{"nested unknown", `{"o":{"k":1}}`, "Additional properties not allowed: o.k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseObject([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if member, ok := o.Pick("redirect_uris", "callbacks"); ok {
				var l []string
				o.Strings(member, &l, nil)
			}
			o.ReadOnlyEqual("id", "cur")
			o.IgnoreReadOnly("string", "created_at")
			if child, _, ok := o.Object("o"); ok {
				child.Finish()
			}
			o.Finish()
			err = o.Errs().Err()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("errors = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzReadObject: the body reader never panics, refuses with an
// *apierror.Error of 400, 413 or 415 only, and what it accepts is one JSON
// object whose members every getter can read without panicking.
func FuzzReadObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `[`, `{"a":[{"b":{}}]}`, `{"s":"x","n":null,"l":["a"],"m":{"k":"v"}}`, `"str"`, "{\"a\":\"\xff\"}", `{"a":1e400}`} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "text/plain; charset=utf-8")
	f.Fuzz(func(t *testing.T, data []byte, ctype string) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(data))
		r.Header.Set("Content-Type", ctype)
		o, err := ReadObject(r, 4096)
		if err != nil {
			var ae *apierror.Error
			if !errors.As(err, &ae) || (ae.Status != 400 && ae.Status != 413 && ae.Status != 415) {
				t.Fatalf("refusal %v is not a 400, 413 or 415", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		for _, name := range o.Names() {
			var s string
			var n int
			var fl float64
			var b bool
			var l []string
			var m map[string]string
			o.String(name, &s)
			o.Int(name, &n, -10, 10)
			o.Number(name, &fl, -1, 1)
			o.Bool(name, &b)
			o.Enum(name, &s, "a", "b")
			o.Strings(name, &l, CheckToken(8))
			o.StringMap(name, &m)
			if child, _, ok := o.Object(name); ok {
				child.Finish()
			}
			if list, ok := o.Objects(name); ok {
				for _, c := range list {
					c.Finish()
				}
			}
		}
		o.Finish()
		if err := o.Errs().Err(); err != nil {
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != CodeInvalidBody {
				t.Fatalf("validation error %v", err)
			}
		}
	})
}
