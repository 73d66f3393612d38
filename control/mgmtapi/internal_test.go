package mgmtapi

import (
	"encoding/json"
	"slices"
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
		err := checkDuplicateKeys([]byte(tt.body))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.body, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.body, err, tt.want)
		}
	}
}

func TestObjectReaders(t *testing.T) {
	o, err := parseObject([]byte(`{"s":"x","n":null,"i":3.0,"f":2.5,"big":1e400,"b":true,"l":["a","b"],"m":{"k":"v"},"e":"spa","extra":1}`))
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
	if !o.Enum("e", &e, appTypes...) || e != "spa" {
		t.Error("Enum")
	}
	o.finish()
	err = o.errs.err()
	if err == nil || !strings.Contains(err.Error(), "Additional properties not allowed: extra") ||
		!strings.Contains(err.Error(), "field f (expected integer)") {
		t.Fatalf("errors = %v", err)
	}
}

// TestRoutesMatchDocument: the route table and the OpenAPI document list
// the same operations, and each operation's security names the route's
// scopes.
func TestRoutesMatchDocument(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	a := &API{}
	var fromTable, fromDoc []string
	for _, rt := range a.table() {
		fromTable = append(fromTable, rt.method+" "+rt.path)
		raw := doc.Paths[rt.path][strings.ToLower(rt.method)]
		var op struct {
			Security []map[string][]string `json:"security"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Errorf("%s %s: %v", rt.method, rt.path, err)
			continue
		}
		var scopes []string
		for _, req := range op.Security {
			scopes = append(scopes, req["management"]...)
		}
		// Alternative requirements, one scope each, are the route's "a|b".
		if len(op.Security) > 1 && len(scopes) == len(op.Security) {
			scopes = []string{strings.Join(scopes, "|")}
		}
		if !slices.Equal(scopes, rt.scopes) && !(len(scopes) == 0 && rt.scopes == nil) {
			t.Errorf("%s %s: document scopes %v, route %v", rt.method, rt.path, scopes, rt.scopes)
		}
	}
	for path, item := range doc.Paths {
		for m := range item {
			if m != "parameters" {
				fromDoc = append(fromDoc, strings.ToUpper(m)+" "+path)
			}
		}
	}
	slices.Sort(fromTable)
	slices.Sort(fromDoc)
	if !slices.Equal(fromTable, fromDoc) {
		t.Errorf("routes %v\ndocument %v", fromTable, fromDoc)
	}
}

// FuzzParseObject: the body reader never panics and reports every
// problem as an *apierror.Error.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `[`, `{"a":[{"b":{}}]}`, `{"name":"x","app_type":"spa"}`, `"str"`, `{"jwks":{"keys":[{"kty":"RSA"}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := parseObject(data)
		if err != nil {
			return
		}
		// Run the client reader over whatever object it is.
		_, _ = parseClient(o, true, "default")
	})
}
