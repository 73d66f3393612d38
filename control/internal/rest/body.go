package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authok-edge/authok/control/internal/apierror"
)

// ReadObject reads a write request's body: application/json (415
// otherwise), at most max bytes (413), one JSON object (400 invalid_body
// otherwise) without duplicate keys at any depth.
func ReadObject(r *http.Request, max int64) (*Object, error) {
	if err := CheckContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	data, err := ReadLimited(r, max)
	if err != nil {
		return nil, err
	}
	return ParseObject(data)
}

// ReadLimited reads at most max bytes of body (413 beyond).
func ReadLimited(r *http.Request, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(len(data)) > max {
		return nil, apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge,
			fmt.Sprintf("Request body larger than %d bytes.", max))
	}
	if err != nil {
		return nil, BadRequest(CodeInvalidBody, "Could not read the request body.")
	}
	return data, nil
}

func CheckContentType(ct string) error {
	unsupported := apierror.New(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
		"Content-Type must be application/json.")
	if ct == "" {
		return unsupported
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return apierror.New(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"Content-Type charset must be utf-8.")
	}
	return nil
}

// ParseObject checks data is exactly one JSON object with no duplicate
// keys and returns its members.
func ParseObject(data []byte) (*Object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, BadRequest(CodeInvalidBody, "The request body is empty; send a JSON object.")
	}
	if !utf8.Valid(data) {
		return nil, BadRequest(CodeInvalidBody, "The request body is not valid UTF-8.")
	}
	if err := CheckDuplicateKeys(data); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, InvalidField("Expected type object but found type %s for the request body", JSONKind(bytes.TrimSpace(data)))
	}
	return NewObject("", m, &Problems{}), nil
}

// CheckDuplicateKeys walks data's tokens: it rejects invalid JSON,
// trailing values and an object key given twice anywhere (encoding/json
// would silently keep the last one).
func CheckDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkValue(dec, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest(CodeInvalidBody, "The request body holds more than one JSON value.")
	}
	return nil
}

func syntaxError(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return BadRequest(CodeInvalidBody, "The request body is not valid JSON (at byte %d).", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return BadRequest(CodeInvalidBody, "The request body is not valid JSON (unexpected end).")
	}
	return BadRequest(CodeInvalidBody, "The request body is not valid JSON (at byte %d).", dec.InputOffset())
}

// MaxDepth bounds nesting so a hostile body cannot exhaust the stack.
const MaxDepth = 32

func walkValue(dec *json.Decoder, path string) error {
	return walkDepth(dec, path, 0)
}

