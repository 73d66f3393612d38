package rest

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging limits (API.md A.3).
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxPage         = 1_000_000
)

// ListSpec describes what a list endpoint's query may name.
type ListSpec struct {
	// fields are the keys of a rendered item (fields= may name them).
	Fields []string
	// sortable are the scalar keys sort= may name.
	Sortable []string
	// filters are the equality filters, by query parameter name.
	Filters map[string]FilterSpec
}

// FilterSpec is one equality filter.
type FilterSpec struct {
	Boolean bool     // the value is true or false
	Enum    []string // when set, the allowed values
	// aliases are other spellings of enum values (Auth0's), matched as
	// the value they name.
	Aliases map[string]string
}

// SortKey is one sort criterion.
type SortKey struct {
	Field string
	Desc  bool
}

// ListQuery is a parsed list query.
type ListQuery struct {
	Page     int // 1-based
	PageSize int // 1..maxPageSize
	Sort     []SortKey
	Proj     Projection
	// filters maps a filter to its accepted values (repeated = IN).
	Filters map[string][]string
}

// Projection is fields + include_fields.
type Projection struct {
	Fields  []string // empty: no projection
	Include bool     // true: only fields; false: all but fields
}

// ParseListQuery parses page, page_size (alias per_page), include_totals,
// sort, fields, include_fields and the spec's filters. Unknown parameters
// are ignored (SDK telemetry, q, search_engine); a bad value of a known one
// is a 400 invalid_query_string naming it.
func ParseListQuery(q url.Values, spec *ListSpec) (ListQuery, error) {
	lq := ListQuery{Page: 1, PageSize: DefaultPageSize}
	if v, ok := Single(q, "page"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxPage {
			return lq, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter page (expected an integer between 0 and %d).", strconv.Quote(v), MaxPage)
		}
		lq.Page = max(n, 1) // SDK loops start at 0
	}
	for _, name := range []string{"per_page", "page_size"} { // page_size wins
		v, ok := Single(q, name)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter %s (expected an integer between 0 and %d).", strconv.Quote(v), name, MaxPageSize)
		}
		switch {
		case n == 0:
			lq.PageSize = DefaultPageSize
		case n > MaxPageSize:
			lq.PageSize = MaxPageSize
		default:
			lq.PageSize = n
		}
	}
	if v, ok := Single(q, "include_totals"); ok {
		if _, err := strconv.ParseBool(v); err != nil {
			return lq, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter include_totals (expected true or false).", strconv.Quote(v))
		}
	}
	sort, err := ParseSort(q["sort"], spec.Sortable)
	if err != nil {
		return lq, err
	}
	lq.Sort = sort
	if lq.Proj, err = ParseProjection(q, spec.Fields); err != nil {
		return lq, err
	}
	for name, fs := range spec.Filters {
		vals, ok := q[name]
		if !ok {
			continue
		}
		for _, v := range vals {
			switch {
			case fs.Boolean:
				b, err := strconv.ParseBool(v)
				if err != nil {
					return lq, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter %s (expected true or false).", strconv.Quote(v), name)
				}
				v = strconv.FormatBool(b)
			case fs.Enum != nil:
				if canonical, ok := fs.Aliases[v]; ok {
					v = canonical
				}
				if !slices.Contains(fs.Enum, v) {
					allowed := slices.Concat(fs.Enum, slices.Sorted(maps.Keys(fs.Aliases)))
					return lq, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter %s (allowed: %s).", strconv.Quote(v), name, strings.Join(allowed, ", "))
				}
			}
			if lq.Filters == nil {
				lq.Filters = map[string][]string{}
			}
			lq.Filters[name] = append(lq.Filters[name], v)
		}
	}
	return lq, nil
}

// Single returns the one value of a scalar parameter; a repeated one uses
// its last value (what most frameworks do). ok is false when absent or
// empty.
func Single(q url.Values, name string) (string, bool) {
	vs := q[name]
	if len(vs) == 0 {
		return "", false
	}
	v := strings.TrimSpace(vs[len(vs)-1])
	return v, v != ""
}

// ParseSort reads sort values (A.3): "-field" descending, "field" or
// "+field" ascending, several joined by ':' (seed), ',' or ' ' (backend);
// the Auth0 form "field:1" / "field:-1", where a token that is exactly 1
// or -1 sets the direction of the field before it.
func ParseSort(values []string, sortable []string) ([]SortKey, error) {
	var keys []SortKey
	for _, v := range values {
		tokens := strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
		for _, tok := range tokens {
			if tok == "1" || tok == "-1" {
				if len(keys) == 0 {
					return nil, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter sort (a direction must follow a field).", strconv.Quote(v))
				}
				keys[len(keys)-1].Desc = tok == "-1"
				continue
			}
			k := SortKey{Field: tok}
			switch tok[0] {
			case '-':
				k = SortKey{Field: tok[1:], Desc: true}
			case '+':
				k = SortKey{Field: tok[1:]}
			}
			if !slices.Contains(sortable, k.Field) {
				return nil, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter sort (sortable fields: %s).", strconv.Quote(v), strings.Join(sortable, ", "))
			}
			if slices.ContainsFunc(keys, func(e SortKey) bool { return e.Field == k.Field }) {
				continue // the first mention decides
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// ParseProjection reads fields (comma-separated, repeatable) and
// include_fields (default true).
func ParseProjection(q url.Values, known []string) (Projection, error) {
	p := Projection{Include: true}
	if v, ok := Single(q, "include_fields"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter include_fields (expected true or false).", strconv.Quote(v))
		}
		p.Include = b
	}
	for _, v := range q["fields"] {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if !slices.Contains(known, f) {
				return p, BadRequest(CodeInvalidQuery, "Invalid value %s for query parameter fields (unknown field %s).", strconv.Quote(v), strconv.Quote(f))
			}
			if !slices.Contains(p.Fields, f) {
				p.Fields = append(p.Fields, f)
			}
		}
	}
	return p, nil
}
