package mgmtapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/authok-edge/authok/control/mgmtapi"
)

// docURL is where the compiler finds the document.
const docURL = "https://authok.test/openapi.json"

// openAPI is the parsed document and a compiler over it.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

var (
	oaOnce sync.Once
	oa     *openAPI
	oaErr  error
)

func loadOpenAPI() (*openAPI, error) {
	oaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(mgmtapi.OpenAPI()))
		if err != nil {
			oaErr = fmt.Errorf("parse openapi.json: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource(docURL, doc); err != nil {
			oaErr = err
			return
		}
		m, _ := doc.(map[string]any)
		oa = &openAPI{doc: m, compiler: c, schemas: map[string]*jsonschema.Schema{}}
	})
	return oa, oaErr
}

// pointer escapes JSON-pointer tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// schema compiles the schema at ptr.
func (o *openAPI) schema(ptr string) (*jsonschema.Schema, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.schemas[ptr]; ok {
		return s, nil
	}
	s, err := o.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", ptr, err)
	}
	o.schemas[ptr] = s
	return s, nil
}

// get follows keys through the document.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// deref follows a local $ref (components/responses, ...) and returns the
// object and its pointer.
func (o *openAPI) deref(v any, ptr string) (map[string]any, string) {
	m, _ := v.(map[string]any)
	if r, ok := m["$ref"].(string); ok && strings.HasPrefix(r, "#/") {
		var parts []string
		for _, p := range strings.Split(r[2:], "/") {
			parts = append(parts, strings.NewReplacer("~1", "/", "~0", "~").Replace(p))
		}
		return o.deref(get(o.doc, parts...), pointer(parts...))
	}
	return m, ptr
}

// operation finds the document's operation for method and an escaped
// request path; literal segments beat templated ones.
func (o *openAPI) operation(method, path string) (template string, op map[string]any) {
	rest, ok := strings.CutPrefix(path, "/api/v1")
	if !ok {
		if rest, ok = strings.CutPrefix(path, "/api/v2"); !ok {
			return "", nil
		}
	}
	segs := strings.Split(rest, "/")
	best := -1
	paths, _ := o.doc["paths"].(map[string]any)
	for tmpl, item := range paths {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		literal, match := 0, true
		for i, ts := range tsegs {
			switch {
			case strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}"):
				if segs[i] == "" {
					match = false
				}
			case ts == segs[i]:
				literal++
			default:
				match = false
			}
		}
		if !match {
			continue
		}
		opm, _ := get(item, strings.ToLower(method)).(map[string]any)
		if opm != nil && literal > best {
			best, template, op = literal, tmpl, opm
		}
	}
	return template, op
}

// parameters lists the names of an operation's query parameters.
func (o *openAPI) queryParams(template string, op map[string]any) []string {
	var names []string
	lists := []any{get(o.doc, "paths", template, "parameters"), op["parameters"]}
	for _, l := range lists {
		arr, _ := l.([]any)
		for _, p := range arr {
			pm, _ := o.deref(p, "")
			if pm["in"] == "query" {
				names = append(names, pm["name"].(string))
			}
		}
	}
	return names
}

// checkExchange validates one exchange against the document.
func (o *openAPI) checkExchange(x exchange) []string {
	where := fmt.Sprintf("%s %s?%s → %d", x.method, x.path, x.query, x.status)
	template, op := o.operation(x.method, x.path)
	if op == nil {
		return []string{where + ": undocumented path or method"}
	}
	var problems []string
	ok2xx := x.status >= 200 && x.status < 300
	// Query parameters of a successful request must be documented.
	if ok2xx && x.query != "" {
		q, err := url.ParseQuery(x.query)
		if err != nil {
			problems = append(problems, where+": bad query")
		}
		known := o.queryParams(template, op)
		for name := range q {
			if !slices.Contains(known, name) {
				problems = append(problems, fmt.Sprintf("%s: undocumented query parameter %q", where, name))
			}
		}
	}
	opPtr := pointer("paths", template, strings.ToLower(x.method))
	// A request the server accepted must match its body schema (a JSON
	// one; a raw application/wasm upload has no JSON to check).
	if rb, ok := op["requestBody"].(map[string]any); ok && ok2xx && len(x.reqBody) > 0 && !strings.HasPrefix(x.reqType, "application/wasm") {
		if sch := get(rb, "content", "application/json", "schema"); sch != nil {
			if p := o.validate(opPtr+pointer("requestBody", "content", "application/json", "schema"), x.reqBody); p != "" {
				problems = append(problems, where+": request body: "+p)
			}
		}
	}
	resp, respPtr := o.deref(get(op, "responses", strconv.Itoa(x.status)), opPtr+pointer("responses", strconv.Itoa(x.status)))
	if resp == nil {
		return append(problems, where+": undocumented status")
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(x.respBody) != 0 {
			problems = append(problems, fmt.Sprintf("%s: documented without a body, got %q", where, x.respBody))
		}
		return problems
	}
	if !strings.HasPrefix(x.respType, "application/json") {
		return append(problems, fmt.Sprintf("%s: Content-Type %q, documented application/json", where, x.respType))
	}
	if p := o.validate(respPtr+pointer("content", "application/json", "schema"), x.respBody); p != "" {
		problems = append(problems, where+": response body: "+p)
	}
	return problems
}

// validate checks body against the schema at ptr; "" when valid.
func (o *openAPI) validate(ptr string, body []byte) string {
	s, err := o.schema(ptr)
	if err != nil {
		return err.Error()
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Sprintf("not JSON (%v): %.200s", err, body)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Sprintf("%v\nbody: %.600s", err, body)
	}
	return ""
}

