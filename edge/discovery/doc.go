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
// The metadata lists exactly what is implemented, nothing more.
//
// This package must never import control/.
package discovery
