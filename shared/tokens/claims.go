package tokens

import (
	"github.com/authok-edge/authok/shared/jsonenc"

	"crypto/rand"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
)

// AccessClaims are the claims of an access token (API.md E.1).
type AccessClaims struct {
	Issuer    string   // iss: https://{host}/
	Subject   string   // sub: user_id, or the client_id for client_credentials
	Audience  []string // aud: a string when one, an array when several
	ClientID  string   // client_id, and azp
	Scope     string   // scope, space-separated
	GrantType string   // gty: client-credentials, password, ...
	JTI       string   // jti
	IssuedAt  int64    // iat, NumericDate seconds
	ExpiresAt int64    // exp, NumericDate seconds

	// Extra holds custom claims (Actions' SetCustomClaim, org_id,
	// permissions). It is nil on the hot path. Keys are written in sorted
	// order after the registered claims; a key that names a claim written
	// above (iss, sub, aud, iat, exp, jti, client_id, azp, scope, gty) is
	// ignored, so custom claims cannot override them. Values are encoded
	// with encoding/json; a value it cannot encode is left out.
	Extra map[string]any
}

// reserved are the claims AppendJSON writes from the struct's fields.
var reserved = map[string]bool{
	"iss": true, "sub": true, "aud": true, "iat": true, "exp": true,
	"jti": true, "client_id": true, "azp": true, "scope": true, "gty": true,
}

// AppendJSON appends c as a JSON object to dst, in the order iss, sub, aud,
// iat, exp, jti, client_id, azp, scope, gty, then Extra. iss, sub, iat and
// exp are always written; aud when there is one, jti, client_id/azp,
// scope and gty when not empty. Strings are escaped as encoding/json does
// (invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 are escaped) except
// that <, > and & are kept as they are.
func (c *AccessClaims) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"iss":`...)
	dst = jsonenc.AppendString(dst, c.Issuer)
	dst = append(dst, `,"sub":`...)
	dst = jsonenc.AppendString(dst, c.Subject)
	switch len(c.Audience) {
	case 0:
	case 1:
		dst = append(dst, `,"aud":`...)
		dst = jsonenc.AppendString(dst, c.Audience[0])
	default:
		dst = append(dst, `,"aud":[`...)
		for i, a := range c.Audience {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, a)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, c.IssuedAt, 10)
	dst = append(dst, `,"exp":`...)
	dst = strconv.AppendInt(dst, c.ExpiresAt, 10)
	if c.JTI != "" {
		dst = append(dst, `,"jti":`...)
		dst = jsonenc.AppendString(dst, c.JTI)
	}
	if c.ClientID != "" {
		dst = append(dst, `,"client_id":`...)
		dst = jsonenc.AppendString(dst, c.ClientID)
		dst = append(dst, `,"azp":`...)
		dst = jsonenc.AppendString(dst, c.ClientID)
	}
	if c.Scope != "" {
		dst = append(dst, `,"scope":`...)
		dst = jsonenc.AppendString(dst, c.Scope)
	}
	if c.GrantType != "" {
		dst = append(dst, `,"gty":`...)
		dst = jsonenc.AppendString(dst, c.GrantType)
	}
	if len(c.Extra) > 0 {
		dst = appendExtra(dst, c.Extra)
	}
	return append(dst, '}')
}

// appendExtra writes the custom claims, sorted by name. It is off the hot
// path and uses encoding/json for the values.
func appendExtra(dst []byte, extra map[string]any) []byte {
	names := make([]string, 0, len(extra))
	for k := range extra {
		if !reserved[k] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		v, err := json.Marshal(extra[k])
		if err != nil {
			continue
		}
		dst = append(dst, ',')
		dst = jsonenc.AppendString(dst, k)
		dst = append(dst, ':')
		dst = append(dst, v...)
	}
	return dst
}

// JTILength is the length of the ids NewJTI appends.
const JTILength = 22

// NewJTI appends a random token id to dst: 16 bytes from crypto/rand,
// base64url without padding (22 characters).
func NewJTI(dst []byte) []byte {
	// Pooled: a local array would escape to the heap under
	// GOEXPERIMENT=boringcrypto, whose rand.Read goes through an io.Reader.
	b := jtiRandom.Get().(*[16]byte)
	rand.Read(b[:]) // never fails (crypto/rand.Read crashes the program instead)
	dst = b64.AppendEncode(dst, b[:])
	jtiRandom.Put(b)
	return dst
}

var jtiRandom = sync.Pool{New: func() any { return new([16]byte) }}
