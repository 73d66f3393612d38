package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
	"github.com/authok-edge/authok/shared/tokens"
)

var ctx = context.Background()

const (
	tenant   = "acme"
	issuer   = "https://acme.us.authok.cn/"
	audience = "https://api.example.com/"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

type fixture struct {
	st  *store.Local
	box secretbox.Key
	r   *repo.Repo
	m   *Manager
	clk *clock
}

func newFixture(t *testing.T, opts ...Option) fixture {
	t.Helper()
	st := storetest.Local(t)
	box, err := secretbox.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.New(st, box)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTenant(ctx, model.Tenant{Name: tenant, Internal: model.TenantInternal{Issuer: issuer}}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)}
	m := New(st, box, append([]Option{WithClock(clk.Now)}, opts...)...)
	t.Cleanup(func() { m.Close() })
	return fixture{st: st, box: box, r: r, m: m, clk: clk}
}

func (f fixture) ensure(t *testing.T) {
	t.Helper()
	if err := f.m.Ensure(ctx, tenant); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) rotate(t *testing.T) []Key {
	t.Helper()
	next, err := f.m.Rotate(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func (f fixture) list(t *testing.T) []Key {
	t.Helper()
	keys, err := f.m.List(tenant)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// claims returns access token claims issued now, valid an hour.
func (f fixture) claims() *tokens.AccessClaims {
	now := f.clk.Now().Unix()
	return &tokens.AccessClaims{
		Issuer: issuer, Subject: "client-1", Audience: []string{audience}, ClientID: "client-1",
		Scope: "read:things", GrantType: "client-credentials", JTI: string(tokens.NewJTI(nil)),
		IssuedAt: now, ExpiresAt: now + 3600,
	}
}

// mint signs f.claims() with tenant's current key for alg.
func (f fixture) mint(t *testing.T, alg tokens.Alg) (string, *tokens.Signer) {
	t.Helper()
	s, err := f.m.Signer(tenant, alg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.SignAccess(nil, f.claims())
	if err != nil {
		t.Fatal(err)
	}
	return string(tok), s
}

func (f fixture) verify(token string) (map[string]any, error) {
	return f.m.Verify(tenant, token, issuer, []string{"https://other/", audience})
}

// byGeneration groups keys by generation.
func byGeneration(keys []Key) map[uint64][]Key {
	g := map[uint64][]Key{}
	for _, k := range keys {
		g[k.Generation] = append(g[k.Generation], k)
	}
	return g
}

// checkGeneration asserts that keys are one full generation, in
// tokens.Algs order, with the given status.
func checkGeneration(t *testing.T, keys []Key, status string) {
	t.Helper()
	if len(keys) != len(tokens.Algs) {
		t.Fatalf("generation has %d keys, want %d", len(keys), len(tokens.Algs))
	}
	for i, k := range keys {
		if k.Alg != tokens.Algs[i] {
			t.Fatalf("key %d is %s, want %s", i, k.Alg, tokens.Algs[i])
		}
		if k.Status() != status {
			t.Fatalf("%s key %s is %q, want %q (%+v)", k.Alg, k.KID, k.Status(), status, k.SigningKey)
		}
		if k.Generation != keys[0].Generation {
			t.Fatal("mixed generations")
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestEnsureCreatesCurrentAndNext(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	keys := f.list(t)
	if len(keys) != 8 {
		t.Fatalf("%d keys, want 8", len(keys))
	}
	// Newest first: next (generation 2), then current (generation 1).
	checkGeneration(t, keys[:4], "next")
	checkGeneration(t, keys[4:], "current")
	if keys[0].Generation != 2 || keys[4].Generation != 1 {
		t.Fatalf("generations %d, %d", keys[0].Generation, keys[4].Generation)
	}
	now := model.NewTime(f.clk.Now())
	kids := map[string]bool{}
	for _, k := range keys {
		if !uuidRE.MatchString(k.KID) || kids[k.KID] {
			t.Fatalf("kid %q not a fresh UUID v4", k.KID)
		}
		kids[k.KID] = true
		if k.Current && !k.CurrentSince.Equal(now.Time) || !k.CurrentUntil.IsZero() || !k.RevokedAt.IsZero() {
			t.Fatalf("timestamps of %s: %+v", k.KID, k.SigningKey)
		}
		if k.Next && !k.CurrentSince.IsZero() {
			t.Fatalf("next key has current_since")
		}
		checkCertificate(t, k, f.clk.Now())
	}

	applied := f.st.AppliedIndex()
	f.ensure(t)
	if f.st.AppliedIndex() != applied {
		t.Fatal("a second Ensure wrote to the store")
	}
}

// checkCertificate checks a key's certificate, fingerprints and PKCS #7.
func checkCertificate(t *testing.T, k Key, now time.Time) {
	t.Helper()
	der, err := certDER(k.Cert)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != tenant || c.Issuer.CommonName != tenant {
		t.Fatalf("subject %q issuer %q", c.Subject, c.Issuer)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Fatalf("%s certificate is not self-signed: %v", k.Alg, err)
	}
	if c.NotBefore.After(now) || c.NotAfter.Sub(c.NotBefore) != CertValidity {
		t.Fatalf("validity %s to %s", c.NotBefore, c.NotAfter)
	}
	if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(k.Public) {
		t.Fatal("certificate key differs from Key.Public")
	}
	sum := sha1.Sum(der)
	if k.Thumbprint != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Fatalf("thumbprint %s", k.Thumbprint)
	}
	if strings.ReplaceAll(k.Fingerprint, ":", "") != k.Thumbprint || len(k.Fingerprint) != 59 {
		t.Fatalf("fingerprint %s", k.Fingerprint)
	}
	// The PKCS #7 is a certs-only SignedData holding the certificate.
	b, _ := pem.Decode([]byte(k.PKCS7))
	if b == nil || b.Type != "PKCS7" {
		t.Fatal("pkcs7 is not PEM")
	}
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(b.Bytes, &ci); err != nil || !ci.ContentType.Equal(oidSignedData) {
		t.Fatalf("pkcs7: %v %v", ci.ContentType, err)
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      asn1.RawValue
		Certificates     []asn1.RawValue `asn1:"tag:0,set"`
		SignerInfos      asn1.RawValue
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatalf("pkcs7 signed data: %v", err)
	}
	if sd.Version != 1 || len(sd.Certificates) != 1 || !bytes.Equal(sd.Certificates[0].FullBytes, der) {
		t.Fatalf("pkcs7 holds %d certificates", len(sd.Certificates))
	}
}

func TestEnsureNeedsTenant(t *testing.T) {
	f := newFixture(t)
	applied := f.st.AppliedIndex()
	if err := f.m.Ensure(ctx, "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Ensure of a missing tenant: %v", err)
	}
	if _, err := f.m.Rotate(ctx, "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Rotate of a missing tenant: %v", err)
	}
	if f.st.AppliedIndex() != applied {
		t.Fatal("wrote keys for a missing tenant")
	}
	if keys, err := f.m.List("ghost"); err != nil || len(keys) != 0 {
		t.Fatalf("List of a tenant without keys: %v, %v", keys, err)
	}
	if _, err := f.m.Signer("ghost", tokens.RS256); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Signer without keys: %v", err)
	}
}

func TestEnsureConcurrent(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		// Separate Managers, as on separate nodes.
		m := New(f.st, f.box, WithClock(f.clk.Now))
		defer m.Close()
		wg.Go(func() { errs[i] = m.Ensure(ctx, tenant) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if keys := f.list(t); len(keys) != 8 {
		t.Fatalf("%d keys after concurrent Ensure, want 8", len(keys))
	}
}

func TestEveryAlgSignsWhatJWKSVerifies(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	published, err := f.m.Published(tenant)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := RenderJWKS(published)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 8 {
		t.Fatalf("JWKS has %d keys, want 8 (current and next)", set.Len())
	}
	listed := map[string]Key{}
	for _, k := range f.list(t) {
		listed[k.KID] = k
	}
	for _, alg := range tokens.Algs {
		t.Run(string(alg), func(t *testing.T) {
			tok, s := f.mint(t, alg)
			// kid: header = JWKS = /keys/signing, and it is the current key.
			msg, err := jws.ParseString(tok)
			if err != nil {
				t.Fatal(err)
			}
			hdr := msg.Signatures()[0].ProtectedHeaders()
			kid := hdr.KeyID()
			if kid != s.KID() || string(hdr.Algorithm()) != string(alg) || hdr.Type() != "at+jwt" {
				t.Fatalf("header kid %q alg %q typ %q", kid, hdr.Algorithm(), hdr.Type())
			}
			if k, ok := listed[kid]; !ok || !k.Current || k.Alg != alg {
				t.Fatalf("kid %q is not the current %s key of /keys/signing", kid, alg)
			}
			jk, ok := set.LookupKeyID(kid)
			if !ok || jk.Algorithm().String() != string(alg) {
				t.Fatalf("kid %q not in the JWKS as %s", kid, alg)
			}
			// A JOSE library verifies it with the JWKS alone.
			if _, err := jws.Verify([]byte(tok), jws.WithKeySet(set)); err != nil {
				t.Fatalf("jws.Verify with the JWKS: %v", err)
			}
			parsed, err := jwt.ParseString(tok, jwt.WithKeySet(set), jwt.WithValidate(true),
				jwt.WithClock(jwt.ClockFunc(f.clk.Now)), jwt.WithIssuer(issuer), jwt.WithAudience(audience))
			if err != nil {
				t.Fatalf("jwt.Parse with the JWKS: %v", err)
			}
			if parsed.Subject() != "client-1" {
				t.Fatalf("sub %q", parsed.Subject())
			}
			sig := msg.Signatures()[0].Signature()
			if alg == tokens.ES256 && len(sig) != 64 {
				t.Fatalf("ES256 signature of %d bytes, want 64 (r||s)", len(sig))
			}
			claims, err := f.verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims["client_id"] != "client-1" || claims["azp"] != "client-1" || claims["gty"] != "client-credentials" {
				t.Fatalf("claims %v", claims)
			}
		})
	}
}

func TestJWKSShape(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	f.rotate(t) // current, next and previous
	published, _ := f.m.Published(tenant)
	if len(published) != 12 {
		t.Fatalf("%d published keys, want 12", len(published))
	}
	for i, want := range []string{"current", "next", "previous"} {
		checkGeneration(t, published[4*i:4*i+4], want)
	}
	doc, err := RenderJWKS(published)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := slices.Clone(published)
	slices.Reverse(shuffled)
	if again, _ := RenderJWKS(shuffled); !bytes.Equal(again, doc) {
		t.Fatal("RenderJWKS depends on the input order")
	}
	var parsed struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	wantFields := map[tokens.Alg][]string{
		tokens.RS256: {"alg", "e", "kid", "kty", "n", "use", "x5c", "x5t"},
		tokens.PS256: {"alg", "e", "kid", "kty", "n", "use", "x5c", "x5t"},
		tokens.ES256: {"alg", "crv", "kid", "kty", "use", "x", "x5c", "x5t", "y"},
		tokens.EdDSA: {"alg", "crv", "kid", "kty", "use", "x", "x5c", "x5t"},
	}
	wantKty := map[tokens.Alg]string{tokens.RS256: "RSA", tokens.PS256: "RSA", tokens.ES256: "EC", tokens.EdDSA: "OKP"}
	for i, jk := range parsed.Keys {
		k := published[i]
		var names []string
		for n := range jk {
			names = append(names, n)
		}
		slices.Sort(names)
		if !slices.Equal(names, wantFields[k.Alg]) {
			t.Fatalf("%s JWK fields %v, want %v", k.Alg, names, wantFields[k.Alg])
		}
		der, _ := certDER(k.Cert)
		sum := sha1.Sum(der)
		x5c, _ := jk["x5c"].([]any)
		if jk["kid"] != k.KID || jk["alg"] != string(k.Alg) || jk["use"] != "sig" || jk["kty"] != wantKty[k.Alg] ||
			len(x5c) != 1 || x5c[0] != base64.StdEncoding.EncodeToString(der) ||
			jk["x5t"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Fatalf("JWK %d: %v", i, jk)
		}
		if k.Alg == tokens.ES256 && jk["crv"] != "P-256" || k.Alg == tokens.EdDSA && jk["crv"] != "Ed25519" {
			t.Fatalf("JWK %d curve %v", i, jk["crv"])
		}
	}
}

func TestRotationSemantics(t *testing.T) {
	f := newFixture(t)
	t0 := f.clk.Now()
	f.ensure(t)
	g := byGeneration(f.list(t))
	gen1, gen2 := g[1], g[2]
	checkGeneration(t, gen1, "current")
	checkGeneration(t, gen2, "next")

	// Rotation 1: next -> current, current -> previous, new next.
	t1 := f.clk.Advance(time.Hour)
	next := f.rotate(t)
	checkGeneration(t, next, "next")
	if next[0].Generation != 3 {
		t.Fatalf("new next is generation %d", next[0].Generation)
	}
	g = byGeneration(f.list(t))
	checkGeneration(t, g[3], "next")
	checkGeneration(t, g[2], "current")
	checkGeneration(t, g[1], "previous")
	for i := range 4 {
		if g[3][i].KID != next[i].KID {
			t.Fatal("Rotate returned other keys than the stored next ones")
		}
		if g[2][i].KID != gen2[i].KID || g[1][i].KID != gen1[i].KID {
			t.Fatal("kids changed on rotation")
		}
		if !g[2][i].CurrentSince.Equal(model.NewTime(t1).Time) {
			t.Fatalf("current_since %v, want %v", g[2][i].CurrentSince, t1)
		}
		if !g[1][i].CurrentSince.Equal(model.NewTime(t0).Time) || !g[1][i].CurrentUntil.Equal(model.NewTime(t1).Time) {
			t.Fatalf("previous key: since %v until %v", g[1][i].CurrentSince, g[1][i].CurrentUntil)
		}
	}
	if s, _ := f.m.Signer(tenant, tokens.RS256); s.KID() != g[2][0].KID {
		t.Fatal("Signer does not use the new current key")
	}

	// Rotation 2: the old previous is revoked.
	t2 := f.clk.Advance(time.Hour)
	f.rotate(t)
	g = byGeneration(f.list(t))
	checkGeneration(t, g[4], "next")
	checkGeneration(t, g[3], "current")
	checkGeneration(t, g[2], "previous")
	checkGeneration(t, g[1], "revoked")
	for _, k := range g[1] {
		if k.Previous || k.Current || k.Next || !k.RevokedAt.Equal(model.NewTime(t2).Time) {
			t.Fatalf("revoked key %+v", k.SigningKey)
		}
	}
	published, _ := f.m.Published(tenant)
	for _, k := range published {
		if k.Generation == 1 {
			t.Fatal("a revoked key is published")
		}
	}

	// Retention: only the Retained newest generations stay.
	for range 10 {
		f.clk.Advance(time.Hour)
		f.rotate(t)
	}
	keys := f.list(t)
	g = byGeneration(keys)
	if len(g) != Retained || len(keys) != Retained*4 {
		t.Fatalf("%d generations (%d keys) kept, want %d", len(g), len(keys), Retained)
	}
	// 2 + 12 rotations = 14 generations made; 6..14 remain.
	checkGeneration(t, g[14], "next")
	checkGeneration(t, g[13], "current")
	checkGeneration(t, g[12], "previous")
	for gen := uint64(6); gen <= 11; gen++ {
		checkGeneration(t, g[gen], "revoked")
	}
	if _, err := f.m.Get(tenant, gen1[0].KID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key of generation 1 still there: %v", err)
	}
	if items, _, _ := f.st.Scan(KeyPrefix(tenant), nil, 1000); len(items) != Retained*4 {
		t.Fatalf("%d records stored", len(items))
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1].Generation < keys[i].Generation {
			t.Fatal("List is not newest first")
		}
	}
}

func TestTokensOutliveRotationUntilRevoked(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	tokensBefore := map[tokens.Alg]string{}
	kids := map[tokens.Alg]string{}
	for _, alg := range tokens.Algs {
		tok, s := f.mint(t, alg)
		tokensBefore[alg], kids[alg] = tok, s.KID()
	}
	f.rotate(t)
	for alg, tok := range tokensBefore {
		if _, err := f.verify(tok); err != nil {
			t.Fatalf("%s token signed before the rotation: %v", alg, err)
		}
	}
	// Revoking the previous RS256 key rejects its tokens, and only them.
	k, err := f.m.Revoke(ctx, tenant, kids[tokens.RS256])
	if err != nil {
		t.Fatal(err)
	}
	if !k.Revoked || !k.RevokedAt.Equal(model.NewTime(f.clk.Now()).Time) {
		t.Fatalf("revoked key %+v", k.SigningKey)
	}
	if _, err := f.verify(tokensBefore[tokens.RS256]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("token of a revoked key: %v", err)
	}
	if _, err := f.verify(tokensBefore[tokens.ES256]); err != nil {
		t.Fatalf("token of an unrevoked previous key: %v", err)
	}
	// The next rotation revokes the rest of that generation.
	f.rotate(t)
	for alg, tok := range tokensBefore {
		if _, err := f.verify(tok); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s token of a retired generation: %v", alg, err)
		}
	}
}

func TestRevokeRules(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	f.rotate(t)
	g := byGeneration(f.list(t))
	current, previous, next := g[2][0], g[1][0], g[3][1]

	if _, err := f.m.Revoke(ctx, tenant, current.KID); !errors.Is(err, ErrInvalid) {
		t.Fatalf("revoke current: %v", err)
	}
	if _, err := f.m.Revoke(ctx, tenant, "no-such-kid"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if _, err := f.m.Revoke(ctx, tenant, previous.KID); err != nil {
		t.Fatal(err)
	}
	applied := f.st.AppliedIndex()
	_, err := f.m.Revoke(ctx, tenant, previous.KID)
	if !errors.Is(err, ErrAlreadyRevoked) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("revoke twice: %v", err)
	}
	if f.st.AppliedIndex() != applied {
		t.Fatal("a second revoke wrote")
	}
	got, _ := f.m.Get(tenant, previous.KID)
	if !got.Revoked || !got.Previous {
		t.Fatalf("revoked previous key %+v", got.SigningKey)
	}

	// Revoking a next key: the next rotation makes a fresh current
	// generation rather than promoting a generation with a revoked key.
	if _, err := f.m.Revoke(ctx, tenant, next.KID); err != nil {
		t.Fatal(err)
	}
	newNext := f.rotate(t)
	g = byGeneration(f.list(t))
	checkGeneration(t, g[5], "next")
	checkGeneration(t, g[4], "current") // fresh
	checkGeneration(t, g[3], "revoked") // the next one, never current
	checkGeneration(t, g[2], "previous")
	if newNext[0].Generation != 5 {
		t.Fatalf("new next is generation %d", newNext[0].Generation)
	}
	for _, k := range g[3] {
		if !k.CurrentSince.IsZero() {
			t.Fatal("a revoked next key became current")
		}
	}
	if s, _ := f.m.Signer(tenant, tokens.PS256); s.KID() != g[4][1].KID {
		t.Fatal("signer is not the fresh current key")
	}
}

func TestRotateWithoutKeys(t *testing.T) {
	f := newFixture(t)
	next := f.rotate(t)
	checkGeneration(t, next, "next")
	g := byGeneration(f.list(t))
	if len(g) != 2 {
		t.Fatalf("%d generations", len(g))
	}
	checkGeneration(t, g[1], "current")
}

func TestConcurrentRotations(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	const rotators = 4
	stop := make(chan struct{})
	var minted, rejected int
	var mintErr error
	var minter sync.WaitGroup
	// Mint and verify while keys rotate: a token from Signer verifies
	// unless its key has been revoked meanwhile.
	minter.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, err := f.m.Signer(tenant, tokens.ES256)
			if err != nil {
				mintErr = err
				return
			}
			tok, err := s.SignAccess(nil, f.claims())
			if err != nil {
				mintErr = err
				return
			}
			if _, err := f.verify(string(tok)); err != nil {
				if k, gerr := f.m.Get(tenant, s.KID()); gerr == nil && !k.Revoked {
					mintErr = fmt.Errorf("token of unrevoked key %s rejected: %v", s.KID(), err)
					return
				}
				rejected++
			}
			minted++
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, rotators)
	for i := range rotators {
		m := New(f.st, f.box, WithClock(f.clk.Now)) // as on another node
		defer m.Close()
		wg.Go(func() { _, errs[i] = m.Rotate(ctx, tenant) })
	}
	wg.Wait()
	close(stop)
	minter.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
	}
	if mintErr != nil {
		t.Fatal(mintErr)
	}
	t.Logf("minted %d tokens during the rotations (%d of a key revoked meanwhile)", minted, rejected)

	keys := f.list(t)
	g := byGeneration(keys)
	if len(g) != 2+rotators {
		t.Fatalf("%d generations, want %d", len(g), 2+rotators)
	}
	count := map[string]int{}
	for _, k := range keys {
		count[k.Status()]++
	}
	if count["current"] != 4 || count["next"] != 4 || count["previous"] != 4 || count["revoked"] != 4*(rotators-1) {
		t.Fatalf("statuses %v", count)
	}
	top := uint64(2 + rotators)
	checkGeneration(t, g[top], "next")
	checkGeneration(t, g[top-1], "current")
	checkGeneration(t, g[top-2], "previous")
}

// craft builds a compact JWS with any header, signed by sign.
func craft(header, claims map[string]any, sign func(input []byte) []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	published, _ := f.m.Published(tenant)
	rs, ps := published[0], published[1]
	if rs.Alg != tokens.RS256 || ps.Alg != tokens.PS256 {
		t.Fatal("unexpected published order")
	}
	rsSigner, _ := f.m.Signer(tenant, tokens.RS256)
	psSigner, _ := f.m.Signer(tenant, tokens.PS256)
	now := f.clk.Now().Unix()
	good := map[string]any{"iss": issuer, "sub": "s", "aud": audience, "iat": now, "exp": now + 600}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for a, b := range good {
			c[a] = b
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	signWith := func(s *tokens.Signer, claims map[string]any) string {
		b, _ := json.Marshal(claims)
		tok, err := s.Sign(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		return string(tok)
	}
	rsPublicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(rs.Public))})
	hmacWith := func(secret []byte) func([]byte) []byte {
		return func(in []byte) []byte { m := hmac.New(sha256.New, secret); m.Write(in); return m.Sum(nil) }
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaWith := func(k *rsa.PrivateKey) func([]byte) []byte {
		return func(in []byte) []byte {
			d := sha256.Sum256(in)
			sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
			return sig
		}
	}
	psPriv := privateOf(t, f, ps)

	// A control: the good claims verify.
	if _, err := f.verify(signWith(rsSigner, good)); err != nil {
		t.Fatalf("good token: %v", err)
	}
	tests := []struct {
		name  string
		token string
	}{
		{"wrong issuer", signWith(rsSigner, with("iss", "https://evil.example/"))},
		{"issuer without slash", signWith(rsSigner, with("iss", strings.TrimSuffix(issuer, "/")))},
		{"wrong audience", signWith(rsSigner, with("aud", "https://elsewhere/"))},
		{"no audience", signWith(rsSigner, with("aud", nil))},
		{"audience array without ours", signWith(rsSigner, with("aud", []string{"a", "b"}))},
		{"expired beyond leeway", signWith(rsSigner, with("exp", now-31))},
		{"no exp", signWith(rsSigner, with("exp", nil))},
		{"nbf in the future", signWith(rsSigner, with("nbf", now+120))},
		{"iat in the future", signWith(rsSigner, with("iat", now+120))},
		{"HS256 keyed with the public key PEM", craft(map[string]any{"alg": "HS256", "kid": rs.KID, "typ": "at+jwt"}, good, hmacWith(rsPublicPEM))},
		{"HS256 keyed with the certificate", craft(map[string]any{"alg": "HS256", "kid": rs.KID}, good, hmacWith([]byte(rs.Cert)))},
		{"alg none", craft(map[string]any{"alg": "none", "kid": rs.KID}, good, func([]byte) []byte { return nil })},
		{"RS256 header, signed by another key", craft(map[string]any{"alg": "RS256", "kid": rs.KID}, good, rsaWith(other))},
		{"RS256 header on the PS256 key", craft(map[string]any{"alg": "RS256", "kid": ps.KID}, good, rsaWith(psPriv))},
		{"unknown kid", craft(map[string]any{"alg": "RS256", "kid": "00000000-0000-4000-8000-000000000000"}, good, rsaWith(other))},
		{"no kid", craft(map[string]any{"alg": "RS256"}, good, rsaWith(other))},
		{"tampered payload", tamper(signWith(rsSigner, good))},
		{"garbage", "not.a.token"},
		{"two parts", "abc.def"},
		{"too large", strings.Repeat("a", MaxTokenSize) + ".b.c"},
		// RFC 9068 §4: an ID token (typ JWT) signed with the same key, or a
		// JWT without typ, is not an access token.
		{"typ JWT (an ID token)", signWith(rsSigner.WithTyp("JWT"), good)},
		{"no typ", signWith(rsSigner.WithTyp(""), good)},
		{"typ at+jwt with a suffix", signWith(rsSigner.WithTyp("at+jwtx"), good)},
		{"typ of another media type", signWith(rsSigner.WithTyp("application/jwt"), good)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := f.verify(tt.token)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, %v; want ErrInvalid", claims, err)
			}
		})
	}

	t.Run("typ spellings of RFC 9068", func(t *testing.T) {
		for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"} {
			if _, err := f.verify(signWith(rsSigner.WithTyp(typ), good)); err != nil {
				t.Errorf("typ %q: %v", typ, err)
			}
		}
	})
	t.Run("within leeway", func(t *testing.T) {
		if _, err := f.verify(signWith(rsSigner, with("exp", now-20))); err != nil {
			t.Fatalf("token expired 20s ago: %v", err)
		}
		if _, err := f.verify(signWith(psSigner, with("aud", []string{"x", audience}))); err != nil {
			t.Fatalf("audience array: %v", err)
		}
	})
	t.Run("expired by the clock", func(t *testing.T) {
		tok := signWith(rsSigner, good)
		f.clk.Advance(600*time.Second + VerifyLeeway + time.Second)
		if _, err := f.verify(tok); !errors.Is(err, ErrInvalid) {
			t.Fatalf("expired token: %v", err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if _, err := f.m.Verify("other", signWith(rsSigner, good), issuer, []string{audience}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("token checked against a tenant without that key: %v", err)
		}
	})
}

func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	c = bytes.Replace(c, []byte(`"sub":"s"`), []byte(`"sub":"t"`), 1)
	parts[1] = base64.RawURLEncoding.EncodeToString(c)
	return strings.Join(parts, ".")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// privateOf opens a stored key's private half (tests only).
func privateOf(t *testing.T, f fixture, k Key) *rsa.PrivateKey {
	t.Helper()
	e, err := f.m.entryFor(tenant)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := f.r.OpenSigningKey(tenant, e.view.recs[k.KID])
	if err != nil {
		t.Fatal(err)
	}
	p, err := x509.ParsePKCS8PrivateKey(priv.PKCS8)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*rsa.PrivateKey)
}

