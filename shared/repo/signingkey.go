package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

// Signing keys are written by shared/keys, not through this package's
// create/update/delete machinery: a rotation changes every flagged key of a
// tenant and deletes the oldest in one transaction conditioned on all of
// their versions, which the single-record compare-and-swap here does not
// express. This file owns what repo owns for every kind: the key schema,
// the record encoding and the sealing of the private half.

// SigningKeyPrefix is the prefix of a tenant's signing key records,
// t/<T>/key/. Edge caches subscribe to changes under it.
func SigningKeyPrefix(tenant string) []byte { return []byte(scope(tenant) + "key/") }

// SigningKeyKey is the key of one signing key record, t/<T>/key/<kid>.
func SigningKeyKey(tenant, kid string) []byte { return []byte(scope(tenant) + "key/" + esc(kid)) }

// SigningKeyringKey is the key of a tenant's keyring record, t/<T>/keyring:
// the last generation number handed out. Every change to the tenant's keys
// rewrites it in the same transaction, so a transaction conditioned on its
// version serialises with every other key change of the tenant.
func SigningKeyringKey(tenant string) []byte { return []byte(scope(tenant) + "keyring") }

// SigningKeyTenant reports whether key is a signing key record or a keyring
// record, and of which tenant. It is cheap enough to run on every key of
// the store's apply feed.
func SigningKeyTenant(key []byte) (tenant string, ok bool) {
	rest, ok := bytes.CutPrefix(key, []byte("t/"))
	if !ok {
		return "", false
	}
	i := bytes.IndexByte(rest, '/')
	if i <= 0 {
		return "", false
	}
	seg, rest := rest[:i], rest[i+1:]
	if !bytes.HasPrefix(rest, []byte("key/")) && !bytes.Equal(rest, []byte("keyring")) {
		return "", false
	}
	name, err := url.PathUnescape(string(seg))
	if err != nil {
		return "", false
	}
	return name, true
}

// SigningKeyRecord is one stored signing key: its public face (C.14), its
// algorithm and generation, and its private half, sealed. The sealed bytes
// are unexported: only OpenSigningKey reveals the private key, and a record
// re-encoded after a flag change carries them over without opening them.
type SigningKeyRecord struct {
	Key        model.SigningKey // Key.Version is the record's store version
	Alg        string           // RS256, PS256, ES256 or EdDSA
	Generation uint64           // keys created together share it; higher is newer
	CreatedAt  model.Time
	sealed     []byte
}

type signingKeyRecord struct {
	V          int              `json:"v"`
	SigningKey model.SigningKey `json:"signing_key"`
	Alg        string           `json:"alg"`
	Generation uint64           `json:"generation"`
	CreatedAt  model.Time       `json:"created_at"`
	// SealedPKCS8 is the PKCS #8 DER private key sealed with secretbox.
	SealedPKCS8 []byte `json:"sealed_pkcs8"`
}

type keyringRecord struct {
	V          int    `json:"v"`
	Generation uint64 `json:"generation"`
}

// signingKeyAD binds a sealed private key to its tenant, kid and algorithm.
func signingKeyAD(tenant, kid, alg string) []byte {
	return []byte("authok/signing_key\x00" + tenant + "\x00" + kid + "\x00" + alg)
}

// SealSigningKey returns rec with priv (whose KID must be rec's) sealed
// into it, ready for EncodeSigningKey.
func (r *Repo) SealSigningKey(tenant string, rec SigningKeyRecord, priv model.SigningKeyPrivate) (SigningKeyRecord, error) {
	if err := checkSigningKey(tenant, rec); err != nil {
		return rec, err
	}
	if priv.KID != rec.Key.KID || len(priv.PKCS8) == 0 {
		return rec, fmt.Errorf("%w: private key of signing key %q missing or of another key", ErrInvalid, rec.Key.KID)
	}
	sealed, err := r.box.Seal(priv.PKCS8, signingKeyAD(tenant, rec.Key.KID, rec.Alg))
	if err != nil {
		return rec, fmt.Errorf("repo: seal signing key %q: %w", rec.Key.KID, err)
	}
	rec.sealed = sealed
	return rec, nil
}

