package repo

import (
	"bytes"
	"errors"
	"testing"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

func TestSigningKeySchema(t *testing.T) {
	if got := string(SigningKeyKey("acme", "k-1")); got != "t/acme/key/k-1" {
		t.Fatalf("SigningKeyKey = %q", got)
	}
	if got := string(SigningKeyPrefix("acme")); got != "t/acme/key/" {
		t.Fatalf("SigningKeyPrefix = %q", got)
	}
	if got := string(SigningKeyringKey("acme")); got != "t/acme/keyring" {
		t.Fatalf("SigningKeyringKey = %q", got)
	}
	if bytes.HasPrefix(SigningKeyringKey("acme"), SigningKeyPrefix("acme")) {
		t.Fatal("the keyring is under the key prefix")
	}
	tests := []struct {
		key    string
		tenant string
		ok     bool
	}{
		{"t/acme/key/k-1", "acme", true},
		{"t/acme/keyring", "acme", true},
		{"t/a%2Fb/key/x", "a/b", true},
		{"t/acme/keys", "", false},
		{"t/acme/client/x", "", false},
		{"t/acme/key", "", false},
		{"tenant/acme", "", false},
		{"t//key/x", "", false},
		{"t/%zz/key/x", "", false},
	}
	for _, tt := range tests {
		got, ok := SigningKeyTenant([]byte(tt.key))
		if got != tt.tenant || ok != tt.ok {
			t.Errorf("SigningKeyTenant(%q) = %q, %v", tt.key, got, ok)
		}
	}
}

func TestSigningKeyRecord(t *testing.T) {
	f := newFixture(t)
	rec := SigningKeyRecord{
		Key: model.SigningKey{KID: "k-1", Cert: "-----BEGIN CERTIFICATE-----", Current: true, Fingerprint: "AA:BB", Thumbprint: "AABB", Version: 99},
		Alg: "RS256", Generation: 3,
	}
	priv := model.SigningKeyPrivate{KID: "k-1", PKCS8: []byte("pkcs8-der-bytes-pkcs8-der-bytes")}

	if _, err := EncodeSigningKey("acme", rec); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unsealed record encoded: %v", err)
	}
	if _, err := f.r.SealSigningKey("acme", rec, model.SigningKeyPrivate{KID: "k-2", PKCS8: priv.PKCS8}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another key's private half sealed: %v", err)
	}
	sealed, err := f.r.SealSigningKey("acme", rec, priv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeSigningKey("acme", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, priv.PKCS8) || bytes.Contains(b, []byte(`"Version"`)) {
		t.Fatalf("record %s", b)
	}
	got, err := DecodeSigningKey("acme", store.Item{Key: SigningKeyKey("acme", "k-1"), Value: b, Version: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got.Key.KID != "k-1" || !got.Key.Current || got.Alg != "RS256" || got.Generation != 3 || got.Key.Version != 7 {
		t.Fatalf("decoded %+v", got)
	}
	open, err := f.r.OpenSigningKey("acme", got)
	if err != nil || !bytes.Equal(open.PKCS8, priv.PKCS8) || open.KID != "k-1" {
		t.Fatalf("OpenSigningKey = %v, %v", open, err)
	}
	// Re-encoding a decoded record keeps the sealed key without opening it.
	got.Key.Current, got.Key.Previous = false, true
	if b2, err := EncodeSigningKey("acme", got); err != nil || bytes.Equal(b2, b) {
		t.Fatalf("re-encode: %v", err)
	}
	// The seal is bound to tenant, kid and algorithm.
	for name, r := range map[string]SigningKeyRecord{
		"other kid": {Key: model.SigningKey{KID: "k-2"}, Alg: "RS256", Generation: 3, sealed: got.sealed},
		"other alg": {Key: model.SigningKey{KID: "k-1"}, Alg: "PS256", Generation: 3, sealed: got.sealed},
	} {
		if _, err := f.r.OpenSigningKey("acme", r); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := f.r.OpenSigningKey("other", got); err == nil {
		t.Error("other tenant: opened")
	}
	// A record stored under another kid's key is refused.
	if _, err := DecodeSigningKey("acme", store.Item{Key: SigningKeyKey("acme", "k-9"), Value: b}); err == nil {
		t.Fatal("record under the wrong key decoded")
	}

	if g, err := DecodeKeyring(store.Item{Key: SigningKeyringKey("acme"), Value: EncodeKeyring(12)}); err != nil || g != 12 {
		t.Fatalf("keyring %d, %v", g, err)
	}
}
