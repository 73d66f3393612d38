package rest

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

var testSpec = &ListSpec{
	Fields:   []string{"id", "name", "app_type", "is_first_party", "n"},
	Sortable: []string{"id", "name", "app_type", "is_first_party", "n"},
	Filters: map[string]FilterSpec{
		"name":           {},
		"app_type":       {Enum: []string{"spa", "web"}},
		"is_first_party": {Boolean: true},
	},
}

func TestParseSort(t *testing.T) {
	tests := []struct {
		in   []string
		want string // "field+" / "field-" joined by " ", or "error"
	}{
		{nil, ""},
		{[]string{"name"}, "name+"},
		{[]string{"-name"}, "name-"},
		{[]string{"+name"}, "name+"},
		{[]string{" name"}, "name+"}, // "+name" after form decoding
		{[]string{"app_type:-name"}, "app_type+ name-"},
		{[]string{"app_type,-name"}, "app_type+ name-"},
		{[]string{"app_type -name"}, "app_type+ name-"},
		{[]string{"name:1"}, "name+"},
		{[]string{"name:-1"}, "name-"},
		{[]string{"name:-1:app_type:1"}, "name- app_type+"},
		{[]string{"-name:1"}, "name+"}, // the explicit direction wins
		{[]string{"name", "-app_type"}, "name+ app_type-"},
		{[]string{"name:name"}, "name+"},
		{[]string{"::name::"}, "name+"},
		{[]string{"1"}, "error"},
		{[]string{"-1"}, "error"},
		{[]string{"-"}, "error"},
		{[]string{"bogus"}, "error"},
		{[]string{"name:bogus"}, "error"},
		{[]string{"--name"}, "error"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, "|"), func(t *testing.T) {
			keys, err := ParseSort(tt.in, testSpec.Sortable)
			if tt.want == "error" {
				if err == nil {
					t.Fatalf("got %v, want an error", keys)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				d := "+"
				if k.Desc {
					d = "-"
				}
				got = append(got, k.Field+d)
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Fatalf("got %q, want %q", s, tt.want)
			}
		})
	}
}

func TestParseListQuery(t *testing.T) {
	tests := []struct {
		query          string
		page, pageSize int
		filters        string
		proj           string
		err            string
	}{
		{"", 1, 20, "", "", ""},
		{"page=0&page_size=0", 1, 20, "", "", ""},
		{"page=3&per_page=500", 3, 100, "", "", ""},
		{"page_size=7&per_page=9", 1, 7, "", "", ""},
		{"page= 2 ", 2, 20, "", "", ""},
		{"app_type=spa&app_type=web&is_first_party=1", 1, 20, "app_type=spa,web is_first_party=true", "", ""},
		{"name=a,b", 1, 20, "name=a,b", "", ""},
		{"fields=id,name,,id&include_fields=false", 1, 20, "", "-id,name", ""},
		{"fields=name", 1, 20, "", "+name", ""},
		{"include_totals=true&q=x&search_engine=v3&authokClient=abc", 1, 20, "", "", ""},
		{"page=1.5", 0, 0, "", "", "page"},
		{"page=1000001", 0, 0, "", "", "page"},
		{"page_size=1e3", 0, 0, "", "", "page_size"},
		{"app_type=desktop", 0, 0, "", "", "app_type"},
		{"is_first_party=", 0, 0, "", "", "is_first_party"},
		{"fields=nope", 0, 0, "", "", "fields"},
		{"include_fields=2", 0, 0, "", "", "include_fields"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			lq, err := ParseListQuery(q, testSpec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one naming %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if lq.Page != tt.page || lq.PageSize != tt.pageSize {
				t.Errorf("page %d size %d", lq.Page, lq.PageSize)
			}
			var fs []string
			for _, name := range []string{"app_type", "is_first_party", "name"} {
				if v, ok := lq.Filters[name]; ok {
					fs = append(fs, name+"="+strings.Join(v, ","))
				}
			}
			if got := strings.Join(fs, " "); got != tt.filters {
				t.Errorf("filters %q, want %q", got, tt.filters)
			}
			proj := ""
			if len(lq.Proj.Fields) > 0 {
				proj = "-"
				if lq.Proj.Include {
					proj = "+"
				}
				proj += strings.Join(lq.Proj.Fields, ",")
			}
			if proj != tt.proj {
				t.Errorf("projection %q, want %q", proj, tt.proj)
			}
		})
	}
}

