// Package mgmtapi is the Management API (API.md A, C.2, C.3, C.7, C.9,
// C.10, C.14, F): clients, resource servers, client grants, signing keys,
// the tenant's settings and Actions under /api/v1, with /api/v2 as an
// alias, described by an OpenAPI 3.1 document served at
// /api/v1/openapi.json.
//
// # Mounting
//
//	api, err := mgmtapi.New(mgmtapi.Config{
//		Repo:     r,                              // *repo.Repo
//		Verifier: km,                             // *keys.Manager
//		Keys:     mgmtapi.KeysFromManager(km),
//		Logger:   logger,
//		Runner:   runner,                         // action.Runner: checks and test-runs action code
//	})
//	api.Register(controlServer.Handle)
//
// Register mounts one Go 1.22 ServeMux pattern per operation and prefix
// ("GET /api/v1/clients/{id}"), so each gets its own metrics label and the
// control server's JSON 404/405 answers the rest. The mux matches on the
// escaped path and unescapes each segment, so ids holding '|' or '/' travel
// as %7C and %2F inside one segment.
//
// # What every request goes through
//
// The route handler owns the shared phases, so no operation can forget
// one: the tenant from the Host header (ResolveTenant: exact host, then
// without the port, then the tenant "default"); the bearer token, verified
// against that tenant's own published keys for its issuer and any spelling
// of its Management API identifier (<issuer>api/v1/, without the slash, or
// /api/v2/); every scope the route lists (all, not any); then the
// operation. An operation returns an error value and one writer renders
// the A.4 body.
//
// The request toolkit (body reader, checks, list queries, paging,
// If-Match, answers) is control/internal/rest: each resource's file
// builds a rest.Resource[T] (list spec, renderer, version) and keeps
// only its own rules; the wire format below is the toolkit's.
//
// Write bodies are strict: application/json only (415), at most
// Config.MaxBodyBytes (413), one JSON object without duplicate keys at any
// depth, no unknown members except the SDK spellings of F.3 (callbacks,
// cross_origin_authentication; friendly_name, picture_url,
// default_directory), which are also emitted on read, and Auth0's
// app_type regular_web, stored and emitted as web. Every field is
// checked (type, enum, URL shape, range) and all problems are reported at
// once, each naming its field, as one 400 invalid_body. null clears an
// optional string, list or object; it is not a boolean, number or enum.
//
// An object read from the API can be sent back unchanged: both spellings
// of a field are accepted when they hold the same value (different
// values are a 400), immutable members (client_id and tenant of a client,
// id, identifier and is_system of a resource server, a grant's id,
// client_id and audience, the tenant's id, name, domain and region) only
// with their current value, and derived ones (created_at, updated_at,
// signing_keys, sandbox_versions_available) are ignored.
//
// Lists return the envelope decided at the top of API.md:
// {"meta":{page,page_size,total,start,limit,length},"items":[...]}, with
// 1-based pages (page=0 is page 1), page_size 20 by default and clamped to
// 100 (alias per_page), sort (-field, field, Auth0's field:1/field:-1,
// several joined by ':', ',' or ' '), fields/include_fields and equality
// filters (repeated = IN). Configuration objects are few, so a list reads
// every record through the repository's cursor and pages in memory. The
// Go SDK's Auth0-shaped lists (resource_servers, client_grants keys) are
// not emitted (F.2 leaves that to an SDK fork).
//
// # Concurrency and versions
//
// Updates run in the repository's compare-and-swap closures: concurrent
// PATCHes of different fields all land, and none is lost. Each record's
// store version is its ETag (quoted, strong). If-Match is honoured on
// PATCH and rotate-secret, checked inside the closure against the version
// being replaced, so it is atomic with the write; a stale one gives 412
// precondition_failed (RFC 9110 §13.1.1 — 409 stays for duplicates and for
// a compare-and-swap that kept losing).
//
// # Decisions
//
//   - client_secret is in the answers of POST /clients and rotate-secret
//     (the caller must learn the secret it made); every other route that
//     returns a client includes it only for a token that also holds
//     read:client_keys, as Auth0 does: read:clients alone would hand out
//     the management client's secret, a token with every scope. The
//     renderer every client route uses hides it unless told otherwise.
//   - Rotating a secret needs update:client_keys, not update:clients, and
//     so does a PATCH that sends client_secret (whatever its value: no
//     oracle for the current one) or changes token_endpoint_auth_method,
//     jwks or encryption_key (on top of update:clients), as with Auth0:
//     whoever sets the management client's credentials holds every
//     scope. Those three count only when their value would change, so a
//     client as read can still be sent back with update:clients alone.
//     The check runs in the update closure, against the record replaced.
//   - A new client needs only a name (as with Auth0). Without app_type it
//     is web, confidential, unless token_endpoint_auth_method is none,
//     then spa; the other defaults follow the app type.
//   - 401 for a missing token carries WWW-Authenticate without an error
//     code, as RFC 6750 §3.1 asks; an invalid token gets
//     error="invalid_token", a lacking scope 403 with error=
//     "insufficient_scope" and the scopes needed. The body's errorCode is
//     invalid_token or insufficient_scope either way.
//   - Resource servers and client ID tokens accept RS256, PS256, ES256 and
//     EdDSA (the algorithms shared/keys has keys for); HS256 is refused
//     as not supported yet, so no signing secret is stored or returned.
//   - The system API (is_system) cannot be deleted, and a PATCH may only
//     change its token lifetimes, allow_offline_access and
//     skip_consent_for_verifiable_first_party_clients (400
//     operation_not_allowed naming any other field whose value would
//     change): its identifier, scope catalogue and signing belong to the
//     server.
//   - A client grant holds only scopes its API defines: grant writes are
//     checked against the API version they commit on (repo.GrantCheck),
//     and a PATCH of an API's scopes that removes some removes them from
//     its grants in the same transaction. Without a name, an API is named
//     after its identifier in a form the name's rule accepts
//     (defaultRSName). Any spelling of the Management API identifier (A.2)
//     finds the system API, by path and in the identifier and audience
//     filters.
//   - A client's read-only signing_keys is filled with the tenant's
//     current RS256 key ({kid, cert, pkcs7, subject}); the tenant
//     settings do not carry signing_keys (use /keys/signing).
//   - The tenant's management client (the one bootstrap made and reports)
//     cannot be deleted: bootstrap checks it on every start.
//   - POST /keys/signing/rotate returns one object, the RS256 key of the
//     new next generation (the SDK's Rotate decodes one); GET
//     /keys/signing lists the generation's four keys.
//   - Redirect URLs are exact (no wildcards); allowed_origins and
//     web_origins are bare origins, stored lower-cased without a trailing
//     slash.
//   - A private_key_jwt client must carry jwks (an inline RFC 7517 set of
//     public signature keys); there is no jwks_uri.
//
// # Actions (C.9)
//
// The SDK's paths (/actions/actions/..., /actions/triggers/...) and the
// Authok backend's aliases (/actions, /actions/{id}, /actions/{id}/test,
// /triggers, /triggers/{id}) share handlers; triggers are read with
// read:actions or the backend's read:triggers (a route scope "a|b").
// Trigger ids are canonicalised (m2m → credentials-exchange,
// post-register → post-user-registration) before they are stored.
//
//   - Code is checked by Config.Runner on create, update (when code,
//     module, runtime or triggers change) and deploy: a refusal is 400
//     invalid_action_code with the Runner's reason. Without a Runner,
//     drafts are stored unchecked (status pending) and deploy and test
//     answer 501 not_implemented.
//   - A wasm module travels as base64 in "module" (JSON), or raw with
//     Content-Type application/wasm, name and supported_triggers in the
//     query (POST creates, PATCH replaces the module); at most
//     Config.MaxModuleBytes, 413 beyond. It is never returned:
//     module_size and module_sha256 say which one is stored.
//   - Secrets: value is write-only ({name, updated_at} on read). A PATCH
//     with secrets replaces the set: a secret named without a value keeps
//     its stored one (so an action read back can be sent back), one left
//     out is removed, a new one needs a value. Non-empty dependencies are
//     400 (npm is not supported yet); binding secrets too.
//   - Deploy snapshots the draft and its secrets as version number+1 and
//     makes it the deployed one in one transaction; a version deploy is a
//     roll-back (a new version with the old code and the current secrets;
//     update_draft also resets the draft). A deploy is refused (400) if a
//     trigger binding the action would not be among the new version's.
//   - status: an action never deployed is built (its draft passed the
//     check); otherwise its deployed version's status, aggregated over
//     the nodes' build records: failed (with the first failed node's
//     errors) if any failed, built if every reporting node built it,
//     pending if none reported.
//   - Bindings: PATCH replaces a trigger's list in one compare-and-swap
//     write; an action_id or action_name ref to an action already bound
//     keeps that binding (its id), binding_id keeps the one named, the
//     rest are removed. Bound actions must support the trigger and be
//     deployed, checked against the action version the write commits on.
//   - Deleting a bound action is 409 unless ?force=true, which removes
//     its bindings in the same transaction (Auth0's force).
//   - Test runs the draft (payload or event is the trigger's event) and
//     answers the TriggerResult {commands, logs, errors}, the same object
//     again under payload for Auth0 clients; the action's own failure
//     (timeout, crash, ...) is an error of the result, with 200.
//   - Lists of actions, versions, bindings and triggers carry the items
//     under items and under the Go SDKs' keys (actions, versions,
//     bindings, triggers); PATCH bindings answers {"bindings": [...]}.
//   - The tenant setting actions_timeout_ms (1..5000, null for the
//     default) is the per-invocation deadline the executor reads.
//
// This package must never import edge/, never return private key material
// or a signing secret, and never put an internal error's text in a
// response body (5xx causes are logged).
package mgmtapi