func walkDepth(dec *json.Decoder, path string, depth int) error {
	if depth > MaxDepth {
		return BadRequest(CodeInvalidBody, "The request body nests deeper than %d levels.", MaxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(dec, err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return syntaxError(dec, err)
			}
			k, _ := kt.(string)
			if seen[k] {
				return InvalidField("Duplicate key %s", strconv.Quote(JoinPath(path, k)))
			}
			seen[k] = true
			if err := walkDepth(dec, JoinPath(path, k), depth+1); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := walkDepth(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return syntaxError(dec, err)
	}
	return nil
}

func JoinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// Object is one JSON object of a request body, read member by member. Each
// getter records a problem (naming the field) in the shared
// Problems instead of failing, so one response lists them all;
// Finish reports the members no getter asked for.
type Object struct {
	path string
	m    map[string]json.RawMessage
	used map[string]bool
	errs *Problems
}

func NewObject(path string, m map[string]json.RawMessage, errs *Problems) *Object {
	return &Object{path: path, m: m, used: map[string]bool{}, errs: errs}
}

// Errs is the validation shared by this object and its parent and
// children: a resource's own cross-field rules add to it.
func (o *Object) Errs() *Problems { return o.errs }

// Peek returns member name's raw value without marking it used.
func (o *Object) Peek(name string) (json.RawMessage, bool) {
	raw, ok := o.m[name]
	return raw, ok
}

// Names returns the members' names, sorted.
func (o *Object) Names() []string {
	names := make([]string, 0, len(o.m))
	for k := range o.m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// IgnoreAll marks every member read (their content does not matter).
func (o *Object) IgnoreAll() {
	for k := range o.m {
		o.used[k] = true
	}
}

// Field is the full name of member name, for messages.
func (o *Object) Field(name string) string { return JoinPath(o.path, name) }

// Take returns member name's raw value and marks it used.
func (o *Object) Take(name string) (json.RawMessage, bool) {
	raw, ok := o.m[name]
	if ok {
		o.used[name] = true
	}
	return raw, ok
}

// Has reports whether the body carries member name.
func (o *Object) Has(name string) bool { _, ok := o.m[name]; return ok }

// Fail records a problem with field (its full name is added).
func (o *Object) Fail(name string, raw json.RawMessage, reason string) {
	o.Errs().Add("Invalid value %s (%s) for field %s (%s)", ShortJSON(raw), JSONKind(raw), o.Field(name), reason)
}

// Finish reports members nobody read as not allowed.
func (o *Object) Finish() {
	var extra []string
	for k := range o.m {
		if !o.used[k] {
			extra = append(extra, o.Field(k))
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		o.Errs().Add("Additional properties not allowed: %s", k)
	}
}

// Pick returns which member to read for a field that has an SDK alias
// (F.3): name, or alias when only it is given. Both may be given when
// they hold the same value (an object read from the API carries both);
// different values are an error and ok is false.
func (o *Object) Pick(name, alias string) (member string, ok bool) {
	rn, hasName := o.m[name]
	ra, hasAlias := o.m[alias]
	switch {
	case hasName && hasAlias:
		o.used[alias] = true
		if !SameJSON(rn, ra) {
			o.used[name] = true
			o.Errs().Add("Fields %s and %s differ; they are the same field (send one)", o.Field(name), o.Field(alias))
			return "", false
		}
		return name, true
	case hasAlias:
		return alias, true
	}
	return name, true
}

func SameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// IgnoreReadOnly accepts and ignores members the API emits but derives
// itself (timestamps, signing_keys), so an object read from the API can be
// sent back; they must still have the emitted type.
func (o *Object) IgnoreReadOnly(kind string, names ...string) {
	for _, name := range names {
		raw, ok := o.Take(name)
		if ok && !IsNull(raw) && JSONKind(raw) != kind {
			o.Fail(name, raw, "read-only; expected "+kind)
		}
	}
}

// ReadOnlyEqual accepts member name only with the value current (ids and
// names a write cannot change); on create, current is "" and any value
// is refused.
func (o *Object) ReadOnlyEqual(name, current string) {
	raw, ok := o.Take(name)
	if !ok {
		return
	}
	var s string
	if current == "" || JSONKind(raw) != "string" || json.Unmarshal(raw, &s) != nil || s != current {
		o.Fail(name, raw, "read-only")
	}
}

// Missing records that a required member is absent.
func (o *Object) Missing(name string) {
	o.Errs().Add("Missing required property: %s", o.Field(name))
}

func IsNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// String reads a string member; null reads as "". ok is false when the
// member is absent or invalid.
func (o *Object) String(name string, dst *string) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	return o.StringValue(name, raw, dst)
}

func (o *Object) StringValue(name string, raw json.RawMessage, dst *string) bool {
	if IsNull(raw) {
		*dst = ""
		return true
	}
	var s string
	if JSONKind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		o.Fail(name, raw, "expected string")
		return false
	}
	*dst = s
	return true
}

// Bool reads a boolean member (null is not a boolean).
func (o *Object) Bool(name string, dst *bool) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		o.Fail(name, raw, "expected boolean")
		return false
	}
	return true
}

// Int reads an integer member within [lo, hi].
func (o *Object) Int(name string, dst *int, lo, hi int) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	n, ok := IntValue(raw)
	if !ok {
		o.Fail(name, raw, "expected integer")
		return false
	}
	if n < int64(lo) || n > int64(hi) {
		o.Fail(name, raw, fmt.Sprintf("must be between %d and %d", lo, hi))
		return false
	}
	*dst = int(n)
	return true
}

// Number reads a number member within [lo, hi].
func (o *Object) Number(name string, dst *float64, lo, hi float64) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	var f float64
	if JSONKind(raw) != "number" || json.Unmarshal(raw, &f) != nil {
		o.Fail(name, raw, "expected number")
		return false
	}
	if f < lo || f > hi || math.IsNaN(f) {
		o.Fail(name, raw, fmt.Sprintf("must be between %g and %g", lo, hi))
		return false
	}
	*dst = f
	return true
}

