// Package tokens mints access tokens on the hot path: it renders the claims
// of an access token (API.md E.1) as JSON and signs them as a compact JWS
// with a tenant's current key.
//
// A Signer holds one key, its kid and its pre-rendered, base64url-encoded
// protected header {"alg","kid","typ":"at+jwt"}. Sign appends
// header.payload.signature to a caller's buffer, hashing on the stack and
// calling the key directly:
//
//	RS256  RSASSA-PKCS1-v1_5 over SHA-256
//	PS256  RSASSA-PSS over SHA-256, salt length = hash length (RFC 7518 3.5)
//	ES256  ECDSA P-256 over SHA-256, signature r||s of 64 bytes (RFC 7518 3.4)
//	EdDSA  Ed25519 over the signing input itself (RFC 8037 3.1)
//
// No JOSE library and no reflection runs on this path (see
// docs/rationale.md, "Why is the hot path signed without jwx?").
// Verification, JWKS rendering and key storage belong to shared/keys, which
// checks every Signer's output with jwx in its tests.
//
// # Must never
//
// This package must never import shared/keys, the store or either plane,
// never hold more than the one key a Signer was given, never read the
// clock (callers put iat and exp in the claims) and never choose an
// algorithm from untrusted input other than through ParseAlg.
package tokens
