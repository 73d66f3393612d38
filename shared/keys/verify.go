package keys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// VerifyLeeway is the clock skew Verify tolerates on exp, nbf and iat.
const VerifyLeeway = 30 * time.Second

// MaxTokenSize bounds the tokens Verify reads.
const MaxTokenSize = 16 << 10

// Verify checks a compact JWS token that tenant issued and returns its
// claims (decoded with encoding/json: numbers are float64). The key is
// chosen by the header's kid among Published keys only; the algorithm is
// the key's own, and a header naming any other alg (HS256, none, ...) is
// rejected, so the header never chooses how the signature is checked. The
// header's typ must be at+jwt (RFC 9068 §4, see isAccessTokenTyp): the
// same keys may sign other JWTs (ID tokens), which are not access tokens.
// iss must equal issuer exactly, aud must contain one of audiences, exp
// must be present and, like nbf and iat, hold within VerifyLeeway of the
// Manager's clock. Every failure wraps ErrInvalid (ErrNotFound for a
// tenant without that kid is also ErrInvalid here: the token is bad).
func (m *Manager) Verify(tenant, token string, issuer string, audiences []string) (map[string]any, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: token of %d bytes exceeds %d", ErrInvalid, len(token), MaxTokenSize)
	}
	if strings.Count(token, ".") != 2 {
		return nil, fmt.Errorf("%w: token is not a compact JWS", ErrInvalid)
	}
	msg, err := jws.ParseString(token)
	if err != nil {
		return nil, fmt.Errorf("%w: token does not parse: %v", ErrInvalid, err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, fmt.Errorf("%w: token has %d signatures", ErrInvalid, len(sigs))
	}
	hdr := sigs[0].ProtectedHeaders()
	if typ := hdr.Type(); !isAccessTokenTyp(typ) {
		return nil, fmt.Errorf("%w: token header typ %q is not at+jwt (RFC 9068 §4)", ErrInvalid, typ)
	}
	kid := hdr.KeyID()
	if kid == "" {
		return nil, fmt.Errorf("%w: token header has no kid", ErrInvalid)
	}
	e, err := m.entryFor(tenant)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(e.view.published, func(k Key) bool { return k.KID == kid })
	if i < 0 {
		return nil, fmt.Errorf("%w: kid %q is not a published key of tenant %q", ErrInvalid, kid, tenant)
	}
	k := e.view.published[i]
	alg := jwa.SignatureAlgorithm(k.Alg)
	if hdr.Algorithm() != alg {
		return nil, fmt.Errorf("%w: token header alg %q, but key %q is %s", ErrInvalid, hdr.Algorithm(), kid, k.Alg)
	}
	if _, err := jwt.ParseString(token,
		jwt.WithKey(alg, k.Public),
		jwt.WithValidate(true),
		jwt.WithIssuer(issuer),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithAcceptableSkew(VerifyLeeway),
		jwt.WithClock(jwt.ClockFunc(m.now)),
	); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(msg.Payload()))
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalid, err)
	}
	if !audienceMatches(claims["aud"], audiences) {
		return nil, fmt.Errorf("%w: token audience %v is none of %q", ErrInvalid, claims["aud"], audiences)
	}
	return claims, nil
}

// isAccessTokenTyp reports whether typ names a JWT access token: "at+jwt"
// or its full media type "application/at+jwt" (RFC 9068 §4, RFC 7515
// §4.1.9), compared case-insensitively as media types are.
func isAccessTokenTyp(typ string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, "at+jwt")
}

// audienceMatches reports whether aud (a string or an array of strings)
// contains one of accepted.
func audienceMatches(aud any, accepted []string) bool {
	switch a := aud.(type) {
	case string:
		return slices.Contains(accepted, a)
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && slices.Contains(accepted, s) {
				return true
			}
		}
	}
	return false
}