func TestPaginate(t *testing.T) {
	var items []Item
	for _, raw := range []string{
		`{"id":"a","name":"x","n":3,"is_first_party":true}`,
		`{"id":"b","name":"y","n":1,"is_first_party":false}`,
		`{"id":"c","name":"x","n":2}`,
		`{"id":"d","name":null,"n":10,"is_first_party":true}`,
	} {
		it, err := NewItem([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	ids := func(p Page) string {
		var out []string
		for _, raw := range p.Items {
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			out = append(out, m["id"].(string))
		}
		return strings.Join(out, "")
	}
	tests := []struct {
		q    ListQuery
		want string
	}{
		{ListQuery{Page: 1, PageSize: 20}, "abcd"},
		{ListQuery{Page: 1, PageSize: 20, Sort: []SortKey{{Field: "n"}}}, "bcad"}, // b(1) c(2) a(3) d(10)
		{ListQuery{Page: 1, PageSize: 20, Sort: []SortKey{{Field: "n", Desc: true}}}, "dacb"},
		{ListQuery{Page: 1, PageSize: 20, Sort: []SortKey{{Field: "name"}, {Field: "id", Desc: true}}}, "dcab"},
		{ListQuery{Page: 1, PageSize: 20, Sort: []SortKey{{Field: "is_first_party"}}}, "cbad"},
		{ListQuery{Page: 2, PageSize: 3}, "d"},
		{ListQuery{Page: 3, PageSize: 3}, ""},
		{ListQuery{Page: 1, PageSize: 20, Filters: map[string][]string{"name": {"x"}}}, "ac"},
		{ListQuery{Page: 1, PageSize: 20, Filters: map[string][]string{"is_first_party": {"true"}}}, "ad"},
		{ListQuery{Page: 1, PageSize: 20, Filters: map[string][]string{"n": {"2", "10"}}}, "cd"},
	}
	for _, tt := range tests {
		if got := ids(Paginate(items, tt.q)); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.q, got, tt.want)
		}
	}
	p := Paginate(items, ListQuery{Page: 1, PageSize: 2, Proj: Projection{Fields: []string{"id"}, Include: true}})
	if string(p.Items[0]) != `{"id":"a"}` || p.Meta.Total != 4 || p.Meta.Length != 2 {
		t.Errorf("projection %s %+v", p.Items[0], p.Meta)
	}
}

// FuzzParseListQuery: the list query parser never panics, and what it
// accepts is within bounds and names only known fields.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "page=2&page_size=50", "sort=-name:app_type", "sort=name:-1", "fields=id,name&include_fields=false",
		"per_page=1000&page=0", "app_type=spa&app_type=web", "sort=%2Bname", "sort=::1", "page=-1",
		"is_first_party=TRUE&sort=n:1:id:-1", "fields=,,,", "page=99999999999999999999",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lq, err := ParseListQuery(q, testSpec)
		if err != nil {
			return
		}
		if lq.Page < 1 || lq.Page > MaxPage || lq.PageSize < 1 || lq.PageSize > MaxPageSize {
			t.Fatalf("out of bounds: page %d size %d", lq.Page, lq.PageSize)
		}
		seen := map[string]bool{}
		for _, k := range lq.Sort {
			if !slices.Contains(testSpec.Sortable, k.Field) || seen[k.Field] {
				t.Fatalf("sort key %+v", k)
			}
			seen[k.Field] = true
		}
		for _, f := range lq.Proj.Fields {
			if !slices.Contains(testSpec.Fields, f) {
				t.Fatalf("field %q", f)
			}
		}
		for name, vals := range lq.Filters {
			fs, ok := testSpec.Filters[name]
			if !ok {
				t.Fatalf("filter %q", name)
			}
			for _, v := range vals {
				if fs.Boolean && v != "true" && v != "false" {
					t.Fatalf("boolean filter %q=%q", name, v)
				}
				if fs.Enum != nil && !slices.Contains(fs.Enum, v) {
					t.Fatalf("enum filter %q=%q", name, v)
				}
			}
		}
		// Paging an empty list never panics either.
		_ = Paginate(nil, lq)
	})
}