// checkContract validates every recorded exchange and, when the whole
// suite ran, that every documented operation was exercised with success.
func checkContract() []string {
	o, err := loadOpenAPI()
	if err != nil {
		return []string{err.Error()}
	}
	xs := recorded.exchanges()
	var problems []string
	succeeded := map[string]bool{}
	for _, x := range xs {
		problems = append(problems, o.checkExchange(x)...)
		if tmpl, op := o.operation(x.method, x.path); op != nil && x.status < 300 {
			succeeded[x.method+" "+tmpl] = true
		}
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" && !testing.Short() {
		paths, _ := o.doc["paths"].(map[string]any)
		for tmpl, item := range paths {
			for m := range item.(map[string]any) {
				if m == "parameters" {
					continue
				}
				key := strings.ToUpper(m) + " " + tmpl
				if !succeeded[key] {
					problems = append(problems, key+": never exercised successfully by the handler tests")
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// TestOpenAPIDocument checks the document compiles, that docs/openapi.json
// is the embedded document byte for byte (a clean tree is the contract),
// and that the served copy is the same.
func TestOpenAPIDocument(t *testing.T) {
	o, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if v := o.doc["openapi"]; v != "3.1.0" {
		t.Errorf("openapi = %v", v)
	}
	// Every schema in components compiles.
	schemas, _ := get(o.doc, "components", "schemas").(map[string]any)
	for name := range schemas {
		if _, err := o.schema(pointer("components", "schemas", name)); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, mgmtapi.OpenAPI()) {
		t.Error("docs/openapi.json differs from control/mgmtapi/openapi.json: copy the package's file to docs/")
	}
	if !json.Valid(mgmtapi.OpenAPI()) {
		t.Fatal("openapi.json is not valid JSON")
	}

	e := sharedEnv(t)
	for _, prefix := range []string{"/api/v1", "/api/v2"} {
		r := e.do(t, req{path: prefix + "/openapi.json", token: "-"})
		wantStatus(t, r, 200)
		if !bytes.Equal(r.body, mgmtapi.OpenAPI()) {
			t.Errorf("%s/openapi.json is not the embedded document", prefix)
		}
	}
}

// TestOpenAPIStandsAlone: the published document is read by users who
// have only it (and the repository's docs/), so it must not cite the
// contract file or its sections (API.md E.4, seed 002, F.3).
func TestOpenAPIStandsAlone(t *testing.T) {
	citation := regexp.MustCompile(`API\.md|\.\./shared|\bseed\b|\b[A-F]\.[0-9]+\b`)
	for i, line := range strings.Split(string(mgmtapi.OpenAPI()), "\n") {
		if m := citation.FindString(line); m != "" {
			t.Errorf("openapi.json line %d cites %q: %s", i+1, m, strings.TrimSpace(line))
		}
	}
}

// TestContractChecker checks the checker itself rejects what it must.
func TestContractChecker(t *testing.T) {
	o, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	okClient := `{"meta":{"page":1,"page_size":20,"total":0,"start":0,"limit":20,"length":0},"items":[]}`
	tests := []struct {
		name string
		x    exchange
		want string // "" = valid
	}{
		{"valid list", exchange{method: "GET", path: "/api/v1/clients", status: 200, respType: "application/json", respBody: []byte(okClient)}, ""},
		{"v2 alias", exchange{method: "GET", path: "/api/v2/clients", status: 200, respType: "application/json", respBody: []byte(okClient)}, ""},
		{"undocumented path", exchange{method: "GET", path: "/api/v1/users", status: 200}, "undocumented path"},
		{"undocumented method", exchange{method: "PUT", path: "/api/v1/clients", status: 200}, "undocumented path"},
		{"undocumented status", exchange{method: "GET", path: "/api/v1/clients", status: 418, respType: "application/json", respBody: []byte(`{}`)}, "undocumented status"},
		{"extra member", exchange{method: "GET", path: "/api/v1/clients", status: 200, respType: "application/json",
			respBody: []byte(`{"meta":{"page":1,"page_size":20,"total":0,"start":0,"limit":20,"length":0},"items":[],"clients":[]}`)}, "response body"},
		{"bad error body", exchange{method: "GET", path: "/api/v1/clients", status: 401, respType: "application/json", respBody: []byte(`{"error":"x"}`)}, "response body"},
		{"body on 204", exchange{method: "DELETE", path: "/api/v1/client-grants/cg_1", status: 204, respBody: []byte(`{}`)}, "without a body"},
		{"undocumented query", exchange{method: "GET", path: "/api/v1/clients", query: "bogus=1", status: 200, respType: "application/json", respBody: []byte(okClient)}, "undocumented query"},
		{"literal beats template", exchange{method: "POST", path: "/api/v1/keys/signing/rotate", status: 201, respType: "application/json", respBody: []byte(`{}`)}, "response body"},
		{"bad accepted request", exchange{method: "POST", path: "/api/v1/client-grants", reqBody: []byte(`{"client_id":"a"}`), status: 201, respType: "application/json",
			respBody: []byte(`{"id":"cg_1","client_id":"a","audience":"b","scope":[]}`)}, "request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(o.checkExchange(tt.x), "\n")
			if tt.want == "" && got != "" {
				t.Fatalf("unexpected problems: %s", got)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("problems %q do not mention %q", got, tt.want)
			}
		})
	}
}
