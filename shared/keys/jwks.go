package keys

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// RenderJWKS renders keys (normally Published) as a JSON Web Key Set (RFC
// 7517): {"keys":[{kty, use:"sig", alg, kid, n,e | crv,x,y | crv,x, x5c,
// x5t}]}. The kid is the key's own kid (the one in token headers and in
// /keys/signing, API.md F.4); x5c holds its certificate and x5t the
// certificate's SHA-1 thumbprint (base64url). The order is deterministic:
// current, next, previous, each in tokens.Algs order. The output is the
// same for the same keys, so callers can pre-render it and swap it when
// the keys change.
func RenderJWKS(keys []Key) ([]byte, error) {
	sorted := slices.Clone(keys)
	sortPublished(sorted)
	set := jwk.NewSet()
	for _, k := range sorted {
		jk, err := jwkOf(k)
		if err != nil {
			return nil, err
		}
		if err := set.AddKey(jk); err != nil {
			return nil, fmt.Errorf("keys: jwks: %w", err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("keys: jwks: %w", err)
	}
	return b, nil
}

// jwkOf is k's public JWK.
func jwkOf(k Key) (jwk.Key, error) {
	if k.Public == nil {
		return nil, fmt.Errorf("keys: jwks: signing key %q has no public key", k.KID)
	}
	if err := checkPublic(k.Alg, k.Public); err != nil {
		return nil, fmt.Errorf("keys: jwks: signing key %q: %w", k.KID, err)
	}
	jk, err := jwk.FromRaw(k.Public)
	if err != nil {
		return nil, fmt.Errorf("keys: jwks: signing key %q: %w", k.KID, err)
	}
	der, err := certDER(k.Cert)
	if err != nil {
		return nil, fmt.Errorf("keys: jwks: signing key %q: %w", k.KID, err)
	}
	var chain cert.Chain
	if err := chain.Add([]byte(base64.StdEncoding.EncodeToString(der))); err != nil {
		return nil, fmt.Errorf("keys: jwks: signing key %q: %w", k.KID, err)
	}
	sum := sha1.Sum(der)
	for _, f := range []struct {
		name  string
		value any
	}{
		{jwk.KeyIDKey, k.KID},
		{jwk.AlgorithmKey, jwa.SignatureAlgorithm(k.Alg)},
		{jwk.KeyUsageKey, jwk.ForSignature},
		{jwk.X509CertChainKey, &chain},
		{jwk.X509CertThumbprintKey, base64.RawURLEncoding.EncodeToString(sum[:])},
	} {
		if err := jk.Set(f.name, f.value); err != nil {
			return nil, fmt.Errorf("keys: jwks: signing key %q: %s: %w", k.KID, f.name, err)
		}
	}
	return jk, nil
}
