package tokens

import (
	"github.com/authok-edge/authok/shared/jsonenc"

	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// MinRSABits is the smallest RSA modulus NewSigner accepts.
const MinRSABits = 2048

// TypAccessToken is the typ header of access tokens (RFC 9068 section 2.1).
const TypAccessToken = "at+jwt"

var b64 = base64.RawURLEncoding

// keyKind says how sign reaches the key: directly through its concrete type
// (no interface boxing, digest on the stack) or through crypto.Signer for
// keys held elsewhere (an HSM or a KMS).
type keyKind uint8

const (
	kindSigner  keyKind = iota // any crypto.Signer
	kindRSA                    // *rsa.PrivateKey
	kindECDSA                  // *ecdsa.PrivateKey
	kindEd25519                // ed25519.PrivateKey
)

// Signer signs tokens with one key. It is immutable and safe for concurrent
// use.
type Signer struct {
	alg    Alg
	kid    string
	typ    string
	header []byte // base64url of the protected header
	sigLen int    // signature length in bytes
	key    crypto.Signer
	kind   keyKind
	rsa    *rsa.PrivateKey
	ecdsa  *ecdsa.PrivateKey
	ed     ed25519.PrivateKey
}

// pssOptions is RFC 7518 section 3.5: the salt is as long as the hash.
var pssOptions = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}

// NewSigner returns a Signer for key under alg and kid. The key must fit
// the algorithm: RSA of at least MinRSABits for RS256 and PS256, ECDSA on
// P-256 for ES256, Ed25519 for EdDSA. key may be any crypto.Signer whose
// Public() has the right type; the standard library's own private key types
// are called directly.
func NewSigner(alg Alg, kid string, key crypto.Signer) (*Signer, error) {
	if key == nil {
		return nil, errors.New("tokens: nil key")
	}
	if kid == "" {
		return nil, errors.New("tokens: empty kid")
	}
	s := &Signer{alg: alg, kid: kid, key: key}
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		if alg != RS256 && alg != PS256 {
			return nil, fmt.Errorf("tokens: an RSA key cannot sign %s", algName(alg))
		}
		if n := pub.N.BitLen(); n < MinRSABits {
			return nil, fmt.Errorf("tokens: RSA key of %d bits is shorter than %d", n, MinRSABits)
		}
		s.sigLen = pub.Size()
		if k, ok := key.(*rsa.PrivateKey); ok {
			s.kind, s.rsa = kindRSA, k
		}
	case *ecdsa.PublicKey:
		if alg != ES256 {
			return nil, fmt.Errorf("tokens: an ECDSA key cannot sign %s", algName(alg))
		}
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("tokens: ES256 needs a P-256 key, not %s", pub.Curve.Params().Name)
		}
		s.sigLen = 64
		if k, ok := key.(*ecdsa.PrivateKey); ok {
			s.kind, s.ecdsa = kindECDSA, k
		}
	case ed25519.PublicKey:
		if alg != EdDSA {
			return nil, fmt.Errorf("tokens: an Ed25519 key cannot sign %s", algName(alg))
		}
		s.sigLen = ed25519.SignatureSize
		if k, ok := key.(ed25519.PrivateKey); ok {
			s.kind, s.ed = kindEd25519, k
		}
	default:
		return nil, fmt.Errorf("tokens: unsupported key type %T", pub)
	}
	return s.withTyp(TypAccessToken), nil
}

func algName(a Alg) string {
	if a == "" {
		return "an empty algorithm"
	}
	return fmt.Sprintf("%q", string(a))
}

// WithTyp returns a copy of s whose header carries typ instead of
// "at+jwt" (for example "JWT" for ID tokens). An empty typ leaves it out.
func (s *Signer) WithTyp(typ string) *Signer {
	c := *s
	return c.withTyp(typ)
}

func (s *Signer) withTyp(typ string) *Signer {
	h := make([]byte, 0, 96)
	h = append(h, `{"alg":`...)
	h = jsonenc.AppendString(h, string(s.alg))
	h = append(h, `,"kid":`...)
	h = jsonenc.AppendString(h, s.kid)
	if typ != "" {
		h = append(h, `,"typ":`...)
		h = jsonenc.AppendString(h, typ)
	}
	h = append(h, '}')
	s.typ = typ
	s.header = b64.AppendEncode(make([]byte, 0, b64.EncodedLen(len(h))), h)
	return s
}

// Alg is the algorithm s signs with.
func (s *Signer) Alg() Alg { return s.alg }

// KID is the kid s puts in the header.
func (s *Signer) KID() string { return s.kid }

// Typ is the typ s puts in the header ("at+jwt" unless WithTyp changed it).
func (s *Signer) Typ() string { return s.typ }

