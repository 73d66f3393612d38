package tokens

import (
	"github.com/authok-edge/authok/shared/jsonenc"

	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// testKeys are generated once per test binary (RSA generation is slow).
var testKeys = sync.OnceValue(func() map[Alg]crypto.Signer {
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ps, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	es, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[Alg]crypto.Signer{RS256: rs, PS256: ps, ES256: es, EdDSA: ed}
})

func mustSigner(t testing.TB, alg Alg) *Signer {
	t.Helper()
	s, err := NewSigner(alg, "kid-"+string(alg), testKeys()[alg])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// opaque hides a key's concrete type, forcing the crypto.Signer path.
type opaque struct{ k crypto.Signer }

func (o opaque) Public() crypto.PublicKey { return o.k.Public() }
func (o opaque) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.k.Sign(r, d, opts)
}

func typicalClaims() *AccessClaims {
	return &AccessClaims{
		Issuer:    "https://default.us.authok.cn/",
		Subject:   "T3N340S-OGz5mNc5-BqxVhP9JD_NbeGQ",
		Audience:  []string{"https://api.example.com/"},
		ClientID:  "T3N340S-OGz5mNc5-BqxVhP9JD_NbeGQ",
		Scope:     "read:orders write:orders read:customers",
		GrantType: "client-credentials",
		JTI:       "Yt9Hq3y2c8S0cEo3sR7n4Q",
		IssuedAt:  1700000000,
		ExpiresAt: 1700086400,
	}
}

func TestParseAlg(t *testing.T) {
	tests := []struct {
		in      string
		want    Alg
		wantErr string
	}{
		{in: "RS256", want: RS256},
		{in: "PS256", want: PS256},
		{in: "ES256", want: ES256},
		{in: "EdDSA", want: EdDSA},
		{in: "HS256", wantErr: "HS256 is not supported yet"},
		{in: "rs256", wantErr: "unknown"},
		{in: "none", wantErr: "unknown"},
		{in: "", wantErr: "unknown"},
		{in: "ES384", wantErr: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAlg(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "tokens: ") {
					t.Fatalf("ParseAlg(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAlg(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
	for i, a := range Algs {
		if a.Index() != i {
			t.Errorf("%s.Index() = %d", a, a.Index())
		}
	}
	if Alg("HS256").Index() != -1 {
		t.Error("HS256 has an index")
	}
}

func TestNewSignerRejectsMismatchedKeys(t *testing.T) {
	k := testKeys()
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name    string
		alg     Alg
		kid     string
		key     crypto.Signer
		wantErr string
	}{
		{"rsa for ES256", ES256, "k", k[RS256], "RSA key cannot sign"},
		{"rsa for EdDSA", EdDSA, "k", k[RS256], "RSA key cannot sign"},
		{"rsa for HS256", "HS256", "k", k[RS256], "RSA key cannot sign"},
		{"short rsa", RS256, "k", short, "1024 bits"},
		{"ecdsa for RS256", RS256, "k", k[ES256], "ECDSA key cannot sign"},
		{"P-384 for ES256", ES256, "k", p384, "P-256"},
		{"ed25519 for PS256", PS256, "k", k[EdDSA], "Ed25519 key cannot sign"},
		{"nil key", RS256, "k", nil, "nil key"},
		{"empty kid", RS256, "", k[RS256], "empty kid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSigner(tt.alg, tt.kid, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewSigner = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func decodeSegment(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("segment %q: %v", s, err)
	}
	return b
}

// verifyStdlib checks a compact JWS with the standard library only.
func verifyStdlib(t *testing.T, alg Alg, pub crypto.PublicKey, token string) {
	t.Helper()
	i := strings.LastIndexByte(token, '.')
	input, sig := token[:i], decodeSegment(t, token[i+1:])
	digest := sha256.Sum256([]byte(input))
	var err error
	switch alg {
	case RS256:
		err = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig)
	case PS256:
		err = rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32})
	case ES256:
		if len(sig) != 64 {
			t.Fatalf("ES256 signature of %d bytes, want 64", len(sig))
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub.(*ecdsa.PublicKey), digest[:], r, s) {
			t.Fatal("ES256 signature does not verify")
		}
	case EdDSA:
		if !ed25519.Verify(pub.(ed25519.PublicKey), []byte(input), sig) {
			t.Fatal("EdDSA signature does not verify")
		}
	}
	if err != nil {
		t.Fatalf("%s signature does not verify: %v", alg, err)
	}
}

func TestSignVerifies(t *testing.T) {
	for _, alg := range Algs {
		for _, generic := range []bool{false, true} {
			name := string(alg)
			if generic {
				name += "/crypto.Signer"
			}
			t.Run(name, func(t *testing.T) {
				key := testKeys()[alg]
				if generic {
					key = opaque{key}
				}
				s, err := NewSigner(alg, "0b5c6f1e-9f0e-4c43-9a0e-5a0f4b8f9d11", key)
				if err != nil {
					t.Fatal(err)
				}
				if s.Alg() != alg || s.KID() != "0b5c6f1e-9f0e-4c43-9a0e-5a0f4b8f9d11" || s.Typ() != "at+jwt" {
					t.Fatalf("signer %s %s %s", s.Alg(), s.KID(), s.Typ())
				}
				claims := typicalClaims().AppendJSON(nil)
				prefix := []byte("Bearer ")
				out, err := s.Sign(bytes.Clone(prefix), claims)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(out, prefix) {
					t.Fatal("Sign did not append to dst")
				}
				token := string(out[len(prefix):])
				parts := strings.Split(token, ".")
				if len(parts) != 3 {
					t.Fatalf("token has %d parts", len(parts))
				}
				var hdr map[string]any
				if err := json.Unmarshal(decodeSegment(t, parts[0]), &hdr); err != nil {
					t.Fatal(err)
				}
				if len(hdr) != 3 || hdr["alg"] != string(alg) || hdr["kid"] != s.KID() || hdr["typ"] != "at+jwt" {
					t.Fatalf("header %v", hdr)
				}
				if !bytes.Equal(decodeSegment(t, parts[1]), claims) {
					t.Fatal("payload differs from the claims")
				}
				verifyStdlib(t, alg, key.Public(), token)
				// And a JOSE library agrees.
				payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg), key.Public()))
				if err != nil {
					t.Fatalf("jwx: %v", err)
				}
				if !bytes.Equal(payload, claims) {
					t.Fatal("jwx payload differs")
				}
			})
		}
	}
}

