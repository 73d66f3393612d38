package mgmtapi

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging limits (API.md A.3).
const (
	defaultPageSize = 20
	maxPageSize     = 100
	maxPage         = 1_000_000
)

// listSpec describes what a list endpoint's query may name.
type listSpec struct {
	// fields are the keys of a rendered item (fields= may name them).
	fields []string
	// sortable are the scalar keys sort= may name.
	sortable []string
	// filters are the equality filters, by query parameter name.
	filters map[string]filterSpec
}

// filterSpec is one equality filter.
type filterSpec struct {
	boolean bool     // the value is true or false
	enum    []string // when set, the allowed values
	// aliases are other spellings of enum values (Auth0's), matched as
	// the value they name.
	aliases map[string]string
}

// sortKey is one sort criterion.
type sortKey struct {
	field string
	desc  bool
}

// listQuery is a parsed list query.
type listQuery struct {
	page     int // 1-based
	pageSize int // 1..maxPageSize
	sort     []sortKey
	proj     projection
	// filters maps a filter to its accepted values (repeated = IN).
	filters map[string][]string
}

// projection is fields + include_fields.
type projection struct {
	fields  []string // empty: no projection
	include bool     // true: only fields; false: all but fields
}

// parseListQuery parses page, page_size (alias per_page), include_totals,
// sort, fields, include_fields and the spec's filters. Unknown parameters
// are ignored (SDK telemetry, q, search_engine); a bad value of a known one
// is a 400 invalid_query_string naming it.
func parseListQuery(q url.Values, spec *listSpec) (listQuery, error) {
	lq := listQuery{page: 1, pageSize: defaultPageSize}
	if v, ok := single(q, "page"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxPage {
			return lq, badRequest(codeInvalidQuery, "Invalid value %s for query parameter page (expected an integer between 0 and %d).", strconv.Quote(v), maxPage)
		}
		lq.page = max(n, 1) // SDK loops start at 0
	}
	for _, name := range []string{"per_page", "page_size"} { // page_size wins
		v, ok := single(q, name)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, badRequest(codeInvalidQuery, "Invalid value %s for query parameter %s (expected an integer between 0 and %d).", strconv.Quote(v), name, maxPageSize)
		}
		switch {
		case n == 0:
			lq.pageSize = defaultPageSize
		case n > maxPageSize:
			lq.pageSize = maxPageSize
		default:
			lq.pageSize = n
		}
	}
	if v, ok := single(q, "include_totals"); ok {
		if _, err := strconv.ParseBool(v); err != nil {
			return lq, badRequest(codeInvalidQuery, "Invalid value %s for query parameter include_totals (expected true or false).", strconv.Quote(v))
		}
	}
	sort, err := parseSort(q["sort"], spec.sortable)
	if err != nil {
		return lq, err
	}
	lq.sort = sort
	if lq.proj, err = parseProjection(q, spec.fields); err != nil {
		return lq, err
	}
	for name, fs := range spec.filters {
		vals, ok := q[name]
		if !ok {
			continue
		}
		for _, v := range vals {
			switch {
			case fs.boolean:
				b, err := strconv.ParseBool(v)
				if err != nil {
					return lq, badRequest(codeInvalidQuery, "Invalid value %s for query parameter %s (expected true or false).", strconv.Quote(v), name)
				}
				v = strconv.FormatBool(b)
			case fs.enum != nil:
				if canonical, ok := fs.aliases[v]; ok {
					v = canonical
				}
				if !slices.Contains(fs.enum, v) {
					allowed := slices.Concat(fs.enum, slices.Sorted(maps.Keys(fs.aliases)))
					return lq, badRequest(codeInvalidQuery, "Invalid value %s for query parameter %s (allowed: %s).", strconv.Quote(v), name, strings.Join(allowed, ", "))
				}
			}
			if lq.filters == nil {
				lq.filters = map[string][]string{}
			}
			lq.filters[name] = append(lq.filters[name], v)
		}
	}
	return lq, nil
}

// single returns the one value of a scalar parameter; a repeated one uses
// its last value (what most frameworks do). ok is false when absent or
// empty.
func single(q url.Values, name string) (string, bool) {
	vs := q[name]
	if len(vs) == 0 {
		return "", false
	}
	v := strings.TrimSpace(vs[len(vs)-1])
	return v, v != ""
}

// parseSort reads sort values (A.3): "-field" descending, "field" or
// "+field" ascending, several joined by ':' (seed), ',' or ' ' (backend);
// the Auth0 form "field:1" / "field:-1", where a token that is exactly 1
// or -1 sets the direction of the field before it.
func parseSort(values []string, sortable []string) ([]sortKey, error) {
	var keys []sortKey
	for _, v := range values {
		tokens := strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
		for _, tok := range tokens {
			if tok == "1" || tok == "-1" {
				if len(keys) == 0 {
					return nil, badRequest(codeInvalidQuery, "Invalid value %s for query parameter sort (a direction must follow a field).", strconv.Quote(v))
				}
				keys[len(keys)-1].desc = tok == "-1"
				continue
			}
			k := sortKey{field: tok}
			switch tok[0] {
			case '-':
				k = sortKey{field: tok[1:], desc: true}
			case '+':
				k = sortKey{field: tok[1:]}
			}
			if !slices.Contains(sortable, k.field) {
				return nil, badRequest(codeInvalidQuery, "Invalid value %s for query parameter sort (sortable fields: %s).", strconv.Quote(v), strings.Join(sortable, ", "))
			}
			if slices.ContainsFunc(keys, func(e sortKey) bool { return e.field == k.field }) {
				continue // the first mention decides
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// parseProjection reads fields (comma-separated, repeatable) and
// include_fields (default true).
func parseProjection(q url.Values, known []string) (projection, error) {
	p := projection{include: true}
	if v, ok := single(q, "include_fields"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, badRequest(codeInvalidQuery, "Invalid value %s for query parameter include_fields (expected true or false).", strconv.Quote(v))
		}
		p.include = b
	}
	for _, v := range q["fields"] {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if !slices.Contains(known, f) {
				return p, badRequest(codeInvalidQuery, "Invalid value %s for query parameter fields (unknown field %s).", strconv.Quote(v), strconv.Quote(f))
			}
			if !slices.Contains(p.fields, f) {
				p.fields = append(p.fields, f)
			}
		}
	}
	return p, nil
}
