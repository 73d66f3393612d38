package mgmtapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// item is one rendered resource: its JSON, and its members for filtering,
// sorting and projection.
type item struct {
	raw     []byte
	members map[string]json.RawMessage
}

func newItem(raw []byte) (item, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return item{}, fmt.Errorf("mgmtapi: render: %w", err)
	}
	return item{raw: raw, members: m}, nil
}

// project applies fields/include_fields. Without a projection the item's
// JSON is returned as rendered (in the model's field order).
func (it item) project(p projection) json.RawMessage {
	if len(p.fields) == 0 {
		return it.raw
	}
	out := make(map[string]json.RawMessage, len(it.members))
	for k, v := range it.members {
		if slices.Contains(p.fields, k) == p.include {
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil { // unreachable: the members came from valid JSON
		return it.raw
	}
	return b
}

// scalar decodes a member for comparison: a string, a float64, a bool, or
// nil when absent, null or not a scalar.
func (it item) scalar(field string) any {
	raw, ok := it.members[field]
	if !ok {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	switch v.(type) {
	case string, float64, bool:
		return v
	}
	return nil
}

// matches reports whether the item passes every equality filter.
func (it item) matches(filters map[string][]string) bool {
	for name, accepted := range filters {
		var s string
		switch v := it.scalar(name).(type) {
		case string:
			s = v
		case bool:
			s = strconv.FormatBool(v)
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return false
		}
		if !slices.Contains(accepted, s) {
			return false
		}
	}
	return true
}

// compareScalars orders nil first, then booleans (false < true), numbers,
// strings.
func compareScalars(a, b any) int {
	rank := func(v any) int {
		switch v.(type) {
		case nil:
			return 0
		case bool:
			return 1
		case float64:
			return 2
		}
		return 3
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case float64:
		return cmp.Compare(x, b.(float64))
	case string:
		return cmp.Compare(x, b.(string))
	}
	return 0
}

// page is one page of a list: the envelope of API.md A.3 (decision at the
// top of API.md: start, limit and length next to page, page_size, total).
type page struct {
	Meta  pageMeta          `json:"meta"`
	Items []json.RawMessage `json:"items"`
}

type pageMeta struct {
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
	Total    int `json:"total"`
	Start    int `json:"start"`
	Limit    int `json:"limit"`
	Length   int `json:"length"`
}

// paginate filters, sorts (stably, after the store's order), pages and
// projects items.
func paginate(items []item, q listQuery) page {
	kept := items[:0:0]
	for _, it := range items {
		if it.matches(q.filters) {
			kept = append(kept, it)
		}
	}
	if len(q.sort) > 0 {
		// Decode each sort value once, not once per comparison.
		type keyed struct {
			it   item
			vals []any
		}
		ks := make([]keyed, len(kept))
		for i, it := range kept {
			ks[i] = keyed{it: it, vals: make([]any, len(q.sort))}
			for j, k := range q.sort {
				ks[i].vals[j] = it.scalar(k.field)
			}
		}
		slices.SortStableFunc(ks, func(a, b keyed) int {
			for j, k := range q.sort {
				c := compareScalars(a.vals[j], b.vals[j])
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		for i := range ks {
			kept[i] = ks[i].it
		}
	}
	offset := (q.page - 1) * q.pageSize // page ≤ maxPage: no overflow
	start := min(offset, len(kept))
	end := min(start+q.pageSize, len(kept))
	out := page{
		Meta: pageMeta{
			Page: q.page, PageSize: q.pageSize, Total: len(kept),
			Start: offset, Limit: q.pageSize, Length: end - start,
		},
		Items: make([]json.RawMessage, 0, end-start),
	}
	for _, it := range kept[start:end] {
		out.Items = append(out.Items, it.project(q.proj))
	}
	return out
}

// renderAll renders models as items with render.
func renderAll[T any](models []T, render func(T) ([]byte, error)) ([]item, error) {
	out := make([]item, 0, len(models))
	for _, m := range models {
		raw, err := render(m)
		if err != nil {
			return nil, err
		}
		it, err := newItem(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// spliceMembers appends members (already JSON) to the object raw, keeping
// its existing order: how aliases are emitted next to canonical keys.
func spliceMembers(raw []byte, members ...[2]string) []byte {
	raw = bytes.TrimSpace(raw)
	if len(members) == 0 || len(raw) < 2 || raw[len(raw)-1] != '}' {
		return raw
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) + 64)
	buf.Write(raw[:len(raw)-1])
	empty := len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
	for _, m := range members {
		if !empty {
			buf.WriteByte(',')
		}
		empty = false
		k, _ := json.Marshal(m[0])
		buf.Write(k)
		buf.WriteByte(':')
		buf.WriteString(m[1])
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
