// Package discovery serves a tenant's public key set
// (/.well-known/jwks.json) and OpenID Provider metadata
// (/.well-known/openid-configuration) at the edge.
//
// Both documents are rendered once per tenant and kept as bytes behind an
// atomic pointer; a request only resolves the tenant and writes the bytes.
// When the tenant's keys or record change in the store, the apply feed drops
// the rendered documents before the new index becomes visible, and the next
// request renders them again: a revoked key is never served after the
// revocation is applied locally. A render whose tenant was resolved before
// such a drop is served but not cached (an epoch check, as in keys.Manager),
// so a stale issuer cannot outlive the write. This relies on the Tenants
// and Keys caches dropping first: build the Handler after them, since the
// store runs subscribers in the order they subscribed.
//
// The metadata lists exactly what is implemented, nothing more, and stays
// valid OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3, RFC
// 8414 §2); the tests check both on every change.
//
// response_types_supported is required and must not be empty, yet there
// is no authorization endpoint: the only grant is client_credentials, at
// the token endpoint. It lists "none" (OAuth 2.0 Multiple Response Type
// Encoding Practices §4: a response that carries no code and no token).
// It is the one response type RFC 7591 §2.1 pairs with no grant type, so
// it agrees with grant_types_supported; "code" or "token" would advertise
// flows that do not exist, and a relying party choosing a flow from this
// document finds none that yields a credential. authorization_endpoint is
// left out, as RFC 8414 allows when no grant type uses it (OpenID
// Connect Discovery requires it for an OpenID Provider, which this is not
// until /authorize exists). When /authorize lands, "none" gives way to
// the response types it serves.
//
// This package must never import control/.
package discovery
