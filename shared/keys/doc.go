// Package keys owns each tenant's token-signing keys (API.md C.14, E.4):
// their generation, storage, rotation and revocation, the signers the
// token endpoint mints with, the JWKS relying parties fetch, and the
// verification of tokens the tenant issued.
//
// # Generations
//
// A generation is one key per algorithm of tokens.Algs: RS256 (RSA-2048),
// PS256 (its own RSA-2048), ES256 (P-256) and EdDSA (Ed25519), each with its
// own UUID kid and a self-signed X.509 certificate valid ten years whose
// subject CN is the tenant name. The keys of a generation are created
// together and share the current/next/previous flags. A tenant normally has
// a current generation (signs), a next one (published ahead so relying
// parties have it before it signs) and a previous one (published until
// revoked, so tokens it signed still verify). Ensure makes the first
// current and next generations.
//
// Rotate is one store transaction, conditioned on the version of the
// tenant's keyring record and of every key record it changes: next becomes
// current (current_since), current becomes previous (current_until),
// previous becomes revoked (revoked_at), and a new next generation is
// made; if there was no usable next generation (none, or one with a
// revoked key) a fresh current one is made too. Only the Retained most
// recent generations are kept. Keys are generated before the transaction,
// outside any lock; when another writer got there first the rotation is
// planned again on the new state, reusing the keys already generated.
//
// Revoke marks one key revoked. A current key cannot be revoked (rotate
// first). Revoking a next key is allowed; the next rotation then makes a
// fresh current generation instead of promoting it.
//
// # Storage
//
// Records live under repo.SigningKeyPrefix (t/<T>/key/<kid>), beside the
// keyring t/<T>/keyring; the encoding and the sealing of the PKCS #8
// private key (secretbox, associated data binding tenant, kid and
// algorithm) are shared/repo's (signingkey.go, doc.go). The private key
// leaves its sealed form only to build a tokens.Signer.
//
// # Caching
//
// A Manager caches each tenant's decoded keys and signers and subscribes to
// the store's apply feed: a transaction touching a tenant's key records
// drops that tenant's entry before the transaction is visible, and a fill
// that raced such a transaction is not kept (an epoch check). Signer is
// therefore a map lookup on the hot path and never returns a key that a
// committed rotation has retired. Close the Manager to unsubscribe.
//
// # Randomness and time
//
// WithClock and WithRand inject the clock and the randomness of kids,
// certificate serials and key generation. Since Go 1.26 the standard
// library ignores a custom reader when generating RSA, ECDSA and Ed25519
// keys (unless GODEBUG=cryptocustomrand=1) and always draws key material
// from the system CSPRNG; tests that need reproducible key material use
// testing/cryptotest.SetGlobalRandom.
//
// # Must never
//
// This package must never put private key material in JSON, logs or
// errors, never sign with a revoked or retired key, never trust a token
// header's alg to choose a key, and never import edge/ or control/.
package keys
