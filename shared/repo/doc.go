// Package repo holds the typed repositories both planes share: tenants,
// clients, resource servers, client grants and actions over the replicated
// store.Store. It owns the key schema, the record encoding, the secondary
// indexes, referential integrity and the encryption of secrets at rest.
//
// # Key schema
//
// Every variable segment is escaped with url.PathEscape, so it never
// contains "/" and keys of different kinds or different owners cannot
// collide. <T> is the tenant name (a DNS label, also its id).
//
//	tenant/<T>                         tenant record
//	host/<host>                        → <T>: the tenant serving that host (unique)
//	t/<T>/client/<client_id>           client record
//	t/<T>/rs/<id>                      resource server record
//	t/<T>/rs-ident/<identifier>        → <id>: resource server by audience (unique)
//	t/<T>/cg/<id>                      client grant record
//	t/<T>/cg-pair/<client_id>/<audience>  → <id>: client grant by pair (unique)
//	t/<T>/log/<id>                     a batch of log events (API.md C.11 JSON, zstd; shared/logship), expiring
//	t/<T>/log-usage                    bytes of the tenant's log batches by expiry day (shared/logship's quota)
//	t/<T>/client-assertion/<client_id>/<jti>  → empty: a used client assertion, expiring
//	t/<T>/key/<kid>                    signing key record (public fields, sealed PKCS #8)
//	t/<T>/keyring                      the tenant's last signing key generation number
//	t/<T>/action/<action_id>           action record: its draft (code or wasm module, triggers, runtime, sealed secrets), deployed_version_id
//	t/<T>/action-name/<name>           → <action_id>: action by name (unique)
//	t/<T>/action-version/<action_id>/<version_id>  immutable deployed version (number, code or module, triggers, secrets resealed for it)
//	t/<T>/bindings/<trigger_id>        a trigger's ordered bindings [{id, action_id, display_name, ...}], one record replaced as a whole
//	t/<T>/action-status/<version_id>/<node_id>  one node's build result of a version, written by that node's executor
//	t/<T>/execution/<execution_id>     an execution record (a failed run), expiring after 10 days
//
// Actions: a binding names an action, and the action's deployed_version_id
// says which version runs, so a deploy changes what runs everywhere without
// touching bindings. A deploy writes the new version (Absent) and the
// action (its version number and deployed_version_id) in one transaction
// conditioned on the action's version, so versions are numbered 1, 2, ...
// without gaps; versions are never rewritten. A bindings write is one
// compare-and-swap of the trigger's record, conditioned on the version of
// every action it binds (checked, deployed and supporting the trigger, by
// the caller's BindingCheck against that version). Deleting a bound action
// is refused (ErrInUse) unless forced, which rewrites the bindings in the
// delete's transaction; a sweep removes bindings committed meanwhile.
// <trigger_id> is the canonical id (credentials-exchange, not m2m).
// Status and execution records are written by the node-side executor
// (PutActionStatus, PutExecution); actionkeys.go exports the keys and
// ParseActionKey for its watch of the apply feed. A status write is not
// conditioned on its version (the key does not name the action), so a
// node that reports just after its action was deleted leaves a small
// orphan status record under a version id nothing refers to again.
//
// Log events are written by the log shipper (shared/logship), one key per
// tenant and shipped batch, with an expiry (30 days by default); <id> is the
// batch's smallest event id, a date-sortable ULID, so a prefix scan lists a
// tenant's batches oldest first. Every batch write also rewrites
// log-usage under a version condition, deleting the oldest batches when
// the tenant's log quota would be exceeded.
// Client-assertion keys are written by the token endpoint when it accepts a
// private_key_jwt assertion (RFC 7523), with an Absent precondition and the
// assertion's exp as expiry: a replayed jti fails the precondition. Neither
// is a record of this package; decode.go exports their key builders.
//
// Signing key records and the keyring are written by shared/keys, whose
// rotation changes every flagged key of a tenant and deletes the oldest in
// one transaction conditioned on all their versions; every such transaction
// also rewrites the keyring, so conditioning on the keyring's version
// serialises all key changes of a tenant. Their encoding and sealing live
// here (signingkey.go): {"v":1, "signing_key":<model.SigningKey JSON>,
// "alg", "generation", "created_at", "sealed_pkcs8"} and {"v":1,
// "generation"}.
//
// The tenant registry (tenant/, host/) is global; everything a tenant owns
// lives under t/<T>/, so deleting a tenant is one prefix purge. <host> is the
// issuer's host in lower case, without the scheme's default port.
//
// # Records
//
// A record is JSON: {"v":1, "<kind>":<the model's JSON>, ...} plus the
// fields the model hides (a client's OIDC settings, a tenant's issuer) and
// sealed secrets. The model's JSON tags are therefore part of the storage
// format: renaming one is a migration. Secrets are sealed with secretbox
// under associated data naming their purpose, tenant and record:
//
//	client_secret:     "authok/client_secret\x00<T>\x00<client_id>"
//	HS256 signing secret: "authok/rs_signing_secret\x00<T>\x00<id>"
//	signing private key:  "authok/signing_key\x00<T>\x00<kid>\x00<alg>"
//	action secret:        "authok/action_secret\x00<T>\x00<action_id>\x00<name>"
//	action version secret: "authok/action_version_secret\x00<T>\x00<action_id>\x00<version_id>\x00<name>"
//
// so a sealed value copied into another record, tenant or field fails to
// open. A record's version (the Raft index of its last write) is returned
// in the model's Version field and is the Management API's ETag.
//
// # Writes
//
// Creates are one transaction: Absent on the primary key and on every
// unique index key (a taken one gives ErrDuplicate), Present on what the
// record refers to (its tenant; a grant's client and audience), so nothing
// is created under a missing parent. Updates are compare-and-swap closures
// (as in dex): read, run the closure, apply with AtVersion on the record,
// retry a bounded number of times on a concurrent write, then ErrConflict.
// Index keys follow changes of indexed fields in the same transaction.
// Deletes remove index keys in the same transaction and cascade: a client's
// or a resource server's client grants go with it, then a sweep removes any
// grant created while the delete was in flight (none can be created after,
// since creation requires the parent to be present). An update of a resource
// server that removes scopes removes them from its audience's grants in the
// same transaction, each conditioned on the grant's version; a grant's
// create or update is conditioned on the version of its audience's resource
// server (GrantCheck validates the grant against that version), so a grant
// validated against an older catalogue never commits after the change, and
// a sweep prunes the grants that committed between the update's scan and
// its commit. Batch groups creates of several records into one transaction
// (bootstrap uses it; its grants are conditioned only on their parents'
// presence). MoveTenantIssuer is the one write that moves identities: a
// tenant's new issuer takes the audience derived from it along (the
// resource server's identifier and its grants' audience and pair keys), in
// the tenant's transaction, each record conditioned on its version.
//
// # Must never
//
// This package must never store a secret in clear, never let a closure's
// result change a record's identity (ids, identifier, a grant's pair; only
// MoveTenantIssuer moves the last two), never read the clock or randomness
// except through its options, and never import edge/ or control/. It
// enforces data invariants only; request validation (enums, URL shapes,
// strict write DTOs) is the Management API's job.
package repo
