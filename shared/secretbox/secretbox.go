package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// KeySize is the length of a master key in bytes (AES-256).
const KeySize = 32

const version1 byte = 1

const (
	nonceSize = 12 // GCM standard nonce
	tagSize   = 16 // GCM tag

	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = 1 + nonceSize + tagSize
)

// ErrOpen is wrapped by every error Open returns: the input is not a value
// this key sealed with this associated data (wrong key, wrong associated
// data, tampering, truncation or an unknown format version).
var ErrOpen = errors.New("secretbox: cannot open sealed value")

// Key is a master key. The zero Key is not usable: Seal and Open report an
// error. Key values are safe for concurrent use. Its String method never
// reveals the key.
type Key struct {
	raw  [KeySize]byte
	aead cipher.AEAD
	rand io.Reader // nil means crypto/rand
}

// NewKey makes a Key from exactly KeySize bytes. It copies b.
func NewKey(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("secretbox: master key is %d bytes, want %d", len(b), KeySize)
	}
	if subtle.ConstantTimeCompare(b, make([]byte, KeySize)) == 1 {
		return Key{}, errors.New("secretbox: master key is all zeros")
	}
	var k Key
	copy(k.raw[:], b)
	block, err := aes.NewCipher(k.raw[:])
	if err != nil {
		return Key{}, fmt.Errorf("secretbox: %w", err)
	}
	k.aead, err = cipher.NewGCM(block)
	if err != nil {
		return Key{}, fmt.Errorf("secretbox: %w", err)
	}
	return k, nil
}

// GenerateKey reads KeySize bytes from r (crypto/rand.Reader when nil) and
// makes a Key of them.
func GenerateKey(r io.Reader) (Key, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, KeySize)
	if _, err := io.ReadFull(r, b); err != nil {
		return Key{}, fmt.Errorf("secretbox: generate master key: %w", err)
	}
	return NewKey(b)
}

// ParseMasterKey decodes a master key written as standard base64 (with
// padding) of KeySize random bytes, as Encode produces. Surrounding white
// space (a trailing newline in a file or environment variable) is ignored.
// Errors never quote the input.
func ParseMasterKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, errors.New("secretbox: master key is missing")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		// The error names an offset only, never the key's characters.
		return Key{}, fmt.Errorf("secretbox: master key is not standard base64 (%d characters): %v", len(s), err)
	}
	return NewKey(b)
}

// Encode returns the key as standard base64, the form ParseMasterKey reads.
// Only tools that create a key file should call it.
func (k Key) Encode() string {
	return base64.StdEncoding.EncodeToString(k.raw[:])
}

// IsZero reports whether k is the zero, unusable Key.
func (k Key) IsZero() bool { return k.aead == nil }

// String never reveals the key.
func (k Key) String() string {
	if k.IsZero() {
		return "secretbox.Key(zero)"
	}
	return "secretbox.Key(REDACTED)"
}

// GoString never reveals the key, even under %#v.
func (k Key) GoString() string { return k.String() }

// WithRand returns a copy of k whose Seal draws nonces from r instead of
// crypto/rand. Tests use it for reproducible output; production code never
// needs it.
func (k Key) WithRand(r io.Reader) Key {
	k.rand = r
	return k
}

// Seal encrypts and authenticates plaintext, binding it to associatedData
// (which is authenticated but not stored: Open needs the same bytes). The
// result is a fresh slice Overhead bytes longer than plaintext.
func (k Key) Seal(plaintext, associatedData []byte) ([]byte, error) {
	if k.IsZero() {
		return nil, errors.New("secretbox: seal with the zero key")
	}
	r := k.rand
	if r == nil {
		r = rand.Reader
	}
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = version1
	if _, err := io.ReadFull(r, out[1:1+nonceSize]); err != nil {
		return nil, fmt.Errorf("secretbox: read nonce: %w", err)
	}
	return k.aead.Seal(out, out[1:1+nonceSize], plaintext, additional(version1, associatedData)), nil
}

// Open authenticates and decrypts a value made by Seal with the same key and
// associated data. Every failure wraps ErrOpen; Open never panics, whatever
// its input.
func (k Key) Open(sealed, associatedData []byte) ([]byte, error) {
	if k.IsZero() {
		return nil, errors.New("secretbox: open with the zero key")
	}
	if len(sealed) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrOpen)
	}
	switch v := sealed[0]; v {
	case version1:
		if len(sealed) < Overhead {
			return nil, fmt.Errorf("%w: %d bytes is shorter than the %d-byte minimum", ErrOpen, len(sealed), Overhead)
		}
		nonce, ct := sealed[1:1+nonceSize], sealed[1+nonceSize:]
		pt, err := k.aead.Open(nil, nonce, ct, additional(version1, associatedData))
		if err != nil {
			return nil, fmt.Errorf("%w: authentication failed (wrong key, wrong associated data or tampered value)", ErrOpen)
		}
		if pt == nil {
			pt = []byte{}
		}
		return pt, nil
	default:
		return nil, fmt.Errorf("%w: unknown format version %d", ErrOpen, v)
	}
}

// additional is the GCM associated data: the version byte, then the
// caller's associated data.
func additional(version byte, ad []byte) []byte {
	b := make([]byte, 0, 1+len(ad))
	b = append(b, version)
	return append(b, ad...)
}