func IntValue(raw json.RawMessage) (int64, bool) {
	if JSONKind(raw) != "number" {
		return 0, false
	}
	s := string(bytes.TrimSpace(raw))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// Enum reads a string member that must be one of allowed.
func (o *Object) Enum(name string, dst *string, allowed ...string) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	var s string
	if JSONKind(raw) != "string" || json.Unmarshal(raw, &s) != nil || !slices.Contains(allowed, s) {
		o.Fail(name, raw, "allowed: "+strings.Join(allowed, ", "))
		return false
	}
	*dst = s
	return true
}

// Strings reads an array of strings; null reads as nil. check, when set,
// validates each element and returns the value to keep or a reason.
func (o *Object) Strings(name string, dst *[]string, check func(string) (string, string)) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	if IsNull(raw) {
		*dst = nil
		return true
	}
	var elems []json.RawMessage
	if JSONKind(raw) != "array" || json.Unmarshal(raw, &elems) != nil {
		o.Fail(name, raw, "expected array of strings")
		return false
	}
	out := make([]string, 0, len(elems))
	ok := true
	for i, e := range elems {
		var s string
		elem := fmt.Sprintf("%s[%d]", name, i)
		if JSONKind(e) != "string" || json.Unmarshal(e, &s) != nil {
			o.Fail(elem, e, "expected string")
			ok = false
			continue
		}
		if check != nil {
			v, reason := check(s)
			if reason != "" {
				o.Fail(elem, e, reason)
				ok = false
				continue
			}
			s = v
		}
		out = append(out, s)
	}
	if ok {
		*dst = out
	}
	return ok
}

// StringMap reads an object of string values; null reads as nil.
func (o *Object) StringMap(name string, dst *map[string]string) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	if IsNull(raw) {
		*dst = nil
		return true
	}
	var m map[string]json.RawMessage
	if JSONKind(raw) != "object" || json.Unmarshal(raw, &m) != nil {
		o.Fail(name, raw, "expected object of strings")
		return false
	}
	out := make(map[string]string, len(m))
	ok := true
	for k, v := range m {
		var s string
		if JSONKind(v) != "string" || json.Unmarshal(v, &s) != nil {
			o.Fail(name+"."+k, v, "expected string")
			ok = false
			continue
		}
		out[k] = s
	}
	if ok {
		*dst = out
	}
	return ok
}

// Object reads a nested object member. null reads as an empty object with
// isNull set, so callers can reset the field. The caller must call Finish
// on the result.
func (o *Object) Object(name string) (child *Object, wasNull, ok bool) {
	raw, present := o.Take(name)
	if !present {
		return nil, false, false
	}
	return o.ObjectValue(name, raw)
}

func (o *Object) ObjectValue(name string, raw json.RawMessage) (child *Object, wasNull, ok bool) {
	if IsNull(raw) {
		return NewObject(o.Field(name), map[string]json.RawMessage{}, o.errs), true, true
	}
	var m map[string]json.RawMessage
	if JSONKind(raw) != "object" || json.Unmarshal(raw, &m) != nil {
		o.Fail(name, raw, "expected object")
		return nil, false, false
	}
	return NewObject(o.Field(name), m, o.errs), false, true
}

// Objects reads an array of objects; the caller must call Finish on each.
func (o *Object) Objects(name string) (children []*Object, ok bool) {
	raw, present := o.Take(name)
	if !present {
		return nil, false
	}
	if IsNull(raw) {
		return []*Object{}, true
	}
	var elems []json.RawMessage
	if JSONKind(raw) != "array" || json.Unmarshal(raw, &elems) != nil {
		o.Fail(name, raw, "expected array of objects")
		return nil, false
	}
	out := make([]*Object, 0, len(elems))
	ok = true
	for i, e := range elems {
		c, _, cok := o.ObjectValue(fmt.Sprintf("%s[%d]", name, i), e)
		if !cok || IsNull(e) {
			if cok {
				o.Fail(fmt.Sprintf("%s[%d]", name, i), e, "expected object")
			}
			ok = false
			continue
		}
		out = append(out, c)
	}
	return out, ok
}

// JSONKind names raw's JSON type as the messages do.
func JSONKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// ShortJSON renders raw for a message, cut to a readable length.
func ShortJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		buf.Reset()
		buf.Write(bytes.TrimSpace(raw))
	}
	s := buf.String()
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}
