package rest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Item is one rendered resource: its JSON, and its members for filtering,
// sorting and projection.
type Item struct {
	raw     []byte
	members map[string]json.RawMessage
}

func NewItem(raw []byte) (Item, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Item{}, fmt.Errorf("mgmtapi: render: %w", err)
	}
	return Item{raw: raw, members: m}, nil
}

// Project applies fields/include_fields. Without a projection the item's
// JSON is returned as rendered (in the model's field order).
func (it Item) Project(p Projection) json.RawMessage {
	if len(p.Fields) == 0 {
		return it.raw
	}
	out := make(map[string]json.RawMessage, len(it.members))
	for k, v := range it.members {
		if slices.Contains(p.Fields, k) == p.Include {
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil { // unreachable: the members came from valid JSON
		return it.raw
	}
	return b
}

// Scalar decodes a member for comparison: a string, a float64, a bool, or
// nil when absent, null or not a scalar.
func (it Item) Scalar(field string) any {
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

// Matches reports whether the item passes every equality filter.
func (it Item) Matches(filters map[string][]string) bool {
	for name, accepted := range filters {
		var s string
		switch v := it.Scalar(name).(type) {
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

// Page is one page of a list: the envelope of API.md A.3 (decision at the
// top of API.md: start, limit and length next to page, page_size, total).
type Page struct {
	Meta  PageMeta          `json:"meta"`
	Items []json.RawMessage `json:"items"`
}

type PageMeta struct {
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
	Total    int `json:"total"`
	Start    int `json:"start"`
	Limit    int `json:"limit"`
	Length   int `json:"length"`
}

// Paginate filters, sorts (stably, after the store's order), pages and
// projects items.
func Paginate(items []Item, q ListQuery) Page {
	kept := items[:0:0]
	for _, it := range items {
		if it.Matches(q.Filters) {
			kept = append(kept, it)
		}
	}
	if len(q.Sort) > 0 {
		// Decode each sort value once, not once per comparison.
		type keyed struct {
			it   Item
			vals []any
		}
		ks := make([]keyed, len(kept))
		for i, it := range kept {
			ks[i] = keyed{it: it, vals: make([]any, len(q.Sort))}
			for j, k := range q.Sort {
				ks[i].vals[j] = it.Scalar(k.Field)
			}
		}
		slices.SortStableFunc(ks, func(a, b keyed) int {
			for j, k := range q.Sort {
				c := compareScalars(a.vals[j], b.vals[j])
				if k.Desc {
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
	offset := (q.Page - 1) * q.PageSize // page ≤ maxPage: no overflow
	start := min(offset, len(kept))
	end := min(start+q.PageSize, len(kept))
	out := Page{
		Meta: PageMeta{
			Page: q.Page, PageSize: q.PageSize, Total: len(kept),
			Start: offset, Limit: q.PageSize, Length: end - start,
		},
		Items: make([]json.RawMessage, 0, end-start),
	}
	for _, it := range kept[start:end] {
		out.Items = append(out.Items, it.Project(q.Proj))
	}
	return out
}

// RenderAll renders models as items with render.
func RenderAll[T any](models []T, render func(T) ([]byte, error)) ([]Item, error) {
	out := make([]Item, 0, len(models))
	for _, m := range models {
		raw, err := render(m)
		if err != nil {
			return nil, err
		}
		it, err := NewItem(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// SpliceMembers appends members (already JSON) to the object raw, keeping
// its existing order: how aliases are emitted next to canonical keys.
func SpliceMembers(raw []byte, members ...[2]string) []byte {
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
