// Package model holds authok's domain types as the Authok API names them:
// Tenant (API.md C.7), Client (C.2), ResourceServer (C.3), ClientGrant
// (C.10), SigningKey (C.14) and the Actions records (C.9: Action,
// ActionVersion, TriggerBindings, ActionStatus, ActionExecution), plus the Management API scope catalogue
// (A.2), the identifier formats (A.5) and the timestamp format (A.6).
//
// JSON tags are the canonical Authok keys. The Go SDK spellings of F.3
// (callbacks, cross_origin_authentication, friendly_name, ...) are not
// emitted here: accepting and emitting aliases is the Management API's job,
// because it also decides which fields a write may carry.
//
// Fields the API keeps hidden (a client's OIDC settings, a tenant's issuer)
// are tagged `json:"-"` and grouped in their own struct, so encoding a model
// for a response can never leak them; the repositories persist them
// separately. Secrets held in memory (Client.ClientSecret,
// ResourceServer.SigningSecret) are of type Secret, which prints as
// [REDACTED] under fmt but marshals to JSON in clear: the Management API
// must return them, and the repositories encrypt them before they are
// stored. Private signing key material is a separate type,
// SigningKeyPrivate, that refuses to be marshalled at all.
//
// Every model carries Version (`json:"-"`): the store version of the record
// it was read from, which the Management API uses as its ETag.
//
// This package is plain data and pure functions. It must never import the
// store, the repositories, crypto key handling or either plane, and never
// read the clock or global randomness: generators take an io.Reader.
package model