// Public is the public half of s's key.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// Sign appends the compact JWS header.payload.signature of claims (the
// JSON payload, used as given) to dst and returns the extended slice. On
// error dst is returned unchanged in length.
func (s *Signer) Sign(dst []byte, claims []byte) ([]byte, error) {
	start := len(dst)
	dst = slices.Grow(dst, len(s.header)+1+b64.EncodedLen(len(claims))+1+b64.EncodedLen(s.sigLen))
	dst = append(dst, s.header...)
	dst = append(dst, '.')
	dst = b64.AppendEncode(dst, claims)
	input := dst[start:]

	var raw [64]byte // ES256 and EdDSA signatures are built here
	var sig []byte
	var err error
	switch s.kind {
	case kindRSA:
		// crypto/rsa keeps a reference to the digest's memory (it escapes),
		// so the digest lives in a pooled array rather than on the stack.
		digest := digests.Get().(*[sha256.Size]byte)
		*digest = sha256.Sum256(input)
		if s.alg == PS256 {
			sig, err = rsa.SignPSS(rand.Reader, s.rsa, crypto.SHA256, digest[:], pssOptions)
		} else {
			sig, err = rsa.SignPKCS1v15(nil, s.rsa, crypto.SHA256, digest[:])
		}
		digests.Put(digest)
	case kindECDSA:
		// Pooled for the same reason under GOEXPERIMENT=boringcrypto, whose
		// crypto/ecdsa hands the digest to C.
		digest := digests.Get().(*[sha256.Size]byte)
		*digest = sha256.Sum256(input)
		var der []byte
		if der, err = ecdsa.SignASN1(rand.Reader, s.ecdsa, digest[:]); err == nil {
			sig, err = rawECDSA(raw[:], der)
		}
		digests.Put(digest)
	case kindEd25519:
		sig = raw[:ed25519.SignatureSize]
		signEd25519(sig, s.ed, input)
	default:
		sig, err = s.signGeneric(input, raw[:])
	}
	if err != nil {
		return dst[:start], fmt.Errorf("tokens: sign %s: %w", s.alg, err)
	}
	if len(sig) != s.sigLen {
		return dst[:start], fmt.Errorf("tokens: sign %s: signature of %d bytes, want %d", s.alg, len(sig), s.sigLen)
	}
	dst = append(dst, '.')
	return b64.AppendEncode(dst, sig), nil
}

// signGeneric signs through the crypto.Signer interface.
func (s *Signer) signGeneric(input, raw []byte) ([]byte, error) {
	switch s.alg {
	case EdDSA:
		return s.key.Sign(nil, input, crypto.Hash(0))
	case PS256:
		digest := sha256.Sum256(input)
		return s.key.Sign(rand.Reader, digest[:], pssOptions)
	case ES256:
		digest := sha256.Sum256(input)
		der, err := s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return rawECDSA(raw, der)
	default:
		digest := sha256.Sum256(input)
		return s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
}

// signEd25519 writes the signature of msg into sig (64 bytes). ed25519.Sign
// returns a fresh slice; copying it keeps the caller's path uniform.
func signEd25519(sig []byte, k ed25519.PrivateKey, msg []byte) {
	copy(sig, ed25519.Sign(k, msg))
}

// rawECDSA converts an ASN.1 DER ECDSA-Sig-Value (SEQUENCE { r, s }) into the
// fixed-size r||s form of JWS (32 bytes each for P-256), written to out[:64].
func rawECDSA(out, der []byte) ([]byte, error) {
	const size = 32
	body, rest, ok := derElement(der, 0x30)
	if !ok || len(rest) != 0 {
		return nil, errors.New("malformed ECDSA signature")
	}
	out = out[:2*size]
	clear(out)
	for i := range 2 {
		var n []byte
		if n, body, ok = derElement(body, 0x02); !ok || len(n) == 0 || n[0]&0x80 != 0 {
			return nil, errors.New("malformed ECDSA signature")
		}
		for len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if len(n) > size {
			return nil, errors.New("ECDSA signature integer too long")
		}
		copy(out[(i+1)*size-len(n):(i+1)*size], n)
	}
	if len(body) != 0 {
		return nil, errors.New("malformed ECDSA signature")
	}
	return out, nil
}

// derElement reads one DER element with the given tag, returning its
// contents and what follows it. Lengths up to 0xffff are accepted.
func derElement(b []byte, tag byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, off := int(b[1]), 2
	switch {
	case n < 0x80:
	case n == 0x81 && len(b) >= 3:
		n, off = int(b[2]), 3
	case n == 0x82 && len(b) >= 4:
		n, off = int(b[2])<<8|int(b[3]), 4
	default:
		return nil, nil, false
	}
	if len(b)-off < n {
		return nil, nil, false
	}
	return b[off : off+n], b[off+n:], true
}

// digests holds the SHA-256 digests handed to crypto/rsa (and, on
// BoringCrypto, crypto/ecdsa), which would otherwise escape to the heap.
var digests = sync.Pool{New: func() any { return new([sha256.Size]byte) }}

// scratch holds claim JSON between AppendJSON and Sign in SignAccess.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooled bounds the buffers returned to the pool, so one huge token
// (many custom claims) does not pin memory.
const maxPooled = 16 << 10

// SignAccess renders c (AppendJSON) into a pooled buffer and appends the
// signed token to dst: the whole hot path of minting an access token.
func (s *Signer) SignAccess(dst []byte, c *AccessClaims) ([]byte, error) {
	bp := scratch.Get().(*[]byte)
	buf := c.AppendJSON((*bp)[:0])
	out, err := s.Sign(dst, buf)
	if cap(buf) <= maxPooled {
		*bp = buf[:0]
		scratch.Put(bp)
	}
	return out, err
}
