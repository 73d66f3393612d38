package secretbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// counter is a deterministic io.Reader: byte i is seed+i.
type counter struct{ next byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

func testKey(t testing.TB, seed byte) Key {
	t.Helper()
	k, err := GenerateKey(&counter{next: seed})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseMasterKey(t *testing.T) {
	valid := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means success
	}{
		{name: "valid", in: valid},
		{name: "valid with newline", in: valid + "\n"},
		{name: "valid with spaces", in: "  " + valid + " \t"},
		{name: "missing", in: "", wantErr: "missing"},
		{name: "only white space", in: " \n", wantErr: "missing"},
		{name: "not base64", in: "this is not base64!!", wantErr: "not standard base64"},
		{name: "url alphabet", in: strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, KeySize))), wantErr: "not standard base64"},
		{name: "unpadded", in: strings.TrimRight(valid, "="), wantErr: "not standard base64"},
		{name: "too short", in: base64.StdEncoding.EncodeToString(make([]byte, 16)), wantErr: "16 bytes, want 32"},
		{name: "too long", in: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 64)), wantErr: "64 bytes, want 32"},
		{name: "all zeros", in: base64.StdEncoding.EncodeToString(make([]byte, KeySize)), wantErr: "all zeros"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseMasterKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseMasterKey: %v", err)
				}
				if k.Encode() != valid {
					t.Fatalf("Encode = %q, want %q", k.Encode(), valid)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseMasterKey err = %v, want containing %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "secretbox: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if len(tt.in) > 8 && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
				t.Errorf("error %q quotes the key", err)
			}
		})
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k := testKey(t, 1)
	enc := k.Encode()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, k); strings.Contains(s, enc) || !strings.Contains(s, "REDACTED") {
			t.Errorf("Sprintf(%q) = %q", verb, s)
		}
	}
}

func TestSealOpen(t *testing.T) {
	k := testKey(t, 1)
	tests := []struct {
		name string
		pt   []byte
		ad   []byte
	}{
		{name: "secret with ad", pt: []byte("s3cr3t-client-secret"), ad: []byte("client_secret\x00default\x00abc")},
		{name: "empty plaintext", pt: []byte{}, ad: []byte("x")},
		{name: "nil ad", pt: []byte("hello"), ad: nil},
		{name: "large", pt: bytes.Repeat([]byte("k"), 1<<16), ad: []byte("big")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := k.Seal(tt.pt, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(sealed), len(tt.pt)+Overhead; got != want {
				t.Errorf("len(sealed) = %d, want %d", got, want)
			}
			if sealed[0] != version1 {
				t.Errorf("version byte = %d", sealed[0])
			}
			if len(tt.pt) >= 4 && bytes.Contains(sealed, tt.pt) {
				t.Error("plaintext visible in sealed value")
			}
			got, err := k.Open(sealed, tt.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.pt) {
				t.Fatalf("Open = %q, want %q", got, tt.pt)
			}
		})
	}
}

