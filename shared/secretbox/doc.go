// Package secretbox owns the cluster's master key and the encryption of
// secrets at rest: client secrets, resource-server HS256 signing secrets,
// signing private keys and Action secrets are sealed with it before they are
// written to the replicated store, and opened after they are read.
//
// # Format
//
// A sealed value is
//
//	version (1 byte) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// Version 1 is the only version today. The version byte is also part of the
// GCM associated data, so it cannot be changed without detection; a later
// format (for example one carrying a key id to support master-key rotation)
// takes the next version number and Open keeps reading the old ones.
//
// Associated data binds a ciphertext to the record it belongs to (the caller
// passes, say, purpose + tenant + client id). A ciphertext copied into
// another record's slot fails to open, so secrets cannot be swapped between
// records or between tenants by someone who can write to the store but does
// not hold the master key.
//
// Nonces are 96 random bits per message. With one key that is safe for well
// over 2^32 messages, far beyond the number of secrets a cluster stores.
//
// # Must never
//
// This package must never log, print or return key material or plaintext in
// an error, never import edge/ or control/, and never decide what is a secret
// (that is the repositories' job). LoadOrCreateDevKey is for `authok dev`
// only: production nodes receive the master key from their operator via
// ParseMasterKey.
package secretbox
