package mgmtapi_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

type listPage struct {
	Meta  map[string]int   `json:"meta"`
	Items []map[string]any `json:"items"`
}

func (e *env) list(t *testing.T, path string) listPage {
	t.Helper()
	r := e.do(t, req{path: path})
	wantStatus(t, r, 200)
	var p listPage
	r.decode(t, &p)
	if len(p.Meta) != 6 {
		t.Fatalf("meta = %v", p.Meta)
	}
	return p
}

func names(p listPage) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, fmt.Sprint(it["name"]))
	}
	return out
}

func TestListClients(t *testing.T) {
	e := newEnv(t)
	appTypes := []string{"spa", "native", "web", "non_interactive"}
	for i := range 25 {
		body := map[string]any{"name": fmt.Sprintf("c%02d", i), "app_type": appTypes[i%4]}
		if i%5 == 0 {
			body["is_first_party"] = false
		}
		createClient(t, e, body)
	}
	const total = 26 // and the management client

	meta := func(p listPage) string {
		return fmt.Sprintf("page=%d page_size=%d total=%d start=%d limit=%d length=%d",
			p.Meta["page"], p.Meta["page_size"], p.Meta["total"], p.Meta["start"], p.Meta["limit"], p.Meta["length"])
	}
	tests := []struct {
		query, meta string
	}{
		{"", "page=1 page_size=20 total=26 start=0 limit=20 length=20"},
		{"page=2", "page=2 page_size=20 total=26 start=20 limit=20 length=6"},
		{"page=0", "page=1 page_size=20 total=26 start=0 limit=20 length=20"},
		{"page=3", "page=3 page_size=20 total=26 start=40 limit=20 length=0"},
		{"page_size=5&page=2", "page=2 page_size=5 total=26 start=5 limit=5 length=5"},
		{"per_page=7", "page=1 page_size=7 total=26 start=0 limit=7 length=7"},
		{"per_page=7&page_size=3", "page=1 page_size=3 total=26 start=0 limit=3 length=3"},
		{"page_size=1000", "page=1 page_size=100 total=26 start=0 limit=100 length=26"},
		{"page_size=0", "page=1 page_size=20 total=26 start=0 limit=20 length=20"},
		{"include_totals=true&page_size=10", "page=1 page_size=10 total=26 start=0 limit=10 length=10"},
		{"app_type=spa", "page=1 page_size=20 total=7 start=0 limit=20 length=7"},
		{"app_type=spa&app_type=native", "page=1 page_size=20 total=13 start=0 limit=20 length=13"},
		{"is_first_party=false", "page=1 page_size=20 total=5 start=0 limit=20 length=5"},
		{"is_first_party=0", "page=1 page_size=20 total=5 start=0 limit=20 length=5"},
		{"name=c03", "page=1 page_size=20 total=1 start=0 limit=20 length=1"},
		{"token_endpoint_auth_method=none", "page=1 page_size=20 total=13 start=0 limit=20 length=13"},
		{"client_id=" + e.mgmtClient, "page=1 page_size=20 total=1 start=0 limit=20 length=1"},
		{"name=c03&app_type=spa", "page=1 page_size=20 total=0 start=0 limit=20 length=0"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p := e.list(t, "/clients?"+tt.query)
			if got := meta(p); got != tt.meta {
				t.Errorf("meta %s, want %s", got, tt.meta)
			}
			if len(p.Items) != p.Meta["length"] {
				t.Errorf("%d items, length %d", len(p.Items), p.Meta["length"])
			}
		})
	}

	// The SDK pages until total <= start+limit: the pages cover everything once.
	var seen []string
	for page := 0; ; page++ {
		p := e.list(t, fmt.Sprintf("/clients?page=%d&page_size=7&sort=name", page+1))
		seen = append(seen, names(p)...)
		if p.Meta["total"] <= p.Meta["start"]+p.Meta["limit"] {
			break
		}
	}
	if len(seen) != total || !slices.IsSorted(seen) {
		t.Errorf("paged through %d: %v", len(seen), seen)
	}

	sortTests := []struct {
		sort  string
		check func([]map[string]any) bool
	}{
		{"name", func(it []map[string]any) bool { return slices.IsSorted(namesOf(it)) }},
		{"-name", func(it []map[string]any) bool { n := namesOf(it); slices.Reverse(n); return slices.IsSorted(n) }},
		{"name:-1", func(it []map[string]any) bool { n := namesOf(it); slices.Reverse(n); return slices.IsSorted(n) }},
		{"name:1", func(it []map[string]any) bool { return slices.IsSorted(namesOf(it)) }},
		{"+name", func(it []map[string]any) bool { return slices.IsSorted(namesOf(it)) }},
		{"app_type:-name", func(it []map[string]any) bool {
			return slices.IsSortedFunc(it, func(a, b map[string]any) int {
				if c := strings.Compare(a["app_type"].(string), b["app_type"].(string)); c != 0 {
					return c
				}
				return -strings.Compare(a["name"].(string), b["name"].(string))
			})
		}},
		{"app_type,name", func(it []map[string]any) bool {
			return slices.IsSortedFunc(it, func(a, b map[string]any) int {
				if c := strings.Compare(a["app_type"].(string), b["app_type"].(string)); c != 0 {
					return c
				}
				return strings.Compare(a["name"].(string), b["name"].(string))
			})
		}},
		{"-is_first_party:name", func(it []map[string]any) bool {
			return it[0]["is_first_party"] == true && it[len(it)-1]["is_first_party"] == false
		}},
		{"-created_at", func(it []map[string]any) bool {
			// The management client (made by bootstrap) has no timestamp: last.
			return it[len(it)-1]["client_id"] == e.mgmtClient
		}},
	}
	for _, tt := range sortTests {
		t.Run("sort="+tt.sort, func(t *testing.T) {
			p := e.list(t, "/clients?page_size=100&sort="+url.QueryEscape(tt.sort))
			if len(p.Items) != total || !tt.check(p.Items) {
				t.Errorf("order: %v", namesOf(p.Items))
			}
		})
	}

	// Field selection.
	p := e.list(t, "/clients?fields=client_id,name&page_size=3")
	for _, it := range p.Items {
		if len(it) != 2 || it["client_id"] == nil || it["name"] == nil {
			t.Errorf("projected item %v", it)
		}
	}
	p = e.list(t, "/clients?fields=client_secret,jwt_configuration&include_fields=false&page_size=3")
	for _, it := range p.Items {
		if _, ok := it["client_secret"]; ok || it["callbacks"] == nil {
			t.Errorf("excluded item %v", it)
		}
	}
	p = e.list(t, "/clients?fields=callbacks&fields=name&page_size=1")
	if len(p.Items[0]) != 2 {
		t.Errorf("repeated fields: %v", p.Items[0])
	}
	r := e.do(t, req{path: "/clients/" + e.mgmtClient + "?fields=name"})
	wantStatus(t, r, 200)
	if got := r.object(t); len(got) != 1 {
		t.Errorf("single projection %v", got)
	}
	// The alias prefix lists the same.
	if p := e.list(t, "/api/v2/clients?page_size=1"); p.Meta["total"] != total {
		t.Errorf("v2 total %d", p.Meta["total"])
	}
}

