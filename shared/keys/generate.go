package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/tokens"
)

// RSABits is the size of the RSA keys of RS256 and PS256.
const RSABits = 2048

// material is one freshly generated key, not yet stored.
type material struct {
	alg     tokens.Alg
	kid     string
	pub     crypto.PublicKey
	pkcs8   []byte
	certDER []byte
}

// generation is the keys of one generation, in tokens.Algs order.
type generation []material

// generate makes one key per algorithm for tenant, each with a self-signed
// certificate. The RSA keys, which take ~100 ms each, are made in
// parallel. It holds no lock of the Manager.
func (m *Manager) generate(tenant string, now time.Time) (generation, error) {
	g := make(generation, len(tokens.Algs))
	serials := make([]*big.Int, len(g))
	for i, alg := range tokens.Algs {
		kid, err := model.NewKID(m.rand)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		if serials[i], err = newSerial(m.rand); err != nil {
			return nil, err
		}
		g[i] = material{alg: alg, kid: kid}
	}
	errs := make([]error, len(g))
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() { errs[i] = m.fill(&g[i], tenant, serials[i], now) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return g, nil
}

// fill generates mat's key pair and certificate.
func (m *Manager) fill(mat *material, tenant string, serial *big.Int, now time.Time) error {
	var priv crypto.Signer
	var err error
	switch mat.alg {
	case tokens.RS256, tokens.PS256:
		priv, err = rsa.GenerateKey(m.rand, RSABits)
	case tokens.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), m.rand)
	case tokens.EdDSA:
		_, priv, err = ed25519.GenerateKey(m.rand)
	default:
		err = fmt.Errorf("no generator for %s", mat.alg)
	}
	if err != nil {
		return fmt.Errorf("keys: generate %s key: %w", mat.alg, err)
	}
	if mat.pkcs8, err = x509.MarshalPKCS8PrivateKey(priv); err != nil {
		return fmt.Errorf("keys: encode %s key: %w", mat.alg, err)
	}
	notBefore := now.UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: tenant},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(CertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	if mat.certDER, err = x509.CreateCertificate(m.rand, tmpl, tmpl, priv.Public(), priv); err != nil {
		return fmt.Errorf("keys: self-sign %s certificate: %w", mat.alg, err)
	}
	mat.pub = priv.Public()
	return nil
}

// newSerial returns a positive random 127-bit certificate serial.
func newSerial(r io.Reader) (*big.Int, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("keys: read randomness: %w", err)
	}
	b[0] &= 0x7f
	n := new(big.Int).SetBytes(b[:])
	if n.Sign() == 0 {
		n.SetInt64(1)
	}
	return n, nil
}

// publicFields fills the C.14 fields derived from a certificate.
func publicFields(kid string, der []byte) (model.SigningKey, error) {
	p7, err := pkcs7CertsOnly(der)
	if err != nil {
		return model.SigningKey{}, err
	}
	sum := sha1.Sum(der)
	return model.SigningKey{
		KID:         kid,
		Cert:        string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		PKCS7:       string(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: p7})),
		Fingerprint: colonHex(sum[:]),
		Thumbprint:  strings.ToUpper(hex.EncodeToString(sum[:])),
	}, nil
}

// colonHex is upper-case hex with colons between bytes, as Auth0 shows
// certificate fingerprints ("CC:FB:DD:...").
func colonHex(b []byte) string {
	const digits = "0123456789ABCDEF"
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteByte(digits[c>>4])
		sb.WriteByte(digits[c&15])
	}
	return sb.String()
}

var (
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
)

// pkcs7CertsOnly wraps a certificate in a degenerate PKCS #7 SignedData
// (RFC 2315 section 9.1, no signers), the "certs-only" form Auth0 returns as
// a signing key's pkcs7.
func pkcs7CertsOnly(certDER []byte) ([]byte, error) {
	type contentInfo struct {
		ContentType asn1.ObjectIdentifier
	}
	type signedData struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      contentInfo
		Certificates     asn1.RawValue
		SignerInfos      asn1.RawValue
	}
	emptySet := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: []byte{}}
	sd, err := asn1.Marshal(signedData{
		Version:          1,
		DigestAlgorithms: emptySet,
		ContentInfo:      contentInfo{ContentType: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: certDER},
		SignerInfos:      emptySet,
	})
	if err != nil {
		return nil, fmt.Errorf("keys: pkcs7: %w", err)
	}
	out, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{oidSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
	if err != nil {
		return nil, fmt.Errorf("keys: pkcs7: %w", err)
	}
	return out, nil
}