func TestWithTyp(t *testing.T) {
	s := mustSigner(t, EdDSA)
	for _, typ := range []string{"JWT", ""} {
		c := s.WithTyp(typ)
		out, err := c.Sign(nil, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		var hdr map[string]any
		json.Unmarshal(decodeSegment(t, strings.Split(string(out), ".")[0]), &hdr)
		if typ == "" {
			if _, ok := hdr["typ"]; ok {
				t.Fatalf("header %v has typ", hdr)
			}
		} else if hdr["typ"] != typ {
			t.Fatalf("header %v", hdr)
		}
		verifyStdlib(t, EdDSA, s.Public(), string(out))
	}
	if s.Typ() != "at+jwt" {
		t.Fatal("WithTyp changed the original")
	}
}

func TestKIDIsEscapedInHeader(t *testing.T) {
	s, err := NewSigner(EdDSA, `a"b\c`, testKeys()[EdDSA])
	if err != nil {
		t.Fatal(err)
	}
	out, _ := s.Sign(nil, []byte(`{}`))
	var hdr map[string]any
	if err := json.Unmarshal(decodeSegment(t, strings.Split(string(out), ".")[0]), &hdr); err != nil || hdr["kid"] != `a"b\c` {
		t.Fatalf("header %v, %v", hdr, err)
	}
}

func TestRawECDSA(t *testing.T) {
	var out [64]byte
	// r = 0x00ff.. (33 bytes with its sign byte), s = 1.
	r := append([]byte{0x00}, bytes.Repeat([]byte{0xff}, 32)...)
	der := append([]byte{0x30, byte(2 + len(r) + 3), 0x02, byte(len(r))}, r...)
	der = append(der, 0x02, 0x01, 0x01)
	got, err := rawECDSA(out[:], der)
	if err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Repeat([]byte{0xff}, 32), append(make([]byte, 31), 1)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("raw %x", got)
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"not seq":   {0x31, 0x00},
		"truncated": der[:len(der)-1],
		"trailing":  append(bytes.Clone(der), 0),
		"negative":  {0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01},
		"too long":  append([]byte{0x30, 0x26, 0x02, 0x21, 0x01}, append(bytes.Repeat([]byte{1}, 32), 0x02, 0x01, 0x01)...),
		"one int":   {0x30, 0x03, 0x02, 0x01, 0x01},
	} {
		if _, err := rawECDSA(out[:], bad); err == nil {
			t.Errorf("%s: accepted %x", name, bad)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name   string
		claims AccessClaims
		want   string
	}{
		{
			name:   "typical",
			claims: *typicalClaims(),
			want:   `{"iss":"https://default.us.authok.cn/","sub":"T3N340S-OGz5mNc5-BqxVhP9JD_NbeGQ","aud":"https://api.example.com/","iat":1700000000,"exp":1700086400,"jti":"Yt9Hq3y2c8S0cEo3sR7n4Q","client_id":"T3N340S-OGz5mNc5-BqxVhP9JD_NbeGQ","azp":"T3N340S-OGz5mNc5-BqxVhP9JD_NbeGQ","scope":"read:orders write:orders read:customers","gty":"client-credentials"}`,
		},
		{
			name:   "several audiences",
			claims: AccessClaims{Issuer: "https://t/", Subject: "authok|1", Audience: []string{"https://api/", "https://t/userinfo"}, IssuedAt: 1, ExpiresAt: 2},
			want:   `{"iss":"https://t/","sub":"authok|1","aud":["https://api/","https://t/userinfo"],"iat":1,"exp":2}`,
		},
		{
			name:   "empty",
			claims: AccessClaims{},
			want:   `{"iss":"","sub":"","iat":0,"exp":0}`,
		},
		{
			name: "extra sorted, reserved ignored",
			claims: AccessClaims{Issuer: "i", Subject: "s", IssuedAt: 1, ExpiresAt: 2, Extra: map[string]any{
				"https://example.com/roles": []string{"admin"}, "org_id": "org_1", "iss": "evil", "scope": "admin",
				"bad": func() {}, "n": 1.5,
			}},
			want: `{"iss":"i","sub":"s","iat":1,"exp":2,"https://example.com/roles":["admin"],"n":1.5,"org_id":"org_1"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.claims.AppendJSON([]byte("x"))
			if string(got) != "x"+tt.want {
				t.Fatalf("got  %s\nwant x%s", got, tt.want)
			}
			if !json.Valid(got[1:]) {
				t.Fatal("invalid JSON")
			}
		})
	}
}

// TestAppendStringMatchesEncodingJSON compares the escaping with
// encoding/json (HTML escaping off) on awkward and random strings.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		"", "plain", `quo"te`, `back\slash`, "nl\nr\rt\tb\bf\f", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "\u2028\u2029", "日本語", "emoji 😀", "bad \xff utf8 \xc3",
		"\xed\xa0\x80 surrogate", "authok|V1StGXR8_Z5jdHi6B-myT",
	}
	var rnd [64]byte
	for range 2000 {
		rand.Read(rnd[:])
		inputs = append(inputs, string(rnd[:int(rnd[0])%64]))
	}
	for _, s := range inputs {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := jsonenc.AppendString(nil, s)
		if !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("jsonenc.AppendString(%q) = %s, encoding/json %s", s, got, want.Bytes())
		}
	}
}

func TestNewJTI(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		j := string(NewJTI(nil))
		if len(j) != JTILength || seen[j] {
			t.Fatalf("jti %q (length %d, repeated %v)", j, len(j), seen[j])
		}
		if _, err := base64.RawURLEncoding.DecodeString(j); err != nil {
			t.Fatal(err)
		}
		seen[j] = true
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = NewJTI(buf[:0]) }); n != 0 && !raceEnabled {
		t.Fatalf("NewJTI allocates %.1f times", n)
	}
}

