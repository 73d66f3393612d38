package mgmtapi

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/authok-edge/authok/shared/model"
)

// Limits of a client's inline key set.
const (
	maxJWKSKeys    = 10
	minRSAKeyBits  = 2048
	maxJWKSKeySize = 16 << 10
)

// jwksAlgs are the JWS algorithms a client assertion may be signed with.
var jwksAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// readJWKS reads a client's jwks member: an RFC 7517 key set of public
// signature keys (RSA ≥ 2048 bits, EC P-256/P-384/P-521, OKP Ed25519).
// Private or symmetric keys, key use other than "sig", unknown alg values
// and repeated kids are refused. null clears the set. Each key is stored
// compacted, verbatim otherwise.
func readJWKS(o *rest.Object, name string, dst **model.JWKS) bool {
	set, wasNull, ok := o.Object(name)
	if !ok {
		return false
	}
	if wasNull {
		*dst = nil
		return true
	}
	defer set.Finish()
	raw, present := set.Take("keys")
	if !present {
		set.Missing("keys")
		return false
	}
	var keys []json.RawMessage
	if rest.JSONKind(raw) != "array" || json.Unmarshal(raw, &keys) != nil {
		set.Fail("keys", raw, "expected array of JSON Web Keys")
		return false
	}
	if len(keys) == 0 || len(keys) > maxJWKSKeys {
		set.Fail("keys", raw, fmt.Sprintf("must hold 1 to %d keys", maxJWKSKeys))
		return false
	}
	out := &model.JWKS{Keys: make([]json.RawMessage, 0, len(keys))}
	var kids []string
	ok = true
	for i, k := range keys {
		field := fmt.Sprintf("keys[%d]", i)
		kid, reason := checkJWK(k)
		if reason != "" {
			set.Fail(field, k, reason)
			ok = false
			continue
		}
		if kid != "" {
			if slices.Contains(kids, kid) {
				set.Fail(field, k, fmt.Sprintf("kid %q is used by another key", kid))
				ok = false
				continue
			}
			kids = append(kids, kid)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, k); err != nil {
			set.Fail(field, k, "expected a JSON Web Key")
			ok = false
			continue
		}
		out.Keys = append(out.Keys, buf.Bytes())
	}
	if ok {
		*dst = out
	}
	return ok
}

// checkJWK validates one key and returns its kid, or a reason.
func checkJWK(raw json.RawMessage) (kid, reason string) {
	if rest.JSONKind(raw) != "object" {
		return "", "expected a JSON Web Key object"
	}
	if len(raw) > maxJWKSKeySize {
		return "", "key too large"
	}
	key, err := jwk.ParseKey(raw)
	if err != nil {
		return "", "not a valid JSON Web Key"
	}
	switch k := key.(type) {
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey, jwk.SymmetricKey:
		return "", "must be a public key (private and symmetric keys are refused)"
	case jwk.RSAPublicKey:
		var pub rsa.PublicKey
		if err := k.Raw(&pub); err != nil || pub.N == nil || pub.N.BitLen() < minRSAKeyBits {
			return "", fmt.Sprintf("RSA keys must have at least %d bits", minRSAKeyBits)
		}
	case jwk.ECDSAPublicKey:
		switch k.Crv() {
		case jwa.P256, jwa.P384, jwa.P521:
		default:
			return "", "EC keys must use P-256, P-384 or P-521"
		}
	case jwk.OKPPublicKey:
		if k.Crv() != jwa.Ed25519 {
			return "", "OKP keys must use Ed25519"
		}
	default:
		return "", "unsupported key type"
	}
	if err := key.Validate(); err != nil {
		return "", "not a valid public key"
	}
	if u := key.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
		return "", `use must be "sig"`
	}
	if alg := key.Algorithm().String(); alg != "" && !slices.Contains(jwksAlgs, alg) {
		return "", "alg must be one of " + strings.Join(jwksAlgs, ", ")
	}
	return key.KeyID(), ""
}