func namesOf(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprint(it["name"])
	}
	return out
}

func TestListBadQuery(t *testing.T) {
	e := sharedEnv(t)
	tests := []struct {
		path, msg string
	}{
		{"/clients?page=-1", "page"},
		{"/clients?page=x", "page"},
		{"/clients?page=99999999999", "page"},
		{"/clients?page_size=abc", "page_size"},
		{"/clients?per_page=-5", "per_page"},
		{"/clients?include_totals=maybe", "include_totals"},
		{"/clients?sort=bogus", "sortable fields"},
		{"/clients?sort=-", "sort"},
		{"/clients?sort=1", "direction must follow a field"},
		{"/clients?sort=client_secret", "sort"},
		{"/clients?fields=bogus", `unknown field "bogus"`},
		{"/clients?include_fields=perhaps", "include_fields"},
		{"/clients?is_first_party=maybe", "is_first_party"},
		{"/clients?app_type=desktop", "allowed: non_interactive, native, web, spa"},
		{"/clients?token_endpoint_auth_method=mtls", "token_endpoint_auth_method"},
		{"/clients/" + e.mgmtClient + "?fields=nope", "fields"},
		{"/resource-servers?is_system=yes", "is_system"},
		{"/resource-servers?sort=scopes", "sort"},
		{"/resource-servers/nope?fields=nope", "fields"},
		{"/client-grants?sort=scope", "sort"},
		{"/client-grants?fields=secret", "fields"},
		{"/tenants/settings?fields=nope", "fields"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			wantError(t, e.do(t, req{path: tt.path}), 400, "invalid_query_string", tt.msg)
		})
	}
}

func TestListResourceServersAndGrants(t *testing.T) {
	e := newEnv(t)
	c := createClient(t, e, map[string]any{"name": "lister", "app_type": "non_interactive"})
	for i := range 4 {
		ident := fmt.Sprintf("urn:list:%d", i)
		wantStatus(t, e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{
			"identifier": ident, "name": fmt.Sprintf("api %d", 3-i), "enforce_policies": i%2 == 0,
		}}), 201)
		wantStatus(t, e.do(t, req{method: "POST", path: "/client-grants", body: map[string]any{
			"client_id": c["client_id"], "audience": ident, "scope": []string{},
		}}), 201)
	}
	p := e.list(t, "/resource-servers?sort=name&page_size=2&page=2")
	if p.Meta["total"] != 5 || strings.Join(names(p), ",") != "api 1,api 2" { // after "Authok Management API"
		t.Errorf("rs page: %v %v", p.Meta, names(p))
	}
	if p := e.list(t, "/resource-servers?enforce_policies=true"); p.Meta["total"] != 2 {
		t.Errorf("enforce_policies filter: %v", p.Meta)
	}
	if p := e.list(t, "/resource-servers?identifier=urn:list:1&identifier=urn:list:2"); p.Meta["total"] != 2 {
		t.Errorf("identifier IN: %v", p.Meta)
	}
	if p := e.list(t, "/resource-servers?is_system=false&fields=identifier"); p.Meta["total"] != 4 || len(p.Items[0]) != 1 {
		t.Errorf("is_system filter: %v %v", p.Meta, p.Items)
	}
	p = e.list(t, "/client-grants?client_id="+url.QueryEscape(c["client_id"].(string))+"&sort=-audience")
	if p.Meta["total"] != 4 || p.Items[0]["audience"] != "urn:list:3" {
		t.Errorf("grants: %v %v", p.Meta, p.Items)
	}
	if p := e.list(t, "/client-grants?audience="+url.QueryEscape(e.issuer+"api/v1/")); p.Meta["total"] != 1 {
		t.Errorf("bootstrap grant: %v", p.Meta)
	}
}