// TestAllocationBudget guards the hot path: the claim JSON and the framing
// allocate nothing, so minting a token allocates no more than the bare
// crypto.Signer call does (the signature slice, and ECDSA's internals).
func TestAllocationBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA signing is slow")
	}
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so allocation counts mean nothing")
	}
	c := typicalClaims()
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(100, func() { buf = c.AppendJSON(buf[:0]) }); n != 0 {
		t.Fatalf("AppendJSON allocates %.1f times", n)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	for _, alg := range Algs {
		s := mustSigner(t, alg)
		k := testKeys()[alg]
		raw := testing.AllocsPerRun(20, func() {
			var err error
			switch alg {
			case EdDSA:
				_, err = k.Sign(nil, []byte("header.payload"), crypto.Hash(0))
			case PS256:
				_, err = k.Sign(rand.Reader, digest[:], pssOptions)
			default:
				_, err = k.Sign(rand.Reader, digest[:], crypto.SHA256)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
		n := testing.AllocsPerRun(20, func() {
			var err error
			if buf, err = s.SignAccess(buf[:0], c); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.0f allocations per token, %.0f in the bare signature", alg, n, raw)
		if n > raw {
			t.Errorf("%s: %.0f allocations per token, more than the bare signature's %.0f", alg, n, raw)
		}
	}
}