// OpenSigningKey returns the private half of rec, read from the store
// under tenant.
func (r *Repo) OpenSigningKey(tenant string, rec SigningKeyRecord) (model.SigningKeyPrivate, error) {
	if len(rec.sealed) == 0 {
		return model.SigningKeyPrivate{}, fmt.Errorf("%w: signing key %q has no private key", ErrInvalid, rec.Key.KID)
	}
	pt, err := r.box.Open(rec.sealed, signingKeyAD(tenant, rec.Key.KID, rec.Alg))
	if err != nil {
		return model.SigningKeyPrivate{}, fmt.Errorf("repo: open signing key %q: %w", rec.Key.KID, err)
	}
	return model.SigningKeyPrivate{KID: rec.Key.KID, PKCS8: pt}, nil
}

func checkSigningKey(tenant string, rec SigningKeyRecord) error {
	if err := checkTenantName(tenant); err != nil {
		return err
	}
	if err := checkID("signing key kid", rec.Key.KID); err != nil {
		return err
	}
	if rec.Alg == "" || rec.Generation == 0 {
		return fmt.Errorf("%w: signing key %q needs an algorithm and a generation", ErrInvalid, rec.Key.KID)
	}
	return nil
}

// EncodeSigningKey encodes a sealed record (see SealSigningKey, or a record
// DecodeSigningKey returned) for the store.
func EncodeSigningKey(tenant string, rec SigningKeyRecord) ([]byte, error) {
	if err := checkSigningKey(tenant, rec); err != nil {
		return nil, err
	}
	if len(rec.sealed) == 0 {
		return nil, fmt.Errorf("%w: signing key %q is not sealed", ErrInvalid, rec.Key.KID)
	}
	k := rec.Key
	k.Version = 0
	b, err := json.Marshal(signingKeyRecord{
		V: recordVersion, SigningKey: k, Alg: rec.Alg, Generation: rec.Generation,
		CreatedAt: rec.CreatedAt, SealedPKCS8: rec.sealed,
	})
	if err != nil {
		return nil, fmt.Errorf("repo: encode signing key %q: %w", rec.Key.KID, err)
	}
	return b, nil
}

// DecodeSigningKey decodes a record read from SigningKeyKey(tenant, kid);
// the private half stays sealed.
func DecodeSigningKey(tenant string, it store.Item) (SigningKeyRecord, error) {
	var rec signingKeyRecord
	if err := decodeRecord(it, &rec, &rec.V); err != nil {
		return SigningKeyRecord{}, err
	}
	if !bytes.Equal(it.Key, SigningKeyKey(tenant, rec.SigningKey.KID)) {
		return SigningKeyRecord{}, fmt.Errorf("repo: decode %q: record holds kid %q", it.Key, rec.SigningKey.KID)
	}
	out := SigningKeyRecord{Key: rec.SigningKey, Alg: rec.Alg, Generation: rec.Generation, CreatedAt: rec.CreatedAt, sealed: rec.SealedPKCS8}
	out.Key.Version = it.Version
	return out, nil
}

// EncodeKeyring encodes a keyring record.
func EncodeKeyring(generation uint64) []byte {
	b, _ := json.Marshal(keyringRecord{V: recordVersion, Generation: generation}) // cannot fail
	return b
}

// DecodeKeyring decodes a keyring record and returns its generation.
func DecodeKeyring(it store.Item) (uint64, error) {
	var rec keyringRecord
	if err := decodeRecord(it, &rec, &rec.V); err != nil {
		return 0, err
	}
	return rec.Generation, nil
}

// SigningKeyring is a tenant's keyring and signing key records as read
// from the store.
type SigningKeyring struct {
	// Found is false when the tenant has no keyring (no keys yet).
	Found      bool
	Version    uint64 // of the keyring record
	Generation uint64 // the last generation handed out
	Keys       []SigningKeyRecord
}

// LoadSigningKeys reads a tenant's keyring and every signing key record
// (local read). The two reads are not one snapshot: writers condition on
// the versions they saw.
func (r *Repo) LoadSigningKeys(tenant string) (SigningKeyring, error) {
	var kr SigningKeyring
	it, err := r.st.Get(SigningKeyringKey(tenant))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return kr, fmt.Errorf("repo: get keyring of tenant %q: %w", tenant, err)
	default:
		if kr.Generation, err = DecodeKeyring(it); err != nil {
			return kr, err
		}
		kr.Found, kr.Version = true, it.Version
	}
	items, err := r.scanAll(SigningKeyPrefix(tenant))
	if err != nil {
		return kr, err
	}
	kr.Keys = make([]SigningKeyRecord, 0, len(items))
	for _, it := range items {
		rec, err := DecodeSigningKey(tenant, it)
		if err != nil {
			return kr, err
		}
		kr.Keys = append(kr.Keys, rec)
	}
	return kr, nil
}