func TestNoPrivateMaterialInJSONOrStore(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	keys := f.list(t)
	b, err := json.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"PRIVATE", "pkcs8", "spki", `"d"`, `"Public"`, `"N"`, "sealed"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Fatalf("Key JSON contains %s: %s", bad, b)
		}
	}
	var objs []map[string]any
	json.Unmarshal(b, &objs)
	for _, want := range []string{"kid", "cert", "pkcs7", "current", "next", "previous", "fingerprint", "thumbprint", "revoked", "alg"} {
		if _, ok := objs[0][want]; !ok {
			t.Fatalf("Key JSON lacks %q: %v", want, objs[0])
		}
	}

	// Stored values never hold the PKCS #8 DER, nor a 16-byte run of it.
	items, _, err := f.st.Scan(nil, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := f.m.entryFor(tenant)
	for _, k := range keys {
		priv, err := f.r.OpenSigningKey(tenant, e.view.recs[k.KID])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x509.ParsePKCS8PrivateKey(priv.PKCS8); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			for i := 0; i+16 <= len(priv.PKCS8); i += 16 {
				if bytes.Contains(it.Value, priv.PKCS8[i:i+16]) {
					t.Fatalf("stored value %q holds private key bytes", it.Key)
				}
			}
			if bytes.Contains(it.Value, []byte(base64.StdEncoding.EncodeToString(priv.PKCS8)[:40])) {
				t.Fatalf("stored value %q holds the private key in base64", it.Key)
			}
		}
	}
	// A sealed private key moved to another tenant's record does not open.
	rec := e.view.recs[keys[0].KID]
	if _, err := f.r.OpenSigningKey("other", rec); err == nil {
		t.Fatal("sealed key opened under another tenant")
	}
}

