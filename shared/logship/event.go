package logship

import (
	"github.com/authok-edge/authok/shared/jsonenc"

	"net/netip"
	"time"

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
// Empty fields are left out of the JSON.
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

	IP        netip.Addr
	Hostname  []byte
	UserAgent []byte

	// Details are written as the object "details" in the order given.
	Details []Detail
}

// Detail is one string member of an event's details.
type Detail struct {
	Name, Value string
}

// appendJSON appends the C.11 JSON of e, with log_id (and its alias _id)
// id, to dst. It never fails: invalid UTF-8 becomes U+FFFD.
func (e *Event) appendJSON(dst []byte, id []byte, date time.Time) []byte {
	dst = append(dst, `{"log_id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","_id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","date":"`...)
	dst = date.UTC().AppendFormat(dst, model.TimeLayout)
	dst = append(dst, '"')
	dst = appendField(dst, "type", e.Type)
	dst = appendField(dst, "description", e.Description)
	dst = appendField(dst, "client_id", e.ClientID)
	dst = appendField(dst, "client_name", e.ClientName)
	dst = appendField(dst, "audience", e.Audience)
	dst = appendField(dst, "scope", e.Scope)
	dst = appendField(dst, "user_id", e.UserID)
	dst = appendField(dst, "user_name", e.UserName)
	dst = appendField(dst, "connection", e.Connection)
	if e.IP.IsValid() {
		dst = append(dst, `,"ip":"`...)
		dst = e.IP.Unmap().AppendTo(dst)
		dst = append(dst, '"')
	}
	dst = appendField(dst, "hostname", e.Hostname)
	dst = appendField(dst, "user_agent", e.UserAgent)
	if len(e.Details) > 0 {
		dst = append(dst, `,"details":{`...)
		for i, d := range e.Details {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, d.Name)
			dst = append(dst, ':')
			dst = jsonenc.AppendString(dst, d.Value)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// sizeHint is the JSON's length when nothing needs escaping.
func (e *Event) sizeHint() int {
	n := 256 + len(e.Type) + len(e.Description) + len(e.ClientID) + len(e.ClientName) +
		len(e.Audience) + len(e.Scope) + len(e.UserID) + len(e.UserName) + len(e.Connection) +
		len(e.Hostname) + len(e.UserAgent)
	for _, d := range e.Details {
		n += len(d.Name) + len(d.Value) + 6
	}
	return n
}

func appendField[S ~string | ~[]byte](dst []byte, name string, v S) []byte {
	if len(v) == 0 {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return jsonenc.AppendString(dst, v)
}
