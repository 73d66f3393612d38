//go:build goexperiment.boringcrypto

package main

import (
	"crypto/boring"
	"strings"
	"testing"
)

// TestCryptoBackendBoring: a boringcrypto build says whether BoringCrypto
// really runs (it needs cgo on linux/amd64 or arm64) or Go stood in.
func TestCryptoBackendBoring(t *testing.T) {
	got := cryptoBackend()
	if boring.Enabled() != boringExpected {
		t.Fatalf("boring.Enabled() = %v, want %v for this platform and cgo setting", boring.Enabled(), boringExpected)
	}
	if boring.Enabled() {
		if got != "BoringCrypto (Ed25519 in Go)" {
			t.Fatalf("cryptoBackend() = %q with BoringCrypto enabled", got)
		}
		return
	}
	if !strings.HasPrefix(got, "Go (boringcrypto build without BoringCrypto") {
		t.Fatalf("cryptoBackend() = %q without BoringCrypto", got)
	}
}
