package tokens

import (
	"crypto/rand"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
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
	dst = appendString(dst, c.Issuer)
	dst = append(dst, `,"sub":`...)
	dst = appendString(dst, c.Subject)
	switch len(c.Audience) {
	case 0:
	case 1:
		dst = append(dst, `,"aud":`...)
		dst = appendString(dst, c.Audience[0])
	default:
		dst = append(dst, `,"aud":[`...)
		for i, a := range c.Audience {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, a)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, c.IssuedAt, 10)
	dst = append(dst, `,"exp":`...)
	dst = strconv.AppendInt(dst, c.ExpiresAt, 10)
	if c.JTI != "" {
		dst = append(dst, `,"jti":`...)
		dst = appendString(dst, c.JTI)
	}
	if c.ClientID != "" {
		dst = append(dst, `,"client_id":`...)
		dst = appendString(dst, c.ClientID)
		dst = append(dst, `,"azp":`...)
		dst = appendString(dst, c.ClientID)
	}
	if c.Scope != "" {
		dst = append(dst, `,"scope":`...)
		dst = appendString(dst, c.Scope)
	}
	if c.GrantType != "" {
		dst = append(dst, `,"gty":`...)
		dst = appendString(dst, c.GrantType)
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
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = append(dst, v...)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// JTILength is the length of the ids NewJTI appends.
const JTILength = 22

// NewJTI appends a random token id to dst: 16 bytes from crypto/rand,
// base64url without padding (22 characters).
func NewJTI(dst []byte) []byte {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand.Read crashes the program instead)
	return b64.AppendEncode(dst, b[:])
}
