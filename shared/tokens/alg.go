package tokens

import "fmt"

// Alg is a JWS signing algorithm (RFC 7518 section 3.1) that a tenant's keys
// support.
type Alg string

// The supported algorithms. A key generation holds one key for each.
const (
	RS256 Alg = "RS256"
	PS256 Alg = "PS256"
	ES256 Alg = "ES256"
	EdDSA Alg = "EdDSA"
)

// Algs lists every supported algorithm in their canonical order (the order
// of the keys of a generation in listings and JWKS).
var Algs = [...]Alg{RS256, PS256, ES256, EdDSA}

// Index is a's position in Algs, or -1 for an unsupported algorithm.
func (a Alg) Index() int {
	for i, b := range Algs {
		if a == b {
			return i
		}
	}
	return -1
}

func (a Alg) String() string { return string(a) }

// ParseAlg returns the Alg named exactly s (names are case-sensitive, as in
// a JWS header). HS256 is refused with an error saying it is not supported
// yet; anything else is an unknown algorithm.
func ParseAlg(s string) (Alg, error) {
	switch a := Alg(s); a {
	case RS256, PS256, ES256, EdDSA:
		return a, nil
	case "HS256", "HS384", "HS512":
		return "", fmt.Errorf("tokens: signing algorithm %s is not supported yet (supported: RS256, PS256, ES256, EdDSA)", s)
	}
	return "", fmt.Errorf("tokens: unknown signing algorithm %q (supported: RS256, PS256, ES256, EdDSA)", s)
}
