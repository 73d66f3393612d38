package model

import (
	"fmt"
	"io"
)

// NanoIDAlphabet is the URL-safe alphabet of nanoid identifiers (A.5).
const NanoIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// Identifier lengths and prefixes (API.md A.5).
const (
	ClientIDLength       = 32
	ClientSecretLength   = 64
	ClientGrantIDPrefix  = "cg_"
	ClientGrantIDLength  = 24 // after the prefix
	ResourceServerIDSize = 24
	// MaxClientIDLength is the longest client_id that can exist, in bytes:
	// the Management API accepts custom ids up to this length, and the
	// token endpoint refuses longer ones before any lookup (or cache entry).
	MaxClientIDLength = 128
)

// NanoID returns n characters of NanoIDAlphabet read from r (pass
// crypto/rand.Reader outside tests). The alphabet has 64 symbols, so each
// random byte's low six bits pick one without bias.
func NanoID(r io.Reader, n int) (string, error) {
	if n <= 0 {
		return "", fmt.Errorf("model: nanoid length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("model: read randomness: %w", err)
	}
	for i := range b {
		b[i] = NanoIDAlphabet[b[i]&63]
	}
	return string(b), nil
}

// NewClientID returns a 32-character client_id.
func NewClientID(r io.Reader) (string, error) { return NanoID(r, ClientIDLength) }

// NewClientSecret returns a 64-character client_secret (384 bits).
func NewClientSecret(r io.Reader) (Secret, error) {
	s, err := NanoID(r, ClientSecretLength)
	return Secret(s), err
}

// NewClientGrantID returns "cg_" followed by 24 characters.
func NewClientGrantID(r io.Reader) (string, error) {
	s, err := NanoID(r, ClientGrantIDLength)
	if err != nil {
		return "", err
	}
	return ClientGrantIDPrefix + s, nil
}

// NewResourceServerID returns a 24-character resource server id.
func NewResourceServerID(r io.Reader) (string, error) { return NanoID(r, ResourceServerIDSize) }

// NewUUID returns a random (version 4) UUID in its canonical lowercase
// form, as used for signing key kids and action ids.
func NewUUID(r io.Reader) (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return "", fmt.Errorf("model: read randomness: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

// NewKID returns a signing key id (a UUID v4).
func NewKID(r io.Reader) (string, error) { return NewUUID(r) }
