package keys

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"

	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/tokens"
)

// view is a tenant's keys, decoded once and then only read.
type view struct {
	keys      []Key                            // List order
	byKID     map[string]int                   // index into keys
	recs      map[string]repo.SigningKeyRecord // by kid, private half sealed
	published []Key                            // Published order
	current   map[int]Key                      // by tokens.Alg index
}

func newView(kr repo.SigningKeyring) (*view, error) {
	v := &view{
		keys:    make([]Key, 0, len(kr.Keys)),
		byKID:   make(map[string]int, len(kr.Keys)),
		recs:    make(map[string]repo.SigningKeyRecord, len(kr.Keys)),
		current: map[int]Key{},
	}
	for _, rec := range kr.Keys {
		k, err := keyOf(rec)
		if err != nil {
			return nil, err
		}
		v.keys = append(v.keys, k)
		v.recs[rec.Key.KID] = rec
	}
	sortNewestFirst(v.keys)
	for i, k := range v.keys {
		v.byKID[k.KID] = i
		if k.published() {
			v.published = append(v.published, k)
		}
		if k.Current && !k.Revoked {
			if _, dup := v.current[k.Alg.Index()]; !dup { // the newest wins
				v.current[k.Alg.Index()] = k
			}
		}
	}
	sortPublished(v.published)
	return v, nil
}

// sortNewestFirst orders keys by generation, newest first, then by
// algorithm (tokens.Algs order), then kid.
func sortNewestFirst(keys []Key) {
	slices.SortStableFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(b.Generation, a.Generation), cmp.Compare(a.Alg.Index(), b.Alg.Index()), cmp.Compare(a.KID, b.KID))
	})
}

// statusRank orders published keys: current, next, previous, the rest.
func statusRank(k Key) int {
	switch {
	case k.Revoked:
		return 4
	case k.Current:
		return 0
	case k.Next:
		return 1
	case k.Previous:
		return 2
	}
	return 3
}

// sortPublished orders keys current, next, previous, then by algorithm
// (tokens.Algs order), generation (newest first) and kid.
func sortPublished(keys []Key) {
	slices.SortStableFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(statusRank(a), statusRank(b)), cmp.Compare(a.Alg.Index(), b.Alg.Index()),
			cmp.Compare(b.Generation, a.Generation), cmp.Compare(a.KID, b.KID))
	})
}

// keyOf decodes a record's public half and checks that its certificate's
// key fits its algorithm.
func keyOf(rec repo.SigningKeyRecord) (Key, error) {
	alg, err := tokens.ParseAlg(rec.Alg)
	if err != nil {
		return Key{}, fmt.Errorf("keys: signing key %q: %w", rec.Key.KID, err)
	}
	der, err := certDER(rec.Key.Cert)
	if err != nil {
		return Key{}, fmt.Errorf("keys: signing key %q: %w", rec.Key.KID, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Key{}, fmt.Errorf("keys: signing key %q: certificate: %w", rec.Key.KID, err)
	}
	if err := checkPublic(alg, cert.PublicKey); err != nil {
		return Key{}, fmt.Errorf("keys: signing key %q: %w", rec.Key.KID, err)
	}
	return Key{SigningKey: rec.Key, Alg: alg, Generation: rec.Generation, Public: cert.PublicKey}, nil
}

// certDER returns the DER of a PEM certificate.
func certDER(certPEM string) ([]byte, error) {
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("certificate is not PEM")
	}
	return b.Bytes, nil
}

// checkPublic reports whether pub is a key alg can use.
func checkPublic(alg tokens.Alg, pub crypto.PublicKey) error {
	ok := false
	switch p := pub.(type) {
	case *rsa.PublicKey:
		ok = (alg == tokens.RS256 || alg == tokens.PS256) && p.N.BitLen() >= tokens.MinRSABits
	case *ecdsa.PublicKey:
		ok = alg == tokens.ES256 && p.Curve == elliptic.P256()
	case ed25519.PublicKey:
		ok = alg == tokens.EdDSA
	}
	if !ok {
		return fmt.Errorf("%w: a %T does not fit %s", ErrInvalid, pub, alg)
	}
	return nil
}

// newSigner opens the private half of k and makes its signer.
func (m *Manager) newSigner(tenant string, rec repo.SigningKeyRecord, k Key) (*tokens.Signer, error) {
	priv, err := m.repo.OpenSigningKey(tenant, rec)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(priv.PKCS8)
	clear(priv.PKCS8)
	if err != nil {
		return nil, fmt.Errorf("keys: signing key %q: private key does not parse", k.KID)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: signing key %q: private key of type %T cannot sign", k.KID, parsed)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(k.Public) {
		return nil, fmt.Errorf("keys: signing key %q: private key does not match its certificate", k.KID)
	}
	s, err := tokens.NewSigner(k.Alg, k.KID, signer)
	if err != nil {
		return nil, fmt.Errorf("keys: signing key %q: %w", k.KID, err)
	}
	return s, nil
}
