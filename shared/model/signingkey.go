package model

import "errors"

// SigningKey is the public face of a tenant's token-signing key (API.md
// C.14, E.4): what GET /keys/signing returns. The private key lives in
// SigningKeyPrivate, a separate type, so no response can carry it.
type SigningKey struct {
	KID          string `json:"kid"` // UUID v4; the same kid in JWT headers, JWKS and here
	Cert         string `json:"cert"`
	PKCS7        string `json:"pkcs7,omitempty"`
	Current      bool   `json:"current"`
	Next         bool   `json:"next"`
	Previous     bool   `json:"previous"`
	CurrentSince Time   `json:"current_since,omitzero"`
	CurrentUntil Time   `json:"current_until,omitzero"`
	Fingerprint  string `json:"fingerprint"` // colon-separated hex
	Thumbprint   string `json:"thumbprint"`
	Revoked      bool   `json:"revoked"`
	RevokedAt    Time   `json:"revoked_at,omitzero"`

	// Version is the store version of the record (the ETag).
	Version uint64 `json:"-"`
}

// SigningKeyPrivate is a signing key's private material. It refuses to be
// marshalled to JSON and prints redacted; it is encrypted at rest.
type SigningKeyPrivate struct {
	KID   string
	PKCS8 []byte // DER-encoded PKCS #8 private key
}

var errPrivateMarshal = errors.New("model: signing key private material is never marshalled")

// MarshalJSON always fails: private key material never leaves as JSON.
func (SigningKeyPrivate) MarshalJSON() ([]byte, error) { return nil, errPrivateMarshal }

// MarshalText always fails, for the same reason.
func (SigningKeyPrivate) MarshalText() ([]byte, error) { return nil, errPrivateMarshal }

// String hides the key material.
func (k SigningKeyPrivate) String() string {
	return "model.SigningKeyPrivate{KID:" + k.KID + ", PKCS8:" + redacted + "}"
}

// GoString hides the key material under %#v.
func (k SigningKeyPrivate) GoString() string { return k.String() }
