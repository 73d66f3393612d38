package rest

import (
	"strings"
	"testing"
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
