// Package bootstrap creates a fresh cluster's default tenant: the tenant,
// its system resource server "Authok Management API" (identifier
// <issuer>api/v1/, every scope of the A.2 catalogue), a non_interactive
// management client (client_secret_post, client_credentials) and a client
// grant of every scope to it, all in one transaction whose Absent
// preconditions let exactly one of several racing nodes win. It also writes
// the operator's credentials file.
//
// Ensure is idempotent: once the tenant exists it reports the existing
// state and never changes credentials, whatever the options say (Result.
// Ignored lists the options that differ, for the caller to warn about).
// The one exception is Options.FollowIssuer, for an issuer the caller
// derives (dev's from its listen address): the tenant then moves to the
// new issuer, with its host and its Management API identifier and the
// grants to it (repo.MoveTenantIssuer), in one transaction.
//
// Once the tenant exists, Ensure gives it signing keys if it has none
// (shared/keys: a current and a next generation, one transaction of their
// own). A crash between the two transactions leaves a tenant without keys,
// which the next Ensure (every start) repairs.
//
// Not created yet (each arrives with its own package): the sms, email and
// database connections and the post-login/post-register triggers that
// Authok makes with a tenant (API.md A.2).
//
// This package must never print or log the client secret, never import
// edge/ or control/, and never read the clock or randomness except through
// Options.
package bootstrap
