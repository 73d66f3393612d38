package token

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/oauth2"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
)

// AssertionTypeJWTBearer is the client_assertion_type of RFC 7523 §2.2.
const AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const (
	maxAssertionBytes = 16 << 10
	maxJTIBytes       = 256
)

// assertionClaims are the claims RFC 7523 §3 requires of a client
// assertion.
type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud audience        `json:"aud"`
	Exp json.RawMessage `json:"exp"`
	Nbf json.RawMessage `json:"nbf"`
	Iat json.RawMessage `json:"iat"`
	Jti string          `json:"jti"`
}

// audience is a JWT aud: one string or an array of them.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

// numericDate reads a JWT NumericDate (seconds, possibly fractional);
// ok is false when absent, malformed or out of range.
func numericDate(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return 0, false
	}
	return int64(f), true
}

// authAssertion is private_key_jwt: the client authenticates with a JWT
// signed by one of the keys it registered (RFC 7523 §2.2, §3; OpenID
// Connect Core §9). Checked, in order: the assertion type; the header's
// alg is asymmetric (none and HS* are refused: an HMAC key would be the
// client secret, which private_key_jwt clients need not have); iss = sub =
// the client, which must be registered for private_key_jwt; the signature,
// with the alg pinned to the key (the key's own alg, or the family its
// type allows); exp present, not past, at most MaxAssertionLifetime ahead;
// nbf and iat not in the future; aud naming this token endpoint or the
// issuer; a jti, recorded in the store until exp with an Absent
// precondition, so a replay fails (RFC 7523 §3 item 7).
func (h *Handler) authAssertion(r *request, bodyID, assertionType, assertion []byte) *oauth2.Error {
	if assertion == nil || assertionType == nil {
		return oauth2.ErrInvalidRequest.With("client_assertion and client_assertion_type go together")
	}
	if string(assertionType) != AssertionTypeJWTBearer {
		return oauth2.ErrInvalidClient.Withf("client_assertion_type must be %s", AssertionTypeJWTBearer)
	}
	if len(assertion) > maxAssertionBytes {
		return oauth2.ErrInvalidClient.With("client_assertion is too large")
	}
	msg, err := jws.Parse(assertion, jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return oauth2.ErrInvalidClient.With("client_assertion is not a compact JWS")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	alg := hdr.Algorithm()
	switch alg {
	case jwa.HS256, jwa.HS384, jwa.HS512:
		return oauth2.ErrInvalidClient.Withf("client_assertion alg %s: client_secret_jwt is not implemented yet; private_key_jwt assertions use an asymmetric alg", alg.String())
	}
	if !asymmetric(alg) {
		return oauth2.ErrInvalidClient.Withf("client_assertion alg %q is not accepted (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA)", alg.String())
	}
	var claims assertionClaims
	if err := json.Unmarshal(msg.Payload(), &claims); err != nil {
		return oauth2.ErrInvalidClient.With("client_assertion claims are not a JSON object of the expected types")
	}
	if claims.Iss == "" || claims.Iss != claims.Sub {
		return oauth2.ErrInvalidClient.With("client_assertion iss and sub must both be the client_id (RFC 7523 §3)")
	}
	if bodyID != nil && string(bodyID) != claims.Iss {
		return oauth2.ErrInvalidClient.With("client_id does not match the client_assertion's iss")
	}
	c, oerr := h.lookupClient(r, claims.Iss)
	if oerr != nil {
		return oerr
	}
	if oerr := checkMethod(c, model.AuthMethodPrivateKeyJWT); oerr != nil {
		return oerr
	}
	if c.Keys == nil {
		if c.KeysErr != nil {
			h.cfg.Logger.Warn("token: a private_key_jwt client's jwks does not parse", "tenant", r.tenant.Name, "client_id", c.ClientID, "err", c.KeysErr)
		}
		return authFailed("the client has no registered keys (jwks)")
	}
	if !verifyWithClientKeys(c, assertion, alg, hdr.KeyID()) {
		return authFailed("client_assertion signature does not verify with the client's registered keys")
	}

	// Claims, now that they are the client's (RFC 7523 §3).
	now := r.now
	skew := h.cfg.ClockSkew
	exp, ok := numericDate(claims.Exp)
	switch {
	case !ok:
		return oauth2.ErrInvalidClient.With("client_assertion exp is required")
	case !now.Before(time.Unix(exp, 0).Add(skew)):
		return oauth2.ErrInvalidClient.With("client_assertion has expired")
	case time.Unix(exp, 0).After(now.Add(h.cfg.MaxAssertionLifetime + skew)):
		return oauth2.ErrInvalidClient.Withf("client_assertion exp is more than %s ahead", h.cfg.MaxAssertionLifetime)
	}
	if nbf, ok := numericDate(claims.Nbf); ok && time.Unix(nbf, 0).After(now.Add(skew)) {
		return oauth2.ErrInvalidClient.With("client_assertion is not valid yet (nbf)")
	}
	if iat, ok := numericDate(claims.Iat); ok && time.Unix(iat, 0).After(now.Add(skew)) {
		return oauth2.ErrInvalidClient.With("client_assertion was issued in the future (iat)")
	}
	if !audienceNamesUs(claims.Aud, r.tenant.Internal.Issuer) {
		return oauth2.ErrInvalidClient.With("client_assertion aud must be this token endpoint (" + r.tenant.Internal.Issuer + "oauth/token)")
	}
	if claims.Jti == "" || len(claims.Jti) > maxJTIBytes {
		return oauth2.ErrInvalidClient.Withf("client_assertion jti is required (at most %d bytes)", maxJTIBytes)
	}

	// Single use: the first request to record the jti wins.
	key := repo.ClientAssertionKey(r.tenant.Name, c.ClientID, claims.Jti)
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
	defer cancel()
	_, err = h.cfg.Store.Apply(ctx, store.Txn{
		Conds: []store.Cond{store.Absent(key)},
		Ops:   []store.Op{store.PutExpiring(key, []byte{}, time.Unix(exp, 0).Add(skew))},
		Now:   now,
	})
	if store.IsConflict(err) {
		return oauth2.ErrInvalidClient.With("client_assertion was already used (jti replay)")
	}
	if err != nil {
		h.cfg.Logger.Error("token: record client assertion", "tenant", r.tenant.Name, "client_id", c.ClientID, "err", err)
		return oauth2.ErrTemporarilyUnavailable.With("the client assertion could not be recorded; retry")
	}
	r.client = c
	return nil
}

// asymmetric reports whether alg is a signature algorithm a client key may
// use: never none, never an HMAC.
func asymmetric(alg jwa.SignatureAlgorithm) bool {
	switch alg {
	case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512,
		jwa.ES256, jwa.ES384, jwa.ES512, jwa.EdDSA:
		return true
	}
	return false
}

// verifyWithClientKeys verifies assertion against the client's keys that
// may sign with alg (and carry kid, when the header names one).
func verifyWithClientKeys(c *directory.Client, assertion []byte, alg jwa.SignatureAlgorithm, kid string) bool {
	for i := 0; i < c.Keys.Len(); i++ {
		k, ok := c.Keys.Key(i)
		if !ok {
			continue
		}
		if kid != "" && k.KeyID() != kid {
			continue
		}
		if !keyAllows(k, alg) {
			continue
		}
		if _, err := jws.Verify(assertion, jws.WithKey(alg, k)); err == nil {
			return true
		}
	}
	return false
}

// keyAllows pins the algorithm to the key: the key's own "alg" when it
// names one, otherwise the algorithms its type and curve allow. Symmetric
// keys and keys for encryption never verify an assertion.
func keyAllows(k jwk.Key, alg jwa.SignatureAlgorithm) bool {
	if u := k.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
		return false
	}
	if a := k.Algorithm(); a != nil && a.String() != "" {
		return a.String() == alg.String()
	}
	switch k.KeyType() {
	case jwa.RSA:
		switch alg {
		case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
			return true
		}
	case jwa.EC:
		c, ok := k.(curved)
		return ok && curveAlg(c.Crv()) == alg
	case jwa.OKP:
		c, ok := k.(curved)
		return ok && c.Crv() == jwa.Ed25519 && alg == jwa.EdDSA
	}
	return false
}

// curved is an EC or OKP key, public or private.
type curved interface {
	Crv() jwa.EllipticCurveAlgorithm
}

func curveAlg(crv jwa.EllipticCurveAlgorithm) jwa.SignatureAlgorithm {
	switch crv {
	case jwa.P256:
		return jwa.ES256
	case jwa.P384:
		return jwa.ES384
	case jwa.P521:
		return jwa.ES512
	}
	return ""
}

// audienceNamesUs reports whether aud names this tenant's token endpoint
// or its issuer (RFC 7523 §3 item 3; OpenID Connect Core §9 says the token
// endpoint URL, and many clients send the issuer).
func audienceNamesUs(aud audience, issuer string) bool {
	for _, a := range aud {
		if a == issuer || a == issuer+"oauth/token" {
			return true
		}
		// The issuer without its trailing slash.
		if len(issuer) > 0 && a == issuer[:len(issuer)-1] {
			return true
		}
	}
	return false
}
