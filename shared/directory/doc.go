// Package directory is the read model of the hot paths: the tenant serving
// a host, a client (secret open, registered keys parsed), a resource server
// by identifier, a client grant by (client, audience), and a tenant's
// current signer. Every lookup reads through shared/cache over the local
// store, so a warm lookup touches no disk and writes nothing; the store's
// apply feed drops what an applied transaction changed before its index
// becomes visible, so a lookup is never older than the local apply index.
//
// # Records and indexes are cached apart
//
// A lookup by a secondary key goes through two cache entries: the index key
// (host/<host>, t/<T>/rs-ident/<identifier>, t/<T>/cg-pair/<client>/<aud>),
// whose value is the record's id, and the record key (tenant/<T>,
// t/<T>/rs/<id>, t/<T>/cg/<id>). Each entry is keyed, and therefore
// invalidated, by its own store key: a scope change rewrites only
// t/<T>/cg/<id> and drops only the record entry; a delete removes both keys
// in one transaction and drops both entries. Caching a record under its
// index key would miss every write that leaves the index alone. The two
// reads of a miss may straddle a write, so the record is checked to still
// carry the indexed value (as repo.getByIndex does).
//
// # Signers
//
// Signer caches the *tokens.Signer that keys.Manager builds (which decrypts
// the private key: too slow for every request) per (tenant, alg). Any
// applied write under keys.KeyPrefix(tenant) drops the tenant's signers: a
// rotation is visible to the next token. Fills are guarded by a per-tenant
// epoch, taken before the manager reads the store, so a rotation applied
// during a fill discards the fill's result instead of caching the old key.
//
// # Default tenant
//
// TenantByHost falls back to the tenant named DefaultTenant ("default")
// when no tenant's issuer has the request's host. Single-tenant deployments
// and `authok dev` are reached under names the issuer does not carry
// (localhost vs 127.0.0.1, a load balancer's name, a container's address),
// and they have exactly one tenant to answer with. The fallback never
// changes what a token says: it is issued with the default tenant's issuer,
// whatever the Host header was. A deployment serving several tenants gives
// each a host; a host none of them has then reaches the default tenant,
// which bootstrap creates, only if it exists.
//
// # Untrusted keys
//
// A request chooses its Host and client_id, and a cached miss keeps its
// whole key. A host longer than MaxHostLength (besides a port) and a
// client_id longer than model.MaxClientIDLength (the longest the Management
// API accepts) name nothing that can exist: they are refused with
// ErrNotFound before any cache or store lookup, and such a host does not
// reach the default tenant. Every cache weighs its entries in bytes
// (cache.EntryCost) against Config.MaxBytes, so misses on the keys that
// remain possible hold a bounded amount of memory too.
//
// # Must never
//
// This package must never write to the store, keep a caller's byte slices
// (keys are built in pooled buffers, and the cache copies what it keeps),
// hand out values callers may modify (every returned pointer is shared and
// read-only), or import edge/ or control/.
package directory
