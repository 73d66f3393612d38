package mgmtapi

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

// readObject reads a write request's body: application/json (415
// otherwise), at most max bytes (413), one JSON object (400 invalid_body
// otherwise) without duplicate keys at any depth.
func readObject(r *http.Request, max int64) (*object, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	data, err := readLimited(r, max)
	if err != nil {
		return nil, err
	}
	return parseObject(data)
}

// readLimited reads at most max bytes of body (413 beyond).
func readLimited(r *http.Request, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(len(data)) > max {
		return nil, apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge,
			fmt.Sprintf("Request body larger than %d bytes.", max))
	}
	if err != nil {
		return nil, badRequest(codeInvalidBody, "Could not read the request body.")
	}
	return data, nil
}

func checkContentType(ct string) error {
	unsupported := apierror.New(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
		"Content-Type must be application/json.")
	if ct == "" {
		return unsupported
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return apierror.New(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"Content-Type charset must be utf-8.")
	}
	return nil
}

// parseObject checks data is exactly one JSON object with no duplicate
// keys and returns its members.
func parseObject(data []byte) (*object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, badRequest(codeInvalidBody, "The request body is empty; send a JSON object.")
	}
	if !utf8.Valid(data) {
		return nil, badRequest(codeInvalidBody, "The request body is not valid UTF-8.")
	}
	if err := checkDuplicateKeys(data); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, invalidField("Expected type object but found type %s for the request body", jsonKind(bytes.TrimSpace(data)))
	}
	return newObject("", m, &validationError{}), nil
}

// checkDuplicateKeys walks data's tokens: it rejects invalid JSON,
// trailing values and an object key given twice anywhere (encoding/json
// would silently keep the last one).
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkValue(dec, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest(codeInvalidBody, "The request body holds more than one JSON value.")
	}
	return nil
}

func syntaxError(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return badRequest(codeInvalidBody, "The request body is not valid JSON (at byte %d).", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return badRequest(codeInvalidBody, "The request body is not valid JSON (unexpected end).")
	}
	return badRequest(codeInvalidBody, "The request body is not valid JSON (at byte %d).", dec.InputOffset())
}

// maxDepth bounds nesting so a hostile body cannot exhaust the stack.
const maxDepth = 32

func walkValue(dec *json.Decoder, path string) error {
	return walkDepth(dec, path, 0)
}