func TestSignerCache(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	a, _ := f.m.Signer(tenant, tokens.EdDSA)
	b, _ := f.m.Signer(tenant, tokens.EdDSA)
	if a != b {
		t.Fatal("Signer not cached")
	}
	// A write elsewhere in the store leaves the cache alone.
	if _, err := f.st.Apply(ctx, store.Txn{Ops: []store.Op{store.Put([]byte("t/acme/client/x"), []byte("{}"))}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.m.Signer(tenant, tokens.EdDSA); c != a {
		t.Fatal("unrelated write dropped the cache")
	}
	// A rotation by another Manager (another node) is seen at once.
	other := New(f.st, f.box)
	defer other.Close()
	if _, err := other.Rotate(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	c, _ := f.m.Signer(tenant, tokens.EdDSA)
	if c.KID() == a.KID() {
		t.Fatal("Signer still uses the retired key after a rotation")
	}
	if _, err := f.m.Signer(tenant, "HS256"); err == nil || !strings.Contains(err.Error(), "not supported yet") {
		t.Fatalf("Signer(HS256): %v", err)
	}
}

func TestSignerHotPathAllocations(t *testing.T) {
	f := newFixture(t)
	f.ensure(t)
	if _, err := f.m.Signer(tenant, tokens.RS256); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { f.m.Signer(tenant, tokens.RS256) }); n != 0 {
		t.Fatalf("a cached Signer lookup allocates %.1f times", n)
	}
}

func TestBadConstruction(t *testing.T) {
	m := New(storetest.Local(t), secretbox.Key{})
	defer m.Close()
	if err := m.Ensure(ctx, tenant); err == nil {
		t.Fatal("zero master key accepted")
	}
	if _, err := m.List(tenant); err == nil {
		t.Fatal("zero master key accepted")
	}
}

// cycling repeats a short pattern: a broken random source.
type cycling struct{ n byte }

func (c *cycling) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n = (c.n + 1) % 32
	}
	return len(p), nil
}

func TestRepeatingRandomnessIsRefused(t *testing.T) {
	f := newFixture(t, WithRand(&cycling{}))
	applied := f.st.AppliedIndex()
	if err := f.m.Ensure(ctx, tenant); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("Ensure with a repeating random source: %v", err)
	}
	if f.st.AppliedIndex() != applied {
		t.Fatal("keys with repeated kids were written")
	}
}