func TestSealRandomNonce(t *testing.T) {
	k := testKey(t, 1)
	a, _ := k.Seal([]byte("same"), []byte("ad"))
	b, _ := k.Seal([]byte("same"), []byte("ad"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal: nonce reused")
	}
	// Injected randomness makes the output reproducible.
	c, _ := k.WithRand(&counter{}).Seal([]byte("same"), []byte("ad"))
	d, _ := k.WithRand(&counter{}).Seal([]byte("same"), []byte("ad"))
	if !bytes.Equal(c, d) {
		t.Fatal("seals with the same injected randomness differ")
	}
}

func TestOpenRejects(t *testing.T) {
	k := testKey(t, 1)
	other := testKey(t, 2)
	ad := []byte("client_secret\x00default\x00abc")
	sealed, err := k.Seal([]byte("the secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name   string
		key    Key
		sealed []byte
		ad     []byte
	}{
		{name: "wrong key", key: other, sealed: sealed, ad: ad},
		{name: "wrong ad", key: k, sealed: sealed, ad: []byte("client_secret\x00default\x00abd")},
		{name: "ad of other tenant", key: k, sealed: sealed, ad: []byte("client_secret\x00other\x00abc")},
		{name: "missing ad", key: k, sealed: sealed, ad: nil},
		{name: "flipped version", key: k, sealed: flip(0)},
		{name: "flipped nonce", key: k, sealed: flip(1), ad: ad},
		{name: "flipped ciphertext", key: k, sealed: flip(1 + nonceSize), ad: ad},
		{name: "flipped tag", key: k, sealed: flip(len(sealed) - 1), ad: ad},
		{name: "truncated", key: k, sealed: sealed[:len(sealed)-1], ad: ad},
		{name: "header only", key: k, sealed: sealed[:1+nonceSize], ad: ad},
		{name: "empty", key: k, sealed: nil, ad: ad},
		{name: "future version", key: k, sealed: append([]byte{2}, sealed[1:]...), ad: ad},
		{name: "appended byte", key: k, sealed: append(bytes.Clone(sealed), 0), ad: ad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := tt.key.Open(tt.sealed, tt.ad)
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("Open err = %v, want ErrOpen", err)
			}
			if pt != nil {
				t.Fatalf("Open returned plaintext %q with an error", pt)
			}
		})
	}
	// Every single-bit flip anywhere is detected.
	for i := range sealed {
		for bit := range 8 {
			b := bytes.Clone(sealed)
			b[i] ^= 1 << bit
			if _, err := k.Open(b, ad); err == nil {
				t.Fatalf("flip of byte %d bit %d not detected", i, bit)
			}
		}
	}
}

func TestZeroKey(t *testing.T) {
	var k Key
	if !k.IsZero() {
		t.Fatal("zero key not IsZero")
	}
	if _, err := k.Seal([]byte("x"), nil); err == nil {
		t.Error("Seal with zero key succeeded")
	}
	if _, err := k.Open([]byte{1, 2, 3}, nil); err == nil {
		t.Error("Open with zero key succeeded")
	}
}

func TestLoadOrCreateDevKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	k1, err := LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, DevKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm()&0o077 != 0 {
		t.Errorf("data folder mode = %o, want no group/other access", di.Mode().Perm())
	}
	k2, err := LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Encode() != k2.Encode() {
		t.Fatal("second load returned a different key")
	}
	sealed, _ := k1.Seal([]byte("x"), nil)
	if _, err := k2.Open(sealed, nil); err != nil {
		t.Fatalf("reloaded key cannot open: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d entries, want only the key file", len(entries))
	}
}

func TestLoadOrCreateDevKeyRefusesBadFile(t *testing.T) {
	tests := []struct {
		name     string
		contents string
	}{
		{name: "empty", contents: ""},
		{name: "garbage", contents: "not a key\n"},
		{name: "short key", contents: base64.StdEncoding.EncodeToString(make([]byte, 8))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, DevKeyFile)
			if err := os.WriteFile(path, []byte(tt.contents), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateDevKey(dir); err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("err = %v, want refusal", err)
			}
			b, _ := os.ReadFile(path)
			if string(b) != tt.contents {
				t.Fatal("bad key file was modified")
			}
		})
	}
}

func TestLoadOrCreateDevKeyConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := LoadOrCreateDevKey(dir)
			keys[i], errs[i] = k.Encode(), err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("goroutine %d got a different key", i)
		}
	}
}

func TestLoadOrCreateDevKeyInjectedRand(t *testing.T) {
	dir := t.TempDir()
	k, err := loadOrCreateDevKey(dir, &counter{next: 9})
	if err != nil {
		t.Fatal(err)
	}
	if want := testKey(t, 9).Encode(); k.Encode() != want {
		t.Fatalf("key = %q, want %q", k.Encode(), want)
	}
}

func FuzzOpen(f *testing.F) {
	k := testKey(f, 1)
	good, _ := k.Seal([]byte("the secret"), []byte("ad"))
	f.Add(good, []byte("ad"))
	f.Add(good[:Overhead], []byte("ad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte(nil))
	f.Add([]byte{2, 0, 0}, []byte("x"))
	f.Add(bytes.Repeat([]byte{1}, Overhead), []byte("ad"))
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		pt, err := k.Open(sealed, ad)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("error %v does not wrap ErrOpen", err)
			}
			return
		}
		// Only a genuine seal opens: re-sealing must round trip.
		again, err := k.Seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Open(again, ad); err != nil {
			t.Fatal(err)
		}
	})
}
