package mgmtapi

import (
	"encoding/json"
	"github.com/authok-edge/authok/control/internal/rest"
	"slices"
	"strings"
	"testing"
)

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
		o, err := rest.ParseObject(data)
		if err != nil {
			return
		}
		// Run the client reader over whatever object it is.
		_, _ = parseClient(o, true, "default")
	})
}
