package logship

import (
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/authok-edge/authok/shared/jsonenc"
	"github.com/authok-edge/authok/shared/model"
)

// Log event types (API.md C.11, Authok's long names). Only the ones this
// build records are listed.
const (
	TypeExchangeSuccess = "exchange_success" // Auth0 seacft / seccft
	TypeExchangeFailed  = "exchange_failed"  // Auth0 feacft / feccft
)

// Event is one log event. Record encodes it at once and keeps nothing of
// it: the byte slices may be reused (fasthttp's) as soon as Record returns.
// Empty fields are left out of the JSON. Every string is cut to its limit
// below (see appendLimited), so callers may pass what a client sent as is.
type Event struct {
	// Tenant decides the key the event is stored under; it is not part of
	// the JSON.
	Tenant string
	// Date is when it happened; Record's clock when zero.
	Date        time.Time
	Type        string
	Description string

	ClientID   string
	ClientName string
	Audience   string
	Scope      string
	UserID     string
	UserName   string
	Connection string

	// IP is written without its IPv6 zone, if any.
	IP        netip.Addr
	Hostname  []byte
	UserAgent []byte

	// Details are written as the object "details" in the order given; the
	// first MaxDetails of them.
	Details []Detail

	// Aggregate, when not empty, is the event's aggregation key: of the
	// events of one tenant, Type and Aggregate within one window
	// (Config.AggregateWindow), the first is recorded and the others
	// only counted, into one summary event at the window's end (doc.go,
	// "Aggregation"). For events nobody can be held to, such as failures
	// of unknown clients, which anyone can cause in any number. It is
	// not part of the JSON but as the summary's aggregated_key detail.
	Aggregate string
}

// Detail is one string member of an event's details.
type Detail struct {
	Name, Value string
}

// Limits of an event's fields, in bytes of its JSON string between the
// quotes, that is after escaping: an invalid UTF-8 byte counts 6 (\ufffd),
// a control character 2 or 6, a quote 2. Record cuts a longer value on a
// character boundary (see appendLimited); a reader cannot tell a cut value
// from a short one. A client controls many of these fields before it is
// authenticated (client_id, user_agent, hostname): without the limits one
// request could make the ring hold a 200 KB event.
const (
	// MaxFieldBytes bounds type, client_id, client_name, audience,
	// user_id, user_name, connection, hostname and each detail's name.
	MaxFieldBytes = 256
	// MaxTextBytes bounds description, user_agent and each detail's value.
	MaxTextBytes = 512
	// MaxScopeBytes bounds scope: granted scopes run longer than an id
	// (a client granted dozens of them is cut).
	MaxScopeBytes = 1024
	// MaxDetails is how many details an event keeps; the rest are left out.
	MaxDetails = 16
)

// Lengths of the fixed parts of an event's JSON.
const (
	// jsonHead is {"log_id":"<id>","id":"<id>","_id":"<id>","date":"<date>"
	// and the closing brace, for a date of at most maxDateLen bytes.
	jsonHead = len(`{"log_id":"","id":"","_id":"","date":""}`) + 3*IDLength + maxDateLen
	// maxDateLen is a date in model.TimeLayout with a year of up to 12
	// digits and a sign, the widest time.Time formats (24 for 4 digits).
	maxDateLen = len(model.TimeLayout) + 9
	// maxIPLen is ,"ip":"<IPv6 without zone>" (39 bytes at most).
	maxIPLen = len(`,"ip":""`) + len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
	// fieldOverhead is the ,"":"" of a member but for its name.
	fieldOverhead = len(`,"":""`)
	// detailsOverhead is ,"details":{} and detailOverhead one detail's
	// "":"" (and the comma before all but the first).
	detailsOverhead = len(`,"details":{}`)
	detailOverhead  = len(`"":""`)
)

// MaxEventBytes bounds the JSON of one event, whatever Record is given:
// each string member is at most its limit (escaping counted), the other
// members have fixed or bounded widths. The ring's byte bound
// (Config.MaxBytes) must hold at least one such event.
const MaxEventBytes = jsonHead +
	len(`,"type":""`) + MaxFieldBytes +
	len(`,"description":""`) + MaxTextBytes +
	len(`,"client_id":""`) + MaxFieldBytes +
	len(`,"client_name":""`) + MaxFieldBytes +
	len(`,"audience":""`) + MaxFieldBytes +
	len(`,"scope":""`) + MaxScopeBytes +
	len(`,"user_id":""`) + MaxFieldBytes +
	len(`,"user_name":""`) + MaxFieldBytes +
	len(`,"connection":""`) + MaxFieldBytes +
	maxIPLen +
	len(`,"hostname":""`) + MaxFieldBytes +
	len(`,"user_agent":""`) + MaxTextBytes +
	detailsOverhead + MaxDetails*(detailOverhead+MaxFieldBytes+MaxTextBytes) + MaxDetails - 1