func walkDepth(dec *json.Decoder, path string, depth int) error {
	if depth > maxDepth {
		return badRequest(codeInvalidBody, "The request body nests deeper than %d levels.", maxDepth)
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
				return invalidField("Duplicate key %s", strconv.Quote(joinPath(path, k)))
			}
			seen[k] = true
			if err := walkDepth(dec, joinPath(path, k), depth+1); err != nil {
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

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// object is one JSON object of a request body, read member by member. Each
// getter records a problem (naming the field) in the shared
// validationError instead of failing, so one response lists them all;
// finish reports the members no getter asked for.
type object struct {
	path string
	m    map[string]json.RawMessage
	used map[string]bool
	errs *validationError
}

func newObject(path string, m map[string]json.RawMessage, errs *validationError) *object {
	return &object{path: path, m: m, used: map[string]bool{}, errs: errs}
}

// field is the full name of member name, for messages.
func (o *object) field(name string) string { return joinPath(o.path, name) }

// take returns member name's raw value and marks it used.
func (o *object) take(name string) (json.RawMessage, bool) {
	raw, ok := o.m[name]
	if ok {
		o.used[name] = true
	}
	return raw, ok
}

// has reports whether the body carries member name.
func (o *object) has(name string) bool { _, ok := o.m[name]; return ok }

// fail records a problem with field (its full name is added).
func (o *object) fail(name string, raw json.RawMessage, reason string) {
	o.errs.add("Invalid value %s (%s) for field %s (%s)", shortJSON(raw), jsonKind(raw), o.field(name), reason)
}

// finish reports members nobody read as not allowed.
func (o *object) finish() {
	var extra []string
	for k := range o.m {
		if !o.used[k] {
			extra = append(extra, o.field(k))
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		o.errs.add("Additional properties not allowed: %s", k)
	}
}

// pick returns which member to read for a field that has an SDK alias
// (F.3): name, or alias when only it is given. Both may be given when
// they hold the same value (an object read from the API carries both);
// different values are an error and ok is false.
func (o *object) pick(name, alias string) (member string, ok bool) {
	rn, hasName := o.m[name]
	ra, hasAlias := o.m[alias]
	switch {
	case hasName && hasAlias:
		o.used[alias] = true
		if !sameJSON(rn, ra) {
			o.used[name] = true
			o.errs.add("Fields %s and %s differ; they are the same field (send one)", o.field(name), o.field(alias))
			return "", false
		}
		return name, true
	case hasAlias:
		return alias, true
	}
	return name, true
}

func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// ignoreReadOnly accepts and ignores members the API emits but derives
// itself (timestamps, signing_keys), so an object read from the API can be
// sent back; they must still have the emitted type.
func (o *object) ignoreReadOnly(kind string, names ...string) {
	for _, name := range names {
		raw, ok := o.take(name)
		if ok && !isNull(raw) && jsonKind(raw) != kind {
			o.fail(name, raw, "read-only; expected "+kind)
		}
	}
}

// readOnlyEqual accepts member name only with the value current (ids and
// names a write cannot change); on create, current is "" and any value
// is refused.
func (o *object) readOnlyEqual(name, current string) {
	raw, ok := o.take(name)
	if !ok {
		return
	}
	var s string
	if current == "" || jsonKind(raw) != "string" || json.Unmarshal(raw, &s) != nil || s != current {
		o.fail(name, raw, "read-only")
	}
}

// missing records that a required member is absent.
func (o *object) missing(name string) {
	o.errs.add("Missing required property: %s", o.field(name))
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// String reads a string member; null reads as "". ok is false when the
// member is absent or invalid.
func (o *object) String(name string, dst *string) bool {
	raw, present := o.take(name)
	if !present {
		return false
	}
	return o.stringValue(name, raw, dst)
}

func (o *object) stringValue(name string, raw json.RawMessage, dst *string) bool {
	if isNull(raw) {
		*dst = ""
		return true
	}
	var s string
	if jsonKind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		o.fail(name, raw, "expected string")
		return false
	}
	*dst = s
	return true
}

// Bool reads a boolean member (null is not a boolean).
func (o *object) Bool(name string, dst *bool) bool {
	raw, present := o.take(name)
	if !present {
		return false
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		o.fail(name, raw, "expected boolean")
		return false
	}
	return true
}

// Int reads an integer member within [lo, hi].
func (o *object) Int(name string, dst *int, lo, hi int) bool {
	raw, present := o.take(name)
	if !present {
		return false
	}
	n, ok := intValue(raw)
	if !ok {
		o.fail(name, raw, "expected integer")
		return false
	}
	if n < int64(lo) || n > int64(hi) {
		o.fail(name, raw, fmt.Sprintf("must be between %d and %d", lo, hi))
		return false
	}
	*dst = int(n)
	return true
}

// Number reads a number member within [lo, hi].
func (o *object) Number(name string, dst *float64, lo, hi float64) bool {
	raw, present := o.take(name)
	if !present {
		return false
	}
	var f float64
	if jsonKind(raw) != "number" || json.Unmarshal(raw, &f) != nil {
		o.fail(name, raw, "expected number")
		return false
	}
	if f < lo || f > hi || math.IsNaN(f) {
		o.fail(name, raw, fmt.Sprintf("must be between %g and %g", lo, hi))
		return false
	}
	*dst = f
	return true
}

func intValue(raw json.RawMessage) (int64, bool) {
	if jsonKind(raw) != "number" {
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
func (o *object) Enum(name string, dst *string, allowed ...string) bool {
	raw, present := o.take(name)
	if !present {
		return false
	}
	var s string
	if jsonKind(raw) != "string" || json.Unmarshal(raw, &s) != nil || !slices.Contains(allowed, s) {
		o.fail(name, raw, "allowed: "+strings.Join(allowed, ", "))
		return false
	}
	*dst = s
	return true
}

// Strings reads an array of strings; null reads as nil. check, when set,
// validates each element and returns the value to keep or a reason.
func (o *object) Strings(name string, dst *[]string, check func(string) (string, string)) bool {
	raw, present := o.take(name)
	if !present {
		return false
	}
	if isNull(raw) {
		*dst = nil
		return true
	}
	var elems []json.RawMessage
	if jsonKind(raw) != "array" || json.Unmarshal(raw, &elems) != nil {
		o.fail(name, raw, "expected array of strings")
		return false
	}
	out := make([]string, 0, len(elems))
	ok := true
	for i, e := range elems {
		var s string
		elem := fmt.Sprintf("%s[%d]", name, i)
		if jsonKind(e) != "string" || json.Unmarshal(e, &s) != nil {
			o.fail(elem, e, "expected string")
			ok = false
			continue
		}
		if check != nil {
			v, reason := check(s)
			if reason != "" {
				o.fail(elem, e, reason)
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
func (o *object) StringMap(name string, dst *map[string]string) bool {
	raw, present := o.take(name)
	if !present {
		return false
	}
	if isNull(raw) {
		*dst = nil
		return true
	}
	var m map[string]json.RawMessage
	if jsonKind(raw) != "object" || json.Unmarshal(raw, &m) != nil {
		o.fail(name, raw, "expected object of strings")
		return false
	}
	out := make(map[string]string, len(m))
	ok := true
	for k, v := range m {
		var s string
		if jsonKind(v) != "string" || json.Unmarshal(v, &s) != nil {
			o.fail(name+"."+k, v, "expected string")
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
// isNull set, so callers can reset the field. The caller must call finish
// on the result.
func (o *object) Object(name string) (child *object, wasNull, ok bool) {
	raw, present := o.take(name)
	if !present {
		return nil, false, false
	}
	return o.objectValue(name, raw)
}

func (o *object) objectValue(name string, raw json.RawMessage) (child *object, wasNull, ok bool) {
	if isNull(raw) {
		return newObject(o.field(name), map[string]json.RawMessage{}, o.errs), true, true
	}
	var m map[string]json.RawMessage
	if jsonKind(raw) != "object" || json.Unmarshal(raw, &m) != nil {
		o.fail(name, raw, "expected object")
		return nil, false, false
	}
	return newObject(o.field(name), m, o.errs), false, true
}

// Objects reads an array of objects; the caller must call finish on each.
func (o *object) Objects(name string) (children []*object, ok bool) {
	raw, present := o.take(name)
	if !present {
		return nil, false
	}
	if isNull(raw) {
		return []*object{}, true
	}
	var elems []json.RawMessage
	if jsonKind(raw) != "array" || json.Unmarshal(raw, &elems) != nil {
		o.fail(name, raw, "expected array of objects")
		return nil, false
	}
	out := make([]*object, 0, len(elems))
	ok = true
	for i, e := range elems {
		c, _, cok := o.objectValue(fmt.Sprintf("%s[%d]", name, i), e)
		if !cok || isNull(e) {
			if cok {
				o.fail(fmt.Sprintf("%s[%d]", name, i), e, "expected object")
			}
			ok = false
			continue
		}
		out = append(out, c)
	}
	return out, ok
}

// jsonKind names raw's JSON type as the messages do.
func jsonKind(raw []byte) string {
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

// shortJSON renders raw for a message, cut to a readable length.
func shortJSON(raw []byte) string {
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