// appendJSON appends the C.11 JSON of e, with id as log_id and its
// aliases id and _id (API.md F.3: Authok's key and the SDK's), to dst. It
// never fails: invalid UTF-8 becomes U+FFFD, and every string is cut to
// its limit, so the result is at most MaxEventBytes long.
func (e *Event) appendJSON(dst []byte, id []byte, date time.Time) []byte {
	dst = append(dst, `{"log_id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","_id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","date":"`...)
	dst = date.UTC().AppendFormat(dst, model.TimeLayout)
	dst = append(dst, '"')
	dst = appendField(dst, "type", e.Type, MaxFieldBytes)
	dst = appendField(dst, "description", e.Description, MaxTextBytes)
	dst = appendField(dst, "client_id", e.ClientID, MaxFieldBytes)
	dst = appendField(dst, "client_name", e.ClientName, MaxFieldBytes)
	dst = appendField(dst, "audience", e.Audience, MaxFieldBytes)
	dst = appendField(dst, "scope", e.Scope, MaxScopeBytes)
	dst = appendField(dst, "user_id", e.UserID, MaxFieldBytes)
	dst = appendField(dst, "user_name", e.UserName, MaxFieldBytes)
	dst = appendField(dst, "connection", e.Connection, MaxFieldBytes)
	if e.IP.IsValid() {
		dst = append(dst, `,"ip":"`...)
		// A zone is any string (netip.ParseAddr takes "fe80::1%<anything>",
		// quotes included) and means nothing off the host: left out.
		dst = e.IP.Unmap().WithZone("").AppendTo(dst)
		dst = append(dst, '"')
	}
	dst = appendField(dst, "hostname", e.Hostname, MaxFieldBytes)
	dst = appendField(dst, "user_agent", e.UserAgent, MaxTextBytes)
	if len(e.Details) > 0 {
		dst = append(dst, `,"details":{`...)
		for i, d := range e.Details[:min(len(e.Details), MaxDetails)] {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendLimited(dst, d.Name, MaxFieldBytes)
			dst = append(dst, ':')
			dst = appendLimited(dst, d.Value, MaxTextBytes)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// sizeHint is about the JSON's length when nothing needs escaping and the
// date's year has four digits (and at most MaxEventBytes), so the common
// event is encoded in one allocation of about its size.
func (e *Event) sizeHint() int {
	n := jsonHead - maxDateLen + len(model.TimeLayout) + fieldHint("type", e.Type, MaxFieldBytes) +
		fieldHint("description", e.Description, MaxTextBytes) +
		fieldHint("client_id", e.ClientID, MaxFieldBytes) + fieldHint("client_name", e.ClientName, MaxFieldBytes) +
		fieldHint("audience", e.Audience, MaxFieldBytes) + fieldHint("scope", e.Scope, MaxScopeBytes) +
		fieldHint("user_id", e.UserID, MaxFieldBytes) + fieldHint("user_name", e.UserName, MaxFieldBytes) +
		fieldHint("connection", e.Connection, MaxFieldBytes) + fieldHint("hostname", e.Hostname, MaxFieldBytes) +
		fieldHint("user_agent", e.UserAgent, MaxTextBytes)
	if e.IP.IsValid() {
		n += maxIPLen
	}
	if len(e.Details) > 0 {
		n += detailsOverhead
		for _, d := range e.Details[:min(len(e.Details), MaxDetails)] {
			n += detailOverhead + 1 + min(len(d.Name), MaxFieldBytes) + min(len(d.Value), MaxTextBytes)
		}
	}
	return n
}

func fieldHint[S ~string | ~[]byte](name string, v S, limit int) int {
	if len(v) == 0 {
		return 0
	}
	return len(name) + fieldOverhead + min(len(v), limit)
}

func appendField[S ~string | ~[]byte](dst []byte, name string, v S, limit int) []byte {
	if len(v) == 0 {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendLimited(dst, v, limit)
}

// maxEscape is the most bytes jsonenc.AppendString writes for one byte of
// its input: \u00XX for a control character, \ufffd for an invalid byte.
const maxEscape = 6

// appendLimited appends v as a JSON string of at most limit bytes between
// its quotes: the longest prefix of v that fits, cut between characters
// (an invalid byte is a character of its own, as jsonenc treats it). The
// cut is made on v, before escaping, by counting what each character
// escapes to (escapedLen), so the bound holds however hostile v is and
// the output is still exactly jsonenc's, valid JSON and valid UTF-8. A
// value of at most limit/maxEscape bytes cannot exceed limit and is not
// scanned twice.
func appendLimited[S ~string | ~[]byte](dst []byte, v S, limit int) []byte {
	if len(v) > limit/maxEscape {
		v = v[:fitPrefix(v, limit)]
	}
	return jsonenc.AppendString(dst, v)
}

// fitPrefix is the length of the longest prefix of v, ending between
// characters, that jsonenc.AppendString escapes to at most limit bytes.
func fitPrefix[S ~string | ~[]byte](v S, limit int) int {
	n := 0 // escaped bytes so far
	for i := 0; i < len(v); {
		w, size := escapedLen(v, i)
		if n+w > limit {
			return i
		}
		n += w
		i += size
	}
	return len(v)
}

// escapedLen is how many bytes jsonenc.AppendString writes for the
// character at v[i], and how many bytes of v it takes. It mirrors
// jsonenc's rules exactly (TestAppendLimited checks it).
func escapedLen[S ~string | ~[]byte](v S, i int) (w, size int) {
	b := v[i]
	if b < utf8.RuneSelf {
		switch {
		case b >= 0x20 && b != '"' && b != '\\':
			return 1, 1
		case b == '"', b == '\\', b == '\n', b == '\r', b == '\t', b == '\b', b == '\f':
			return 2, 1
		default:
			return maxEscape, 1
		}
	}
	r, size := utf8.DecodeRune([]byte(v[i:min(i+utf8.UTFMax, len(v))]))
	if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
		return maxEscape, size
	}
	return size, size
}
